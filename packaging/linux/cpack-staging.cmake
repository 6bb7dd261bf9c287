# Run by cpack (CPACK_PRE_BUILD_SCRIPTS, set in linux.cmake) after it staged the install tree
# and before it builds each package:
#  - CPACK_STRIP_FILES runs a plain `strip`; like Debian's dh_strip, also drop the .comment
#    and .note sections (compiler version strings; lintian: binary-has-unneeded-section);
#  - the .deb only: add the Debian changelog and the lintian overrides, which belong in a
#    Debian package but not in the .tar.gz or a `cmake --install`.
if(NOT CPACK_TEMPORARY_INSTALL_DIRECTORY)
    return()
endif()

if(CPACK_QUIRE_OBJCOPY)
    file(GLOB_RECURSE _quire_files LIST_DIRECTORIES false "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/*")
    foreach(_f IN LISTS _quire_files)
        if(IS_SYMLINK "${_f}")
            continue()
        endif()
        file(READ "${_f}" _magic LIMIT 4 HEX)
        if(_magic STREQUAL "7f454c46")     # ELF
            execute_process(COMMAND "${CPACK_QUIRE_OBJCOPY}"
                --remove-section=.comment --remove-section=.note "${_f}"
                RESULT_VARIABLE _rc)
            if(NOT _rc EQUAL 0)
                message(FATAL_ERROR "objcopy ${_f} failed: ${_rc}")
            endif()
        endif()
    endforeach()
endif()

if(CPACK_GENERATOR STREQUAL "DEB")
    set(_root "${CPACK_TEMPORARY_INSTALL_DIRECTORY}${CPACK_PACKAGING_INSTALL_PREFIX}")
    # CPACK_QUIRE_DEB_FILES: SOURCE;DESTINATION-DIRECTORY;NAME triples, relative to the prefix.
    set(_list ${CPACK_QUIRE_DEB_FILES})
    while(_list)
        list(POP_FRONT _list _src _dir _name)
        file(MAKE_DIRECTORY "${_root}/${_dir}")
        file(COPY_FILE "${_src}" "${_root}/${_dir}/${_name}")
        file(CHMOD "${_root}/${_dir}/${_name}" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
    endwhile()
endif()
