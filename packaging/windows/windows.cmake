# Windows: quire.exe (the window) and quire.com (the command line, see app/CMakeLists.txt) with
# their icon, the Qt runtime (windeployqt), the other DLLs they link (QtKeychain if shared,
# OpenSSL's libcrypto, the MSVC runtime), an NSIS installer and a .zip.
# Included by packaging/packaging.cmake. Written for Qt 6.4+ and CMake 3.25; NOT built or
# run here (see packaging/windows/README.md for what has and has not been verified).
set(_quire_win_dir "${CMAKE_CURRENT_LIST_DIR}")
set(_quire_win_gen "${PROJECT_BINARY_DIR}/packaging/windows")

# --- Icon and version information of both programs (Explorer, taskbar, Start menu).
string(REPLACE "." "," QUIRE_VERSION_COMMAS "${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR}.${PROJECT_VERSION_PATCH}.0")
set(QUIRE_ICO "${_quire_win_dir}/quire.ico")
set(QUIRE_COPYRIGHT_NOTICE "Copyright (c) ${QUIRE_COPYRIGHT}")
set(QUIRE_RC_FILENAME "quire.exe")
set(QUIRE_RC_DESCRIPTION "Quire")
configure_file("${_quire_win_dir}/quire.rc.in" "${_quire_win_gen}/quire.rc" @ONLY)
target_sources(quire PRIVATE "${_quire_win_gen}/quire.rc")
set(_quire_deploy_exes "$<TARGET_FILE:quire>")
if(TARGET quire_console)
    set(QUIRE_RC_FILENAME "quire.com")
    set(QUIRE_RC_DESCRIPTION "Quire (command line)")
    configure_file("${_quire_win_dir}/quire.rc.in" "${_quire_win_gen}/quire-console.rc" @ONLY)
    target_sources(quire_console PRIVATE "${_quire_win_gen}/quire-console.rc")
    list(APPEND _quire_deploy_exes "$<TARGET_FILE:quire_console>")
endif()

# --- Runtime: Qt libraries and plugins through windeployqt (Qt's deploy script).
# Layout: bin/quire.exe, bin/quire.com, Qt6*.dll, qt.conf; plugins/{platforms,sqldrivers,tls,...}.
# quire.com needs the same DLLs as quire.exe and finds them (and qt.conf) in the same folder.
# windeployqt takes any qt6*.dll as a Qt module and looks for it only in Qt's bin folder: a
# shared qt6keychain.dll installed elsewhere makes it fail (README.md: build QtKeychain static).
# Qt 6.5 replaced FILENAME_VARIABLE by OUTPUT_SCRIPT. windeployqt also copies the compiler
# runtime (for MSVC: vc_redist.x64.exe) unless told not to; InstallRequiredSystemLibraries
# below installs the runtime DLLs instead, so the installer is not needed.
if(Qt6_VERSION VERSION_GREATER_EQUAL 6.5)
    qt_generate_deploy_app_script(TARGET quire OUTPUT_SCRIPT _quire_deploy_script
        NO_COMPILER_RUNTIME NO_UNSUPPORTED_PLATFORM_ERROR)
    install(SCRIPT "${_quire_deploy_script}")
else()
    # Qt 6.4 has neither OUTPUT_SCRIPT nor NO_COMPILER_RUNTIME: remove the redistributable
    # installer windeployqt copied.
    qt_generate_deploy_app_script(TARGET quire FILENAME_VARIABLE _quire_deploy_script
        NO_UNSUPPORTED_PLATFORM_ERROR)
    install(SCRIPT "${_quire_deploy_script}")
    install(CODE "
        file(GLOB _redist \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/vc_redist.*.exe\"
                          \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/vcredist_*.exe\")
        if(_redist)
            message(STATUS \"Removing \${_redist} (the runtime DLLs are installed instead)\")
            file(REMOVE \${_redist})
        endif()
    ")
endif()

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
set(QUIRE_DEPLOY_EXECUTABLES_QUOTED "")
foreach(_exe IN LISTS _quire_deploy_exes)
    string(APPEND QUIRE_DEPLOY_EXECUTABLES_QUOTED " \"${_exe}\"")
endforeach()
# @VARIABLES@ now, then $<generator expressions> (the paths of the programs and the DLLs).
configure_file("${_quire_win_dir}/deploy-dlls.cmake.in" "${_quire_win_gen}/deploy-dlls.cmake.genex" @ONLY)
file(GENERATE OUTPUT "${_quire_win_gen}/deploy-dlls-$<CONFIG>.cmake"
    INPUT "${_quire_win_gen}/deploy-dlls.cmake.genex")
install(SCRIPT "${_quire_win_gen}/deploy-dlls-$<CONFIG>.cmake")

# The MSVC runtime (vcruntime140.dll, msvcp140.dll...) next to the programs.
set(CMAKE_INSTALL_SYSTEM_RUNTIME_DESTINATION "${CMAKE_INSTALL_BINDIR}")
include(InstallRequiredSystemLibraries)

install(FILES "${PROJECT_SOURCE_DIR}/LICENSE" DESTINATION . RENAME LICENSE.txt)

# --- CPack: NSIS installer (Start menu, "Add to Quire", Send To, uninstaller) and a .zip.
include("${_quire_win_dir}/nsis.cmake")
