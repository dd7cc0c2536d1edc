#!/usr/bin/env bash
# The multi-host test on one machine (issue #13). Network namespaces joined by
# veth pairs to a bridge that lives in a namespace of its own, private
# 10.77.0.0/24 addresses that exist only inside this run's namespaces:
#   db    10.77.0.1   PostgreSQL, Redis (external-DSN mode) and the coordinator
#   gw    10.77.0.2   a gateway (serve --role gateway); gw2 10.77.0.3 a second one
#   n1-n3 10.77.0.11+ three render nodes; n4 joins later
# A screenplay goes in through the gateway. Mid-render, the link of a node
# holding a lease is cut (a partition: its packets vanish at the bridge),
# another node is killed, a fourth joins; the partitioned node's link comes
# back later. The film must complete once, be a correct MP4 (ffprobe), the
# ledger must be exact, and the partitioned node's late result must be
# refused by the coordinator (fencing epochs).
#
# Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN): without them it FAILS, it does
# not skip. Everything it creates is removed on exit, failure or signal.
#
# Mode failover: the same set-up with a second, standby coordinator in db
# (same address: it binds farm.bind only once it leads, as a virtual IP
# following the leader would). Mid-render the leader is killed with SIGKILL:
# the standby must be ready within 10 s and the film complete, charged once.
# Usage: netns_cluster_test.sh REELFARM_BINARY SOURCE_DIR [partition|failover]
set -euo pipefail
rf="$(readlink -f "$1")"
src="$(readlink -f "$2")"
mode="${3:-partition}"
case "$mode" in partition|failover) ;; *) echo "unknown mode $mode" >&2; exit 2 ;; esac
started=$SECONDS
run="$(printf '%04x%02x' $$ $((RANDOM % 256)))"   # unique per run: names below
ns_prefix="rf13-$run"
hub="$ns_prefix-hub"
work="$(mktemp -d /tmp/rf13-netns.XXXXXX)"
chmod 755 "$work"
pids=()
namespaces=()

log() { printf '[netns %3ds] %s\n' $((SECONDS - started)) "$*"; }
fail() {
  printf 'FAIL: %s\n' "$*" >&2
  for f in "$work"/*.log; do
    [ -f "$f" ] || continue
    printf -- '----- %s (last 40 lines)\n' "$(basename "$f")" >&2
    tail -n 40 "$f" >&2
  done
  exit 1
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 50); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.2
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  # Deleting a namespace deletes its veth ends and, in the hub, the bridge.
  for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  if [ "${KEEP_WORK:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
  log "cleaned up (exit $rc)"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ "$(id -u)" = 0 ] || fail "needs root: network namespaces need CAP_NET_ADMIN and CAP_SYS_ADMIN"
command -v ip >/dev/null || fail "ip (iproute2) is not installed"
if ! ip netns add "$hub" 2>"$work/netns.err"; then
  fail "cannot create a network namespace ($(cat "$work/netns.err")): this test needs CAP_NET_ADMIN and CAP_SYS_ADMIN"
fi
namespaces+=("$hub")
ip -n "$hub" link add br0 type bridge
ip -n "$hub" link set br0 up
ip -n "$hub" link set lo up

# add_host NAME ADDRESS: a namespace with eth0 at ADDRESS on the hub's bridge;
# the hub's end of its cable is "<NAME>" in the hub.
add_host() {
  local name="$1" address="$2" ns="$ns_prefix-$1"
  ip netns add "$ns"
  namespaces+=("$ns")
  ip link add "h$run$name" type veth peer name "c$run$name"
  ip link set "h$run$name" netns "$hub"
  ip -n "$hub" link set "h$run$name" name "$name"
  ip -n "$hub" link set "$name" master br0 up
  ip link set "c$run$name" netns "$ns"
  ip -n "$ns" link set "c$run$name" name eth0
  ip -n "$ns" addr add "$address/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
}
in_ns() { local ns="$ns_prefix-$1"; shift; ip netns exec "$ns" "$@"; }
# spawn NAME NS COMMAND...: in the background, output in $work/NAME.log
spawn() {
  local name="$1" ns="$2"; shift 2
  ip netns exec "$ns_prefix-$ns" "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
  eval "pid_$name=$!"
}
wait_log() {  # wait_log NAME TEXT SECONDS
  for _ in $(seq $(($3 * 10))); do
    grep -qF -- "$2" "$work/$1.log" 2>/dev/null && return 0
    eval "local pid=\$pid_$1"
    kill -0 "$pid" 2>/dev/null || fail "$1 exited before logging \"$2\""
    sleep 0.1
  done
  fail "$1 did not log \"$2\" within $3 s"
}

add_host db 10.77.0.1
add_host gw 10.77.0.2
add_host gw2 10.77.0.3
for i in 1 2 3 4; do add_host "n$i" "10.77.0.1$i"; done
log "namespaces up: ${namespaces[*]}"

# PostgreSQL and Redis in the db namespace, listening on its private address
# only (Debian's binaries, as the product's embedded launcher uses).
pgbin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
mkdir -p "$work/pg" "$work/data/media"
chown postgres: "$work/pg"
runuser -u postgres -- "$pgbin/initdb" -D "$work/pg" -A trust -U postgres --no-sync \
  >"$work/initdb.log" 2>&1 || fail "initdb failed"
echo "host all all 10.77.0.0/24 trust" >>"$work/pg/pg_hba.conf"
spawn postgres db runuser -u postgres -- "$pgbin/postgres" -D "$work/pg" \
  -c listen_addresses=10.77.0.1 -c port=5432 -c unix_socket_directories="$work/pg" -c fsync=off
spawn redis db redis-server --bind 10.77.0.1 --port 6379 --save "" --appendonly no \
  --protected-mode no
for _ in $(seq 100); do
  in_ns db "$pgbin/pg_isready" -q -h 10.77.0.1 -p 5432 && break
  sleep 0.2
done
in_ns gw "$pgbin/pg_isready" -q -h 10.77.0.1 -p 5432 || fail "gw cannot reach PostgreSQL in db"
psql() { in_ns db "$pgbin/psql" -h 10.77.0.1 -U postgres -At -v ON_ERROR_STOP=1 "$@"; }
psql -d postgres -c "CREATE DATABASE reelfarm" >/dev/null || fail "PostgreSQL did not start"
sql() { psql -d reelfarm -c "$1"; }

dsn="host=10.77.0.1 port=5432 dbname=reelfarm user=postgres"
common=("$rf" --data-dir "$work/data" --set "postgres.dsn=$dsn"
  --set "redis.url=redis://10.77.0.1:6379/0" --set "farm.bind=tcp://10.77.0.1:7700"
  --set gateway.jwt_secret=netns-test-secret-long-enough-for-hs256
  --set gateway.rate_limit_per_user=100000)
spawn coordinator db "${common[@]}" serve --role coordinator --health-port 10.77.0.1:9465
wait_log coordinator "coordinator listening" 60
if [ "$mode" = failover ]; then
  spawn coordinator_b db "${common[@]}" serve --role coordinator --health-port 10.77.0.1:9466
  wait_log coordinator_b "standby: waiting for the leader" 60
fi
ready() { in_ns db curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://10.77.0.1:$1/readyz" || true; }
[ "$(ready 9465)" = 200 ] || fail "the leader's /readyz is not 200"
spawn gateway gw "${common[@]}" --set gateway.host=10.77.0.2 --set gateway.port=8080 \
  serve --role gateway
wait_log gateway 'msg="ready' 60
# A second gateway: gateways share nothing but PostgreSQL and Redis, so a job
# submitted through one is followed through the other.
spawn gateway2 gw2 "${common[@]}" --set gateway.host=10.77.0.3 --set gateway.port=8080 \
  serve --role gateway
wait_log gateway2 'msg="ready' 60
# Nodes join as an operator adds them: a join token from `ctl nodes token`
# (the operator key is in the coordinator's data folder), then one command.
join_token="$(in_ns db "$rf" --data-dir "$work/data" ctl nodes token \
  --coordinator tcp://10.77.0.1:7700)" || fail "reelfarm ctl nodes token failed"
start_node() {
  mkdir -p "$work/node-$1"
  spawn "node$1" "n$1" "$rf" node --join tcp://10.77.0.1:7700 --token "$join_token" \
    --backend animatic --media-dir "$work/data/media" --node-dir "$work/node-$1"
}
for i in 1 2 3; do start_node $i; done
for i in 1 2 3; do wait_log "node$i" "registered" 30; done
log "farm up: coordinator (db), gateways (gw, gw2), nodes n1 n2 n3"

api="http://10.77.0.2:8080/api/v1"
# call METHOD PATH [TOKEN] [BODY]: prints the body, then the status on the last
# line; through the gateway in gw, or in $via (gw2) when set.
call() {
  local args=(-sS -X "$1" -H "Content-Type: application/json" -w '\n%{http_code}' --max-time 60)
  [ -n "${3:-}" ] && args+=(-H "Authorization: Bearer $3")
  [ -n "${4:-}" ] && args+=(--data-binary "$4")
  if [ "${via:-gw}" = gw2 ]; then
    in_ns gw2 curl "${args[@]}" "http://10.77.0.3:8080/api/v1$2"
  else
    in_ns gw curl "${args[@]}" "$api$2"
  fi
}
body() { sed '$d'; }
field() { python3 -c 'import json,sys; v=json.load(sys.stdin)
for k in sys.argv[1].split("."): v=v[k]
print(v)' "$1"; }
expect() {  # expect STATUS RESPONSE
  [ "$(tail -n1 <<<"$2")" = "$1" ] || fail "expected HTTP $1, got: $2"
}

r="$(call POST /auth/register "" '{"email":"netns@example.com","password":"a long enough password","full_name":"N"}')"
expect 201 "$r"
token="$(body <<<"$r" | field access_token)"
start_balance="$(call GET /credits/balance "$token" | body | field balance)"
script_json="$(python3 -c 'import json,sys; print(json.dumps({"title":"Partition","script":open(sys.argv[1]).read()}))' "$src/examples/sample.fountain")"
r="$(call POST /projects "$token" "$script_json")"
expect 201 "$r"
project="$(body <<<"$r" | field id)"
r="$(call POST "/projects/$project/render" "$token")"
expect 202 "$r"
job="$(body <<<"$r" | field job.id)"
cost="$(body <<<"$r" | field plan.cost_credits)"
log "render queued: job $job, cost $cost credits"

# The partition victim: a node that holds an open lease right now.
declare -A node_of
for i in 1 2 3; do
  for _ in $(seq 50); do [ -s "$work/node-$i/node-id" ] && break; sleep 0.1; done
  node_of[$i]="$(cat "$work/node-$i/node-id")"
done
victim=""
for _ in $(seq 1200); do
  holder="$(sql "SELECT node_id FROM farm_leases WHERE ended_at IS NULL AND state = 'offered' ORDER BY epoch DESC LIMIT 1")"
  for i in 1 2 3; do [ "$holder" = "${node_of[$i]}" ] && victim=$i; done
  [ -n "$victim" ] && break
  sleep 0.05
done
[ -n "$victim" ] || fail "no node got a lease within 60 s"
victim_epochs="$(sql "SELECT string_agg(epoch::text, ',') FROM farm_leases WHERE node_id = '${node_of[$victim]}' AND ended_at IS NULL")"
killed=0
if [ "$mode" = partition ]; then
  ip -n "$hub" link set "n$victim" down
  log "partition: n$victim cut off while holding lease(s) $victim_epochs"
  killed=$(( victim % 3 + 1 ))
  eval "kill -KILL \$pid_node$killed"
  log "killed n$killed (SIGKILL)"
  start_node 4
  wait_log node4 "registered" 30
  log "n4 joined"
  sleep 12   # longer than farm.lease_ttl (5 s): the victim's leases expire
  ip -n "$hub" link set "n$victim" up
  log "partition healed: n$victim back"
  stopping="node1 node2 node3 node4 gateway gateway2 coordinator"
else
  [ "$(ready 9466)" = 503 ] || fail "the standby's /readyz is not 503"
  kill -KILL "$pid_coordinator"
  killed_at=$SECONDS
  log "killed the leader coordinator (SIGKILL) while n$victim held lease(s) $victim_epochs"
  for _ in $(seq 150); do [ "$(ready 9466)" = 200 ] && break; sleep 0.1; done
  took=$((SECONDS - killed_at))
  [ "$(ready 9466)" = 200 ] || fail "the standby did not become ready within 15 s"
  [ "$took" -le 10 ] || fail "the standby took over after $took s, more than 10 s"
  grep -qF "leader: this coordinator holds the leader lock" "$work/coordinator_b.log" ||
    fail "the standby does not say it leads"
  log "standby took over within ${took} s (whole seconds)"
  stopping="node1 node2 node3 gateway gateway2 coordinator_b"
fi

status=""
for _ in $(seq ${JOB_WAIT_HALF_SECONDS:-600}); do
  status="$(via=gw2 call GET "/jobs/$job" "$token" | body | field status)"
  case "$status" in complete|failed|cancelled) break ;; esac
  sleep 0.5
done
if [ "$status" != complete ]; then
  sql "SELECT id, status, progress, shots_done, shots_total, error FROM ai_jobs" >&2 || true
  sql "SELECT shot_id, status FROM render_shots WHERE job_id = '$job' ORDER BY shot_id" >&2 || true
  sql "SELECT epoch, shot_id, node_id, state, reason FROM farm_leases ORDER BY epoch" >&2 || true
  fail "the job ended ${status:-nowhere}, not complete"
fi
log "job complete (followed through the second gateway)"

# Once: one job for the project, every shot done exactly once.
[ "$(sql "SELECT count(*) FROM ai_jobs WHERE project_id = '$project'")" = 1 ] ||
  fail "more than one job for the project"
shots="$(sql "SELECT count(*) FROM render_shots WHERE job_id = '$job'")"
[ "$(sql "SELECT count(DISTINCT shot_id) FROM farm_leases WHERE job_id = '$job' AND state = 'done'")" -ge 1 ] ||
  fail "no lease of the job is done"
dup="$(sql "SELECT count(*) FROM (SELECT shot_id FROM farm_leases WHERE state = 'done' GROUP BY shot_id HAVING count(*) > 1) d")"
[ "$dup" = 0 ] || fail "$dup shots were completed twice"
# The ledger: charged once, exactly the quoted cost.
[ "$(sql "SELECT count(*) FROM credit_transactions WHERE job_id = '$job' AND kind = 'deduction'")" = 1 ] ||
  fail "the job was not charged exactly once"
[ "$(sql "SELECT -sum(delta) FROM credit_transactions WHERE job_id = '$job'")" = "$cost" ] ||
  fail "the job's ledger entries do not add up to its cost $cost"
balance="$(call GET /credits/balance "$token" | body | field balance)"
[ "$balance" = $((start_balance - cost)) ] || fail "balance $balance, expected $((start_balance - cost))"
stale=0
if [ "$mode" = partition ]; then
  # The partitioned node's leases expired, and what it sent late was refused.
  expired="$(sql "SELECT count(*) FROM farm_leases WHERE node_id = '${node_of[$victim]}' AND epoch IN ($victim_epochs) AND state = 'expired'")"
  [ "$expired" -ge 1 ] || fail "the partitioned node's lease(s) $victim_epochs did not expire"
  stale=0
  for _ in $(seq 100); do
    stale="$(grep "node=${node_of[$victim]} " "$work/coordinator.log" | grep -c "stale_epoch" || true)"
    [ "$stale" -ge 1 ] && break
    sleep 0.1
  done
  [ "$stale" -ge 1 ] || fail "the coordinator did not refuse the partitioned node's late result (no stale_epoch in its log)"
fi
# The film: downloaded through the gateway, a real H.264 + AAC MP4.
in_ns gw curl -sS -f -o "$work/film.mp4" -H "Authorization: Bearer $token" \
  "$api/projects/$project/media/film" || fail "cannot download the film"
duration="$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$work/film.mp4")"
streams="$(ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "$work/film.mp4" | sort | tr '\n' ' ')"
python3 -c "import sys; sys.exit(0 if float('$duration') > 30 else 1)" ||
  fail "the film lasts $duration s"
[ "$streams" = "aac h264 " ] || fail "the film's streams are: $streams"
log "film ok: $duration s, streams $streams; $shots shots; $stale late result(s) refused"
# Everything still running stops cleanly on SIGTERM (what systemd and
# Kubernetes send): exit status 0, no abort.
for name in $(sed "s/node$killed //" <<<"$stopping"); do
  eval "pid=\$pid_$name"
  kill -TERM "$pid"
  rc=0
  wait "$pid" || rc=$?
  [ "$rc" = 0 ] || fail "$name exited $rc on SIGTERM"
done
log "nodes, gateway and coordinator stopped cleanly on SIGTERM"
log "PASS in $((SECONDS - started)) s"
