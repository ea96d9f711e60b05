#!/bin/bash
# A province of D districts of N events each, side by side in one PostgreSQL database (a schema
# each): import time per district, then `province report` for a month at an explicit instant
# from the districts' case indexes (the first run builds them), against `--replay` (every
# district's whole log folded) in the same run. Needs a release build
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
  "$BIN" simulate --cases $(( N / 8 + 1000 )) --seed "$i" -o "$work/sim.jsonl"
  head -n "$N" "$work/sim.jsonl" > "$work/d$i.jsonl"
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
