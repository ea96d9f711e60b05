#!/bin/bash
# A province of D districts of N events each, side by side in one PostgreSQL database (a schema
# each): import time per district, then `province report` for a month at an explicit instant
# from the districts' case indexes (the first run builds them), against `--replay` (every
# district's whole log folded) in the same run; last, one district's import rate alone and beside
# another district's import and engine. Needs a release build
# (cargo build --release -p jiancha-cli --bin jiancha) and PostgreSQL (PG names the database).
set -euo pipefail
BIN=${BIN:-target/release/jiancha}
N=${N:-1000000}
D=${D:-8}
PG=${PG:-postgres://postgres@127.0.0.1:5432/test}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
names=""
secs() { echo "$(date +%s.%N) - $1" | bc; }
for i in $(seq 1 "$D"); do
  name=bench_province_$i
  psql -q "$PG" -c "DROP SCHEMA IF EXISTS $name CASCADE" 2>/dev/null
  # District 1 is simulated twice as long: the rest of it is the live feed of the last part.
  cases=$(( N / 8 + 1000 )); [ "$i" = 1 ] && cases=$(( N / 4 + 1000 ))
  "$BIN" simulate --cases "$cases" --seed "$i" -o "$work/sim.jsonl"
  head -n "$N" "$work/sim.jsonl" > "$work/d$i.jsonl"
  [ "$i" = 1 ] && sed -n "$(( N + 1 )),$(( 2 * N ))p" "$work/sim.jsonl" > "$work/d1-more.jsonl"
  s=$(date +%s.%N)
  # Declared history: each event counts when it occurred, as a live district recorded it (a
  # plain import would record every event at the import, and every conclusion as entered late).
  "$BIN" --db "$PG" --district "$name" import --historical "$work/d$i.jsonl" > /dev/null
  echo "district $i: $(wc -l < "$work/d$i.jsonl") events imported in $(secs "$s") s"
  names="$names${names:+,}$name"
done
T=$(python3 -c "import json,sys;ls=open(sys.argv[1]).read().splitlines();print(json.loads(ls[len(ls)*3//5])['occurred_at'][:10])" "$work/d1.jsonl")
P=${T:0:7}
echo "period $P at $T"
for run in 1 2 3; do
  s=$(date +%s.%N)
  "$BIN" --db "$PG" province report --period "$P" --districts "$names" --now "$T" --format json > "$work/index$run.json"
  echo "province report --now, run $run: $(secs "$s") s"
done
s=$(date +%s.%N)
"$BIN" --db "$PG" province report --period "$P" --districts "$names" --now "$T" --replay --format json > "$work/replay.json"
echo "province report --now --replay (baseline): $(secs "$s") s"
cmp "$work/index3.json" "$work/replay.json" && echo "the roll-ups are equal"

# Import rate while another district's engine follows its own log: district X imported alone,
# then again (a fresh schema) while `jiancha serve` follows district 1 as the rest of district
# 1's simulation is imported into it.
X=bench_province_x
"$BIN" simulate --cases $(( N / 8 + 1000 )) --seed 99 -o "$work/sim.jsonl"
head -n "$N" "$work/sim.jsonl" > "$work/x.jsonl"
psql -q "$PG" -c "DROP SCHEMA IF EXISTS $X CASCADE" 2>/dev/null
s=$(date +%s.%N)
"$BIN" --db "$PG" --district "$X" import --historical "$work/x.jsonl" > /dev/null
alone=$(secs "$s")
echo "district x alone: $N events imported in $alone s"
psql -q "$PG" -c "DROP SCHEMA $X CASCADE" 2>/dev/null
PORT=${PORT:-18931}
"$BIN" --db "$PG" --district bench_province_1 serve --addr "127.0.0.1:$PORT" > "$work/serve.log" 2>&1 &
serve=$!
trap 'kill $serve 2>/dev/null; rm -rf "$work"' EXIT
until curl -sf "http://127.0.0.1:$PORT/healthz" > /dev/null 2>&1; do sleep 0.5; done
"$BIN" --db "$PG" --district bench_province_1 import "$work/d1-more.jsonl" > /dev/null &
feed=$!
s=$(date +%s.%N)
"$BIN" --db "$PG" --district "$X" import --historical "$work/x.jsonl" > /dev/null
beside=$(secs "$s")
wait $feed
echo "district x beside district 1's import and engine: $N events imported in $beside s" \
  "(district 1's feed: $(wc -l < "$work/d1-more.jsonl") events)"
echo "rate beside / rate alone: $(echo "scale=2; $alone / $beside" | bc)"
kill $serve
psql -q "$PG" -c "DROP SCHEMA $X CASCADE" 2>/dev/null
