#!/bin/bash
# Resident memory of `jiancha serve` after catching up a simulated district of N months, for
# N = 6 and N = 60 at the same arrival rate (PER_DAY applications a working day; 21 working
# days a month). Needs a release build: cargo build --release -p jiancha-cli --bin jiancha.
# Prints one line per N: the cases and events behind it, how long the catch-up took, the
# resident and peak memory of the serving process.
set -euo pipefail
BIN=${BIN:-target/release/jiancha}
PER_DAY=${PER_DAY:-100}
PORT=${PORT:-18099}
for months in 6 60; do
  d=$(mktemp -d)
  cases=$(( months * 21 * PER_DAY ))
  "$BIN" simulate --cases "$cases" --seed 3 --per-day "$PER_DAY" -o "$d/sim.jsonl"
  "$BIN" --db "sqlite://$d/j.db" import "$d/sim.jsonl" > /dev/null
  events=$(wc -l < "$d/sim.jsonl")
  "$BIN" --db "sqlite://$d/j.db" serve --addr "127.0.0.1:$PORT" > "$d/serve.log" 2>&1 &
  pid=$!
  start=$(date +%s.%N)
  pos=0
  for _ in $(seq 1 6000); do
    pos=$(curl -sf "http://127.0.0.1:$PORT/healthz" 2>/dev/null \
      | python3 -c "import sys,json;print(json.load(sys.stdin)['position'])" 2>/dev/null || echo 0)
    # The engine cards what is overdue by the system clock: the log grows past the import.
    if [ "$pos" -ge "$events" ]; then break; fi
    sleep 0.1
  done
  ready=$(echo "$(date +%s.%N) - $start" | bc)
  sleep 2
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  # Resident memory by kind: the heap (anonymous) and the pages of mapped files (the SQLite
  # file a bulk reader maps counts here while it is mapped).
  anon=$(awk '/RssAnon/ {print $2}' "/proc/$pid/status")
  file=$(awk '/RssFile/ {print $2}' "/proc/$pid/status")
  echo "months=$months cases=$cases events=$events caught_up_in=${ready}s position=$pos rss_kib=$rss anon_kib=$anon file_kib=$file peak_kib=$hwm"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$d"
done
