# Run by cpack (CPACK_PRE_BUILD_SCRIPTS) after it staged the install tree, before it builds
# the package. CPACK_STRIP_FILES runs a plain `strip`; like Debian's dh_strip, also drop the
# .comment and .note sections (compiler version strings; lintian: binary-has-unneeded-section).
if(NOT CPACK_QUIRE_OBJCOPY OR NOT CPACK_TEMPORARY_INSTALL_DIRECTORY)
    return()
endif()
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
