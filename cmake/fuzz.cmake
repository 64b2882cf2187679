# The fuzz build (TINVESTD_FUZZ=ON, included from CMakeLists.txt): one libFuzzer target per file
# tests/fuzz/fuzz_<name>.c, the program that writes their seed corpus, and one test per target,
# fuzz.<name>, that runs it briefly from the committed corpus (scripts/fuzz.sh; make test).
enable_testing()

set(FUZZ_DIR ${CMAKE_SOURCE_DIR}/tests/fuzz)
# What the targets feed: the request path without gRPC, the engine (journal, snapshots, the
# exchange link), the configuration loader, the history readers (src/history) and the JSON
# mapping (src/jsonpb), gRPC-web's request reader.
# gRPC-web's request reader (src/http/grpc_web.c) alone of src/http, with libwebsockets' base64.
pkg_check_modules(LWS REQUIRED IMPORTED_TARGET libwebsockets)
add_library(tinvestd_grpc_web STATIC ${CMAKE_SOURCE_DIR}/src/http/grpc_web.c)
target_include_directories(tinvestd_grpc_web PUBLIC ${CMAKE_SOURCE_DIR}/src)
target_compile_options(tinvestd_grpc_web PRIVATE ${PROJECT_WARNINGS})
target_link_libraries(tinvestd_grpc_web PUBLIC PkgConfig::LWS)
set(FUZZ_LIBRARIES tinvestd_api_request tinvestd_engine tinvestd_config tinvestd_settings
    tinvestd_history tinvestd_jsonpb tinvestd_grpc_web)
set(FUZZ_TEST_SECONDS 15 CACHE STRING "How long each fuzz.<name> test fuzzes")

file(GLOB FUZZ_SOURCES CONFIGURE_DEPENDS ${FUZZ_DIR}/fuzz_*.c)
foreach(src ${FUZZ_SOURCES})
    get_filename_component(binary ${src} NAME_WE)
    string(REGEX REPLACE "^fuzz_" "" name ${binary})
    add_executable(${binary} ${src})
    target_compile_options(${binary} PRIVATE ${PROJECT_WARNINGS})
    target_include_directories(${binary} PRIVATE ${FUZZ_DIR})
    target_link_libraries(${binary} PRIVATE ${FUZZ_LIBRARIES})
    target_link_options(${binary} PRIVATE -fsanitize=fuzzer)
    add_test(NAME fuzz.${name}
             COMMAND ${CMAKE_SOURCE_DIR}/scripts/fuzz.sh check ${CMAKE_BINARY_DIR} ${name}
                     ${FUZZ_TEST_SECONDS})
    set_tests_properties(fuzz.${name} PROPERTIES LABELS fuzz TIMEOUT 300)
endforeach()

# Writes tests/fuzz/corpus/<name>/ from the real writers (make fuzz-corpus); not a fuzz target.
add_executable(fuzz_make_corpus ${FUZZ_DIR}/make_corpus.c)
target_compile_options(fuzz_make_corpus PRIVATE ${PROJECT_WARNINGS})
target_include_directories(fuzz_make_corpus PRIVATE ${FUZZ_DIR})
target_link_libraries(fuzz_make_corpus PRIVATE ${FUZZ_LIBRARIES})
# The committed request corpus holds an input of every entry of the request table.
add_test(NAME fuzz.corpus COMMAND fuzz_make_corpus --check ${CMAKE_SOURCE_DIR})
set_tests_properties(fuzz.corpus PROPERTIES LABELS fuzz)
