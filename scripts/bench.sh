#!/usr/bin/env bash
# make bench: every figure of the benchmark table, measured against the floors of this machine in
# the same run, printed and written to bench/results/latest.md.
# usage: scripts/bench.sh BUILD_DIR        BENCH_QUICK=1 for a short smoke run (CI);
#        BENCH_RESULTS=FILE writes the table there instead of bench/results/latest.md
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
quick=${BENCH_QUICK:-0}
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

if [ "$quick" = 1 ]; then
    latency_calls=500; load_calls=5000; venue_ops=200000; burst=100
    recovery_events=100000; restart_events=200000
else
    latency_calls=20000; load_calls=200000; venue_ops=5000000; burst=500
    recovery_events=1000000; restart_events=10000000
fi

# Starts a server binary with its arguments (in this shell, so that cleanup can stop it) and
# sets server_port from its first line (and server_http_port from its http=, if any).
server_port=
server_http_port=
start_server() {
    local out="$work/server-$RANDOM.out"
    "$@" > "$out" 2> "$out.err" &
    pids+=("$!")
    for _ in $(seq 1 100); do
        if [ -s "$out" ]; then
            server_port=$(sed -n '1s/.*plaintext=[^:]*:\([0-9]*\).*/\1/p' "$out")
            server_http_port=$(sed -n '1s/.* http=[^:]*:\([0-9]*\).*/\1/p' "$out")
            return 0
        fi
        sleep 0.05
    done
    echo "server did not start: $*" >&2
    cat "$out.err" >&2
    return 1
}

stop_last_server() {
    local pid=${pids[-1]}
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    unset 'pids[-1]'
}

json() { node -e "const r=JSON.parse(require('fs').readFileSync(0,'utf8')); console.log($1)"; }
ratio() { node -e "console.log(($1).toFixed(2))"; }

etf_uid=$(node -e "const c=require('./data/reference/instruments.json'); console.log(c.instruments.find(i=>i.type==='etf').uid)")
loadgen="$build/loadgen --instrument $etf_uid --price 8.000 --json"

echo "== floors"
fsync_line=$("$build/fsync_floor" "$work" $([ "$quick" = 1 ] && echo 200 || echo 2000))
tcp_line=$("$build/tcp_pingpong" $([ "$quick" = 1 ] && echo 2000 || echo 20000))
echo "$fsync_line"; echo "$tcp_line"
fsync_p50=$(sed -n 's/.*p50 \([0-9.]*\) us.*/\1/p' <<<"$fsync_line")
# CPU time (user + system) the process has used, in clock ticks.
ticks_per_s=$(getconf CLK_TCK)
process_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# Runs the load generator with these arguments against the newest server; sets load_json to its
# report and server_cpu_us to the server's CPU time per call during the run. Client and server
# share this machine's CPUs, so both costs are part of every throughput figure.
load() {
    local pid=${pids[-1]} before after
    before=$(process_ticks "$pid")
    load_json=$($loadgen "$@")
    after=$(process_ticks "$pid")
    server_cpu_us=$(node -e "console.log((($after - $before) / $ticks_per_s * 1e6 / JSON.parse(process.argv[1]).calls).toFixed(1))" "$load_json")
}
client_cpu_us() { json "(r.client_cpu_ns_per_call / 1000).toFixed(1)" <<<"$1"; }

start_server "$build/echo_server"; port=$server_port
echo_json=$($loadgen --target "127.0.0.1:$port" --method echo --path /bench.Echo/Echo --calls $latency_calls)
# The transport's ceiling: the same load generator, concurrency and channels as the sustained
# order run below.
load --target "127.0.0.1:$port" --method echo --path /bench.Echo/Echo --calls $load_calls --concurrency 64 --channels 4
echo_load=$load_json; echo_server_cpu=$server_cpu_us
stop_last_server
# The same floor for a server that speaks the contract: every reply carries x-tracking-id and the
# x-ratelimit-* headers, as tinvestd's do.
start_server "$build/echo_server" --contract-metadata; port=$server_port
load --target "127.0.0.1:$port" --method echo --path /bench.Echo/Echo --calls $load_calls --concurrency 64 --channels 4
echo_md_load=$load_json; echo_md_server_cpu=$server_cpu_us
stop_last_server
echo_p50=$(json "r.latency.p50_us" <<<"$echo_json")
echo "gRPC echo: p50 $echo_p50 us"
echo_rate=$(json "r.calls_per_s" <<<"$echo_load")
echo "gRPC echo: $echo_rate calls/s at 64 in flight"

run_tinvestd() { # durability, extra config[, more arguments of tinvestd]
    local config="$work/config-$RANDOM.json"
    node -e "const c=require('./config/demo.json'); c.reference_dir=require('path').resolve('data/reference'); Object.assign(c.venue, $2); c.accounts[0].cash.rub='1000000000'; require('fs').writeFileSync('$config', JSON.stringify(c))"
    start_server "$build/tinvestd" --config "$config" --data-dir "$work/data-$RANDOM" \
        --listen 127.0.0.1:0 --durability "$1" --log-level error "${@:3}"
}

echo "== tinvestd"
run_tinvestd fsync '{}'; port=$server_port
async_fsync=$($loadgen --target "127.0.0.1:$port" --calls $latency_calls --concurrency 1)
load --target "127.0.0.1:$port" --calls $load_calls --concurrency 64 --channels 4
sustained_plain=$load_json; sustained_server_cpu=$server_cpu_us
load --target "127.0.0.1:$port" --calls $load_calls --concurrency 64 --channels 4 --stream
sustained=$load_json; sustained_stream_server_cpu=$server_cpu_us
sustained_rate=$(json "r.calls_per_s" <<<"$sustained")
# Stream delivery delay at 80 % of the sustained maximum just measured.
stream_rate=$(node -e "console.log(Math.max(100, Math.round($sustained_rate * 0.8)))")
stream_run=$($loadgen --target "127.0.0.1:$port" --calls $((load_calls / 2)) --rate $stream_rate --channels 4 --stream)
stop_last_server
run_tinvestd none '{}'; port=$server_port
async_none=$($loadgen --target "127.0.0.1:$port" --calls $latency_calls --concurrency 1)
load --target "127.0.0.1:$port" --calls $load_calls --concurrency 64 --channels 4
sustained_none=$load_json; sustained_none_server_cpu=$server_cpu_us
stop_last_server
run_tinvestd fsync '{ack_delay_us: 2000}'; port=$server_port
burst_async=$($loadgen --target "127.0.0.1:$port" --calls $burst --concurrency $burst)
burst_sync=$($loadgen --target "127.0.0.1:$port" --calls $burst --concurrency 1 --method sync)
stop_last_server

# REST PostOrderAsync (the HTTP listener and its proxy, docs/PROTOCOL.md "REST") against the
# HTTP floor measured here: http_floor_server, the same library (libwebsockets) answering every
# POST with a fixed small JSON body. Both are driven by http_loadgen (libcurl's multi interface,
# HTTP/1.1 keep-alive) with the same two loads: one connection (latency), and rest_connections
# connections of one request in flight each (throughput: as many in flight as the gRPC sustained
# rows). Every order carries a fresh orderId; an answer other than 200 fails its row, and the
# bench (after writing the table).
rest_connections=64
rest_failed=""
http_loadgen="$build/http_loadgen --instrument $etf_uid --price 8.000 --json"
# http_loadgen with these arguments against the newest server's HTTP port (rest_port); sets
# load_json and server_cpu_us as load does, and notes a run with failed requests.
http_load() { # label, arguments
    local label=$1 pid=${pids[-1]} before after
    shift
    before=$(process_ticks "$pid")
    if ! load_json=$($http_loadgen --target "127.0.0.1:$rest_port" "$@"); then
        rest_failed+=" $label"
        echo "$label: failed requests: $load_json" >&2
    fi
    after=$(process_ticks "$pid")
    server_cpu_us=$(node -e "const r=JSON.parse(process.argv[1]); console.log(r.calls ? (($after - $before) / $ticks_per_s * 1e6 / r.calls).toFixed(1) : 'n/a')" "$load_json")
}
# A row's "measured" cell for a run: p50 / p99, requests/s, and failures if any.
rest_cell() { # load json
    json "r.latency.p50_us+' / '+r.latency.p99_us+' µs; '+r.calls_per_s+' /s'+(r.errors ? '; **'+r.errors+' of '+r.calls+' failed** ('+r.non_200+' not 200)' : '')" <<<"$1"
}
rest_runs() { # label prefix: the two loads against the newest server; sets rest_one, rest_many, their CPU
    http_load "$1, 1 connection" --connections 1 --calls $latency_calls
    rest_one=$load_json; rest_one_server_cpu=$server_cpu_us
    http_load "$1, $rest_connections connections" --connections $rest_connections --calls $load_calls
    rest_many=$load_json; rest_many_server_cpu=$server_cpu_us
}
echo "== REST"
start_server "$build/http_floor_server"; rest_port=$server_port
rest_runs "HTTP floor"
floor_one=$rest_one; floor_many=$rest_many
floor_one_cpu=$rest_one_server_cpu; floor_many_cpu=$rest_many_server_cpu
stop_last_server
echo "HTTP floor: 1 connection $floor_one; $rest_connections connections $floor_many"
run_tinvestd fsync '{}' --http-listen 127.0.0.1:0; rest_port=$server_http_port
rest_runs "REST PostOrderAsync durable"
rest_fsync_one=$rest_one; rest_fsync_many=$rest_many; rest_fsync_many_cpu=$rest_many_server_cpu
stop_last_server
run_tinvestd none '{}' --http-listen 127.0.0.1:0; rest_port=$server_http_port
rest_runs "REST PostOrderAsync --durability none"
rest_none_one=$rest_one; rest_none_many=$rest_many; rest_none_many_cpu=$rest_many_server_cpu
stop_last_server
echo "REST durable: $rest_fsync_one; $rest_fsync_many"
echo "REST none: $rest_none_one; $rest_none_many"
floor_p50=$(json "r.latency.p50_us" <<<"$floor_one")
floor_rate=$(json "r.calls_per_s" <<<"$floor_many")
# The ratio cell of a REST row: to the floor, and to the same run's gRPC figure.
rest_ratio_one() { # json, gRPC json at 1 in flight
    echo "$(ratio "$(json "r.latency.p50_us" <<<"$1")/$floor_p50") × floor p50; $(ratio "$(json "r.latency.p50_us" <<<"$1")/$(json "r.latency.p50_us" <<<"$2")") × gRPC p50 ($(json "r.latency.p50_us" <<<"$2") µs)"
}
rest_ratio_many() { # json, gRPC json of the sustained load
    echo "$(ratio "$(json "r.calls_per_s" <<<"$1")/$floor_rate") × floor /s; $(ratio "$(json "r.calls_per_s" <<<"$1")/$(json "r.calls_per_s" <<<"$2")") × gRPC /s ($(json "r.calls_per_s" <<<"$2") /s, 64 in flight on 4 channels)"
}
rest_rows=$(cat <<ROWS
| HTTP floor: libwebsockets answering every POST with a fixed JSON body, 1 connection: p50 / p99; requests/s | $(rest_cell "$floor_one") | | 1.00 × floor |
| the same floor, $rest_connections kept-alive connections, one request in flight each | $(rest_cell "$floor_many") | | 1.00 × floor |
| REST PostOrderAsync durable, 1 connection | $(rest_cell "$rest_fsync_one") | | $(rest_ratio_one "$rest_fsync_one" "$async_fsync") |
| REST PostOrderAsync durable, $rest_connections connections | $(rest_cell "$rest_fsync_many") | | $(rest_ratio_many "$rest_fsync_many" "$sustained_plain") |
| REST PostOrderAsync --durability none, 1 connection | $(rest_cell "$rest_none_one") | | $(rest_ratio_one "$rest_none_one" "$async_none") |
| REST PostOrderAsync --durability none, $rest_connections connections | $(rest_cell "$rest_none_many") | | $(rest_ratio_many "$rest_none_many" "$sustained_none") |
| CPU per request at $rest_connections connections, server / load client: HTTP floor; REST durable; REST none | $floor_many_cpu / $(client_cpu_us "$floor_many"); $rest_fsync_many_cpu / $(client_cpu_us "$rest_fsync_many"); $rest_none_many_cpu / $(client_cpu_us "$rest_none_many") µs | | |
ROWS
)

# Market-data fan-out: md_fanout's subscribers (trades of every demo instrument) on tinvestd
# while loadgen trades market orders at a steady rate, against md_floor_server streaming one
# fixed trade per order to the same subscribers. Three rates: a low one (the delay below
# saturation: every trade is still a burst of one message per subscriber), a steady one, and one
# past what either delivers here (the ceiling).
if [ "$quick" = 1 ]; then
    md_streams=100; md_seconds=2; md_warmup=1; md_rates="20 100"
else
    md_streams=1000; md_seconds=10; md_warmup=3; md_rates="5 50 400"
fi
md_instruments=$(node -e "const c=require('./data/reference/instruments.json'); console.log(c.instruments.map(i=>'--instrument '+i.uid).join(' '))")
md_fanout="$build/md_fanout --streams $md_streams --channels 16 --seconds $md_seconds --warmup $md_warmup"
md_run() { # rate -> sets md_tinvestd, md_floor
    local rate=$1 config="$work/md-config-$RANDOM.json"
    node -e "const c=require('./config/demo.json'); c.reference_dir=require('path').resolve('data/reference'); c.accounts[0].cash.rub='1000000000'; c.limits.market_data_streams_per_token=$md_streams+16; require('fs').writeFileSync('$config', JSON.stringify(c))"
    start_server "$build/tinvestd" --config "$config" --data-dir "$work/data-$RANDOM" \
        --listen 127.0.0.1:0 --durability fsync --log-level error
    local calls
    calls=$(node -e "console.log(Math.ceil($rate * ($md_seconds + $md_warmup + 2)))")
    "$build/loadgen" --target "127.0.0.1:$server_port" --instrument "$etf_uid" --market \
        --rate "$rate" --calls "$calls" --json > "$work/md-loadgen.json" &
    local trader=$!
    md_tinvestd=$($md_fanout --target "127.0.0.1:$server_port" $md_instruments)
    wait "$trader" || true
    stop_last_server
    start_server "$build/md_floor_server" "$rate"
    md_floor=$($md_fanout --target "127.0.0.1:$server_port")
    stop_last_server
}
md_row() { # rate
    local t_rate t_p50 t_p99 f_rate f_p50 f_p99
    t_rate=$(json "r.messages_per_s" <<<"$md_tinvestd"); f_rate=$(json "r.messages_per_s" <<<"$md_floor")
    t_p50=$(json "r.delay.p50_us" <<<"$md_tinvestd"); f_p50=$(json "r.delay.p50_us" <<<"$md_floor")
    t_p99=$(json "r.delay.p99_us" <<<"$md_tinvestd"); f_p99=$(json "r.delay.p99_us" <<<"$md_floor")
    echo "| market data, $md_streams subscribers, $1 trades/s: messages/s; trade → subscriber p50 / p99 (floor: $f_rate /s; $f_p50 / $f_p99 µs) | $t_rate /s; $t_p50 / $t_p99 µs | ≥ 0.8 × floor /s; p99 ≤ 2 ms below saturation | $(ratio "$t_rate/Math.max(1,$f_rate)") × floor rate, $(ratio "$t_p99/Math.max(1,$f_p99)") × floor p99 |"
}
# The matching engine and the journal's replay first: both want the two vCPUs and memory the
# market-data runs (a thousand subscribers' clients) leave the kernel reclaiming for a while.
venue_out=$("$build/bench_venue" $venue_ops)
venue_line=$(grep -m1 "^venue matching" <<<"$venue_out")
candles_line=$(grep -m1 "^candles: " <<<"$venue_out")
recovery_out=$("$build/bench_recovery" config/demo.json $recovery_events "$work/recovery" $restart_events)
echo "$venue_line"; echo "$recovery_out"
md_rows=""
for rate in $md_rates; do
    md_run "$rate"
    echo "market data at $rate trades/s: tinvestd $md_tinvestd; floor $md_floor"
    md_rows+="$(md_row "$rate")"$'\n'
done

# History import of one CSV file of minute candles against reading the same bytes with CRC32C.
history_line=$("$build/bench_history" "$work" $([ "$quick" = 1 ] && echo 50000 || echo 1000000))
echo "$history_line"
history_rate=$(sed -n 's/^history import: \([0-9]*\) candles\/s.*/\1/p' <<<"$history_line")
history_floor=$(sed -n 's/.*CRC32C of the same bytes: \([0-9]*\) candles\/s.*/\1/p' <<<"$history_line")

# Backtesting: a year of minute candles (quick: two days) for every instrument of the demo's
# reference data with a uid, written by history_gen, imported by `tinvestd history import` (the
# import measured on this realistic input), then replayed at --speed max with no client, from
# the server's start to its "replay finished" line (the report written), once with the default
# --durability fsync and once with none. Each replay starts from an empty journal beside hard
# links to the same store files.
if [ "$quick" = 1 ]; then replay_days=2; replay_timeout_s=120; else replay_days=0; replay_timeout_s=1200; fi
replay_year=2024
replay_config="$work/replay-config.json"
node -e "const c=require('./config/demo.json'); c.reference_dir=require('path').resolve('data/reference'); require('fs').writeFileSync('$replay_config', JSON.stringify(c))"
replay_specs=$(node -e "const c=require('./data/reference/instruments.json'); console.log(c.instruments.filter(i=>i.uid&&i.min_price_increment&&i.reference_price).map(i=>i.uid+':'+i.min_price_increment+':'+i.reference_price).join(' '))")
mkdir -p "$work/replay-csv"
# shellcheck disable=SC2086
gen_line=$("$build/history_gen" "$work/replay-csv" $replay_year $replay_days 1 $replay_specs)
read -r _ replay_candles _ replay_instruments _ replay_from _ replay_to _ replay_batches <<<"$gen_line"
import_started=$(date +%s%N)
"$build/tinvestd" history import --data-dir "$work/replay-store" --config "$replay_config" \
    "$work/replay-csv"/*.csv > /dev/null
import_s=$(node -e "console.log((($(date +%s%N) - $import_started) / 1e9).toFixed(3))")
rm -rf "$work/replay-csv"
import_rate=$(node -e "console.log(Math.round($replay_candles / $import_s))")
echo "history import of $replay_candles candles ($replay_instruments instruments, $replay_from..$replay_to): $import_s s = $import_rate candles/s"
log_ns() { date -d "$1" +%s%N; }
seconds() { node -e "console.log((($1) / 1e9).toFixed(3))"; } # an expression in ns
# A log line's time (the log writes UTC times to the microsecond) in ns; the line is found by a
# pattern.
log_time_ns() { log_ns "$(grep -m1 "$2" "$1" | cut -d' ' -f1)"; }
# Runs the replay with this durability; sets replay_total_s (start to "replay finished", the
# report written), replay_startup_s (start to the history loaded: process, recovery, history),
# replay_load_s (the history load alone), replay_run_s (the rest) and replay_prints.
replay_run() {
    local dir="$work/replay-$1" out="$work/replay-$1.out"
    mkdir -p "$dir/history"
    cp -l "$work/replay-store/history"/*.tcs "$dir/history/"
    local started
    started=$(date +%s%N)
    "$build/tinvestd" --config "$replay_config" --data-dir "$dir" --listen 127.0.0.1:0 \
        --durability "$1" --replay "$replay_from..$replay_to" --speed max --log-level info \
        > "$out" 2> "$out.err" &
    pids+=("$!")
    local waited=0
    until grep -q '^replay finished report=' "$out"; do
        if ! kill -0 "${pids[-1]}" 2>/dev/null || [ $waited -ge $((replay_timeout_s * 50)) ]; then
            echo "the replay at --durability $1 did not finish" >&2
            cat "$out.err" >&2
            return 1
        fi
        sleep 0.02
        waited=$((waited + 1))
    done
    stop_last_server
    local recovered loaded finished
    recovered=$(log_time_ns "$out.err" " info recovered state_hash=")
    loaded=$(log_time_ns "$out.err" " info replay: .* prints in the period")
    finished=$(log_time_ns "$out.err" " info replay: finished")
    replay_prints=$(sed -n 's/.* \([0-9]*\) prints in the period.*/\1/p' "$out.err" | head -1)
    replay_total_s=$(seconds "$finished - $started")
    replay_startup_s=$(seconds "$loaded - $started")
    replay_load_s=$(seconds "$loaded - $recovered")
    replay_run_s=$(seconds "$finished - $loaded")
    rm -rf "$dir"
    echo "replay at --speed max, --durability $1: $replay_prints prints; $replay_total_s s from the start to the report (startup $replay_startup_s s, of which the history load $replay_load_s s; replay $replay_run_s s)"
}
# The simulated period in minutes: whole days, from the first day's start to the last day's end.
replay_minutes=$(node -e "console.log((Date.parse('${replay_to}T00:00:00Z') - Date.parse('${replay_from}T00:00:00Z')) / 60000 + 1440)")
# The floors of this run: the matching engine's ops/s; the journal's durable commits/s of 16
# records (a minute's prints of ten instruments, 20-40 events, are one batch and one commit at
# fsync) and its append + apply without fsync (events/s, bench_recovery's mix).
venue_ops_per_s=$(sed -n 's/.* = \([0-9.]*\) M ops\/s.*/\1/p' <<<"$venue_line" | node -e "console.log(Math.round(require('fs').readFileSync(0,'utf8')*1e6))")
commit_floor=$(sed -n 's/^durable append: batch  *16 records: [0-9]* records\/s, \([0-9]*\) commits\/s.*/\1/p' <<<"$recovery_out")
append_floor=$(sed -n 's/^append+apply: \([0-9]*\) events\/s.*/\1/p' <<<"$recovery_out")
# A row of the table for the replay just run: durability, the goal's column.
replay_row() {
    local prints_per_s minutes_per_s batches_per_s journal
    prints_per_s=$(node -e "console.log(Math.round($replay_prints / $replay_run_s))")
    minutes_per_s=$(node -e "console.log(Math.round($replay_minutes / $replay_run_s))")
    batches_per_s=$(node -e "console.log(Math.round($replay_batches / $replay_run_s))")
    if [ "$1" = fsync ]; then
        journal="$batches_per_s minutes of prints/s = $(ratio "$batches_per_s/$commit_floor") × the journal's durable commits/s ($commit_floor /s, 16 records)"
    else
        journal="$(ratio "$prints_per_s/$append_floor") × the journal's append + apply without fsync ($append_floor events/s)"
    fi
    local to_goal=""
    [ "$quick" = 1 ] || to_goal="$(ratio "$replay_total_s/60") × goal; "
    echo "| replay at --speed max, no client, --durability $1: $replay_from..$replay_to, $replay_candles candles of $replay_instruments instruments, $replay_prints prints; from the start to \"replay finished\" (report written), startup (of it the history load); after the startup, simulated minutes/s and prints/s | $replay_total_s s (startup $replay_startup_s s, load $replay_load_s s); $minutes_per_s simulated min/s; $prints_per_s prints/s | ${2} | $to_goal$journal; prints/s = $(node -e "console.log(($prints_per_s/$venue_ops_per_s).toFixed(3))") × matching ops/s ($venue_ops_per_s /s) |"
}
replay_goal="≤ 60 s for a year of 10 instruments (about 1.3 M candles)"
[ "$quick" = 1 ] && replay_goal="(the goal is for the full run's year)"
replay_run fsync
replay_fsync_row=$(replay_row fsync "$replay_goal")
replay_run none
replay_none_row=$(replay_row none "$replay_goal")

a_fsync_p50=$(json "r.latency.p50_us" <<<"$async_fsync")
a_fsync_p99=$(json "r.latency.p99_us" <<<"$async_fsync")
a_none_p50=$(json "r.latency.p50_us" <<<"$async_none")
sustained_none_rate=$(json "r.calls_per_s" <<<"$sustained_none")
sustained_plain_rate=$(json "r.calls_per_s" <<<"$sustained_plain")
echo_md_rate=$(json "r.calls_per_s" <<<"$echo_md_load")
echo_client_cpu=$(client_cpu_us "$echo_load")
order_client_cpu=$(client_cpu_us "$sustained_plain")
stream_p50=$(json "r.stream_after_reply.p50_us" <<<"$stream_run")
stream_p99=$(json "r.stream_after_reply.p99_us" <<<"$stream_run")
stream_sat_p50=$(json "r.stream_after_reply.p50_us" <<<"$sustained")
burst_async_s=$(json "r.seconds" <<<"$burst_async")
burst_sync_s=$(json "r.seconds" <<<"$burst_sync")
# A bench_recovery line "NAME: MEASURED; goal GOAL: RATIO" as a table row.
recovery_row() {
    local line
    line=$(grep -m1 "^$1" <<<"$recovery_out" | sed 's/>=/≥/g; s/<=/≤/g')
    local name=${line%%: *} rest=${line#*: }
    local goal=${rest##*; goal }
    echo "| $name | ${rest%; goal *} | ${goal%%: *} | ${goal#*: } |"
}

# The dashboard's frame rate in headless Chromium (tests/integration/dashboard-fps.mjs): ten shares
# traded 100 times a second each by the C load generator, the page showing them live; then the
# same load with the page left unconnected (the floor: what the machine's load alone leaves).
echo "== dashboard frame rate"
fps_seconds=$([ "$quick" = 1 ] && echo 3 || echo 15)
build_abs=$(cd "$build" && pwd)
dashboard_fps() { # page: connected|idle
    (cd tests/integration && TINVESTD_BIN="$build_abs/tinvestd" TINVESTD_SOURCE_DIR="$PWD/../.." \
        DASHBOARD_FPS_SECONDS=$fps_seconds DASHBOARD_FPS_PAGE=$1 DASHBOARD_ARTIFACTS="$build_abs" \
        node dashboard-fps.mjs) || true
}
fps_run=$(dashboard_fps connected | tail -1)
fps_floor_run=$(dashboard_fps idle | tail -1)
if grep -q '"fps"' <<<"$fps_run" && grep -q '"fps"' <<<"$fps_floor_run"; then
    fps_row="| dashboard in headless Chromium, 10 instruments × $(json r.rate_per_instrument <<<"$fps_run") trades/s (load generator $(json r.loadgen_calls_per_s <<<"$fps_run") orders/s; the page received $(json r.messages_per_s <<<"$fps_run") stream messages/s, its main thread busy $(json "(100*r.page_busy).toFixed(0)" <<<"$fps_run") %, script $(json "(100*r.page_script).toFixed(0)" <<<"$fps_run") %; load average $(json "r.load_average.toFixed(1)" <<<"$fps_run")); floor: the page unconnected under the same load, $(json r.fps <<<"$fps_floor_run") fps | $(json r.fps <<<"$fps_run") frames/s | ≥ 50 frames/s | $(ratio "$(json r.fps <<<"$fps_run")/50") × goal |"
else
    fps_row="| dashboard in headless Chromium, 10 instruments × 100 trades/s | skipped (no Chromium, or the run failed: $fps_run) | ≥ 50 frames/s | |"
fi

machine="$(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) vCPU, kernel $(uname -r), data on $(df -hT "$work" | awk 'NR==2{print $2", "$3}') ($(lsblk -dno ROTA 2>/dev/null | head -1 | tr -d ' ' | sed 's/1/rotational/;s/0/non-rotational/') disk)"
mode=$([ "$quick" = 1 ] && echo "quick (smoke)" || echo "full")
table=$(cat <<TABLE
# tinvestd benchmarks — $mode run, $(date -u +%Y-%m-%dT%H:%MZ)

Machine: $machine

| floor | p50 |
|---|---|
| fdatasync of a 4 KiB append | $fsync_p50 µs |
| TCP loopback ping-pong | $(sed -n 's/.*p50 \([0-9.]*\) us.*/\1/p' <<<"$tcp_line") µs |
| gRPC C-core echo, same message size | $echo_p50 µs |
| HTTP/1.1 on libwebsockets, a fixed JSON answer to a PostOrderAsync body, 1 connection | $floor_p50 µs |

| figure | measured | goal | ratio |
|---|---|---|---|
| PostOrderAsync durable p50 | $a_fsync_p50 µs | ≤ fsync + 1.1 × none p50 = $(ratio "$fsync_p50+1.1*$a_none_p50") µs | $(ratio "$a_fsync_p50/($fsync_p50+$a_none_p50)") × (fsync + none) |
| PostOrderAsync durable p99 | $a_fsync_p99 µs | | |
| PostOrderAsync --durability none p50 | $a_none_p50 µs | ≤ 1.3 × echo = $(ratio "1.3*$echo_p50") µs | $(ratio "$a_none_p50/$echo_p50") × echo |
| $burst parallel PostOrderAsync vs $burst sequential PostOrder, venue latency 2 ms | ${burst_async_s} s vs ${burst_sync_s} s | ≥ 10× faster | $(ratio "$burst_sync_s/$burst_async_s") × |
| gRPC C-core echo, 64 in flight, 4 channels (the transport's ceiling) | $echo_rate calls/s | | 1.00 × echo |
| the same echo, replies carrying the contract's x-tracking-id and x-ratelimit-* headers | $echo_md_rate calls/s | | $(ratio "$echo_md_rate/$echo_rate") × echo |
| sustained PostOrderAsync durable, the echo's load (64 in flight, 4 channels) | $sustained_plain_rate /s | ≥ 0.9 × echo = $(ratio "0.9*$echo_rate") /s | $(ratio "$sustained_plain_rate/$echo_rate") × echo |
| sustained PostOrderAsync durable, same load, OrderStateStream attached | $sustained_rate /s | | $(ratio "$sustained_rate/$echo_rate") × echo |
| sustained PostOrderAsync --durability none, same load | $sustained_none_rate /s | | $(ratio "$sustained_none_rate/$echo_rate") × echo |
| CPU per call, server / load client: echo; echo with the contract's headers; PostOrderAsync durable; with the stream; none | $echo_server_cpu / $echo_client_cpu; $echo_md_server_cpu / $(client_cpu_us "$echo_md_load"); $sustained_server_cpu / $order_client_cpu; $sustained_stream_server_cpu / $(client_cpu_us "$sustained"); $sustained_none_server_cpu / $(client_cpu_us "$sustained_none") µs | | |
| ceiling on these $(nproc) vCPUs for a server exactly as cheap as the echo, driven by the order client (echo's CPU per call + the order client's) | $(ratio "$echo_rate*($echo_server_cpu+$echo_client_cpu)/($echo_server_cpu+$order_client_cpu)") /s | | $(ratio "($echo_server_cpu+$echo_client_cpu)/($echo_server_cpu+$order_client_cpu)") × echo |
$rest_rows
| OrderStateStream: reply → stream message at 80 % of the sustained maximum ($stream_rate /s), p50 / p99 (at saturation: p50 $stream_sat_p50 µs) | $stream_p50 / $stream_p99 µs | p50 ≤ 1 ms, p99 ≤ 5 ms | |
| matching engine alone | ${venue_line#venue matching: } | ≥ 5 M ops/s, p99 ≤ 2 µs | |
| candles: one print into all 16 intervals (the apply of a trade adds this) | ${candles_line#candles: } | ≤ 1 µs per print (an order's durable round trip is ~100 µs) | |
${md_rows%$'\n'}
| history import, one CSV file of minute candles into an empty store: parse, check, sort, write, fsync (floor: read + CRC32C of the same bytes, $history_floor candles/s) | $history_rate candles/s | ≥ 0.02 × floor | $(ratio "$history_rate/Math.max(1,$history_floor)") × floor |
| history import for the replay: \`tinvestd history import\` of $replay_instruments CSV files, $replay_candles candles ($replay_from..$replay_to), the whole command (floor: the row above's) | $import_rate candles/s ($import_s s) | | $(ratio "$import_rate/Math.max(1,$history_floor)") × floor |
$replay_fsync_row
$replay_none_row
$(recovery_row "journal bytes per limit order")
$(recovery_row "journal bytes, the mix")
$(recovery_row "replay, ")
$(recovery_row "restart, ")
$fps_row
TABLE
)
results=${BENCH_RESULTS:-bench/results/latest.md}
mkdir -p "$(dirname "$results")"
echo "$table" > "$results"
echo
echo "$table"
if [ -n "$rest_failed" ]; then
    echo "REST rows with failed requests:$rest_failed" >&2
    exit 1
fi
