#!/usr/bin/env bash
# End-to-end: real smshook binaries under real supervisord behind real nginx, a fake SMSMobileAPI, the Redis at
# REDIS_URL (run under with-redis.sh). Usage: e2e.sh PATH_TO_SMSHOOK. Starts everything on loopback, stops it after.
set -uo pipefail
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/ops/scripts"
: "${REDIS_URL:?run under ops/scripts/with-redis.sh}"
command -v supervisord >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq supervisor >/dev/null; }
command -v nginx >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; }
dir=$(mktemp -d -t smshook-e2e.XXXXXX)
chmod 755 "$dir"
mkdir -p "$dir/logs" "$dir/nginx/logs" "$dir/nginx/tmp"
chmod 777 "$dir/nginx/tmp"
pids=()
failures=0
passes=0
check() { # check NAME CONDITION...
    local name=$1; shift
    if "$@"; then passes=$((passes + 1)); echo "  ok   $name"; else failures=$((failures + 1)); echo "  FAIL $name"; fi
}
cleanup() {
    [ -S "$dir/logs/supervisor.sock" ] && supervisorctl -c "$dir/supervisord.conf" shutdown >/dev/null 2>&1
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    if [ "$failures" -gt 0 ]; then echo "--- logs"; tail -n 20 "$dir"/logs/*.log "$dir"/nginx/logs/error.log 2>/dev/null; fi
    rm -rf "$dir"
}
trap cleanup EXIT

nport=$("$here/free-port.sh"); s1=$("$here/free-port.sh"); s2=$("$here/free-port.sh"); fport=$("$here/free-port.sh")
a1=$("$here/free-port.sh"); a2=$("$here/free-port.sh")
wbase=$((3000 + RANDOM % 3000))
prefix="e2e$RANDOM"
python3 "$here/fake-smsmobileapi.py" "$fport" e2e-key "$dir/sent.jsonl" &
pids+=($!)

# the shipped configs, with this run's ports
cp "$root/ops/supervisord.conf" "$dir/supervisord.conf"
sed -e "s/127.0.0.1:8080/127.0.0.1:$nport/; s/127.0.0.1:8081/127.0.0.1:$s1/; s/127.0.0.1:8082/127.0.0.1:$s2/" \
    "$root/ops/test/nginx.conf" >"$dir/nginx/nginx.conf"
check "nginx -t on the shipped config" nginx -t -q -p "$dir/nginx" -c "$dir/nginx/nginx.conf"
nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -g 'daemon off;' &
pids+=($!)

# serve and workers run as the shipped ACL user (ops/production/redis.conf): its command list must be complete
acl=$(grep '^user smshook ' "$root/ops/production/redis.conf" | sed -e 's/^user smshook //' -e 's/>CHANGE-ME-SMSHOOK/>e2e-acl-pw/' -e "s/~smshook:\*/~$prefix:*/")
read -ra aclargs <<<"$acl"
check "the shipped ACL user is accepted by redis-server" redis-cli -u "$REDIS_URL" ACL SETUSER smshook reset "${aclargs[@]}"
export REDIS_URL="redis://smshook:e2e-acl-pw@${REDIS_URL#redis://}"
export SMSHOOK_BIN="$bin" SMSHOOK_LOG_DIR="$dir/logs" SMSHOOK_SERVE_PORT_1=$s1 SMSHOOK_SERVE_PORT_2=$s2
export SMSHOOK_ADMIN_PORT_1=$a1 SMSHOOK_ADMIN_PORT_2=$a2 WORKER_METRICS_PORT_BASE=$wbase
export SMSHOOK_KEY_PREFIX=$prefix SMSHOOK_AUTH=none SMSHOOK_CONFIG="$root/config/smshook.yaml"
export SMSHOOK_PROVIDER=smsmobileapi SMSMOBILEAPI_BASE_URL="http://127.0.0.1:$fport" SMSMOBILEAPI_KEY=e2e-key SMSHOOK_ALLOW_INSECURE_PROVIDER=1
export WORKER_HEARTBEAT_TTL=2 WORKER_HEARTBEAT_INTERVAL=0.5 WORKER_REAP_INTERVAL=0.5 LOG_LEVEL=info
# a killed worker's claimed jobs wait this long (default 60 s) before another worker sends them
export WORKER_SEND_LEASE=3
supervisord -c "$dir/supervisord.conf" >"$dir/logs/supervisord.out" 2>&1 &
pids+=($!)
url="http://127.0.0.1:$nport/api/webhook/sms-received"
for _ in $(seq 300); do
    curl -sf "http://127.0.0.1:$a1/readyz" >/dev/null && curl -sf "http://127.0.0.1:$a2/readyz" >/dev/null && break
    sleep 0.1
done
post() { curl -s "$1" -H 'Content-Type: application/json' -d "$2"; }
field() { python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(d.get(sys.argv[1]))' "$1"; }

echo "README scenarios through nginx"
r=$(post "$url" '{"date":"2025-01-20","hour":"10:15:00","time_received":"2025-01-20 10:14:50","message":"Yes","number":"+15550400001","guid":"e2e-001"}')
check "single: processed 1" [ "$(echo "$r" | field message)" = "Processed 1 message, skipped 0 duplicates" ]
r=$(post "$url" '{"messages":[{"message":"Yes","number":"+15550400002","guid":"e2e-002"},{"message":"No","number":"+15550400003","guid":"e2e-003"}]}')
check "batch: processed 2" [ "$(echo "$r" | field message)" = "Processed 2 messages, skipped 0 duplicates" ]
post "$url" '{"date": "...", "message": "Test", "guid": "duplicate-test"}' >/dev/null
r=$(post "$url" '{"date": "...", "message": "Test", "guid": "duplicate-test"}')
check "duplicate: skipped 1" [ "$(echo "$r" | field message)" = "Processed 0 messages, skipped 1 duplicate" ]

echo "a retry that lands on each instance in turn is accepted once"
accepted=0
for target in "http://127.0.0.1:$s1" "http://127.0.0.1:$s2" "http://127.0.0.1:$nport" "http://127.0.0.1:$s2"; do
    r=$(post "$target/api/webhook/sms-received" '{"message":"yes","number":"+15550400004","guid":"e2e-retry"}')
    accepted=$((accepted + $(echo "$r" | field processed)))
done
check "accepted once over 4 deliveries to 3 entry points" [ "$accepted" = 1 ]

echo "a worker killed with SIGKILL is restarted and every reply is delivered"
old=$(supervisorctl -c "$dir/supervisord.conf" pid worker:worker-1)
for i in $(seq 10 29); do post "$url" "{\"message\":\"yes\",\"number\":\"+155504000$i\",\"guid\":\"e2e-k$i\"}" >/dev/null; done
kill -9 "$old"
for i in $(seq 30 49); do post "$url" "{\"message\":\"yes\",\"number\":\"+155504000$i\",\"guid\":\"e2e-k$i\"}" >/dev/null; done
for _ in $(seq 100); do
    new=$(supervisorctl -c "$dir/supervisord.conf" pid worker:worker-1)
    [ -n "$new" ] && [ "$new" != 0 ] && [ "$new" != "$old" ] && break
    sleep 0.1
done
check "supervisord restarted the worker ($old -> $new)" [ -n "$new" ] && [ "$new" != "$old" ] && [ "$new" != 0 ]
expected=44 # e2e-001, -002, -003, e2e-retry and 40 more; "Test" from no number gets no reply
for _ in $(seq 300); do
    got=$(python3 -c 'import json,sys; print(len({json.loads(l)["recipients"] for l in open(sys.argv[1])}))' "$dir/sent.jsonl" 2>/dev/null || echo 0)
    [ "$got" -ge "$expected" ] && break
    sleep 0.1
done
check "all $expected replies reached the fake provider (got $got)" [ "$got" -ge "$expected" ]
check "every request to the fake provider was well-formed $(cat "$dir/sent.jsonl.bad" 2>/dev/null | head -c 300)" [ ! -s "$dir/sent.jsonl.bad" ]
check "reply text is the template" grep -q '"message": "Thanks! We got your YES."' "$dir/sent.jsonl"
metrics=$(curl -s "http://127.0.0.1:$a1/metrics")
check "serve /metrics counts messages" grep -q 'smshook_messages_total{outcome="accepted"' <<<"$metrics"
wm=$(curl -s "http://127.0.0.1:$((wbase + 1))/metrics")
check "worker /metrics counts sent jobs" grep -q 'smshook_jobs_total{provider="smsmobileapi",channel="default",outcome="sent"}' <<<"$wm"
check "/metrics is not on the public port" [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$s1/metrics")" = 404 ]
check "nginx serves the webhook routes only" [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$nport/metrics")" = 404 ]
check "nginx logs no query string (?token=)" sh -c "curl -s -o /dev/null 'http://127.0.0.1:$nport/healthz?token=e2e-secret-token'; sleep 0.2; ! grep -q e2e-secret-token '$dir/nginx/logs/access.log' && grep -q 'GET /healthz ' '$dir/nginx/logs/access.log'"
echo "the provider guides' test command (ops/scripts/send-sample.sh) against a serve with every route signed"
g=$("$here/free-port.sh")
SMSHOOK_AUTH= SMSHOOK_LEGACY_SECRETS=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw SMSHOOK_SMSMOBILEAPI_SECRETS=v2-secret \
    SMSHOOK_TWILIO_AUTH_TOKENS=twilio-token SMSHOOK_ASG_SECRETS=asg-key SMSHOOK_PUBLIC_BASE_URL="http://127.0.0.1:$g" \
    SMSHOOK_API_TOKENS=e2e-api-token-0123456789 "$bin" serve --port "$g" --admin-port off >"$dir/logs/serve-signed.log" 2>&1 &
pids+=($!)
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$g/healthz" >/dev/null && break; sleep 0.05; done
check "send-sample.sh legacy (Standard Webhooks)" "$here/send-sample.sh" legacy "http://127.0.0.1:$g" whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
check "send-sample.sh smsmobileapi (V2)" "$here/send-sample.sh" smsmobileapi "http://127.0.0.1:$g" v2-secret
check "send-sample.sh twilio" "$here/send-sample.sh" twilio "http://127.0.0.1:$g" twilio-token
check "send-sample.sh android-sms-gateway" "$here/send-sample.sh" android-sms-gateway "http://127.0.0.1:$g" asg-key
check "send-sample.sh with a wrong secret is refused" sh -c "! '$here/send-sample.sh' smsmobileapi 'http://127.0.0.1:$g' wrong-secret"
echo "README 'Integrating your application': the send and read API, as the ACL user, the message sent by the workers"
api() { curl -s -H 'Authorization: Bearer e2e-api-token-0123456789' -H 'Content-Type: application/json' "$@"; }
r=$(api "http://127.0.0.1:$g/api/v1/messages" -H 'Idempotency-Key: e2e-1' -d '{"to":"+15550400099","body":"Can you take the 9am shift? Reply YES or NO","metadata":{"shift":"9am"}}')
id=$(echo "$r" | field id)
check "POST /api/v1/messages queues ($id)" [ "$(echo "$r" | field status)" = queued ]
check "an Idempotency-Key replay returns the first answer" [ "$(api "http://127.0.0.1:$g/api/v1/messages" -H 'Idempotency-Key: e2e-1' -d '{"to":"+15550400099","body":"Can you take the 9am shift? Reply YES or NO","metadata":{"shift":"9am"}}' | field id)" = "$id" ]
for _ in $(seq 100); do [ "$(api "http://127.0.0.1:$g/api/v1/messages/$id" | field status)" = sent ] && break; sleep 0.1; done
check "the worker sent it and GET /api/v1/messages/{id} says sent" [ "$(api "http://127.0.0.1:$g/api/v1/messages/$id" | field status)" = sent ]
check "GET /api/v1/numbers/{number}/messages lists it" sh -c "curl -s -H 'Authorization: Bearer e2e-api-token-0123456789' 'http://127.0.0.1:$g/api/v1/numbers/+15550400099/messages?limit=5' | grep -q '$id'"
check "no command was refused by the ACL (NOPERM) in any log" sh -c "! grep -l NOPERM '$dir'/logs/*.log"
echo "e2e: $passes passed, $failures failed"
[ "$failures" -eq 0 ]
