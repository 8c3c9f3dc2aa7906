#!/usr/bin/env bash
# Throughput benchmark: verified, durably acknowledged GitHub webhooks through `inlet serve`,
# against nginx `return 200` on the same body as the HTTP ceiling. Prints figures; it is not a
# test and exits non-zero only when it cannot set itself up. See bench/README.md.
#
#   bench/run.sh                      # BUILD=build DURATION=10s CONNECTIONS=64 THREADS=2
#   BUILD=build-bench DURATION=30s bench/run.sh
#
# Environment:
#   BUILD         build folder, relative to the repository root or absolute (default: build).
#                 Configured here in Release with only the github + sqlite plugins if it has no
#                 CMakeCache.txt yet; an existing build folder keeps its own build type.
#   DURATION      wrk duration per target and round (default: 10s)
#   ROUNDS        rounds of inlet then nginx (default: 1); with more, the figures are medians
#                 over the rounds and the ratio is the median of each round's ratio
#   CONNECTIONS   keep-alive connections (default: 64)
#   THREADS       wrk threads (default: 2)
#   BODIES        distinct signed bodies (default: 256)
#   BODY_BYTES    body size (default: 1536)
#   DELIVERY_IDS  random (default: like GitHub's GUIDs) or sequential (per wrk thread)
#   NICE          e.g. -10: run nginx, inlet and wrk at that priority (shared machines)
#   SINK          journal (default, as configs/inlet.yaml: the table is a view over the
#                 journal), sqlite (the sqlite sink plugin: a second copy in its own database)
#                 or none (the journal only)
#   SINK_OPTIONS  extra options for the sqlite sink, e.g. "unique_dedup_key: true"
#   SERVER_OPTIONS extra `server:` options, e.g. "threads: 2"
#   INLET_ENV     environment for inlet only, e.g. "LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
#   KEEP=1        keep the temporary folder (configs, databases, logs) and print its path
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${BUILD:-build}"
[[ "$BUILD" = /* ]] || BUILD="$ROOT/$BUILD"
DURATION="${DURATION:-10s}"
ROUNDS="${ROUNDS:-1}"
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "bench: ROUNDS must be a positive number" >&2; exit 1; }
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-2}"
BODIES="${BODIES:-256}"
BODY_BYTES="${BODY_BYTES:-1536}"
DELIVERY_IDS="${DELIVERY_IDS:-random}"
SINK="${SINK:-journal}"
[[ "$SINK" == journal || "$SINK" == sqlite || "$SINK" == none ]] ||
  { echo "bench: SINK must be journal, sqlite or none" >&2; exit 1; }
[[ "$DELIVERY_IDS" == sequential || "$DELIVERY_IDS" == random ]] ||
  { echo "bench: DELIVERY_IDS must be sequential or random" >&2; exit 1; }
SECRET="It's a Secret to Everybody"

die() { echo "bench: $*" >&2; exit 1; }

# ---- tools (Debian packages), installed only when absent ------------------------------------
missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || missing+=(nginx-light)
if ((${#missing[@]})); then
  echo "bench: installing ${missing[*]}" >&2
  apt-get install -y "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get update >/dev/null 2>&1 && apt-get install -y "${missing[@]}" >/dev/null; } ||
    die "cannot install ${missing[*]}"
fi
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
for tool in sqlite3 python3 cmake; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is required"
done

# ---- build only what the benchmark runs ------------------------------------------------------
if [[ ! -f "$BUILD/CMakeCache.txt" ]]; then
  echo "bench: configuring $BUILD (Release, plugins github;sqlite)" >&2
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DINLET_PLUGINS="github;sqlite" \
    >/dev/null 2>&1 || die "cmake configure failed (run it by hand to see why)"
fi
echo "bench: building inlet, inlet_auth_github, inlet_sink_sqlite in $BUILD" >&2
BUILD_LOG="$(mktemp "${TMPDIR:-/tmp}/inlet-bench-build.XXXXXX")"
cmake --build "$BUILD" -j2 --target inlet inlet_auth_github inlet_sink_sqlite >"$BUILD_LOG" 2>&1 ||
  { tail -50 "$BUILD_LOG" >&2; rm -f "$BUILD_LOG"; die "build failed"; }
rm -f "$BUILD_LOG"
BUILD_TYPE="$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$BUILD/CMakeCache.txt")"
INLET="$BUILD/inlet"
[[ -x "$INLET" ]] || die "$INLET not found"

# Optional: raise the benchmark's priority (inherited by nginx, inlet and wrk) so concurrent
# builds on a shared box disturb the figures less. Needs root for negative values.
if [[ -n "${NICE:-}" ]]; then
  renice -n "$NICE" -p $$ >/dev/null || die "cannot renice to $NICE"
fi

# ---- temp folder and cleanup -----------------------------------------------------------------
TMP="$(mktemp -d "${TMPDIR:-/tmp}/inlet-bench.XXXXXX")"
INLET_PID=""
NGINX_PID=""
cleanup() {
  local pid
  for pid in "$INLET_PID" "$NGINX_PID"; do
    [[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "$INLET_PID" "$NGINX_PID"; do
    [[ -z "$pid" ]] && continue
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ "${KEEP:-0}" = 1 ]]; then echo "bench: kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# ---- signed requests ---------------------------------------------------------------------------
python3 "$ROOT/bench/gen_requests.py" "$TMP/requests.lua" "$SECRET" "$BODIES" "$BODY_BYTES" ||
  die "cannot generate requests"

# ---- nginx: the ceiling (no work at all) -----------------------------------------------------
NGINX_PORT="$(free_port)"
mkdir -p "$TMP/nginx/logs"
cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx/body;
  proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi;
  uwsgi_temp_path $TMP/nginx/uwsgi;
  scgi_temp_path $TMP/nginx/scgi;
  client_body_buffer_size 64k;
  client_max_body_size 2m;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / { return 200 'ok'; }
  }
}
EOF
"$NGINX" -p "$TMP/nginx" -e "$TMP/nginx/logs/error.log" -c "$TMP/nginx/nginx.conf" \
  >"$TMP/nginx/stdout.log" 2>&1 &
NGINX_PID=$!

# ---- inlet: durable GitHub pipeline ----------------------------------------------------------
case "$SINK" in
  journal) SINK_YAML="local: { type: journal }" ;;
  sqlite) SINK_YAML="local: { type: sqlite, path: $TMP/inlet.db${SINK_OPTIONS:+, $SINK_OPTIONS} }" ;;
  none) SINK_YAML="" ;;
esac
cat >"$TMP/inlet.yaml" <<EOF
server: { listen: 127.0.0.1:0${SERVER_OPTIONS:+, $SERVER_OPTIONS} }
journal: { path: $TMP/journal.db }
plugins: { path: [$BUILD/plugins] }
secrets:
  github: { value: "$SECRET" }
sinks: { $SINK_YAML }
pipelines:
  github:
    path: /webhook/github
    auth: { provider: github, secrets: [github] }
    dedup: { key: auto, window: 72h }   # X-GitHub-Delivery, unique per request in github.lua
    sinks: [${SINK_YAML:+local}]
    table: github_events
EOF
(cd "$TMP" && exec env ${INLET_ENV:-} "$INLET" serve -c "$TMP/inlet.yaml") >"$TMP/inlet.out" 2>"$TMP/inlet.log" &
INLET_PID=$!

INLET_PORT=""
for _ in $(seq 1 300); do
  # The log may not exist yet (the background job opens it): not an error under `set -e`.
  INLET_PORT="$(sed -n 's/.*listening on [0-9.]*:\([0-9][0-9]*\).*/\1/p' "$TMP/inlet.log" 2>/dev/null |
    head -1 || true)"
  [[ -n "$INLET_PORT" ]] && break
  kill -0 "$INLET_PID" 2>/dev/null || { cat "$TMP/inlet.log" >&2; die "inlet exited at start"; }
  sleep 0.1
done
[[ -n "$INLET_PORT" ]] || { cat "$TMP/inlet.log" >&2; die "inlet did not report its port"; }

for _ in $(seq 1 100); do
  curl -s -o /dev/null "http://127.0.0.1:$NGINX_PORT/" 2>/dev/null && break
  kill -0 "$NGINX_PID" 2>/dev/null || { cat "$TMP/nginx/logs/error.log" >&2; die "nginx exited"; }
  sleep 0.1
done

# One signed request by hand: a setup error (wrong secret, missing plugin) must not be mistaken
# for a slow server.
probe="$(python3 - "$TMP/requests.lua" "$INLET_PORT" <<'PY'
import re, sys, urllib.request
text = open(sys.argv[1]).read()
m = re.search(r'\{sig="([^"]+)", body=\[==\[(.*?)\]==\]\}', text, re.S)
req = urllib.request.Request("http://127.0.0.1:%s/webhook/github" % sys.argv[2],
    data=m.group(2).encode(), method="POST",
    headers={"Content-Type": "application/json", "X-GitHub-Event": "push",
             "X-GitHub-Delivery": "ffffffff-0000-4000-8000-000000000000",
             "X-Hub-Signature-256": m.group(1)})
try:
    with urllib.request.urlopen(req, timeout=10) as r:
        print(r.status, r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
PY
)" || die "probe request failed"
[[ "$probe" == 200* ]] || die "a signed probe request was not accepted: $probe"

count_rows() {  # db, sql
  sqlite3 -cmd ".timeout 5000" "$1" "$2" 2>/dev/null || echo "?"
}
JOURNAL_BEFORE="$(count_rows "$TMP/journal.db" "SELECT count(*) FROM events")"
accepted() {  # Inlet's own count of accepted (2xx, committed) requests on the pipeline
  curl -s "http://127.0.0.1:$INLET_PORT/_inlet/metrics" |
    sed -n 's/^inlet_requests_total{pipeline="github",outcome="accepted"} \([0-9]*\)$/\1/p'
}
ACCEPTED_BEFORE="$(accepted)"
curl -s "http://127.0.0.1:$INLET_PORT/_inlet/metrics" >"$TMP/metrics-before.txt"

# ---- load ----------------------------------------------------------------------------------------
run_wrk() {  # name url round
  local name="$1" url="$2" round="$3"
  echo "bench: wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency against $name" >&2
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 5s --latency \
    -s "$ROOT/bench/github.lua" "$url" -- "$TMP/requests.lua" /webhook/github "$DELIVERY_IDS" \
    "$round" \
    >"$TMP/wrk-$name.txt" 2>&1 || { cat "$TMP/wrk-$name.txt" >&2; die "wrk failed"; }
  grep '^BENCH ' "$TMP/wrk-$name.txt" >/dev/null || { cat "$TMP/wrk-$name.txt" >&2; die "wrk gave no summary"; }
}
field() {  # name key
  sed -n "s/^BENCH .*\b$2=\([0-9]*\).*/\1/p" "$TMP/wrk-$1.txt"
}
sum_field() {  # target key: the sum over the rounds
  local r total=0
  for r in $(seq 1 "$ROUNDS"); do total=$((total + $(field "$1-$r" "$2"))); done
  echo "$total"
}
median() {  # numbers...
  printf '%s\n' "$@" | sort -g |
    awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# CPU time (user + system, clock ticks) in a /proc stat line (utime and stime are fields 14 and
# 15 overall: 12 and 13 after "(comm) ").
stat_ticks() { echo "${1##*) }" | awk '{ print $12 + $13 }'; }
# ...of a list of pids; disk bytes written by one pid.
cpu_ticks() {
  local total=0 pid stat
  for pid in "$@"; do
    stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || continue
    total=$((total + $(stat_ticks "$stat")))
  done
  echo "$total"
}
write_bytes() { sed -n 's/^write_bytes: //p' "/proc/$1/io" 2>/dev/null || echo 0; }
# ...of a process's threads by name ("name ticks" lines; threads of one name summed).
thread_ticks() {
  local f stat name
  for f in /proc/"$1"/task/*/stat; do
    stat="$(cat "$f" 2>/dev/null)" || continue
    name="${stat#*(}"; name="${name%)*}"; name="${name// /_}"
    echo "$name $(stat_ticks "$stat")"
  done | awk '{ t[$1] += $2 } END { for (n in t) print n, t[n] }'
}
NGINX_PIDS=("$NGINX_PID" $(ps --ppid "$NGINX_PID" -o pid= 2>/dev/null))
HZ="$(getconf CLK_TCK)"

# The fsync latency of the disk under the temp folder, right now: group commit amortises it,
# but with at most CONNECTIONS requests in flight it bounds the durable rate.
FSYNC="$(python3 - "$TMP/fsync.probe" <<'PY'
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
ts = []
for i in range(100):
    os.pwrite(fd, b"x" * 65536, (i % 8) * 65536)
    t = time.perf_counter(); os.fdatasync(fd); ts.append((time.perf_counter() - t) * 1000)
os.close(fd); os.unlink(sys.argv[1]); ts.sort()
print("p50 %.2f ms, p90 %.2f ms" % (ts[50], ts[90]))
PY
)" || FSYNC="?"

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
I_CPU=0; I_WB=0; N_CPU=0
THREAD_CPU=""  # "name ticks" lines, one per thread name and round
ACCEPTED_AFTER=""
for round in $(seq 1 "$ROUNDS"); do
  I_CPU0="$(cpu_ticks "$INLET_PID")"; I_WB0="$(write_bytes "$INLET_PID")"
  T_CPU0="$(thread_ticks "$INLET_PID")"
  curl -s "http://127.0.0.1:$INLET_PORT/_inlet/metrics" >"$TMP/metrics-$round-before.txt"
  run_wrk "inlet-$round" "http://127.0.0.1:$INLET_PORT" "$round"
  kill -0 "$INLET_PID" 2>/dev/null || { tail -20 "$TMP/inlet.log" >&2; die "inlet died under load"; }
  # Requests wrk abandoned when its time was up are still being committed: let them settle.
  ACCEPTED_AFTER="$(accepted)"
  for _ in $(seq 1 50); do
    sleep 0.2
    now="$(accepted)"
    [[ "$now" == "$ACCEPTED_AFTER" ]] && break
    ACCEPTED_AFTER="$now"
  done
  curl -s "http://127.0.0.1:$INLET_PORT/_inlet/metrics" >"$TMP/metrics-$round-after.txt"
  I_CPU1="$(cpu_ticks "$INLET_PID")"; I_WB1="$(write_bytes "$INLET_PID")"
  THREAD_CPU+="$(awk 'NR == FNR { t0[$1] = $2; next } { print $1, $2 - t0[$1] }' \
    <(echo "$T_CPU0") <(thread_ticks "$INLET_PID"))"$'\n'
  I_CPU=$((I_CPU + I_CPU1 - I_CPU0)); I_WB=$((I_WB + I_WB1 - I_WB0))
  N_CPU0="$(cpu_ticks "${NGINX_PIDS[@]}")"
  run_wrk "nginx-$round" "http://127.0.0.1:$NGINX_PORT" "$round"
  N_CPU1="$(cpu_ticks "${NGINX_PIDS[@]}")"
  N_CPU=$((N_CPU + N_CPU1 - N_CPU0))
done
JOURNAL_AFTER="$(count_rows "$TMP/journal.db" "SELECT count(*) FROM events")"
curl -s "http://127.0.0.1:$INLET_PORT/_inlet/metrics" >"$TMP/metrics-after.txt"
# Inlet's own view of the load: request durations and group commits, from its histograms.
SERVER_SIDE="$(python3 "$ROOT/bench/histograms.py" "$TMP/metrics-before.txt" "$TMP/metrics-after.txt" |
  sed 's/^/         /')" || SERVER_SIDE="         ?"
RSS_KIB="$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$INLET_PID/status")"
THREADS_INLET="$(sed -n 's/^Threads:[[:space:]]*//p' "/proc/$INLET_PID/status")"
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"

# ---- verification: every 2xx is a stored row -------------------------------------------------
# Rows written by the load = journal rows now minus before. A 2xx means the row was committed,
# so rows >= 2xx. Requests still in flight when wrk stops (at most one per connection) may have
# been committed without wrk counting their answer, so rows <= requests wrk sent.
I_REQ="$(sum_field inlet requests)"; I_NON2XX="$(sum_field inlet non2xx)"
I_SENT="$(sum_field inlet sent)"; I_TIMEOUT="$(sum_field inlet timeout)"
I_READ="$(sum_field inlet read)"; I_WRITE="$(sum_field inlet write)"
I_CONNECT="$(sum_field inlet connect)"
I_OK=$((I_REQ - I_NON2XX))
DUP_IDS="$(count_rows "$TMP/journal.db" "SELECT count(*) - count(DISTINCT delivery_id) FROM events")"
ROWS=$((JOURNAL_AFTER - JOURNAL_BEFORE))
SERVER_ACCEPTED=$((${ACCEPTED_AFTER:-0} - ${ACCEPTED_BEFORE:-0}))  # 2xx Inlet itself answered

# The sqlite sink is fed from the journal asynchronously: wait for it to catch up. A journal
# table is a view over the journal's events: it has them all at once.
SINK_ROWS="$JOURNAL_AFTER"
SINK_DB="$TMP/journal.db"
WRITTEN_BY="the journal"
[[ "$SINK" == sqlite ]] && SINK_DB="$TMP/inlet.db" && WRITTEN_BY="journal + sqlite sink"
for _ in $(seq 1 600); do
  [[ "$SINK" == none ]] && break
  SINK_ROWS="$(count_rows "$SINK_DB" "SELECT count(*) FROM github_events")"
  [[ "$SINK_ROWS" == "$JOURNAL_AFTER" ]] && break
  sleep 0.1
done

if [[ "$SINK" == none ]]; then
  TABLE_ROWS="no table (SINK=none);"
else
  TABLE_ROWS="github_events rows $SINK_ROWS ($SINK sink);"
fi

# ---- report ------------------------------------------------------------------------------------
us_ms() { awk -v u="$1" 'BEGIN { printf "%.2f ms", u / 1000 }'; }
rate() { awk -v n="$1" -v d="$2" 'BEGIN { printf "%.0f", (d > 0 ? n * 1e6 / d : 0) }'; }

# Per round, then the median over the rounds (with one round, that round's figures).
I_RPS_R=(); N_RPS_R=(); RATIO_R=(); I_P50_R=(); I_P99_R=(); N_P50_R=(); N_P99_R=()
N_OK=0
ROUND_LINES=""
for r in $(seq 1 "$ROUNDS"); do
  i_ok=$(($(field "inlet-$r" requests) - $(field "inlet-$r" non2xx)))
  n_ok=$(($(field "nginx-$r" requests) - $(field "nginx-$r" non2xx)))
  N_OK=$((N_OK + n_ok))
  i_rps="$(rate "$i_ok" "$(field "inlet-$r" duration_us)")"
  n_rps="$(rate "$n_ok" "$(field "nginx-$r" duration_us)")"
  ratio="$(awk -v a="$i_rps" -v b="$n_rps" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')"
  i_p99="$(field "inlet-$r" p99_us)"; n_p99="$(field "nginx-$r" p99_us)"
  I_RPS_R+=("$i_rps"); N_RPS_R+=("$n_rps"); RATIO_R+=("$ratio")
  I_P50_R+=("$(field "inlet-$r" p50_us)"); I_P99_R+=("$i_p99")
  N_P50_R+=("$(field "nginx-$r" p50_us)"); N_P99_R+=("$n_p99")
  # Inlet's own p99 in this round (its histogram, from a request read in full to its answer).
  own_p99="$(python3 "$ROOT/bench/histograms.py" "$TMP/metrics-$r-before.txt" \
    "$TMP/metrics-$r-after.txt" 2>/dev/null |
    sed -n 's/^inlet_request_duration_seconds.* p99 \([0-9.]*\) ms$/\1/p')"
  ROUND_LINES+="$(printf '  round %-3s inlet %7s req/s p99 %10s (own %6s ms)   nginx %7s req/s p99 %10s   ratio %.2f' \
    "$r" "$i_rps" "$(us_ms "$i_p99")" "${own_p99:-?}" "$n_rps" "$(us_ms "$n_p99")" "$ratio")"$'\n'
done
I_RPS="$(median "${I_RPS_R[@]}" | awk '{ printf "%.0f", $1 }')"
N_RPS="$(median "${N_RPS_R[@]}" | awk '{ printf "%.0f", $1 }')"
RATIO="$(median "${RATIO_R[@]}" | awk '{ printf "%.2f", $1 }')"
I_P50="$(median "${I_P50_R[@]}")"; I_P99="$(median "${I_P99_R[@]}")"
N_P50="$(median "${N_P50_R[@]}")"; N_P99="$(median "${N_P99_R[@]}")"
ROUND_BLOCK=""  # one line per round under the table, when there is more than one
((ROUNDS > 1)) && ROUND_BLOCK=$'\n\n'"${ROUND_LINES%$'\n'}"
RSS_MIB="$(awk -v k="$RSS_KIB" 'BEGIN { printf "%.1f", k / 1024 }')"

verdict="VALID"
[[ "$ROWS" =~ ^[0-9]+$ ]] || verdict="INVALID (cannot count journal rows)"
if [[ "$verdict" == VALID ]]; then
  ((ROWS >= I_OK)) || verdict="INVALID: $((I_OK - ROWS)) acknowledged events are missing"
  ((ROWS <= I_SENT)) || verdict="INVALID: more rows than requests sent"
  ((ROWS == SERVER_ACCEPTED)) ||
    verdict="INVALID: inlet answered $SERVER_ACCEPTED accepted, journal has $ROWS new rows"
  [[ "$DUP_IDS" == 0 ]] || verdict="INVALID: $DUP_IDS delivery ids stored twice"
  [[ "$SINK_ROWS" == "$JOURNAL_AFTER" ]] ||
    verdict="INVALID: the table github_events has $SINK_ROWS rows, journal $JOURNAL_AFTER"
fi

per_req() {  # ticks requests -> CPU microseconds per request
  awk -v t="$1" -v n="$2" -v hz="$HZ" 'BEGIN { printf "%.0f", (n > 0 ? t * 1e6 / hz / n : 0) }'
}
I_CPU_US="$(per_req "$I_CPU" "$ROWS")"
N_CPU_US="$(per_req "$N_CPU" "$N_OK")"
# Inlet's CPU per event, thread by thread (the busiest first).
BY_THREAD="$(echo "$THREAD_CPU" | awk -v hz="$HZ" -v n="$ROWS" '
  NF == 2 { t[$1] += $2 }
  END { for (k in t) if (t[k] > 0 && n > 0) printf "%s %.1f\n", k, t[k] / hz * 1e6 / n }' |
  sort -k2,2 -g -r | awk '{ printf "%s%s %s us", (NR > 1 ? ", " : ""), $1, $2 }')"
I_WB_KIB="$(awk -v b="$I_WB" -v n="$ROWS" 'BEGIN { printf "%.1f", (n > 0 ? b / 1024 / n : 0) }')"

ALLOCATOR="$(ldd "$INLET" 2>/dev/null | grep -o 'libtcmalloc[a-z_]*' | head -1 || true)"
ALLOCATOR="${ALLOCATOR:-glibc}${INLET_ENV:+ (inlet environment: $INLET_ENV)}"

mark() { if awk "BEGIN { exit !($1) }"; then echo "ok"; else echo "MISSED"; fi; }

cat <<EOF

Inlet benchmark — $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, build $BUILD_TYPE ($BUILD), nice ${NICE:-0}
wrk -t$THREADS -c$CONNECTIONS -d$DURATION$( ((ROUNDS > 1)) && echo " x $ROUNDS rounds (inlet, then nginx; medians below)"), $BODIES distinct ${BODY_BYTES}-byte signed GitHub bodies, $DELIVERY_IDS delivery ids
load average before/after: $LOAD_BEFORE / $LOAD_AFTER

                           req/s      p50         p99         peak RSS
  inlet (durable 2xx)  $(printf '%9s  %10s  %10s  %8s MiB' "$I_RPS" "$(us_ms "$I_P50")" "$(us_ms "$I_P99")" "$RSS_MIB")
  nginx return 200     $(printf '%9s  %10s  %10s' "$N_RPS" "$(us_ms "$N_P50")" "$(us_ms "$N_P99")")
  inlet / nginx        $(printf '%9s' "$RATIO")$ROUND_BLOCK

check: wrk answers $I_REQ (2xx $I_OK, non-2xx $I_NON2XX; socket errors connect $I_CONNECT read $I_READ write $I_WRITE timeout $I_TIMEOUT), sent $I_SENT
       inlet counted $SERVER_ACCEPTED accepted; journal rows written $ROWS (must equal it, and 2xx <= rows <= sent), duplicate delivery ids $DUP_IDS, $TABLE_ROWS journal total $JOURNAL_AFTER incl. probe
       => $verdict

context: CPU per request inlet ${I_CPU_US} us, nginx ${N_CPU_US} us; inlet disk writes $I_WB_KIB KiB per event
         ($WRITTEN_BY, incl. checkpoints); fdatasync on this disk before the run: $FSYNC;
         inlet threads after load: $THREADS_INLET; malloc: $ALLOCATOR
         inlet CPU per event by thread: ${BY_THREAD:-?}
inlet's histograms (all rounds; quantiles only as fine as the buckets):
$SERVER_SIDE

targets: >= 25000 durable req/s: $(mark "$I_RPS >= 25000")   >= 0.25 of nginx: $(mark "$RATIO >= 0.25")   p99 <= 10 ms: $(mark "$I_P99 <= 10000")   RSS <= 100 MiB: $(mark "$RSS_KIB <= 102400")
EOF
