# Install-time script, included by the install(CODE) of packaging/macos/macos.cmake after
# macdeployqt: signs Quire.app from the inside out, as Apple advises instead of
# `codesign --deep` (which signs nested code with the outer options and misses code outside
# the standard places): first the libraries and plugins, then the frameworks, then the app.
# Input: QUIRE_APP (the bundle), QUIRE_SIGN_IDENTITY, QUIRE_SIGN_OPTIONS (a list).
function(_quire_codesign path)
    execute_process(
        COMMAND codesign --force --sign "${QUIRE_SIGN_IDENTITY}" ${QUIRE_SIGN_OPTIONS} "${path}"
        RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "codesign failed (${rc}) on ${path}")
    endif()
endfunction()

if(NOT IS_DIRECTORY "${QUIRE_APP}")
    message(FATAL_ERROR "No application bundle to sign at ${QUIRE_APP}")
endif()
message(STATUS "Signing ${QUIRE_APP} (identity ${QUIRE_SIGN_IDENTITY}), nested code first")

# Plain libraries: Qt plugins (PlugIns/<type>/), libcrypto, QtKeychain (if shared).
file(GLOB _dylibs "${QUIRE_APP}/Contents/PlugIns/*/*.dylib"
                  "${QUIRE_APP}/Contents/Frameworks/*.dylib")
list(SORT _dylibs)
foreach(_f IN LISTS _dylibs)
    if(NOT IS_SYMLINK "${_f}")
        _quire_codesign("${_f}")
    endif()
endforeach()
# Frameworks (signing the .framework signs its current version).
file(GLOB _frameworks LIST_DIRECTORIES true "${QUIRE_APP}/Contents/Frameworks/*.framework")
list(SORT _frameworks)
foreach(_f IN LISTS _frameworks)
    _quire_codesign("${_f}")
endforeach()
# The application last: its signature seals everything above.
_quire_codesign("${QUIRE_APP}")

execute_process(COMMAND codesign --verify --deep --strict "${QUIRE_APP}" RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "codesign --verify failed (${_rc}) on ${QUIRE_APP}")
endif()
