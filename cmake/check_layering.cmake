# The test build.layering: proves that src/core, src/venue, src/candles, src/indicators, src/report and
# the pure part of src/history stay pure (no gRPC,
# protobuf-c, threads or clocks, and no reaching up into the modules built on them).
#
#   cmake -DSOURCE_DIR=... -DBUILD_DIR=... -DCORE_LINKS=<tinvestd_core's link libraries>
#         -DINDICATORS_LINKS=<tinvestd_indicators' link libraries>
#         -DREPORT_LINKS=<tinvestd_report's link libraries>
#         -DEXTRA_INCLUDES=<gRPC and protobuf-c include directories> -P check_layering.cmake
#
# 1. Compiles small probe files with exactly the flags the build uses for src/core/core.c,
#    src/venue/exchange.c, src/candles/candles.c, src/indicators/indicators.c and
#    src/report/report_compute.c (from
#    compile_commands.json). A probe that includes a module's header compiles; one that then
#    includes <grpc/grpc.h>, <protobuf-c/protobuf-c.h>, <pthread.h> or <time.h> fails with
#    "poisoned" (cmake/pure_module.h); the same probe without the forced include compiles, so the
#    poison, not a missing header, is what stops it.
# 2. Reads every #include of the four modules: none names a forbidden header or module (the
#    venue knows nothing of the core, the core nothing of the venue, the candles and the
#    indicators and the report only util).
# 3. tinvestd_core does not link tinvestd_venue; tinvestd_indicators and tinvestd_report link util
#    and libm only.
cmake_minimum_required(VERSION 3.19) # string(JSON)

foreach(var SOURCE_DIR BUILD_DIR)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "layering: ${var} is not set")
    endif()
endforeach()

set(failures "")
macro(fail text)
    list(APPEND failures "${text}")
    message(STATUS "layering: FAIL ${text}")
endmacro()

# ---- 1. Probes compiled with the modules' own flags -----------------------------------------

set(db_path "${BUILD_DIR}/compile_commands.json")
if(NOT EXISTS "${db_path}")
    message(FATAL_ERROR "layering: ${db_path} is missing (CMAKE_EXPORT_COMPILE_COMMANDS)")
endif()
file(READ "${db_path}" db)
string(JSON entry_count LENGTH "${db}")

# The compile command of `source` split into arguments, without its -o and -c parts.
function(flags_of source out_flags out_dir)
    math(EXPR last "${entry_count} - 1")
    foreach(i RANGE ${last})
        string(JSON file GET "${db}" ${i} file)
        if(NOT file STREQUAL source)
            continue()
        endif()
        string(JSON directory GET "${db}" ${i} directory)
        string(JSON command ERROR_VARIABLE no_command GET "${db}" ${i} command)
        if(no_command)
            string(JSON command GET "${db}" ${i} arguments)
            string(JSON count LENGTH "${command}")
            math(EXPR count_last "${count} - 1")
            set(args "")
            foreach(k RANGE ${count_last})
                string(JSON arg GET "${command}" ${k})
                list(APPEND args "${arg}")
            endforeach()
        else()
            separate_arguments(args UNIX_COMMAND "${command}")
        endif()
        set(flags "")
        set(skip FALSE)
        foreach(arg IN LISTS args)
            if(skip)
                set(skip FALSE)
            elseif(arg STREQUAL "-o" OR arg STREQUAL "-c")
                set(skip TRUE)
            elseif(NOT arg STREQUAL source)
                list(APPEND flags "${arg}")
            endif()
        endforeach()
        set(${out_flags} "${flags}" PARENT_SCOPE)
        set(${out_dir} "${directory}" PARENT_SCOPE)
        return()
    endforeach()
    message(FATAL_ERROR "layering: no compile command for ${source} in ${db_path}")
endfunction()

set(probe_dir "${BUILD_DIR}/layering-probes")
file(MAKE_DIRECTORY "${probe_dir}")
set(include_flags "")
foreach(dir IN LISTS EXTRA_INCLUDES)
    if(dir)
        list(APPEND include_flags "-I${dir}")
    endif()
endforeach()

# Compiles `text` (as a .c file) with `flags`; sets `rc` and `log` in the caller.
function(compile_probe name text flags directory)
    set(path "${probe_dir}/${name}.c")
    file(WRITE "${path}" "${text}")
    execute_process(COMMAND ${flags} ${include_flags} -fsyntax-only "${path}"
                    WORKING_DIRECTORY "${directory}"
                    RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
    set(rc "${result}" PARENT_SCOPE)
    set(log "${out}${err}" PARENT_SCOPE)
endfunction()

# The flags without the forced include: the control that shows the header itself is found.
function(without_forced_include flags out)
    set(result "")
    set(skip FALSE)
    foreach(arg IN LISTS flags)
        if(skip)
            set(skip FALSE)
        elseif(arg STREQUAL "-include")
            set(skip TRUE)
        elseif(NOT arg MATCHES "pure_module\\.h$")
            list(APPEND result "${arg}")
        endif()
    endforeach()
    set(${out} "${result}" PARENT_SCOPE)
endfunction()

set(forbidden_headers "grpc/grpc.h" "protobuf-c/protobuf-c.h" "pthread.h" "time.h")

foreach(module core venue candles indicators history report)
    if(module STREQUAL "core")
        set(source "${SOURCE_DIR}/src/core/core.c")
        set(header "core/core.h")
    elseif(module STREQUAL "history")
        set(source "${SOURCE_DIR}/src/history/history_row.c")
        set(header "history/history.h")
    elseif(module STREQUAL "candles")
        set(source "${SOURCE_DIR}/src/candles/candles.c")
        set(header "candles/candles.h")
    elseif(module STREQUAL "venue")
        set(source "${SOURCE_DIR}/src/venue/exchange.c")
        set(header "venue/exchange.h")
    elseif(module STREQUAL "report")
        set(source "${SOURCE_DIR}/src/report/report_compute.c")
        set(header "report/report.h")
    else()
        set(source "${SOURCE_DIR}/src/indicators/indicators.c")
        set(header "indicators/indicators.h")
    endif()
    flags_of("${source}" flags directory)
    if(NOT flags MATCHES "pure_module\\.h")
        fail("${module}: its compile command does not force-include cmake/pure_module.h")
        continue()
    endif()
    without_forced_include("${flags}" plain_flags)
    compile_probe("${module}_control" "#include \"${header}\"\nint probe(void);\nint probe(void) {\n    return 0;\n}\n" "${flags}" "${directory}")
    if(NOT rc EQUAL 0)
        fail("${module}: a probe including only ${header} does not compile:\n${log}")
    endif()
    foreach(forbidden IN LISTS forbidden_headers)
        string(MAKE_C_IDENTIFIER "${module}_${forbidden}" name)
        set(text "#include \"${header}\"\n#include <${forbidden}>\n")
        compile_probe("${name}" "${text}" "${plain_flags}" "${directory}")
        if(NOT rc EQUAL 0)
            fail("${module}: <${forbidden}> does not compile even without the poison:\n${log}")
            continue()
        endif()
        compile_probe("${name}" "${text}" "${flags}" "${directory}")
        if(rc EQUAL 0)
            fail("${module}: a file including <${forbidden}> compiles with the ${module} flags")
        elseif(NOT log MATCHES "poisoned")
            fail("${module}: <${forbidden}> failed, but not on a poisoned name:\n${log}")
        else()
            message(STATUS "layering: ok ${module} + <${forbidden}> fails: poisoned")
        endif()
    endforeach()
endforeach()

# ---- 2. Includes of the pure modules ---------------------------------------------------------

set(common_forbidden "grpc/" "protobuf-c/" "pthread\\.h" "time\\.h" "util/clock\\.h" "api/"
    "engine/" "journal/" "stream/" "config/")
foreach(module core venue candles indicators history report)
    set(patterns ${common_forbidden})
    if(module STREQUAL "venue")
        list(APPEND patterns "core/" "candles/" "indicators/")
    elseif(module STREQUAL "core")
        list(APPEND patterns "venue/" "indicators/") # the exchange: through core_exchange only
    elseif(module STREQUAL "candles") # util only: the core feeds it, it knows nothing above
        list(APPEND patterns "core/" "venue/" "indicators/")
    elseif(module STREQUAL "report") # util only: the caller hands it plain data and a FILE
        list(APPEND patterns "core/" "venue/" "candles/" "indicators/" "history/" "refbook/"
             "settings/" "feed/" "unistd\\.h" "fcntl\\.h")
    elseif(module STREQUAL "history") # util only; its I/O files are a module of their own
        list(APPEND patterns "core/" "venue/" "candles/" "indicators/" "history/history_store\\.h"
             "history/history_import\\.h" "zip\\.h" "stdio\\.h" "unistd\\.h" "fcntl\\.h")
    else()
        list(APPEND patterns "core/" "venue/") # indicators are computed from what they are given
    endif()
    file(GLOB files "${SOURCE_DIR}/src/${module}/*.c" "${SOURCE_DIR}/src/${module}/*.h")
    if(module STREQUAL "history") # the pure part only (CMakeLists.txt: HISTORY_IO_SOURCES)
        list(FILTER files EXCLUDE REGEX "/history_(store|import|cli)\\.[ch]$")
    endif()
    set(found FALSE)
    foreach(file IN LISTS files)
        file(STRINGS "${file}" includes REGEX "^[ \t]*#[ \t]*include")
        foreach(line IN LISTS includes)
            foreach(pattern IN LISTS patterns)
                if(line MATCHES "[<\"]${pattern}")
                    file(RELATIVE_PATH relative "${SOURCE_DIR}" "${file}")
                    fail("${relative}: ${line}")
                    set(found TRUE)
                endif()
            endforeach()
        endforeach()
    endforeach()
    if(NOT found)
        list(LENGTH files file_count)
        message(STATUS "layering: ok src/${module}: ${file_count} files include nothing forbidden")
    endif()
endforeach()

# ---- 3. Link dependencies --------------------------------------------------------------------

if(NOT DEFINED CORE_LINKS)
    fail("CORE_LINKS (tinvestd_core's link libraries) was not passed")
elseif("tinvestd_venue" IN_LIST CORE_LINKS)
    fail("tinvestd_core links tinvestd_venue (${CORE_LINKS})")
else()
    message(STATUS "layering: ok tinvestd_core links only: ${CORE_LINKS}")
endif()

if(NOT DEFINED INDICATORS_LINKS)
    fail("INDICATORS_LINKS (tinvestd_indicators' link libraries) was not passed")
else()
    set(unexpected "")
    foreach(lib IN LISTS INDICATORS_LINKS)
        if(NOT lib STREQUAL "tinvestd_util" AND NOT lib STREQUAL "m")
            list(APPEND unexpected "${lib}")
        endif()
    endforeach()
    if(unexpected)
        fail("tinvestd_indicators links more than util and libm: ${unexpected}")
    else()
        message(STATUS "layering: ok tinvestd_indicators links only: ${INDICATORS_LINKS}")
    endif()
endif()

if(NOT DEFINED REPORT_LINKS)
    fail("REPORT_LINKS (tinvestd_report's link libraries) was not passed")
else()
    set(unexpected "")
    foreach(lib IN LISTS REPORT_LINKS)
        if(NOT lib STREQUAL "tinvestd_util" AND NOT lib STREQUAL "m")
            list(APPEND unexpected "${lib}")
        endif()
    endforeach()
    if(unexpected)
        fail("tinvestd_report links more than util and libm: ${unexpected}")
    else()
        message(STATUS "layering: ok tinvestd_report links only: ${REPORT_LINKS}")
    endif()
endif()

if(failures)
    list(LENGTH failures failure_count)
    message(FATAL_ERROR "layering: ${failure_count} violation(s)")
endif()
message(STATUS "layering: all checks passed")
