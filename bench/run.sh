#!/usr/bin/env bash
# vault-cpp benchmarks, each with a reference measured in the same run on the same machine.
#
#   VAULT_BIN=/abs/path/build/vault bash bench/run.sh      (what `make bench` runs)
#
#   1. KV reads over HTTP keep-alive    vs nginx serving the same bytes as a static file
#      (and the same reads with a non-root token whose policy has 100 paths vs the root token)
#   2. durable KV writes (rocksdb)      vs single-node etcd puts through its JSON gateway
#   3. idle RSS of the dev server (after start, after the read benchmark)
#   4. dev start latency: spawn -> first 200 from GET /v1/sys/health (median of 5)
#   5. the AWS engine against the IAM/STS emulator (bench/aws/aws_bench.py): server overhead per
#      issue vs the AWS time, 500 creds at once vs the AWS-latency lower bound and the emulator
#      alone, revocations/s under an IAM call budget (and with AWS throttling) vs the budget
#   6. leases (bench/leases/lease_bench, the real expiration manager over the barrier on RocksDB):
#      restore time and resident memory per pending lease at BENCH_LEASES stored leases, and
#      expiries/s with all of them due at once (engine revoke is a no-op: no outside call)
#   7. HA on a 3-member etcd cluster (bench/ha/ha_bench.py): KV reads on etcd vs on RocksDB, durable
#      KV writes on etcd vs etcd's own puts through the same client (gRPC), takeover after SIGKILL,
#      SIGTERM and sys/step-down (lock_timeout 3s); the creds issue overhead with storage on etcd
#   8. logins (bench/auth/auth_bench.py): AppRole, JWT (RS256) and userpass logins per second vs
#      token lookups, one server on RocksDB
#   9. KV version 2 (bench/kv2/kv2_bench.py): reads (a key with one version, a key with 2,000)
#      and durable writes per second vs KV version 1's on the same server
#  10. metrics (bench/metrics/metrics_bench.py): KV reads per second while sys/metrics is scraped
#      10 times a second vs nobody scraping, on the same server
#
# Environment: VAULT_BIN (default build/vault), BENCH_DURATION (wrk -d, default 10s),
# START_RUNS (default 5), BENCH_AWS (1; 0 skips section 5), BENCH_AWS_ARGS (e.g. --quick),
# BENCH_LEASES (default 1000000; 0 skips section 6; registering them takes a few minutes),
# BENCH_HA (1; 0 skips section 7), BENCH_AUTH (1; 0 skips section 8), BENCH_KV2 (1; 0 skips
# section 9), BENCH_METRICS (1; 0 skips section 10).
# Everything listens on 127.0.0.1 only, every process started
# here is stopped on exit, and temp data lives under one mktemp dir that is removed.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VAULT_BIN=${VAULT_BIN:-$HERE/../build/vault}
DURATION=${BENCH_DURATION:-10s}
START_RUNS=${START_RUNS:-5}
WRK_ARGS=(-t2 -c64 -d"$DURATION" --latency)
TOKEN=bench-root
PY=/usr/bin/python3
NGINX_BIN=/usr/sbin/nginx
ETCD_BIN=/usr/bin/etcd

die() { echo "bench: ERROR: $*" >&2; exit 1; }
log() { echo "bench: $*"; }

# ---------------------------------------------------------------- prerequisites
[ -x "$VAULT_BIN" ] || die "vault binary not found or not executable: $VAULT_BIN (build it first: make build)"
missing=()
command -v wrk >/dev/null 2>&1 || missing+=("wrk (Debian package wrk)")
[ -x "$NGINX_BIN" ] || NGINX_BIN=$(command -v nginx 2>/dev/null || true)
[ -n "$NGINX_BIN" ] && [ -x "$NGINX_BIN" ] || missing+=("nginx (Debian package nginx-light, /usr/sbin/nginx)")
[ -x "$ETCD_BIN" ] || ETCD_BIN=$(command -v etcd 2>/dev/null || true)
[ -n "$ETCD_BIN" ] && [ -x "$ETCD_BIN" ] || missing+=("etcd (Debian package etcd-server, /usr/bin/etcd)")
command -v curl >/dev/null 2>&1 || missing+=("curl")
[ -x "$PY" ] || missing+=("/usr/bin/python3")
if [ ${#missing[@]} -gt 0 ]; then
  printf 'bench: ERROR: missing benchmark tools:\n' >&2
  printf '  - %s\n' "${missing[@]}" >&2
  echo "bench: install them with: scripts/install-deps --bench" >&2
  exit 1
fi

# ---------------------------------------------------------------- process bookkeeping
TMP=$(mktemp -d /tmp/vault-bench.XXXXXX) || die "mktemp failed"
chmod 755 "$TMP"   # nginx workers may run as an unprivileged user and must read the doc root
PIDS=()
PROBLEMS=()

stop_pid() {   # TERM, wait up to 5 s, then KILL; only pids we started
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "bench: pid $pid did not exit within 5s of SIGTERM; sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null
  return 0
}
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'echo "bench: interrupted" >&2; exit 130' INT TERM

problem() { PROBLEMS+=("$*"); echo "bench: PROBLEM: $*"; }

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
rss_mib() {
  awk '/^VmRSS:/ { printf "%.1f", $2 / 1024; found=1 } END { if (!found) print "n/a" }' \
    "/proc/$1/status" 2>/dev/null || echo "n/a"
}
# wait_http URL PID WANT(any|200) TIMEOUT_S [curl args...] -> 0 when ready
wait_http() {
  local url=$1 pid=$2 want=$3 timeout=$4 code deadline
  shift 4
  deadline=$(( $(date +%s) + timeout ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    kill -0 "$pid" 2>/dev/null || return 2
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$@" "$url" 2>/dev/null)
    if [ "$want" = any ] && [ "$code" != 000 ]; then return 0; fi
    [ "$code" = "$want" ] && return 0
    sleep 0.05
  done
  return 1
}
# sets ST to how a pid we started ended ("" if still running); no subshell, so wait works
exit_status() {
  local pid=$1 rc
  ST=""
  kill -0 "$pid" 2>/dev/null && return 0
  wait "$pid" 2>/dev/null
  rc=$?
  if [ $rc -gt 128 ]; then ST="killed by signal $((rc - 128)) ($(kill -l $((rc - 128)) 2>/dev/null))"; else ST="exit status $rc"; fi
}

# run_wrk NAME OUTFILE wrk-args... ; prints wrk output indented, parses figures into
# W_RPS W_P99 W_NON2XX W_SOCKERR W_LUA_NON2XX W_LUA_RESP W_REQS
run_wrk() {
  local name=$1 out=$2
  shift 2
  log "wrk $name: wrk ${*}"
  timeout --kill-after=5 120 wrk "$@" >"$out" 2>&1
  local rc=$?
  sed 's/^/    | /' "$out"
  W_RPS=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
  W_P99=$(awk '$1 == "99%" { print $2; exit }' "$out")
  W_REQS=$(awk '/requests in/ { print $1; exit }' "$out")
  W_NON2XX=$(awk -F': *' '/Non-2xx or 3xx responses/ { print $2 }' "$out")
  W_SOCKERR=$(sed -n 's/^ *Socket errors: *//p' "$out")
  W_LUA_NON2XX=$(awk '/^LUA_NON2XX/ { print $2 }' "$out")
  W_LUA_RESP=$(awk '/^LUA_RESPONSES/ { print $2 }' "$out")
  [ $rc -eq 0 ] || problem "$name: wrk exited with status $rc"
  [ -n "$W_RPS" ] || { problem "$name: no Requests/sec in wrk output"; W_RPS=0; }
  [ -n "$W_P99" ] || W_P99="n/a"
  [ -z "$W_NON2XX" ] || problem "$name: wrk reports $W_NON2XX non-2xx/3xx responses (of ${W_REQS:-?} requests)"
  [ -z "$W_SOCKERR" ] || problem "$name: wrk reports socket errors: $W_SOCKERR"
  if [ -n "$W_LUA_NON2XX" ] && [ "$W_LUA_NON2XX" != 0 ]; then
    problem "$name: Lua script counted $W_LUA_NON2XX non-2xx responses ($(grep -m1 '^LUA_FIRST_ERROR' "$out" | cut -c1-200))"
  fi
  return 0
}
# CPU seconds (user+sys, all threads) a pid has used so far
cpu_secs() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# cpu_report NAME PID BEFORE SECONDS_RUN -> logs average CPU use and thread count
cpu_report() {
  local now; now=$(cpu_secs "$2")
  log "$1: server used $(awk -v a="$3" -v b="$now" -v d="$4" 'BEGIN { printf "%.0f%%", (b - a) / d * 100 }') CPU on average (100% = one core) with $(awk '/^Threads:/ { print $2 }' "/proc/$2/status" 2>/dev/null) threads"
}
# wrk_vault NAME OUTFILE PID LOGFILE wrk-args... : run_wrk against a vault server we started,
# report its CPU use, and set ST (as exit_status does) with a PROBLEM if it died meanwhile.
wrk_vault() {
  local name=$1 out=$2 pid=$3 logfile=$4 c0
  shift 4
  c0=$(cpu_secs "$pid")
  run_wrk "$name" "$out" "$@"
  kill -0 "$pid" 2>/dev/null && cpu_report "$name" "$pid" "$c0" "$DUR_S"
  exit_status "$pid"
  if [ -n "$ST" ]; then
    problem "$name: the vault server died during the benchmark: $ST"
    tail -20 "$logfile" | sed 's/^/    server log| /'
  fi
}
DUR_S=$(awk -v d="$DURATION" 'BEGIN { n = d + 0; if (d ~ /m$/) n *= 60; if (d ~ /h$/) n *= 3600; print n }')
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "n/a" }'; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
log "vault: $VAULT_BIN"
log "tools: $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), $("$NGINX_BIN" -v 2>&1), etcd $("$ETCD_BIN" --version | awk 'NR==1 { print $3 }')"
log "machine: $(nproc) CPUs, load average $load_before, wrk ${WRK_ARGS[*]}"
log "temp dir: $TMP"

# =================================================================== 1. KV reads
echo
log "=== 1. KV reads over HTTP keep-alive (vault dev server vs nginx static file)"
DEV_PORT=$(free_port)
mkdir -p "$TMP/devhome"
HOME="$TMP/devhome" "$VAULT_BIN" server -dev -dev-root-token-id=$TOKEN \
  -dev-listen-address=127.0.0.1:$DEV_PORT >"$TMP/dev.log" 2>&1 </dev/null &
DEV_PID=$!
PIDS+=("$DEV_PID")
DEV_URL=http://127.0.0.1:$DEV_PORT
wait_http "$DEV_URL/v1/sys/health" "$DEV_PID" 200 20 || {
  tail -20 "$TMP/dev.log" >&2
  exit_status "$DEV_PID"
  die "vault dev server did not answer GET /v1/sys/health with 200 within 20s (${ST:-still running})"
}
sleep 1
RSS_START=$(rss_mib "$DEV_PID")
log "vault dev server pid $DEV_PID on $DEV_URL, VmRSS after start: $RSS_START MiB"

# ~200-byte JSON secret
cat >"$TMP/doc.json" <<'EOF'
{"username":"svc-payments","password":"N7q!vR2#pLx9@kT4wZ8$mD3^","host":"db-primary.internal.example.com","port":5432,"database":"payments","sslmode":"verify-full","rotated_at":"2024-05-01T12:00:00Z"}
EOF
log "secret document: $(wc -c <"$TMP/doc.json") bytes"
code=$(curl -s -o "$TMP/put.out" -w '%{http_code}' -X PUT -H "X-Vault-Token: $TOKEN" \
  -d @"$TMP/doc.json" "$DEV_URL/v1/secret/bench")
case $code in 2??) ;; *) die "writing secret/bench failed: HTTP $code $(head -c 300 "$TMP/put.out")";; esac

mkdir -p "$TMP/nginx/www" "$TMP/nginx/tmp"
code=$(curl -s -o "$TMP/nginx/www/bench" -w '%{http_code}' -H "X-Vault-Token: $TOKEN" "$DEV_URL/v1/secret/bench")
[ "$code" = 200 ] || die "reading secret/bench failed: HTTP $code $(head -c 300 "$TMP/nginx/www/bench")"
chmod 644 "$TMP/nginx/www/bench"; chmod 755 "$TMP/nginx" "$TMP/nginx/www"
BODY_BYTES=$(wc -c <"$TMP/nginx/www/bench")
log "vault read response body: $BODY_BYTES bytes (saved as nginx's static file)"

wrk_vault "vault read" "$TMP/wrk-vault-read.txt" "$DEV_PID" "$TMP/dev.log" \
  "${WRK_ARGS[@]}" -H "X-Vault-Token: $TOKEN" "$DEV_URL/v1/secret/bench"
V_READ_RPS=$W_RPS V_READ_P99=$W_P99

# The same reads with a non-root token: its policy has 100 path rules (ACL prefix tree + caches).
A_READ_RPS=0 A_READ_P99=n/a
if [ -z "$ST" ]; then
  "$PY" - "$TMP/acl-policy.json" <<'PYEOF'
import json, sys
rules = "".join('path "secret/team%d/*" {\n  capabilities = ["read", "list"]\n}\n' % i for i in range(98))
rules += 'path "secret/+/config" {\n  capabilities = ["read"]\n}\n'
rules += 'path "secret/bench" {\n  capabilities = ["read"]\n}\n'
json.dump({"policy": rules}, open(sys.argv[1], "w"))
PYEOF
  code=$(curl -s -o "$TMP/acl-policy.out" -w '%{http_code}' -X PUT -H "X-Vault-Token: $TOKEN" \
    -d @"$TMP/acl-policy.json" "$DEV_URL/v1/sys/policy/bench-100")
  case $code in 2??) ;; *) die "writing the 100-path policy failed: HTTP $code $(head -c 300 "$TMP/acl-policy.out")";; esac
  curl -s -X POST -H "X-Vault-Token: $TOKEN" -d '{"policies":["bench-100"],"ttl":"1h"}' \
    "$DEV_URL/v1/auth/token/create" >"$TMP/acl-token.json"
  ACL_TOKEN=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["auth"]["client_token"])' "$TMP/acl-token.json" 2>/dev/null)
  [ -n "$ACL_TOKEN" ] || die "creating the non-root token failed: $(head -c 300 "$TMP/acl-token.json")"
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Vault-Token: $ACL_TOKEN" "$DEV_URL/v1/secret/bench")
  [ "$code" = 200 ] || die "the non-root token cannot read secret/bench: HTTP $code"
  log "non-root token with a 100-path policy created"
  wrk_vault "vault read (100-path policy)" "$TMP/wrk-vault-read-acl.txt" "$DEV_PID" "$TMP/dev.log" \
    "${WRK_ARGS[@]}" -H "X-Vault-Token: $ACL_TOKEN" "$DEV_URL/v1/secret/bench"
  A_READ_RPS=$W_RPS A_READ_P99=$W_P99
fi
if [ -n "$ST" ]; then
  RSS_AFTER="n/a"
else
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "X-Vault-Token: $TOKEN" "$DEV_URL/v1/secret/bench")
  [ "$code" = 200 ] || problem "vault dev server answers HTTP $code (not 200) to a read after the benchmark"
  sleep 1
  RSS_AFTER=$(rss_mib "$DEV_PID")
  log "vault dev server VmRSS after read benchmark: $RSS_AFTER MiB"
fi
stop_pid "$DEV_PID"

NGINX_PORT=$(free_port)
cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes 2;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  types { }
  default_type application/json;
  keepalive_requests 100000000;
  keepalive_timeout 75s;
  client_body_temp_path $TMP/nginx/tmp;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $TMP/nginx/www;
    location / { }
  }
}
EOF
"$NGINX_BIN" -t -q -p "$TMP/nginx" -e "$TMP/nginx/error.log" -c "$TMP/nginx/nginx.conf" \
  || die "nginx rejected the benchmark config ($TMP/nginx/nginx.conf)"
"$NGINX_BIN" -p "$TMP/nginx" -e "$TMP/nginx/error.log" -c "$TMP/nginx/nginx.conf" </dev/null \
  >"$TMP/nginx/stdout.log" 2>&1 &
NGINX_PID=$!
PIDS+=("$NGINX_PID")
wait_http "http://127.0.0.1:$NGINX_PORT/bench" "$NGINX_PID" 200 10 || {
  cat "$TMP/nginx/error.log" >&2
  die "nginx did not serve the static file within 10s"
}
curl -s "http://127.0.0.1:$NGINX_PORT/bench" | cmp -s - "$TMP/nginx/www/bench" \
  || die "nginx does not serve the same bytes as the vault response"
run_wrk "nginx read" "$TMP/wrk-nginx-read.txt" "${WRK_ARGS[@]}" -H "X-Vault-Token: $TOKEN" \
  "http://127.0.0.1:$NGINX_PORT/bench"
N_READ_RPS=$W_RPS N_READ_P99=$W_P99
stop_pid "$NGINX_PID"

# =================================================================== 2. durable writes
echo
log "=== 2. durable KV writes (vault + rocksdb vs single-node etcd)"
printf '%s' '{"service":"billing","api_key":"ak_7f3c9e2b41d84a6f","region":"eu-west-1","tier":"prod","v":1}' >"$TMP/value.json"
log "write body: $(wc -c <"$TMP/value.json") bytes"

W_PORT=$(free_port)
mkdir -p "$TMP/vhome" "$TMP/vault-data"
cat >"$TMP/vault.hcl" <<EOF
storage "rocksdb" {
  path = "$TMP/vault-data"
}
listener "tcp" {
  address     = "127.0.0.1:$W_PORT"
  tls_disable = true
}
EOF
HOME="$TMP/vhome" "$VAULT_BIN" server -config="$TMP/vault.hcl" >"$TMP/vault-w.log" 2>&1 </dev/null &
VW_PID=$!
PIDS+=("$VW_PID")
VW_URL=http://127.0.0.1:$W_PORT
wait_http "$VW_URL/v1/sys/health" "$VW_PID" any 20 || {
  tail -20 "$TMP/vault-w.log" >&2
  exit_status "$VW_PID"
  die "vault (rocksdb) server did not answer within 20s (${ST:-still running})"
}
curl -s -X PUT "$VW_URL/v1/sys/init" -d '{"secret_shares":1,"secret_threshold":1}' >"$TMP/init.json"
read -r UNSEAL_KEY ROOT_TOKEN < <("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["keys"][0], d["root_token"])' "$TMP/init.json" 2>/dev/null)
[ -n "${ROOT_TOKEN:-}" ] || die "sys/init did not return keys/root_token: $(head -c 300 "$TMP/init.json")"
curl -s -X PUT "$VW_URL/v1/sys/unseal" -d "{\"key\":\"$UNSEAL_KEY\"}" >"$TMP/unseal.json"
grep -q '"sealed":false' "$TMP/unseal.json" || die "unseal failed: $(head -c 300 "$TMP/unseal.json")"
code=$(curl -s -o "$TMP/probe.out" -w '%{http_code}' -X PUT -H "X-Vault-Token: $ROOT_TOKEN" \
  -d @"$TMP/value.json" "$VW_URL/v1/secret/probe")
case $code in 2??) ;; *) die "probe write to secret/probe failed: HTTP $code $(head -c 300 "$TMP/probe.out")";; esac
log "vault (rocksdb) pid $VW_PID on $VW_URL initialized and unsealed"

wrk_vault "vault write" "$TMP/wrk-vault-write.txt" "$VW_PID" "$TMP/vault-w.log" \
  "${WRK_ARGS[@]}" -H "X-Vault-Token: $ROOT_TOKEN" \
  -H 'Content-Type: application/json' -s "$HERE/put.lua" "$VW_URL/v1/secret" -- vault "$TMP/value.json"
V_WRITE_RPS=$W_RPS V_WRITE_P99=$W_P99
if [ -z "$ST" ]; then
  # every 2xx PUT went to a distinct key: the stored key count must cover them all
  ok_writes=$(( ${W_LUA_RESP:-0} - ${W_LUA_NON2XX:-0} ))
  code=$(curl -s -o "$TMP/list.json" -w '%{http_code}' --max-time 30 -H "X-Vault-Token: $ROOT_TOKEN" "$VW_URL/v1/secret/w?list=true")
  nkeys=$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["data"]["keys"]))' "$TMP/list.json" 2>/dev/null)
  log "vault: LIST secret/w -> HTTP $code, ${nkeys:-?} keys stored for $ok_writes acknowledged writes"
  if [ "$code" != 200 ] || [ -z "$nkeys" ] || [ "$nkeys" -lt "$ok_writes" ]; then
    problem "vault: LIST secret/w after the write benchmark: HTTP $code, ${nkeys:-?} keys < $ok_writes acknowledged writes"
  fi
  code=$(curl -s -o "$TMP/readback.out" -w '%{http_code}' --max-time 5 -H "X-Vault-Token: $ROOT_TOKEN" "$VW_URL/v1/secret/w/1-2")
  if [ "$code" != 200 ] || ! grep -q '"api_key":"ak_7f3c9e2b41d84a6f"' "$TMP/readback.out"; then
    problem "vault: reading back secret/w/1-2 after the write benchmark gave HTTP $code $(head -c 200 "$TMP/readback.out")"
  fi
fi
log "vault rocksdb data dir after writes: $(du -sh "$TMP/vault-data" | cut -f1)"
stop_pid "$VW_PID"

E_CPORT=$(free_port)
E_PPORT=$(free_port)
while [ "$E_PPORT" = "$E_CPORT" ]; do E_PPORT=$(free_port); done
E_URL=http://127.0.0.1:$E_CPORT
"$ETCD_BIN" --name bench --data-dir "$TMP/etcd-data" \
  --listen-client-urls "$E_URL" --advertise-client-urls "$E_URL" \
  --listen-peer-urls "http://127.0.0.1:$E_PPORT" --initial-advertise-peer-urls "http://127.0.0.1:$E_PPORT" \
  --initial-cluster "bench=http://127.0.0.1:$E_PPORT" --initial-cluster-state new \
  --logger zap --log-level warn >"$TMP/etcd.log" 2>&1 </dev/null &
ETCD_PID=$!
PIDS+=("$ETCD_PID")
wait_http "$E_URL/health" "$ETCD_PID" 200 20 || {
  tail -20 "$TMP/etcd.log" >&2
  die "etcd did not become healthy within 20s"
}
VALUE_B64=$(base64 -w0 <"$TMP/value.json")
code=$(curl -s -o "$TMP/etcd-probe.out" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  -d "{\"key\":\"$(printf probe | base64)\",\"value\":\"$VALUE_B64\"}" "$E_URL/v3/kv/put")
[ "$code" = 200 ] || die "etcd probe put failed: HTTP $code $(head -c 300 "$TMP/etcd-probe.out")"
log "etcd pid $ETCD_PID on $E_URL"
run_wrk "etcd write" "$TMP/wrk-etcd-write.txt" "${WRK_ARGS[@]}" -H 'Content-Type: application/json' \
  -s "$HERE/put.lua" "$E_URL/v3/kv/put" -- etcd "$TMP/value.json"
E_WRITE_RPS=$W_RPS E_WRITE_P99=$W_P99
ok_writes=$(( ${W_LUA_RESP:-0} - ${W_LUA_NON2XX:-0} ))
code=$(curl -s -o "$TMP/etcd-range.out" -w '%{http_code}' --max-time 30 -X POST -H 'Content-Type: application/json' \
  -d "{\"key\":\"$(printf bench/ | base64)\",\"range_end\":\"$(printf bench0 | base64)\",\"count_only\":true}" "$E_URL/v3/kv/range")
nkeys=$("$PY" -c 'import json,sys; print(int(json.load(open(sys.argv[1])).get("count", 0)))' "$TMP/etcd-range.out" 2>/dev/null)
log "etcd: range bench/ -> HTTP $code, ${nkeys:-?} keys stored for $ok_writes acknowledged writes"
if [ "$code" != 200 ] || [ -z "$nkeys" ] || [ "$nkeys" -lt "$ok_writes" ]; then
  problem "etcd: range count after the write benchmark: HTTP $code, ${nkeys:-?} keys < $ok_writes acknowledged writes"
fi
stop_pid "$ETCD_PID"

# =================================================================== 4. start latency
echo
log "=== 4. dev start latency: spawn -> first 200 from GET /v1/sys/health ($START_RUNS runs)"
"$PY" "$HERE/start_latency.py" "$VAULT_BIN" "$TMP" "$START_RUNS" | tee "$TMP/start.txt"
START_MS=$(awk '/^MEDIAN_MS/ { print $2 }' "$TMP/start.txt")
[ -n "$START_MS" ] && [ "$START_MS" != FAIL ] || { problem "dev start latency: some runs failed"; START_MS="n/a"; }

# =================================================================== 5. AWS engine
AWS_RC=skipped
if [ "${BENCH_AWS:-1}" != 0 ]; then
  echo
  log "=== 5. AWS engine against the IAM/STS emulator (bench/aws/aws_bench.py ${BENCH_AWS_ARGS:-})"
  # shellcheck disable=SC2086  # BENCH_AWS_ARGS is a list of flags
  timeout --kill-after=10 900 "$PY" "$HERE/aws/aws_bench.py" --vault-bin "$VAULT_BIN" ${BENCH_AWS_ARGS:-} \
    >"$TMP/aws.txt" 2>&1 </dev/null
  AWS_RC=$?
  sed 's/^/    | /' "$TMP/aws.txt"
  [ "$AWS_RC" = 0 ] || problem "AWS benchmark (bench/aws/aws_bench.py) exited with status $AWS_RC: $(sed -n '/^PROBLEMS:/,$p' "$TMP/aws.txt" | sed -n 2,4p | tr -s ' ' | tr '\n' ';')"
fi

# =================================================================== 6. leases
LEASE_RC=skipped
LEASE_BIN=$(dirname "$VAULT_BIN")/bench/leases/lease_bench
if [ "${BENCH_LEASES:-1000000}" != 0 ]; then
  echo
  log "=== 6. leases: restore, memory and expiry at ${BENCH_LEASES:-1000000} stored leases ($LEASE_BIN)"
  if [ -x "$LEASE_BIN" ]; then
    timeout --kill-after=10 1800 "$LEASE_BIN" --leases "${BENCH_LEASES:-1000000}" --dir "$TMP/leases" \
      >"$TMP/leases.txt" 2>&1 </dev/null
    LEASE_RC=$?
    sed 's/^/    | /' "$TMP/leases.txt"
    rm -rf "$TMP/leases"
    [ "$LEASE_RC" = 0 ] || problem "lease benchmark exited with status $LEASE_RC"
  else
    problem "lease benchmark not built: $LEASE_BIN"
    LEASE_RC=missing
  fi
fi

# =================================================================== 7. HA on etcd
HA_RC=skipped
if [ "${BENCH_HA:-1}" != 0 ]; then
  echo
  log "=== 7. HA on a 3-member etcd cluster (bench/ha/ha_bench.py)"
  timeout --kill-after=10 900 "$PY" "$HERE/ha/ha_bench.py" --vault-bin "$VAULT_BIN" \
    --put-bench "$(dirname "$VAULT_BIN")/bench/ha/etcd_put_bench" --duration "$DURATION" >"$TMP/ha.txt" 2>&1 </dev/null
  HA_RC=$?
  sed 's/^/    | /' "$TMP/ha.txt"
  [ "$HA_RC" = 0 ] || problem "HA benchmark (bench/ha/ha_bench.py) exited with status $HA_RC"
  log "=== 7b. creds issue overhead with storage on 3 etcd members (bench/aws/aws_bench.py --only issue-etcd)"
  timeout --kill-after=10 600 "$PY" "$HERE/aws/aws_bench.py" --only issue-etcd --sequential 200 \
    --vault-bin "$VAULT_BIN" >"$TMP/aws-etcd.txt" 2>&1 </dev/null
  AWS_ETCD_RC=$?
  sed 's/^/    | /' "$TMP/aws-etcd.txt"
  [ "$AWS_ETCD_RC" = 0 ] || problem "creds issue on etcd (bench/aws/aws_bench.py --only issue-etcd) exited with status $AWS_ETCD_RC"
fi

# =================================================================== 8. logins
AUTH_RC=skipped
if [ "${BENCH_AUTH:-1}" != 0 ]; then
  echo
  log "=== 8. logins per second vs token lookups (bench/auth/auth_bench.py)"
  timeout --kill-after=10 600 "$PY" "$HERE/auth/auth_bench.py" --vault-bin "$VAULT_BIN" \
    --duration "$DURATION" >"$TMP/auth.txt" 2>&1 </dev/null
  AUTH_RC=$?
  sed 's/^/    | /' "$TMP/auth.txt"
  [ "$AUTH_RC" = 0 ] || problem "auth benchmark (bench/auth/auth_bench.py) exited with status $AUTH_RC"
fi

# =================================================================== 9. KV version 2
KV2_RC=skipped
if [ "${BENCH_KV2:-1}" != 0 ]; then
  echo
  log "=== 9. KV version 2 vs version 1 (bench/kv2/kv2_bench.py)"
  timeout --kill-after=10 600 "$PY" "$HERE/kv2/kv2_bench.py" --vault-bin "$VAULT_BIN" \
    --duration "$DURATION" >"$TMP/kv2.txt" 2>&1 </dev/null
  KV2_RC=$?
  sed 's/^/    | /' "$TMP/kv2.txt"
  [ "$KV2_RC" = 0 ] || problem "KV version 2 benchmark (bench/kv2/kv2_bench.py) exited with status $KV2_RC"
fi

# =================================================================== 10. metrics
METRICS_RC=skipped
if [ "${BENCH_METRICS:-1}" != 0 ]; then
  echo
  log "=== 10. KV reads while scraped vs not (bench/metrics/metrics_bench.py)"
  timeout --kill-after=10 600 "$PY" "$HERE/metrics/metrics_bench.py" --vault-bin "$VAULT_BIN" \
    --duration "$DURATION" >"$TMP/metrics.txt" 2>&1 </dev/null
  METRICS_RC=$?
  sed 's/^/    | /' "$TMP/metrics.txt"
  [ "$METRICS_RC" = 0 ] || problem "metrics benchmark (bench/metrics/metrics_bench.py) exited with status $METRICS_RC"
fi

# =================================================================== summary
read_ratio=$(ratio "$V_READ_RPS" "$N_READ_RPS")
write_ratio=$(ratio "$V_WRITE_RPS" "$E_WRITE_RPS")
acl_ratio=$(ratio "$A_READ_RPS" "$V_READ_RPS")
met() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN { if (v == "n/a" || v == "") { print "?"; exit }
  ok = (op == ">=") ? (v + 0 >= t + 0) : (v + 0 < t + 0); print ok ? "yes" : "NO" }'; }
fmt_rps() { awk -v r="$1" 'BEGIN { printf "%.0f", r }'; }

echo
echo "==================================================================================================="
printf '%-31s %-22s %-26s %-7s %-8s %s\n' benchmark vault reference ratio target met
printf '%-31s %-22s %-26s %-7s %-8s %s\n' "kv read  req/s (p99)" \
  "$(fmt_rps "$V_READ_RPS") ($V_READ_P99)" "nginx $(fmt_rps "$N_READ_RPS") ($N_READ_P99)" \
  "$read_ratio" ">= 0.70" "$(met "$read_ratio" '>=' 0.70)"
printf '%-31s %-22s %-26s %-7s %-8s %s\n' "kv read  100-path policy token" \
  "$(fmt_rps "$A_READ_RPS") ($A_READ_P99)" "root  $(fmt_rps "$V_READ_RPS") ($V_READ_P99)" \
  "$acl_ratio" ">= 0.90" "$(met "$acl_ratio" '>=' 0.90)"
printf '%-31s %-22s %-26s %-7s %-8s %s\n' "kv write req/s durable (p99)" \
  "$(fmt_rps "$V_WRITE_RPS") ($V_WRITE_P99)" "etcd  $(fmt_rps "$E_WRITE_RPS") ($E_WRITE_P99)" \
  "$write_ratio" ">= 1.00" "$(met "$write_ratio" '>=' 1.00)"
printf '%-31s %-22s %-26s %-7s %-8s %s\n' "idle RSS MiB (start / after rd)" "$RSS_START / $RSS_AFTER" "" "" "< 30" \
  "$(met "$RSS_START" '<' 30)/$(met "$RSS_AFTER" '<' 30)"
printf '%-31s %-22s %-26s %-7s %-8s %s\n' "dev start to first answer ms" "$START_MS (median of $START_RUNS)" "" "" "< 100" \
  "$(met "$START_MS" '<' 100)"
echo "==================================================================================================="
echo "wrk ${WRK_ARGS[*]}; $(nproc) CPUs shared by server and wrk; load average before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$AWS_RC" != skipped ]; then
  echo
  echo "AWS engine (bench/aws/aws_bench.py; emulator, vault and client on the same $(nproc) CPUs):"
  awk '/^=+$/ { n++; print; next } n == 1' "$TMP/aws.txt"
fi
if [ "$LEASE_RC" = 0 ]; then
  echo
  echo "Leases (bench/leases/lease_bench; targets at 1,000,000: restore < 4 s, < 200 B per lease, >= 50,000 expiries/s):"
  cat "$TMP/leases.txt"
fi
if [ "$HA_RC" = 0 ]; then
  echo
  echo "HA on etcd (bench/ha/ha_bench.py; 3 etcd members, 2 servers and wrk on the same $(nproc) CPUs):"
  awk '/^=+$/ { n++; print; next } n == 1' "$TMP/ha.txt"
fi
if [ "$AUTH_RC" = 0 ]; then
  echo
  echo "Logins (bench/auth/auth_bench.py; one server on RocksDB, wrk on the same $(nproc) CPUs):"
  awk '/^=+$/ { n++; print; next } n == 1' "$TMP/auth.txt"
fi
if [ "$KV2_RC" = 0 ]; then
  echo
  echo "KV version 2 (bench/kv2/kv2_bench.py; one server on RocksDB, wrk on the same $(nproc) CPUs):"
  awk '/^=+$/ { n++; print; next } n == 1' "$TMP/kv2.txt"
fi
if [ "$METRICS_RC" = 0 ]; then
  echo
  echo "Metrics (bench/metrics/metrics_bench.py; one server on RocksDB, wrk on the same $(nproc) CPUs):"
  awk '/^=+$/ { n++; print; next } n == 1' "$TMP/metrics.txt"
fi
if [ ${#PROBLEMS[@]} -gt 0 ]; then
  echo "PROBLEMS (figures above may be measuring errors):"
  printf '  - %s\n' "${PROBLEMS[@]}"
  exit 1
fi
echo "no errors: all wrk responses 2xx, no socket errors, servers stayed up"
