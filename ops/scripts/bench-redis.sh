#!/usr/bin/env bash
# Usage: bench-redis.sh PATH_TO_SMSHOOK_BENCH [ROUNDS]
# The Redis client against redis-benchmark on the same fresh redis-server, alternating, ROUNDS times (default 3):
#   plain     100 tasks / clients, one SET per call              (redis-benchmark -c 100 -t set)
#   pipelined 50 tasks / clients, 16 SETs per call                (redis-benchmark -c 50 -P 16 -t set)
#   TLS       the same pipelined load over TLS to a --tls-port server (certificates made here with openssl)
# Prints each round, the medians and their ratios, and writes them to ops/bench/redis-client.md (which
# `make bench` includes in BENCHMARKS.md).
set -euo pipefail
bench=${1:?usage: bench-redis.sh PATH_TO_SMSHOOK_BENCH [ROUNDS]}
rounds=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dir=$(mktemp -d -t smshook-bench.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$dir"' EXIT

# a CA and a server certificate for 127.0.0.1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=bench ca" \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$dir/server.ext"
openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -days 2 \
    -extfile "$dir/server.ext" -out "$dir/server.crt" 2>/dev/null

port=$("$here/free-port.sh")
tport=$("$here/free-port.sh")
redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no --daemonize no \
    --tls-port "$tport" --tls-cert-file "$dir/server.crt" --tls-key-file "$dir/server.key" \
    --tls-ca-cert-file "$dir/ca.crt" --tls-auth-clients no --logfile "$dir/redis.log" &
pids+=($!)
for _ in $(seq 200); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }
rb() { redis-benchmark "$@" -t set -q | tr '\r' '\n' | awk '/^SET:/ {print int($2)}' | tail -1; }
ours() { "$bench" redis "$@" | awk '/ops_per_sec/ {print $2}'; }
declare -A results
for r in $(seq "$rounds"); do
    a=$(rb -p "$port" -c 100 -n 200000); b=$(ours "redis://127.0.0.1:$port" 100 200000)
    c=$(rb -p "$port" -c 50 -P 16 -n 2000000); d=$(ours "redis://127.0.0.1:$port" 50 2000000 16)
    e=$(rb -p "$tport" --tls --cacert "$dir/ca.crt" -c 50 -P 16 -n 1000000)
    f=$(REDIS_TLS_CA_FILE="$dir/ca.crt" ours "rediss://127.0.0.1:$tport" 50 1000000 16)
    echo "round $r: plain $a / $b, -P 16 $c / $d, TLS -P 16 $e / $f  (redis-benchmark / RedisClient, SET/s)" | tee -a "$dir/rounds"
    results[rb_plain]+="$a "; results[us_plain]+="$b "; results[rb_p16]+="$c "; results[us_p16]+="$d "
    results[rb_tls]+="$e "; results[us_tls]+="$f "
done
m() { printf '%s\n' ${results[$1]} | median; }
ratio() { awk -v a="$(m "$1")" -v b="$(m "$2")" 'BEGIN {printf "%.2f", a / b}'; }
table=$(cat <<TXT
| load (SET, 3-byte values) | redis-benchmark | RedisClient | ratio |
|---|---|---|---|
| 100 clients / tasks, one command per call | $(m rb_plain)/s | $(m us_plain)/s | $(ratio us_plain rb_plain) |
| 50 clients / tasks, 16 per call (\`-P 16\`) | $(m rb_p16)/s | $(m us_p16)/s | **$(ratio us_p16 rb_p16)** (target ≥ 0.75) |
| the same over TLS (\`--tls -P 16\`) | $(m rb_tls)/s | $(m us_tls)/s | **$(ratio us_tls rb_tls)** (target ≥ 0.50) |
TXT
)
echo
echo "$table"
cat >"$root/ops/bench/redis-client.md" <<MD
## The Redis client against redis-benchmark

\`make bench-redis\` on $(date -u +%Y-%m-%d), $(nproc) cores: one redis-server (plain port and \`--tls-port\`),
redis-benchmark and \`smshook-bench redis\` alternating, medians of $rounds rounds; client and server share the cores.

$table

Each round (redis-benchmark / RedisClient, SET/s):

\`\`\`
$(cat "$dir/rounds")
\`\`\`
MD
echo "wrote ops/bench/redis-client.md"
