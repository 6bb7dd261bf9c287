# Windows: quire.exe with its icon, the Qt runtime (windeployqt), the other DLLs it links
# (QtKeychain, OpenSSL's libcrypto, the MSVC runtime), an NSIS installer and a .zip.
# Included by packaging/packaging.cmake. Written for Qt 6.4+ and CMake 3.25; NOT built or
# run here (see packaging/windows/README.md for what has and has not been verified).
set(_quire_win_dir "${CMAKE_CURRENT_LIST_DIR}")
set(_quire_win_gen "${PROJECT_BINARY_DIR}/packaging/windows")

# --- The executable's icon and version information (Explorer, taskbar, Start menu).
string(REPLACE "." "," QUIRE_VERSION_COMMAS "${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR}.${PROJECT_VERSION_PATCH}.0")
set(QUIRE_ICO "${_quire_win_dir}/quire.ico")
set(QUIRE_COPYRIGHT_NOTICE "Copyright (c) ${QUIRE_COPYRIGHT}")
configure_file("${_quire_win_dir}/quire.rc.in" "${_quire_win_gen}/quire.rc" @ONLY)
target_sources(quire PRIVATE "${_quire_win_gen}/quire.rc")

# --- Runtime: Qt libraries and plugins through windeployqt (Qt's deploy script, Qt 6.3+).
# Layout: bin/quire.exe + Qt6*.dll + qt.conf, plugins/{platforms,sqldrivers,tls,...}.
qt_generate_deploy_app_script(TARGET quire FILENAME_VARIABLE _quire_deploy_script
    NO_UNSUPPORTED_PLATFORM_ERROR)
install(SCRIPT "${_quire_deploy_script}")

# The DLLs windeployqt does not copy (it only knows Qt's): found with
# file(GET_RUNTIME_DEPENDENCIES) in the folders of the libraries we linked.
set(QUIRE_RUNTIME_DLL_DIRS "${QT6_INSTALL_PREFIX}/${QT6_INSTALL_BINS}")
if(TARGET qt6keychain)
    list(APPEND QUIRE_RUNTIME_DLL_DIRS "$<TARGET_FILE_DIR:qt6keychain>")
endif()
if(OPENSSL_CRYPTO_LIBRARY)
    get_filename_component(_ssl_dir "${OPENSSL_CRYPTO_LIBRARY}" DIRECTORY)
    list(APPEND QUIRE_RUNTIME_DLL_DIRS "${_ssl_dir}" "${_ssl_dir}/../bin")
endif()
if(OPENSSL_ROOT_DIR)
    list(APPEND QUIRE_RUNTIME_DLL_DIRS "${OPENSSL_ROOT_DIR}/bin")
endif()
set(QUIRE_RUNTIME_DLL_DIRS_QUOTED "")
foreach(_dir IN LISTS QUIRE_RUNTIME_DLL_DIRS)
    string(APPEND QUIRE_RUNTIME_DLL_DIRS_QUOTED " \"${_dir}\"")
endforeach()
# @VARIABLES@ now, then $<generator expressions> (the paths of quire.exe and the DLLs).
configure_file("${_quire_win_dir}/deploy-dlls.cmake.in" "${_quire_win_gen}/deploy-dlls.cmake.genex" @ONLY)
file(GENERATE OUTPUT "${_quire_win_gen}/deploy-dlls-$<CONFIG>.cmake"
    INPUT "${_quire_win_gen}/deploy-dlls.cmake.genex")
install(SCRIPT "${_quire_win_gen}/deploy-dlls-$<CONFIG>.cmake")

# The MSVC runtime (vcruntime140.dll, msvcp140.dll...) next to quire.exe.
set(CMAKE_INSTALL_SYSTEM_RUNTIME_DESTINATION "${CMAKE_INSTALL_BINDIR}")
include(InstallRequiredSystemLibraries)

install(FILES "${PROJECT_SOURCE_DIR}/LICENSE" DESTINATION . RENAME LICENSE.txt)

# --- CPack: NSIS installer (Start menu, "Add to Quire", uninstaller) and a portable .zip.
include("${_quire_win_dir}/nsis.cmake")
