#!/usr/bin/env bash
# The recycling soak: a broker with a small order pool and a short retention takes far more
# orders than its pool holds (market orders, buys and sells, so every order fills or ends at
# once). It must refuse none for capacity, never answer INTERNAL, keep its memory flat, and
# restart into the state it stopped in.
#
# usage: scripts/recycle-soak.sh BUILD_DIR
#   RECYCLE_ORDERS (default 2000000)  orders to send
#   RECYCLE_POOL   (default 100000)   limits.max_orders
#   RECYCLE_RETENTION_S (default 2)   order and key retention
set -euo pipefail
build=$1
orders=${RECYCLE_ORDERS:-2000000}
pool=${RECYCLE_POOL:-100000}
retention=${RECYCLE_RETENTION_S:-2}
work=$(mktemp -d)
server_pid=
sampler_pid=
cleanup() {
    [ -n "$sampler_pid" ] && kill "$sampler_pid" 2>/dev/null || true
    [ -n "$server_pid" ] && kill -9 "$server_pid" 2>/dev/null || true
    if [ "${failed:-1}" = 0 ]; then rm -rf "$work"; else echo "recycle-soak: kept $work"; tail -5 "$work/server.log" 2>/dev/null; fi
}
trap cleanup EXIT

# The demo configuration with the small pool; the market maker refills its quotes as they trade.
instrument=$(node -e '
  const fs = require("fs");
  const c = JSON.parse(fs.readFileSync("config/demo.json", "utf8"));
  c.reference_dir = fs.realpathSync("data/reference");
  const instruments = JSON.parse(fs.readFileSync("data/reference/instruments.json", "utf8")).instruments;
  c.limits = { ...c.limits, max_orders: Number(process.argv[1]),
               order_history_retention_s: Number(process.argv[2]),
               idempotency_retention_s: Number(process.argv[2]) };
  c.venue.market_maker = { ...c.venue.market_maker, walk_ticks: 0, lots_per_level: 1000000 };
  fs.writeFileSync(process.argv[3], JSON.stringify(c));
  process.stdout.write(instruments.find((i) => i.ticker === "IRAO").uid);
' "$pool" "$retention" "$work/config.json")

"$build/tinvestd" --config "$work/config.json" --data-dir "$work/data" --listen 127.0.0.1:0 \
    > "$work/out.log" 2> "$work/server.log" &
server_pid=$!
for _ in $(seq 100); do
    grep -q listening "$work/out.log" 2>/dev/null && break
    sleep 0.1
done
port=$(sed -n 's/^listening plaintext=[0-9.]*:\([0-9]*\).*/\1/p' "$work/out.log")
[ -n "$port" ] || { echo "recycle-soak: the server did not start"; cat "$work/server.log"; exit 1; }

# Resident memory every second while the load runs.
(while kill -0 "$server_pid" 2>/dev/null; do
    awk '/^VmRSS/ { print $2 }' "/proc/$server_pid/status" 2>/dev/null || true
    sleep 1
done) > "$work/rss.kib" &
sampler_pid=$!

echo "recycle-soak: $orders market orders into a pool of $pool orders, retention ${retention} s"
"$build/loadgen" --target "127.0.0.1:$port" --instrument "$instrument" --market \
    --concurrency 64 --calls "$orders" | tee "$work/load.txt" || true

kill -TERM "$server_pid"
wait "$server_pid" || true
server_pid=
kill "$sampler_pid" 2>/dev/null || true
wait "$sampler_pid" 2>/dev/null || true
sampler_pid=

final=$(sed -n 's/.*final state_hash=\([0-9a-f]*\).*/\1/p' "$work/server.log")
checked=$("$build/tinvestd" --config "$work/config.json" --data-dir "$work/data" --check \
    | sed -n 's/^state_hash=\([0-9a-f]*\).*/\1/p')
mapfile -t rss < "$work/rss.kib"
samples=${#rss[@]}
early=${rss[$((samples / 4))]}
peak=$(printf '%s\n' "${rss[@]}" | sort -n | tail -1)
late=${rss[$((samples - 1))]}
echo "recycle-soak: RSS after a quarter ${early} KiB, peak ${peak} KiB, at the end ${late} KiB"
echo "recycle-soak: state hash at stop $final, after restart $checked"

failed=0
if grep -q 'status 13' "$work/load.txt"; then
    echo "recycle-soak: FAILED: INTERNAL answers (70001)"
    failed=1
fi
if grep -q 'status 8' "$work/load.txt"; then
    echo "recycle-soak: FAILED: orders refused for capacity (RESOURCE_EXHAUSTED)"
    failed=1
fi
# Flat: the peak stays within a tenth (plus 32 MiB of allocator slack) of a quarter in.
if [ "$peak" -gt $((early + early / 10 + 32768)) ]; then
    echo "recycle-soak: FAILED: memory grew"
    failed=1
fi
if [ -z "$final" ] || [ "$final" != "$checked" ]; then
    echo "recycle-soak: FAILED: the restarted state differs"
    failed=1
fi
[ "$failed" = 0 ] && echo "recycle-soak: passed"
exit "$failed"
