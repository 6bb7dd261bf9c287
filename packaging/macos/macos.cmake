# macOS: Quire.app (Info.plist, icon, documents dropped on the Dock icon), the Qt runtime
# and other libraries copied into the bundle by macdeployqt, and a .dmg (CPack DragNDrop).
# Included by packaging/packaging.cmake. NOT built or run here: see packaging/macos/README.md.
#
# Relies on app/CMakeLists.txt installing quire with BUNDLE DESTINATION .
set(_quire_mac_dir "${CMAKE_CURRENT_LIST_DIR}")
set(_quire_mac_gen "${PROJECT_BINARY_DIR}/packaging/macos")

# The oldest macOS Quire runs on: CMAKE_OSX_DEPLOYMENT_TARGET, which has to be given when
# configuring (-DCMAKE_OSX_DEPLOYMENT_TARGET=11.0, or MACOSX_DEPLOYMENT_TARGET=11.0 in the
# environment of the first configure): it sets the compiler flags of every target, so it
# cannot be set from here. Info.plist's LSMinimumSystemVersion says the same.
if(CMAKE_OSX_DEPLOYMENT_TARGET)
    set(QUIRE_MACOS_MINIMUM "${CMAKE_OSX_DEPLOYMENT_TARGET}")
else()
    set(QUIRE_MACOS_MINIMUM "11.0")
    message(WARNING "CMAKE_OSX_DEPLOYMENT_TARGET is not set: Quire is compiled for the macOS "
        "of this Mac, while Info.plist says ${QUIRE_MACOS_MINIMUM}. Configure with "
        "-DCMAKE_OSX_DEPLOYMENT_TARGET=${QUIRE_MACOS_MINIMUM} (packaging/macos/README.md).")
endif()
set(QUIRE_MACOS_SIGN_IDENTITY "-" CACHE STRING
    "codesign identity for Quire.app after macdeployqt ('-' = ad hoc, required on Apple silicon)")

# Info.plist: configured here with @VARIABLES@ (CMake configures it once more for the target;
# nothing in it uses ${} syntax).
set(QUIRE_MACOS_EXECUTABLE "Quire")
set(QUIRE_COPYRIGHT_NOTICE "Copyright (c) ${QUIRE_COPYRIGHT}")
configure_file("${_quire_mac_dir}/Info.plist.in" "${_quire_mac_gen}/Info.plist" @ONLY)

set(_quire_icns "${_quire_mac_dir}/Quire.icns")
target_sources(quire PRIVATE "${_quire_icns}")
set_source_files_properties("${_quire_icns}" TARGET_DIRECTORY quire
    PROPERTIES MACOSX_PACKAGE_LOCATION Resources)
set_target_properties(quire PROPERTIES
    MACOSX_BUNDLE ON
    OUTPUT_NAME "${QUIRE_MACOS_EXECUTABLE}"          # Quire.app/Contents/MacOS/Quire
    MACOSX_BUNDLE_INFO_PLIST "${_quire_mac_gen}/Info.plist"
    XCODE_ATTRIBUTE_PRODUCT_BUNDLE_IDENTIFIER "${QUIRE_APP_ID}")

# Qt frameworks and plugins, QtKeychain and libcrypto into the bundle (macdeployqt through
# Qt's deploy script; Qt 6.5 replaced FILENAME_VARIABLE by OUTPUT_SCRIPT); then sign again,
# because macdeployqt rewrites the binaries.
if(Qt6_VERSION VERSION_GREATER_EQUAL 6.5)
    qt_generate_deploy_app_script(TARGET quire OUTPUT_SCRIPT _quire_deploy_script
        NO_UNSUPPORTED_PLATFORM_ERROR)
else()
    qt_generate_deploy_app_script(TARGET quire FILENAME_VARIABLE _quire_deploy_script
        NO_UNSUPPORTED_PLATFORM_ERROR)
endif()
install(SCRIPT "${_quire_deploy_script}")
# Signed from the inside out (codesign-app.cmake), as Apple advises instead of --deep.
# A real identity also gets the hardened runtime (needed for notarization); an ad hoc
# signature must not, or library validation would refuse the ad hoc signed frameworks.
if(QUIRE_MACOS_SIGN_IDENTITY STREQUAL "-")
    set(_quire_sign_options "--timestamp=none")
else()
    set(_quire_sign_options "--options runtime --timestamp")
endif()
install(CODE "
    set(QUIRE_APP \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${QUIRE_MACOS_EXECUTABLE}.app\")
    set(QUIRE_SIGN_IDENTITY \"${QUIRE_MACOS_SIGN_IDENTITY}\")
    set(QUIRE_SIGN_OPTIONS ${_quire_sign_options})
    include(\"${_quire_mac_dir}/codesign-app.cmake\")
")

# --- CPack: a .dmg with Quire.app and a link to /Applications.
set(CPACK_GENERATOR "DragNDrop")
set(CPACK_PACKAGE_FILE_NAME "Quire-${PROJECT_VERSION}-macos-${CMAKE_SYSTEM_PROCESSOR}")
set(CPACK_DMG_VOLUME_NAME "Quire ${PROJECT_VERSION}")
set(CPACK_DMG_FORMAT "UDZO")
