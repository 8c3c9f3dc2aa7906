#!/usr/bin/env bash
# Delivery into PostgreSQL: events/s that Inlet's postgres sink delivers from the journal
# (batched, idempotent INSERTs), next to pgbench's single-row INSERT rate measured in the same
# run against the same server and the same row shape. Prints both and the ratio.
#
#   BUILD=build EVENTS=20000 bench/postgres.sh
#
# Method: Inlet journals EVENTS signed GitHub requests while its PostgreSQL sink points at a
# server that is down (so only the journal is written); then the server starts and the clock
# runs until every event is in the table. pgbench runs one client for the same row shape.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${BUILD:-build}"; [[ "$BUILD" = /* ]] || BUILD="$ROOT/$BUILD"
EVENTS="${EVENTS:-20000}"
PGBENCH_SECONDS="${PGBENCH_SECONDS:-10}"
"$ROOT/scripts/install-deps.sh" --test --bench >/dev/null
cmake --build "$BUILD" -j2 --target inlet inlet_auth_github inlet_sink_postgres >/dev/null

PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
TMP=$(mktemp -d /tmp/inlet-pgbench.XXXXXX)
chmod 755 "$TMP"
AS=""
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  AS="runuser -u postgres --"
  mkdir -p "$TMP/pg"; chown postgres: "$TMP/pg"
fi
PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
INLET_PID=""
cleanup() {
  [ -n "$INLET_PID" ] && kill "$INLET_PID" 2>/dev/null || true
  $AS "$PGBIN/pg_ctl" -D "$TMP/pg/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT
$AS "$PGBIN/initdb" -D "$TMP/pg/data" -U postgres -A trust >/dev/null
pgstart() { $AS "$PGBIN/pg_ctl" -D "$TMP/pg/data" -l "$TMP/pg/log" -w -o "-p $PORT -k $TMP/pg -c listen_addresses=127.0.0.1" start >/dev/null; }
pgstop() { $AS "$PGBIN/pg_ctl" -D "$TMP/pg/data" -m fast -w stop >/dev/null; }
PSQL="psql -h 127.0.0.1 -p $PORT -U postgres -d postgres -qtA"

# --- pgbench: one client, single-row INSERTs of the same shape (1.5 KiB jsonb + metadata) ----
pgstart
BODY=$(python3 - <<'PY'
import json
print(json.dumps({"ref":"refs/heads/main","pad":"x"*1400}))
PY
)
$PSQL -c "CREATE TABLE single_rows (id text PRIMARY KEY, received_at timestamptz, pipeline text, provider text, event_type text, delivery_id text, dedup_key text UNIQUE, headers jsonb, body bytea, data jsonb, authenticated boolean)"
cat > "$TMP/insert.sql" <<SQL
INSERT INTO single_rows VALUES (md5(random()::text || clock_timestamp()::text), now(), 'github', 'github', 'push', md5(random()::text), md5(random()::text || 'k'), '{"x-github-event":"push"}', convert_to('$BODY', 'UTF8'), '$BODY', true);
SQL
PGB_OUT=$(pgbench -h 127.0.0.1 -p "$PORT" -U postgres -n -c 1 -j 1 -T "$PGBENCH_SECONDS" -f "$TMP/insert.sql" postgres 2>&1)
PGB_TPS=$(echo "$PGB_OUT" | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1)
pgstop

# --- Inlet: journal EVENTS while PostgreSQL is down, then time the catch-up -------------------
cat > "$TMP/inlet.yaml" <<YAML
server: { listen: 127.0.0.1:0 }
journal: { path: $TMP/journal.db }
plugins: { path: [$BUILD/plugins] }
secrets: { gh: { value: bench-secret } }
sinks:
  pg:
    type: postgres
    conninfo: "host=127.0.0.1 port=$PORT user=postgres dbname=postgres connect_timeout=2"
    batch_size: 1000
    retry: { max_attempts: 1000000, initial_backoff: 100ms, max_backoff: 200ms }
pipelines:
  github:
    auth: { provider: github, secrets: [gh] }
    dedup: { key: auto }
    sinks: [pg]
    table: github_events
YAML
"$BUILD/inlet" serve -c "$TMP/inlet.yaml" >"$TMP/inlet.log" 2>&1 &
INLET_PID=$!
for _ in $(seq 100); do grep -q "listening on" "$TMP/inlet.log" && break; sleep 0.1; done
IPORT=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\) .*/\1/p' "$TMP/inlet.log" | head -1)
python3 - "$IPORT" "$EVENTS" "$BODY" <<'PY'
import hashlib, hmac, http.client, sys, threading
port, n, body = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].encode()
sig = "sha256=" + hmac.new(b"bench-secret", body, hashlib.sha256).hexdigest()
def run(start, step):
    c = http.client.HTTPConnection("127.0.0.1", port)
    for i in range(start, n, step):
        c.request("POST", "/webhook/github", body, {"X-Hub-Signature-256": sig, "X-GitHub-Delivery": "pg-%d" % i, "X-GitHub-Event": "push"})
        r = c.getresponse(); r.read()
        if r.status != 200: raise SystemExit("unexpected %d" % r.status)
ts = [threading.Thread(target=run, args=(k, 8)) for k in range(8)]
[t.start() for t in ts]; [t.join() for t in ts]
PY
START=$(date +%s.%N)
pgstart
while :; do
  C=$($PSQL -c "SELECT count(*) FROM github_events" 2>/dev/null || echo 0)
  [ "$C" = "$EVENTS" ] && break
  sleep 0.05
done
END=$(date +%s.%N)
DUP=$($PSQL -c "SELECT count(*) - count(DISTINCT delivery_id) FROM github_events")
python3 - "$EVENTS" "$START" "$END" "$PGB_TPS" "$DUP" <<'PY'
import sys
n, start, end, tps, dup = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
rate = n / (end - start)
print("PostgreSQL delivery benchmark (same server, same row shape, %d events)" % n)
print("  inlet postgres sink (batched, from the journal) : %9.0f events/s  (includes server start-up)" % rate)
print("  pgbench single-row INSERT, 1 client             : %9.0f rows/s" % tps)
print("  ratio                                           : %9.2f x   (target >= 3)" % (rate / tps))
print("  duplicate rows                                  : %s" % dup)
PY
