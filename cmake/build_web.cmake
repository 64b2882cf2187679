# The dashboard's served directory (docs/DASHBOARD.md), run by the `web` target:
#   cmake -DSOURCE_DIR=<repo> -DOUT_DIR=<build>/web -DERRORS_JSON=<web_errors_json> -P build_web.cmake
# Copies web/src (the page and its ES modules) and the charting library's standalone production
# module from web/node_modules (installed by `npm ci` in scripts/install-deps.sh, pinned by
# web/package-lock.json). Nothing is fetched here.
set(LIB ${SOURCE_DIR}/web/node_modules/lightweight-charts/dist/lightweight-charts.standalone.production.mjs)
if(NOT EXISTS ${LIB})
    message(FATAL_ERROR "dashboard: ${LIB} is missing: run scripts/install-deps.sh (npm ci in web/)")
endif()
file(REMOVE_RECURSE ${OUT_DIR})
file(COPY ${SOURCE_DIR}/web/src/ DESTINATION ${OUT_DIR})
# Served as .js: the module's MIME type comes from its extension.
configure_file(${LIB} ${OUT_DIR}/assets/lib/lightweight-charts.js COPYONLY)
# The server's error table as the page reads it (code → message, gRPC status), printed by the
# host tool web_errors_json from src/api/errors_table.c.
execute_process(COMMAND ${ERRORS_JSON} OUTPUT_FILE ${OUT_DIR}/assets/errors.json RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "dashboard: ${ERRORS_JSON} failed (${rc})")
endif()
configure_file(${SOURCE_DIR}/web/node_modules/lightweight-charts/LICENSE
               ${OUT_DIR}/assets/lib/LICENSE.lightweight-charts COPYONLY)
