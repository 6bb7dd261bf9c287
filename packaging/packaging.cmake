# Packaging: install rules for desktop integration and the CPack configuration.
# Included at the end of the top-level CMakeLists.txt, after every target exists.
#
#   cmake --build <dir> --target package     # Linux: .deb + .tar.gz   (see docs/PACKAGING.md)
#                                             # Windows: NSIS installer + .zip, macOS: .dmg
#
# One application id everywhere: the .desktop file, the AppStream metainfo, the icon name,
# the macOS bundle identifier and the Windows registry keys.
set(QUIRE_APP_ID "io.github.quire.Quire")
set(QUIRE_PACKAGING_DIR "${CMAKE_CURRENT_LIST_DIR}")

set(QUIRE_PACKAGE_MAINTAINER "The Quire developers <quire@quire.invalid>" CACHE STRING
    "Maintainer written into packages (Debian Maintainer field, changelog)")

# --- The release described by the AppStream metainfo (newest first) must be this version.
set(_quire_metainfo "${PROJECT_SOURCE_DIR}/resources/${QUIRE_APP_ID}.metainfo.xml")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_quire_metainfo}")
file(READ "${_quire_metainfo}" _quire_metainfo_text)
if(NOT _quire_metainfo_text MATCHES "<release version=\"([^\"]+)\" date=\"([0-9]+)-([0-9]+)-([0-9]+)\"")
    message(FATAL_ERROR "${_quire_metainfo}: no <release version=\"...\" date=\"YYYY-MM-DD\">")
endif()
set(QUIRE_RELEASE_VERSION "${CMAKE_MATCH_1}")
set(QUIRE_RELEASE_YEAR "${CMAKE_MATCH_2}")
set(QUIRE_RELEASE_MONTH "${CMAKE_MATCH_3}")
set(QUIRE_RELEASE_DAY "${CMAKE_MATCH_4}")
if(NOT QUIRE_RELEASE_VERSION STREQUAL PROJECT_VERSION)
    message(WARNING "The newest <release> in ${_quire_metainfo} is ${QUIRE_RELEASE_VERSION} "
        "but project(VERSION) is ${PROJECT_VERSION}: add a <release> entry for it.")
endif()

# --- The copyright line of LICENSE ("2026 The Quire developers"), for package metadata.
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/LICENSE")
file(STRINGS "${PROJECT_SOURCE_DIR}/LICENSE" _quire_copyright_line REGEX "^Copyright \\(c\\) ")
if(NOT _quire_copyright_line MATCHES "^Copyright \\(c\\) (.+)$")
    message(FATAL_ERROR "${PROJECT_SOURCE_DIR}/LICENSE: no 'Copyright (c) ...' line")
endif()
set(QUIRE_COPYRIGHT "${CMAKE_MATCH_1}")

# --- What every generator shares.
set(CPACK_PACKAGE_NAME "quire")
set(CPACK_PACKAGE_VENDOR "The Quire developers")
set(CPACK_PACKAGE_CONTACT "${QUIRE_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_HOMEPAGE_URL "${PROJECT_HOMEPAGE_URL}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
# Debian wraps this under the summary line; keep lines short and plain.
set(CPACK_PACKAGE_DESCRIPTION
"Quire keeps documents in collections. Drag files or folders onto its
window, or use \"Open with Quire\" in a file manager: Quire computes the
SHA-256 checksum of each document, records it in a catalog (SQLite, or a
shared PostgreSQL database) and uploads it to a remote: a local folder, a
WebDAV server such as Nextcloud, or an HTTP collections API. Uploads are
verified, passwords stay in the system keyring, and the window stays
responsive however much is being added.

The quire command does the same from a shell: hash, add, ls, push,
verify and collections.")
set(CPACK_RESOURCE_FILE_LICENSE "${PROJECT_SOURCE_DIR}/LICENSE")
set(CPACK_PACKAGE_INSTALL_DIRECTORY "Quire")
set(CPACK_PACKAGE_CHECKSUM SHA256)
set(CPACK_STRIP_FILES ON)
set(CPACK_VERBATIM_VARIABLES ON)
# Directories CPack creates itself: 0755, whatever the umask of whoever builds.
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)

# `cmake --build <dir> --target package_source`: the tree without build output or VCS data.
set(CPACK_SOURCE_GENERATOR "TGZ")
set(CPACK_SOURCE_PACKAGE_FILE_NAME "quire-${PROJECT_VERSION}")
set(CPACK_SOURCE_IGNORE_FILES
    "/\\.git/" "/\\.gitignore$" "/build/" "/build-[^/]*/" "\\.user$" "/compile_commands\\.json$"
    "\\.deb$")

if(WIN32)
    include("${QUIRE_PACKAGING_DIR}/windows/windows.cmake")
elseif(APPLE)
    include("${QUIRE_PACKAGING_DIR}/macos/macos.cmake")
elseif(UNIX)
    include("${QUIRE_PACKAGING_DIR}/linux/linux.cmake")
endif()

include(CPack)
