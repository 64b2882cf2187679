#!/usr/bin/env bash
# Repeatability of a backtest with the official Python SDK (docs/BACKTEST.md, "Checked with the
# official Python SDK"): the unmodified bot examples/backtest/ma_crossover.py trades a replay of
# the demo history twice at --speed 60 and twice at --speed step (scripts/replay-step.py moves
# the clock a minute at a time and waits for the bot after each minute). Each run has a fresh
# data directory. The two reports of each mode must be the same bytes, and so must the bot's
# output. Prints a summary; exits 1 on a mismatch, 2 when a run could not be made.
#
# usage: scripts/backtest-python-check.sh SDK_DIR [BUILD_DIR]
#   SDK_DIR  a checkout of the official SDK (RussianInvestments/invest-python): the directory
#            holding tinkoff/invest
#   PYTHON   the interpreter (default python3); it needs grpcio, protobuf and the SDK's other
#            dependencies (cachetools, python-dateutil, deprecation)
#   BACKTEST_CHECK_DIR  where the runs are kept (default run/backtest-check, made afresh)
#   BOT_ARGS            options for the bot (default: its own defaults)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 SDK_DIR [BUILD_DIR]" >&2
    exit 2
fi
sdk_dir=$(cd "$1" && pwd)
build_dir=${2:-build}
binary=$build_dir/tinvestd
python=${PYTHON:-python3}
work=${BACKTEST_CHECK_DIR:-run/backtest-check}
config=config/demo.json
token=t.demo.full
sber_uid=e6123145-9665-43e0-8413-cd61b8aa9b13 # the bot's default ticker, SBER
lead_minutes=3                                # quiet minutes before the first candle
period_minutes=40
speed=60

[ -d "$sdk_dir/tinkoff/invest" ] || { echo "$sdk_dir holds no tinkoff/invest" >&2; exit 2; }
[ -x "$binary" ] || { echo "$binary is not built (make build)" >&2; exit 2; }
if ! PYTHONPATH=$sdk_dir "$python" -c 'import grpc, google.protobuf, tinkoff.invest' 2>/dev/null; then
    echo "$python cannot import grpc, google.protobuf and the SDK in $sdk_dir; set PYTHON" >&2
    exit 2
fi

rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)

# ---- The history and the period -------------------------------------------------------------
"$python" scripts/make-demo-history.py --out "$work/archives" --config "$config" --days 2 \
    --seed 7 --uid "$sber_uid" >/dev/null
# The period: from $lead_minutes before SBER's first candle, $period_minutes long.
read -r period first_candle < <("$python" - "$work/archives" "$lead_minutes" "$period_minutes" <<'PY'
import datetime, glob, os, sys, zipfile
first = None
for path in glob.glob(os.path.join(sys.argv[1], "*.zip")):
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            for row in z.read(name).decode().splitlines():
                t = row.split(";")[1]
                first = t if first is None or t < first else first
start = datetime.datetime.strptime(first, "%Y-%m-%dT%H:%M:%SZ")
begin = start - datetime.timedelta(minutes=int(sys.argv[2]))
end = begin + datetime.timedelta(minutes=int(sys.argv[3]))
fmt = "%Y-%m-%dT%H:%M:%SZ"
print(f"{begin.strftime(fmt)}..{end.strftime(fmt)} {first}")
PY
)

# ---- One run ----------------------------------------------------------------------------------
server_pid=""
bot_pid=""
# shellcheck disable=SC2317 # called by the trap
stop_all() {
    local pid
    for pid in $bot_pid $server_pid; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    bot_pid=""
    server_pid=""
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# wait_for FILE REGEX SECONDS: the first matching line of FILE, or fails after SECONDS.
wait_for() {
    local deadline=$((SECONDS + $3))
    while [ "$SECONDS" -le "$deadline" ]; do
        if grep -m1 -E "$2" "$1" 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    return 1
}

# wait_quiet FILE: returns once FILE has not grown for 300 ms (at most 10 s).
wait_quiet() {
    local size=-1 same=0 tries=0
    while [ "$same" -lt 6 ] && [ "$tries" -lt 200 ]; do
        local now
        now=$(stat -c %s "$1")
        if [ "$now" = "$size" ]; then same=$((same + 1)); else same=0; size=$now; fi
        tries=$((tries + 1))
        sleep 0.05
    done
}

fail_run() {
    echo "backtest-python-check: $1: $2 (logs in $work/$1.*)" >&2
    exit 2
}

# run NAME SPEED: imports the history into a fresh data directory, replays it with the bot, and
# keeps the report as $work/NAME.report.json and the bot's output as $work/NAME.bot.log.
run() {
    local name=$1 mode=$2 data=$work/$1.data
    "$binary" history import --data-dir "$data" --config "$config" "$work"/archives/*.zip \
        >"$work/$name.import.log"
    "$binary" --config "$config" --data-dir "$data" --listen 127.0.0.1:0 --durability none \
        --replay "$period" --speed "$mode" >"$work/$name.server.log" 2>&1 &
    server_pid=$!
    local listening port
    listening=$(wait_for "$work/$name.server.log" '^listening ' 30) || fail_run "$name" "the server did not start"
    port=$(sed -E 's/.*plaintext=127\.0\.0\.1:([0-9]+).*/\1/' <<<"$listening")
    # shellcheck disable=SC2086 # BOT_ARGS is a list of options
    INVEST_TOKEN=$token INVEST_TARGET=127.0.0.1:$port INVEST_INSECURE=1 \
        PYTHONPATH="$PWD/examples/backtest/sdk_redirect:$sdk_dir" \
        "$python" examples/backtest/ma_crossover.py ${BOT_ARGS:-} \
        >"$work/$name.bot.log" 2>"$work/$name.bot.err" &
    bot_pid=$!
    if [ "$mode" = step ]; then
        "$python" scripts/replay-step.py --target "127.0.0.1:$port" --token "$token" \
            --step-ms 60000 --watch "$work/$name.bot.log" --ready '^subscribed' \
            --descriptor-set "$build_dir/gen/contract.desc" >"$work/$name.step.log" ||
            fail_run "$name" "the step driver failed"
    fi
    wait_for "$work/$name.server.log" '^replay finished ' $((period_minutes * 60 * 3 / speed + 60)) \
        >/dev/null || fail_run "$name" "the replay did not finish"
    wait_quiet "$work/$name.bot.log"
    kill "$server_pid"
    wait "$server_pid" || true
    server_pid=""
    # The stream ends with the server: the bot stops by itself.
    local waited=0
    while kill -0 "$bot_pid" 2>/dev/null && [ "$waited" -lt 100 ]; do
        sleep 0.1
        waited=$((waited + 1))
    done
    kill -0 "$bot_pid" 2>/dev/null && fail_run "$name" "the bot did not stop when its stream ended"
    wait "$bot_pid" || fail_run "$name" "the bot failed"
    bot_pid=""
    cp "$data/reports/report.json" "$work/$name.report.json"
    grep -q '^subscribed' "$work/$name.bot.log" || fail_run "$name" "the bot never subscribed"
    # A bot that subscribed after the first candle closed saw less: not a fault of the replay.
    local first_seen
    first_seen=$(grep -m1 ' close ' "$work/$name.bot.log" | cut -c1-16)
    [ "$first_seen" = "$(sed -E 's/^(.{10})T(.{5}).*/\1 \2/' <<<"$first_candle")" ] ||
        fail_run "$name" "the bot's first candle is '$first_seen', not the period's first; it started too late (lead_minutes)"
}

echo "backtest-python-check: SBER from $first_candle, replay $period; the bot: ma_crossover.py ${BOT_ARGS:-}"
for name in speed-1 speed-2 step-1 step-2; do
    mode=${name%-*}
    [ "$mode" = speed ] && mode=$speed
    started=$SECONDS
    run "$name" "$mode"
    candles=$(grep -c ' close ' "$work/$name.bot.log" || true)
    trades=$(grep -c -- '-> \(BUY\|SELL\)' "$work/$name.bot.log" || true)
    digest=$(sha256sum "$work/$name.report.json" | cut -c1-16)
    printf '  %-8s --speed %-4s %3d candles, %2d orders, report.json sha256 %s  (%d s)\n' \
        "$name" "$mode" "$candles" "$trades" "$digest" $((SECONDS - started))
done

status=0
compare() {
    if ! cmp -s "$work/$1.report.json" "$work/$2.report.json"; then
        echo "MISMATCH: $1 and $2 wrote different reports ($work/$1.report.json, $work/$2.report.json)"
        status=1
    elif ! cmp -s "$work/$1.bot.log" "$work/$2.bot.log"; then
        echo "MISMATCH: the bot printed different lines in $1 and $2 (diff $work/$1.bot.log $work/$2.bot.log)"
        status=1
    else
        echo "same: $1 and $2 (report.json and the bot's output byte for byte)"
    fi
}
compare speed-1 speed-2
compare step-1 step-2
# A check that proves something: the bot must have seen the period and traded in it.
for name in speed-1 step-1; do
    candles=$(grep -c ' close ' "$work/$name.bot.log" || true)
    trades=$(grep -c -- '-> \(BUY\|SELL\)' "$work/$name.bot.log" || true)
    if [ "$candles" -lt $((period_minutes / 2)) ] || [ "$trades" -lt 2 ]; then
        echo "TOO LITTLE: $name: $candles candles and $trades orders prove nothing"
        status=1
    fi
done
# Not required (docs/BACKTEST.md), but worth knowing: the bot acted at the same simulated times
# in both modes when the two reports differ only in their title, which names the speed.
if "$python" - "$work/speed-1.report.json" "$work/step-1.report.json" <<'PY'
import json, sys
a, b = (json.load(open(p, encoding="utf-8")) for p in sys.argv[1:])
a.pop("title", None)
b.pop("title", None)
sys.exit(0 if a == b else 1)
PY
then
    echo "note: the --speed and the step reports differ only in their title (the speed)"
else
    echo "note: the --speed and the step reports differ beyond their title (not required)"
fi
[ "$status" = 0 ] && echo "backtest-python-check: passed" || echo "backtest-python-check: FAILED"
exit "$status"
