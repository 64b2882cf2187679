#!/usr/bin/env bash
# Installs what the build and the tests need on Debian 12, and nothing when it is all there.
# Called by `make run`, `make test` and `make bench`; safe to run again at any time.
set -euo pipefail
cd "$(dirname "$0")/.."

debian_packages=(
    build-essential cmake pkg-config
    libgrpc-dev protobuf-compiler protobuf-c-compiler libprotobuf-c-dev libprotobuf-dev
    libjansson-dev libssl-dev openssl
    libwebsockets-dev # the HTTP listener and the REST proxy (docs/PROTOCOL.md, REST)
    libcurl4-openssl-dev # the REST load generator of make bench (tools/http_loadgen.c, docs/BENCHMARKS.md)
    libzip-dev zip # history archives: tinvestd history import and its tests (docs/HISTORY.md)
    clang-14 libclang-rt-14-dev # the fuzz build: clang with libFuzzer (make fuzz, make test)
    chromium # headless, for the report page's browser check (ctest report.browser, docs/REPORT.md)
    prometheus # promtool, which checks the metrics text (ctest unit.test_metrics_text, docs/METRICS.md)
)
need_node=0
command -v node >/dev/null 2>&1 || need_node=1
command -v npm >/dev/null 2>&1 || need_node=1
if [ "$need_node" = 1 ]; then
    debian_packages+=(nodejs npm)
fi

missing=()
for pkg in "${debian_packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$pkg")
    fi
done

if [ "${#missing[@]}" -gt 0 ]; then
    echo "install-deps: installing ${missing[*]}"
    sudo_cmd=()
    [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}"
fi

# The integration tests drive the server with an SDK we did not write, pinned by the lockfile.
sdk_dir=tests/integration
if [ ! -d "$sdk_dir/node_modules" ] || [ "$sdk_dir/package-lock.json" -nt "$sdk_dir/node_modules/.package-lock.json" ]; then
    echo "install-deps: npm ci in $sdk_dir"
    (cd "$sdk_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi

# The dashboard's front end (docs/DASHBOARD.md): the charting library it serves, and the
# DevTools client of its browser test, pinned by web/package-lock.json.
web_dir=web
if [ ! -d "$web_dir/node_modules" ] || [ "$web_dir/package-lock.json" -nt "$web_dir/node_modules/.package-lock.json" ]; then
    echo "install-deps: npm ci in $web_dir"
    (cd "$web_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi
