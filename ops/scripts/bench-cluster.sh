#!/usr/bin/env bash
# Usage: bench-cluster.sh PATH_TO_SMSHOOK [ROUNDS]
# Ingest on a 3-primary Redis Cluster (3 replicas, 64 shards) next to a single redis-server, in the same run:
# one release `smshook serve` on each, wrk -t2 -c50 single-message and batch-of-100 ingest, alternating, ROUNDS times
# (default 3). Reports requests/s, messages/s, p99, serve CPU and Redis CPU per message (the primaries' and the
# replicas' apart), and how evenly the keys spread over the primaries. Writes ops/bench/redis-cluster.md, which
# `make bench` includes in BENCHMARKS.md. Stops all it started.
set -euo pipefail
bin=${1:?usage: bench-cluster.sh PATH_TO_SMSHOOK [ROUNDS]}
rounds=${2:-3}
duration=${DURATION:-5}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dir=$(mktemp -d -t smshook-bench-cluster.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$dir"' EXIT

start_redis() { # NAME PORT ARGS... -> pid in $started
    mkdir -p "$dir/$1"
    redis-server --port "$2" --bind 127.0.0.1 --dir "$dir/$1" --save "" --appendonly no --daemonize no \
        --logfile "$dir/$1/redis.log" --enable-debug-command local "${@:3}" &
    started=$!
    pids+=($started)
    for _ in $(seq 200); do redis-cli -p "$2" ping >/dev/null 2>&1 && return; sleep 0.05; done
    echo "redis-server $1 did not start" >&2; exit 1
}
single_port=$("$here/free-port.sh")
start_redis single "$single_port"
single_pid=$started
ports=(); node_pids=()
for i in 0 1 2 3 4 5; do
    p=$("$here/free-port.sh"); bus=$("$here/free-port.sh")
    start_redis "node$i" "$p" --cluster-enabled yes --cluster-config-file nodes.conf --cluster-port "$bus" \
        --cluster-node-timeout 2000 --cluster-require-full-coverage no --repl-diskless-sync-delay 0
    ports+=("$p"); node_pids+=("$started")
done
redis-cli --cluster create $(for p in "${ports[@]}"; do echo "127.0.0.1:$p"; done) --cluster-replicas 1 --cluster-yes >"$dir/create.log"
for _ in $(seq 300); do
    ok=1
    for p in "${ports[@]}"; do redis-cli -p "$p" cluster info | grep -q cluster_state:ok || ok=0; done
    [ $ok = 1 ] && break; sleep 0.1
done
seeds=$(for p in "${ports[@]}"; do printf '127.0.0.1:%s,' "$p"; done); seeds=${seeds%,}
primaries=(); replicas=()
for i in "${!ports[@]}"; do
    if redis-cli -p "${ports[$i]}" role | head -1 | grep -q master; then primaries+=("${node_pids[$i]}:${ports[$i]}"); else replicas+=("${node_pids[$i]}"); fi
done

# Redis at steady state, as in `make bench` (presize-redis.sh). The runs write about 0.75M keys per round (3 rounds:
# 2.25M): the single server gets 4.5M keys first (tables of 2^23 slots, room for 3.9M more), each primary 2.2M
# (2^22 slots, room for 2M; it gets a third of the runs' keys). The spread below counts only the runs' keys.
echo "pre-sizing the Redis keyspaces"
"$here/presize-redis.sh" 4500000 "$single_port"
single_presized=$(redis-cli -p "$single_port" dbsize)
"$here/presize-redis.sh" 6600000 "${ports[@]}"
declare -A presized
for x in "${primaries[@]}"; do presized[${x#*:}]=$(redis-cli -p "${x#*:}" dbsize); done

start_serve() { # NAME REDIS_ENV... -> port in $serve_port, pid in $serve_pid
    local name=$1; shift
    serve_port=$("$here/free-port.sh"); local admin; admin=$("$here/free-port.sh")
    env "$@" SMSHOOK_PORT="$serve_port" SMSHOOK_ADMIN_PORT="$admin" SMSHOOK_LEGACY_AUTH=token SMSHOOK_LEGACY_SECRETS=bench \
        SMSHOOK_CONFIG="$root/config/smshook.yaml" LOG_LEVEL=error "$bin" serve >"$dir/serve-$name.log" 2>&1 &
    serve_pid=$!
    pids+=($serve_pid)
    for _ in $(seq 200); do curl -sf "localhost:$admin/readyz" >/dev/null && return; sleep 0.05; done
    echo "serve $name did not become ready" >&2; cat "$dir/serve-$name.log" >&2; exit 1
}
start_serve single REDIS_URL="redis://127.0.0.1:$single_port"
single_serve=$serve_pid; single_url="http://127.0.0.1:$serve_port"
start_serve cluster REDIS_CLUSTER_NODES="$seeds"
cluster_serve=$serve_pid; cluster_url="http://127.0.0.1:$serve_port"

ticks() { local t=0; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo $t; }
hz=$(getconf CLK_TCK)
primary_pids=$(for x in "${primaries[@]}"; do echo "${x%%:*}"; done)
# run NAME URL SERVE_PID REDIS_PIDS REPLICA_PIDS PER MODE BATCH: appends a row to results
run() {
    local name=$1 url=$2 spid=$3 rpids=$4 reps=$5 per=$6
    local s0 r0 x0 out s1 r1 x1
    s0=$(ticks "$spid"); r0=$(ticks $rpids); x0=$(ticks $reps)
    out=$(RUN="$name-$RANDOM$RANDOM" MODE=$7 BATCH=$8 wrk -t2 -c50 -d"${duration}s" --latency -s "$root/ops/bench/ingest.lua" "$url" 2>&1)
    s1=$(ticks "$spid"); r1=$(ticks $rpids); x1=$(ticks $reps)
    local rps reqs p99 non
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    reqs=$(echo "$out" | awk '/requests in/ {print $1}')
    p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
    non=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
    awk -v n="$name" -v rps="$rps" -v reqs="$reqs" -v per="$per" -v p99="$p99" -v s=$((s1 - s0)) -v r=$((r1 - r0)) \
        -v x=$((x1 - x0)) -v hz="$hz" -v non="${non:-0}" 'BEGIN {
        m = reqs * per
        printf "%s %.0f %.0f %s %.1f %.1f %.1f %s\n", n, rps, rps * per, p99, s / hz * 1e6 / m, r / hz * 1e6 / m, x / hz * 1e6 / m, non
    }' | tee -a "$dir/results"
}
echo "name req/s msg/s p99 serve_us/msg redis_primaries_us/msg replicas_us/msg non2xx"
for r in $(seq "$rounds"); do
    run single "$single_url" "$single_serve" "$single_pid" "" 1 single 1
    run cluster "$cluster_url" "$cluster_serve" "$primary_pids" "${replicas[*]}" 1 single 1
    run single-b100 "$single_url" "$single_serve" "$single_pid" "" 100 batch 100
    run cluster-b100 "$cluster_url" "$cluster_serve" "$primary_pids" "${replicas[*]}" 100 batch 100
done
med() { awk -v n="$1" -v c="$2" '$1 == n {print $c}' "$dir/results" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
pair() { paste <(awk -v n="$1" -v c="$3" '$1 == n {print $c}' "$dir/results") <(awk -v n="$2" -v c="$3" '$1 == n {print $c}' "$dir/results") |
    awk '{print $1 / $2}' | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]}'; }

# spread: keys and shards per primary
spread=""; total=0
written() { echo $(( $(redis-cli -p "$1" dbsize) - ${presized[$1]} )); }  # the runs' keys on primary PORT
for x in "${primaries[@]}"; do total=$((total + $(written "${x#*:}"))); done
worst=0
nodes=$(redis-cli -p "${ports[0]}" cluster nodes)
owner_of() { echo "$nodes" | awk -v s="$1" '$3 ~ /master/ {for (i = 9; i <= NF; i++) {n = split($i, r, "-"); if (n == 1) r[2] = r[1]; if (s >= r[1] && s <= r[2]) print $2}}' | cut -d@ -f1; }
declare -A shards_on
for s in $(seq 0 63); do
    o=$(owner_of "$(redis-cli -p "${ports[0]}" cluster keyslot "{$s}")")
    shards_on[$o]=$(( ${shards_on[$o]:-0} + 1 ))
done
for x in "${primaries[@]}"; do
    p=${x#*:}; n=$(written "$p")
    dev=$(awk -v n="$n" -v t="$total" 'BEGIN {e = t / 3; d = (n - e) / e * 100; printf "%+.1f", d}')
    worst=$(awk -v w="$worst" -v d="$dev" 'BEGIN {d = d < 0 ? -d : d; print (d > w ? d : w)}')
    spread+="127.0.0.1:$p: $n keys ($dev% from even), ${shards_on[127.0.0.1:$p]:-0} shards; "
done
spread=${spread%; }

# memory of one dedup key (the long-lived cost of a message: SMSHOOK_DEDUP_TTL), sampled on the first primary
first_primary=${primaries[0]#*:}
set +o pipefail  # head ends the scan early
dedup_bytes=$(redis-cli -p "$first_primary" --scan --pattern 'smshook:*:dedup:*' 2>/dev/null | head -50 |
    while read -r k; do redis-cli -p "$first_primary" memory usage "$k"; done | awk '{s += $1; n++} END {printf "%.0f", n ? s / n : 0}')
set -o pipefail

# pickup: a reply job queued on an idle shard of an idle worker, until its sent marker appears (console provider)
echo "worker pickup on idle shards"
# (its own key prefix: the queues the ingest runs above filled are not its business)
REDIS_CLUSTER_NODES="$seeds" SMSHOOK_KEY_PREFIX=pickup SMSHOOK_PROVIDER=console LOG_LEVEL=error WORKER_ID=pickup "$bin" worker >"$dir/worker.log" 2>&1 &
pids+=($!)
sleep 2
pickups=()
for s in 3 17 29 41 58; do
    sleep 1.5  # long enough for every poll pause to have grown to its longest
    job="{\"id\":\"pickup-$s\",\"to\":\"+1555000$s\",\"body\":\"hi\",\"in_reply_to\":\"g-$s\",\"intent\":\"affirmative\",\"provider\":\"smsmobileapi\",\"created_at\":\"2025-01-20T10:00:00Z\",\"attempt\":0}"
    t0=$(date +%s%N)
    redis-cli -c -p "${ports[0]}" lpush "pickup:{$s}:replies" "$job" >/dev/null
    until [ "$(redis-cli -c -p "${ports[0]}" get "pickup:{$s}:sent:pickup-$s")" = 1 ]; do
        [ $(( ($(date +%s%N) - t0) / 1000000 )) -gt 10000 ] && break
        sleep 0.005
    done
    pickups+=($(( ($(date +%s%N) - t0) / 1000000 )))
done
pickup_max=$(printf '%s\n' "${pickups[@]}" | sort -n | tail -1)
echo "pickup ms: ${pickups[*]}"

# The fleet for a sustained rate, from this run's CPU per message (see the assumptions printed with it).
scaling() {
    awk -v s1="$(med cluster 5)" -v sb="$(med cluster-b100 5)" -v p1="$(med cluster 6)" -v pb="$(med cluster-b100 6)" \
        -v r1="$(med cluster 7)" -v dk="$dedup_bytes" 'function up(x) { return x == int(x) ? x : int(x) + 1 }
    function fleet(rate, s, p,   cores, serves, prim) {
        cores = rate * s / 1e6 / 0.6; serves = up(cores / 2); if (serves < 2) serves = 2
        prim = up(rate * p / 1e6 / 0.6); if (prim < 1) prim = 1
        return sprintf("%d serve (%.1f cores), %d primar%s", serves, cores, prim, prim == 1 ? "y" : "ies")
    }
    function shards(rate, p,   prim, n) { prim = up(rate * p / 1e6 / 0.6); n = 64; while (n < 8 * prim && n < 1024) n *= 2; return n }
    BEGIN {
        print "### Scaling model"
        print ""
        print "The fleet for a sustained rate, from the CPU per message measured above on the cluster (this run): serve " s1 " µs per"
        print "single-message call and " sb " µs per message in batches of 100; the primaries " p1 " µs and " pb " µs per message in all"
        print "(a primary is one core: Redis runs commands on one thread), their replicas " r1 " µs. Assumptions: every process at"
        print "60% of its cores at the sustained rate (headroom for bursts and failover), serve instances of 2 cores and at least two,"
        print "one replica per primary (another core each), latency between hosts not counted (it costs connections, not CPU:"
        print "REDIS_CONNECTIONS), and the CPU of this 2-core machine, where everything shared the cores (so per-message costs"
        print "are on the high side). Workers are sized by the replies actually sent and the rate limits of the providers, not here."
        print ""
        print "| messages/s | single-message calls | batches of 100 | SMSHOOK_SHARDS (8 per primary, 64 to 1024) |"
        print "|---|---|---|---|"
        n = split("10000 100000 1000000", rates, " ")
        for (i = 1; i <= n; i++) {
            r = rates[i]
            printf "| %s | %s | %s | %d |\n", r, fleet(r, s1, p1), fleet(r, sb, pb), shards(r, p1)
        }
        print ""
        printf "Memory: a dedup key takes about %d bytes (MEMORY USAGE, sampled); it lives SMSHOOK_DEDUP_TTL. At a sustained rate R the\n", dk
        printf "dedup keys alone take R x TTL x %d bytes: with the 7-day default, 10,000 messages/s is %.1f TB, so at such rates\n", dk, 1e4 * 604800 * dk / 1e12
        printf "set the TTL to the retry horizon of the providers (1 hour: %.0f GB at 10,000/s, %.0f GB at 100,000/s, %.0f GB at 1M/s, spread\n", 1e4 * 3600 * dk / 1e9, 1e5 * 3600 * dk / 1e9, 1e6 * 3600 * dk / 1e9
        print "over the primaries); the audit and rejected streams are capped (SMSHOOK_AUDIT_MAXLEN in all) and queues hold only"
        printf "what is waiting. Below about %d single-message calls/s one primary (standalone or Sentinel) is enough; the\n", int(0.6e6 / p1 / 1000) * 1000
        print "cluster is for more, or for memory."
    }'
}

summary=$(cat <<TXT
## Redis Cluster next to a single Redis (\`ops/scripts/bench-cluster.sh\`)

Same run, same machine: one \`smshook serve\` on a single redis-server, one on a Redis Cluster of 3 primaries + 3
replicas (64 shards), all on loopback and sharing the 2 cores with wrk (\`-t2 -c50 -d${duration}s\`); medians of $rounds
alternating rounds. Redis CPU per message is the utime+stime of the Redis processes over the run divided by the
messages: the three primaries together, and the replicas (which the single Redis does not have) apart. Both start at
steady state: pre-sized with keys that carry a TTL (the single Redis $(printf "%'d" "${single_presized}"), the cluster about
$(printf "%'d" "${presized[${primaries[0]#*:}]}") per primary), so no hash table doubles during the runs.

| figure | single Redis | Redis Cluster (3 primaries) | cluster / single |
|---|---|---|---|
| single-message ingest, req/s | $(med single 2) | $(med cluster 2) | $(pair cluster single 2) |
| single-message ingest, p99 | $(med single 4) | $(med cluster 4) | |
| serve CPU per message | $(med single 5) µs | $(med cluster 5) µs | $(pair cluster single 5) |
| Redis CPU per message (primaries) | $(med single 6) µs | $(med cluster 6) µs in all (about $(awk -v c="$(med cluster 6)" 'BEGIN {printf "%.1f", c / 3}') µs on each primary) | $(pair cluster single 6) |
| replicas' CPU per message | - | $(med cluster 7) µs | |
| batch of 100, messages/s | $(med single-b100 3) | $(med cluster-b100 3) | $(pair cluster-b100 single-b100 3) |
| batch of 100, Redis CPU per message (primaries) | $(med single-b100 6) µs | $(med cluster-b100 6) µs | |
| batch of 100, p99 | $(med single-b100 4) | $(med cluster-b100 4) | |

Keys the runs wrote, per primary: $spread. Largest deviation from an even spread: **${worst}%** (limit ±15%).

A reply job queued on an otherwise idle shard (a worker with 16 fetch loops polling 4 shards each, idle for 1.5 s so
its poll pauses had grown to their longest, \`WORKER_POLL_MAX_MS\`=200) was sent after: ${pickups[*]} ms (5 shards,
queue to sent marker, measured with redis-cli polling every 5 ms): **at most ${pickup_max} ms** (limit 1 s).

$(scaling)

All rounds (name, req/s, msg/s, p99, serve µs/msg, primaries µs/msg, replicas µs/msg, non-2xx):

\`\`\`
$(cat "$dir/results")
\`\`\`
TXT
)
echo
echo "$summary"
mkdir -p "$root/ops/bench"
echo "$summary" >"$root/ops/bench/redis-cluster.md"
awk -v w="$worst" 'BEGIN {exit !(w <= 15)}' || { echo "bench-cluster: key spread ${worst}% is outside ±15%" >&2; exit 1; }
[ "$pickup_max" -le 1000 ] || { echo "bench-cluster: pickup ${pickup_max} ms is over 1 s" >&2; exit 1; }
