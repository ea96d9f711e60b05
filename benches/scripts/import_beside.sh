#!/bin/bash
# Import rate of one district beside another district's engine following a live feed, on one
# PostgreSQL database (a schema each). District X (N simulated events, `import --historical`) is
# imported alone, then again into a fresh schema while `jiancha serve` follows district Y and Y's
# feed appends FEED_RATE events a second (one `jiancha import` of that many events each second,
# as a district's windows and integrators append through the day; a district of a few million
# events a year averages well under one a second). Prints both times, the ratio of the rates,
# the events Y's engine followed, and the share of the 2 cores in use during each import.
# Needs a release build (cargo build --release -p jiancha-cli --bin jiancha) and PostgreSQL.
set -euo pipefail
BIN=${BIN:-target/release/jiancha}
N=${N:-1000000}
FEED_RATE=${FEED_RATE:-100}
PG=${PG:-postgres://postgres@127.0.0.1:5432/test}
PORT=${PORT:-18932}
X=bench_beside_x
Y=bench_beside_y
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  psql -q "$PG" -c "DROP SCHEMA IF EXISTS $X CASCADE" 2>/dev/null || true
  psql -q "$PG" -c "DROP SCHEMA IF EXISTS $Y CASCADE" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
secs() { echo "$(date +%s.%N) - $1" | bc; }
busy() { awk '/^cpu /{print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat; }
cores() { echo "scale=2; 2*($3-$1)/($4-$2)" | bc; }

"$BIN" simulate --cases $(( N / 8 + 1000 )) --seed 99 -o "$work/sim.jsonl"
head -n "$N" "$work/sim.jsonl" > "$work/x.jsonl"
"$BIN" simulate --cases 3000 --seed 98 -o "$work/feed.jsonl"
split -l "$FEED_RATE" "$work/feed.jsonl" "$work/feed-"

import_x() {
  psql -q "$PG" -c "DROP SCHEMA IF EXISTS $X CASCADE" 2>/dev/null
  "$BIN" --db "$PG" --district "$X" import --historical "$work/x.jsonl" > /dev/null 2>&1
}

read -r b0 t0 < <(busy); s=$(date +%s.%N)
import_x
alone=$(secs "$s"); read -r b1 t1 < <(busy)
echo "district x alone: $N events imported in $alone s (cores busy $(cores "$b0" "$t0" "$b1" "$t1"))"

psql -q "$PG" -c "DROP SCHEMA IF EXISTS $Y CASCADE" 2>/dev/null
"$BIN" --db "$PG" --district "$Y" serve --addr "127.0.0.1:$PORT" > "$work/serve.log" 2>&1 &
pids+=($!)
until curl -sf "http://127.0.0.1:$PORT/healthz" > /dev/null 2>&1; do sleep 0.2; done
(
  for f in "$work"/feed-*; do
    t=$(date +%s.%N)
    "$BIN" --db "$PG" --district "$Y" import "$f" > /dev/null 2>&1
    rest=$(echo "1 - ($(date +%s.%N) - $t)" | bc)
    if [ "$(echo "$rest > 0" | bc)" = 1 ]; then sleep "$rest"; fi
  done
) &
feeder=$!
pids+=("$feeder")
sleep 3
before=$(curl -sf "http://127.0.0.1:$PORT/healthz" | python3 -c "import sys,json;print(json.load(sys.stdin)['position'])")
read -r b0 t0 < <(busy); s=$(date +%s.%N)
import_x
beside=$(secs "$s"); read -r b1 t1 < <(busy)
after=$(curl -sf "http://127.0.0.1:$PORT/healthz" | python3 -c "import sys,json;print(json.load(sys.stdin)['position'])")
kill "$feeder" 2>/dev/null || true
echo "district x beside district y's engine and its feed of $FEED_RATE events/s: $N events imported in $beside s" \
  "(cores busy $(cores "$b0" "$t0" "$b1" "$t1"); y's engine followed positions $before..$after)"
echo "rate beside / rate alone: $(echo "scale=2; $alone / $beside" | bc)"
