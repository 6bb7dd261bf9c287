# Linux: freedesktop integration files, Debian documentation files, CPack DEB + TGZ.
# Included by packaging/packaging.cmake. See docs/PACKAGING.md.
set(_quire_linux_dir "${CMAKE_CURRENT_LIST_DIR}")
set(_quire_gen_dir "${PROJECT_BINARY_DIR}/packaging/linux")
file(MAKE_DIRECTORY "${_quire_gen_dir}")

# --- Desktop integration: menu entry (also "Open with Quire"), AppStream, hicolor icon.
install(FILES "${PROJECT_SOURCE_DIR}/resources/${QUIRE_APP_ID}.desktop"
    DESTINATION "${CMAKE_INSTALL_DATADIR}/applications")
install(FILES "${PROJECT_SOURCE_DIR}/resources/${QUIRE_APP_ID}.metainfo.xml"
    DESTINATION "${CMAKE_INSTALL_DATADIR}/metainfo")
install(FILES "${PROJECT_SOURCE_DIR}/resources/icons/quire.svg"
    DESTINATION "${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps"
    RENAME "${QUIRE_APP_ID}.svg")

# --- Files generated at configure time (they are small; this keeps them available to cpack
# even when only the quire target was built): gzip'd man page, Debian changelog, copyright.
find_program(QUIRE_GZIP gzip REQUIRED)

# gzip -9n: best compression, no file name or time stamp inside (reproducible; lintian).
function(_quire_gzip src dst)
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${src}")
    execute_process(COMMAND "${QUIRE_GZIP}" -9n -c "${src}"
        OUTPUT_FILE "${dst}" RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "gzip ${src} failed: ${rc}")
    endif()
endfunction()

_quire_gzip("${PROJECT_SOURCE_DIR}/docs/quire.1" "${_quire_gen_dir}/quire.1.gz")
install(FILES "${_quire_gen_dir}/quire.1.gz" DESTINATION "${CMAKE_INSTALL_MANDIR}/man1")

# Debian changelog: one entry for this version, dated by the metainfo <release> (RFC 2822).
set(_m ${QUIRE_RELEASE_MONTH})
set(_y ${QUIRE_RELEASE_YEAR})
math(EXPR _m "${_m} + 0")      # strip the leading zero
math(EXPR _d "${QUIRE_RELEASE_DAY} + 0")
if(_m LESS 3)
    math(EXPR _y "${_y} - 1")
endif()
set(_offsets 0 3 2 5 0 3 5 1 4 6 2 4)   # Sakamoto's day-of-week method, 0 = Sunday
math(EXPR _mi "${_m} - 1")
list(GET _offsets ${_mi} _off)
math(EXPR _dow "(${_y} + ${_y}/4 - ${_y}/100 + ${_y}/400 + ${_off} + ${_d}) % 7")
set(_daynames Sun Mon Tue Wed Thu Fri Sat)
set(_monthnames Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec)
list(GET _daynames ${_dow} _dayname)
list(GET _monthnames ${_mi} _monthname)
set(QUIRE_CHANGELOG_DATE
    "${_dayname}, ${QUIRE_RELEASE_DAY} ${_monthname} ${QUIRE_RELEASE_YEAR} 00:00:00 +0000")
set(QUIRE_DEBIAN_REVISION 1 CACHE STRING "Debian revision of the package (the -N in 0.1.0-N)")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_quire_linux_dir}/changelog.in")
configure_file("${_quire_linux_dir}/changelog.in" "${_quire_gen_dir}/changelog.Debian" @ONLY)
_quire_gzip("${_quire_gen_dir}/changelog.Debian" "${_quire_gen_dir}/changelog.Debian.gz")

# Machine-readable copyright file, generated from LICENSE so the two cannot disagree.
set(_license_file "${PROJECT_SOURCE_DIR}/LICENSE")
file(STRINGS "${_license_file}" _license_lines)
set(QUIRE_LICENSE_TEXT "")
set(_in_text FALSE)
foreach(_line IN LISTS _license_lines)
    if(_line MATCHES "^Copyright \\(c\\) ")
        set(_in_text TRUE)             # the licence text starts after the copyright line
    elseif(_in_text)
        if(_line STREQUAL "")
            string(APPEND QUIRE_LICENSE_TEXT " .\n")
        else()
            string(APPEND QUIRE_LICENSE_TEXT " ${_line}\n")
        endif()
    endif()
endforeach()
string(REGEX REPLACE "^ \\.\n" "" QUIRE_LICENSE_TEXT "${QUIRE_LICENSE_TEXT}")
string(REGEX REPLACE "\n$" "" QUIRE_LICENSE_TEXT "${QUIRE_LICENSE_TEXT}")
if(NOT QUIRE_LICENSE_TEXT MATCHES "^ Permission is hereby granted")
    message(FATAL_ERROR "${_license_file}: expected the MIT licence with a 'Copyright (c)' line")
endif()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_quire_linux_dir}/copyright.in")
configure_file("${_quire_linux_dir}/copyright.in" "${_quire_gen_dir}/copyright" @ONLY)

# /usr/share/doc/quire: Debian's place, not CMAKE_INSTALL_DOCDIR (which would be .../Quire).
set(_quire_docdir "${CMAKE_INSTALL_DATADIR}/doc/quire")
install(FILES "${_quire_gen_dir}/copyright" DESTINATION "${_quire_docdir}")
# Only in the .deb (added by cpack-staging.cmake): the Debian changelog, and the lintian tags
# accepted on purpose, each with its reason (docs/PACKAGING.md).
set(CPACK_QUIRE_DEB_FILES
    "${_quire_gen_dir}/changelog.Debian.gz" "share/doc/quire" "changelog.Debian.gz"
    "${_quire_linux_dir}/lintian-overrides" "share/lintian/overrides" "quire")

# --- CPack: a .deb for Debian 12 and a .tar.gz of the same tree.
set(CPACK_GENERATOR "DEB;TGZ")
string(TOLOWER "${CMAKE_SYSTEM_NAME}-${CMAKE_SYSTEM_PROCESSOR}" _quire_platform)
set(CPACK_PACKAGE_FILE_NAME "quire-${PROJECT_VERSION}-${_quire_platform}")

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)            # quire_0.1.0-1_amd64.deb
set(CPACK_DEBIAN_PACKAGE_NAME "quire")
set(CPACK_DEBIAN_PACKAGE_RELEASE "${QUIRE_DEBIAN_REVISION}")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${QUIRE_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION "utils")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "${PROJECT_HOMEPAGE_URL}")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
find_program(QUIRE_OBJCOPY NAMES objcopy "${CMAKE_OBJCOPY}")
set(CPACK_QUIRE_OBJCOPY "${QUIRE_OBJCOPY}")
set(CPACK_PRE_BUILD_SCRIPTS "${_quire_linux_dir}/cpack-staging.cmake")
# Libraries the executable links (Qt, QtKeychain, libcrypto, libstdc++...): computed by
# dpkg-shlibdeps from the binary, with the versions the build system's libraries need.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Plugins Qt loads at run time, which dpkg-shlibdeps cannot see (docs/PACKAGING.md):
#  - libqt6sql6-sqlite: QSQLITE driver; the default catalog is an SQLite file.
#  - libqt6svg6: SVG icon engine and image plugin; every icon in the window is SVG.
# The xcb platform plugin is in libqt6gui6 (pulled in by shlibdeps); qt6-qpa-plugins only
# has the vnc and TUIO plugins.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libqt6sql6-sqlite, libqt6svg6")
#  - libqt6sql6-psql: QPSQL driver, for catalogs shared in PostgreSQL (--catalog postgresql://).
#  - libqt6sql6-mysql: QMYSQL driver, for catalogs shared in MariaDB (--catalog mysql://).
#  - qt6-wayland: native Wayland windows (without it Qt falls back to XWayland).
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libqt6sql6-psql, libqt6sql6-mysql, qt6-wayland")
