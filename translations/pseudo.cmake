# Script mode: makes the pseudo-translation from a .ts file that lupdate wrote with every message
# of the sources:
#   cmake -DIN=<all messages>.ts -DOUT=quire_qps.ts -P pseudo.cmake
# Each translation becomes its source text wrapped as "[ǫ text ǫ]" (every plural form too), so a
# message shown without the marks is one that is not translatable. The text is copied as
# lupdate escaped it, so %1, %n, &-mnemonics, "\n" and XML entities stay as they are.
cmake_minimum_required(VERSION 3.25)
if(NOT IN OR NOT OUT)
    message(FATAL_ERROR "usage: cmake -DIN=<all>.ts -DOUT=<pseudo>.ts -P pseudo.cmake")
endif()

file(READ "${IN}" rest)
set(out "")
set(count 0)
while(TRUE)
    string(FIND "${rest}" "<source>" start)
    if(start EQUAL -1)
        break()
    endif()
    string(FIND "${rest}" "</source>" end)
    math(EXPR textStart "${start} + 8")
    math(EXPR textLength "${end} - ${textStart}")
    string(SUBSTRING "${rest}" ${textStart} ${textLength} text)
    set(wrapped "[ǫ ${text} ǫ]")

    # The message's <translation> element follows its source (a <comment> may come between).
    string(FIND "${rest}" "<translation" open)
    string(FIND "${rest}" "</translation>" close)
    if(open LESS end OR close LESS open)
        message(FATAL_ERROR "${IN}: a <source> without its <translation> after it")
    endif()
    string(SUBSTRING "${rest}" 0 ${open} before)
    math(EXPR elementLength "${close} - ${open}")
    string(SUBSTRING "${rest}" ${open} ${elementLength} element)
    if(element MATCHES "<numerusform")
        # One wrapped text for each plural form lupdate laid out ('\' is special in a replacement).
        string(REPLACE "\\" "\\\\" replacement "${wrapped}")
        string(REGEX REPLACE "<numerusform[^>]*>[^<]*</numerusform>" "<numerusform>${replacement}</numerusform>"
               forms "${element}")
        string(REGEX REPLACE "^<translation[^>]*>" "<translation>" forms "${forms}")
        string(APPEND out "${before}${forms}</translation>")
    else()
        string(APPEND out "${before}<translation>${wrapped}</translation>")
    endif()
    math(EXPR next "${close} + 14")
    string(SUBSTRING "${rest}" ${next} -1 rest)
    math(EXPR count "${count} + 1")
endwhile()
string(APPEND out "${rest}")

if(count EQUAL 0)
    message(FATAL_ERROR "${IN}: no messages")
endif()
file(WRITE "${OUT}" "${out}")
