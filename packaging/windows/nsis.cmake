# CPack settings for the Windows packages: an NSIS installer and a portable .zip.
# Included by windows.cmake. Only CPack variables here (no targets), so the NSIS script can
# also be generated and compiled with makensis on Linux (see README.md).
set(_quire_win_dir "${CMAKE_CURRENT_LIST_DIR}")
set(QUIRE_ICO "${_quire_win_dir}/quire.ico")

set(CPACK_GENERATOR "NSIS;ZIP")
set(CPACK_PACKAGE_FILE_NAME "Quire-${PROJECT_VERSION}-windows-x64")
set(CPACK_PACKAGE_INSTALL_REGISTRY_KEY "${QUIRE_APP_ID}")
# Start menu shortcut "Quire" -> bin\quire.exe (the window; quire.com is the command line)
set(CPACK_PACKAGE_EXECUTABLES "quire" "Quire")
set(CPACK_NSIS_EXECUTABLES_DIRECTORY "bin")
set(CPACK_NSIS_PACKAGE_NAME "Quire ${PROJECT_VERSION}")
set(CPACK_NSIS_DISPLAY_NAME "Quire")
set(CPACK_NSIS_INSTALL_ROOT "$PROGRAMFILES64")
set(CPACK_NSIS_MUI_ICON "${QUIRE_ICO}")
set(CPACK_NSIS_MUI_UNIICON "${QUIRE_ICO}")
set(CPACK_NSIS_INSTALLED_ICON_NAME "bin\\quire.exe")
set(CPACK_NSIS_URL_INFO_ABOUT "${PROJECT_HOMEPAGE_URL}")
set(CPACK_NSIS_HELP_LINK "${PROJECT_HOMEPAGE_URL}")
set(CPACK_NSIS_CONTACT "${QUIRE_PACKAGE_MAINTAINER}")
# No "Run Quire" box on the finish page (CPACK_NSIS_MUI_FINISHPAGE_RUN): it would start Quire
# elevated, like the installer, and Windows blocks drag and drop from Explorer (not elevated)
# into an elevated window.
set(CPACK_NSIS_ENABLE_UNINSTALL_BEFORE_INSTALL ON)
set(CPACK_NSIS_MANIFEST_DPI_AWARE ON)
# Not CPACK_NSIS_MODIFY_PATH: the template's PATH editing can truncate a long PATH. The
# installer registers "App Paths" instead (Win+R "quire"); see README.md for terminals.
# Registry entries for the Explorer context menu, "Open with" and App Paths, and the Send To
# shortcut; the uninstaller removes them again. (CPACK_VERBATIM_VARIABLES is on: no extra escaping.)
set(CPACK_NSIS_EXTRA_INSTALL_COMMANDS "!include \"${_quire_win_dir}/shell-install.nsh\"")
set(CPACK_NSIS_EXTRA_UNINSTALL_COMMANDS "!include \"${_quire_win_dir}/shell-uninstall.nsh\"")
