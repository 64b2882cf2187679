#!/usr/bin/env bash
# The backtest demo (README, "Backtest a bot in two commands"): a synthetic history of a few demo
# instruments, imported into a fresh data directory, replayed at --speed 60 in the foreground;
# prints the command that runs the example bot against it.
# usage: scripts/backtest-demo.sh BINARY RUN_DIR LISTEN [PERIOD] [SPEED]
#   PERIOD  FROM..TO as `tinvestd --replay` takes it (default: the first day's session, from ten
#           minutes before its first candle, so that there is time to start the bot)
#   SPEED   N, max or step (default 60: a minute of history a second)
#   SDK     a checkout of the official Python SDK, to name in the printed command (optional)
set -euo pipefail
binary=$1
run_dir=$2/backtest
listen=$3
period=${4:-}
speed=${5:-60}
config=config/demo.json
# SBER, GAZP and LKOH of data/reference/instruments.json
uids=(e6123145-9665-43e0-8413-cd61b8aa9b13 962e2a95-02a9-4171-abd7-aa198dbe643a
    02cfdf61-6298-4c0f-a9ca-9cabc82afaf3)
year=2024
days=3

rm -rf "$run_dir/archives" "$run_dir/data"
mkdir -p "$run_dir/archives"
uid_args=()
for uid in "${uids[@]}"; do uid_args+=(--uid "$uid"); done
python3 scripts/make-demo-history.py --out "$run_dir/archives" --config "$config" \
    --year "$year" --days "$days" "${uid_args[@]}" >/dev/null
"$binary" history import --data-dir "$run_dir/data" --config "$config" "$run_dir"/archives/*.zip

if [ -z "$period" ]; then
    # The history's first day: make-demo-history.py writes weekdays from 1 January, 07:00-15:39 UTC.
    first_day=$(python3 -c "
import datetime
d = datetime.date($year, 1, 1)
while d.weekday() >= 5:
    d += datetime.timedelta(days=1)
print(d.isoformat())")
    period=${first_day}T06:30:00Z..${first_day}T15:40:00Z
fi
port=${listen##*:}
data_dir=$(cd "$run_dir/data" && pwd)
sdk_path=${SDK:+:$(cd "$SDK" && pwd)}

cat <<MSG

tinvestd backtest demo — a replay of a SYNTHETIC history (scripts/make-demo-history.py) of
SBER, GAZP and LKOH, $days trading days of $year, in $run_dir/archives
  replaying  : $period at --speed $speed (at 60 a minute of history takes a second)
  listening  : $listen (plaintext), token t.demo.full, accounts 2000000001 and 2000000002
  control    : tinvestd.replay.v1.ReplayService on the same port (docs/BACKTEST.md)

Run the bot in another terminal (the first candle closes about thirty seconds after the start; a bot
started later sees fewer candles):
  INVEST_TOKEN=t.demo.full INVEST_TARGET=127.0.0.1:$port INVEST_INSECURE=1 \\
  PYTHONPATH=examples/backtest/sdk_redirect${sdk_path:-} \\
  python3 examples/backtest/ma_crossover.py --ticker SBER --fast 2 --slow 5 --lots 10
(the official Python SDK installed with pip, or add a checkout of it to PYTHONPATH: SDK=DIR)

At the end the report is written to $data_dir/reports/report.html
and report.json, and the server prints "replay finished"; Ctrl-C stops it.

MSG
exec "$binary" --config "$config" --data-dir "$run_dir/data" --listen "$listen" \
    --durability none --replay "$period" --speed "$speed"
