#!/usr/bin/env bash
# `make bench`: one run of record. Starts its own redis-server and `smshook serve` (release) on free loopback
# ports, runs wrk (-t2 -c50) against a bare route and the ingest path, ROUNDS times (default 3) alternating, the
# worker drain and redis-benchmark, prints every figure and writes BENCHMARKS.md. Stops all it started.
set -euo pipefail
bin=${1:?usage: bench.sh PATH_TO_SMSHOOK [PATH_TO_SMSHOOK_BENCH]}
bench_bin=${2:-}
rounds=${ROUNDS:-3}
duration=${DURATION:-5}
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/ops/scripts"
dir=$(mktemp -d -t smshook-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$dir"; }
trap cleanup EXIT

rport=$("$here/free-port.sh")
redis-server --port "$rport" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no --logfile "$dir/redis.log" \
    --enable-debug-command local &
redis=$!
pids+=($redis)
for _ in $(seq 200); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.05; done
# Redis at steady state (`presize-redis.sh` says why): 2^24+ keys with a TTL (tables of 2^25 slots, room for 16M more
# keys; the runs write about 8.3M, and with tables of 2^24 the worker drains' sent markers once tipped them into a
# doubling). `tables` prints both tables' sizes.
tables() { redis-cli -p "$rport" debug htstats 0 | tr -d '\r' | awk '/table size/ {printf "%s%s", sep, $3; sep = "/"}'; }
echo "pre-sizing the Redis keyspace"
"$here/presize-redis.sh" 17000000 "$rport"
presized_keys=$(redis-cli -p "$rport" dbsize)
presized_tables=$(tables)
echo "  $presized_keys keys, tables (main/expires) of $presized_tables slots"
sport=$("$here/free-port.sh"); aport=$("$here/free-port.sh")
console_token=bench-console-token-0123456789
console_hash=$(echo -n "bench console password" | "$bin" console hash-password)
REDIS_URL="redis://127.0.0.1:$rport" SMSHOOK_PORT=$sport SMSHOOK_ADMIN_PORT=$aport SMSHOOK_LEGACY_AUTH=token SMSHOOK_LEGACY_SECRETS=bench \
    SMSHOOK_CONFIG="$root/config/smshook.yaml" SMSHOOK_BENCH_ROUTES=1 SMSHOOK_CONSOLE_TOKENS="bench=$console_token" LOG_LEVEL=error \
    SMSHOOK_CONSOLE_USERS="bench:$console_hash" "$bin" serve >"$dir/serve.log" 2>&1 &
server=$!
pids+=($server)
for _ in $(seq 200); do curl -sf "localhost:$aport/readyz" >/dev/null && break; sleep 0.05; done
url="http://127.0.0.1:$sport"
# the same serve with an outage spool directory configured (used only when Redis fails: it should cost nothing here)
spport=$("$here/free-port.sh"); spaport=$("$here/free-port.sh")
REDIS_URL="redis://127.0.0.1:$rport" SMSHOOK_PORT=$spport SMSHOOK_ADMIN_PORT=$spaport SMSHOOK_LEGACY_AUTH=token SMSHOOK_LEGACY_SECRETS=bench \
    SMSHOOK_CONFIG="$root/config/smshook.yaml" SMSHOOK_SPOOL_DIR="$dir/spool" LOG_LEVEL=error "$bin" serve >"$dir/serve-spool.log" 2>&1 &
spool_server=$!
pids+=($spool_server)
for _ in $(seq 200); do curl -sf "localhost:$spaport/readyz" >/dev/null && break; sleep 0.05; done
# the same serve with one event endpoint configured: each message also queues its message.received event
evconfig="$dir/events.yaml"
{ cat "$root/config/smshook.yaml"; printf '\nevents:\n  endpoints:\n    - {name: app, url: "http://127.0.0.1:9/events", secrets: [BENCH_EVENTS_SECRET]}\n'; } >"$evconfig"
evport=$("$here/free-port.sh"); evaport=$("$here/free-port.sh")
REDIS_URL="redis://127.0.0.1:$rport" SMSHOOK_PORT=$evport SMSHOOK_ADMIN_PORT=$evaport SMSHOOK_LEGACY_AUTH=token SMSHOOK_LEGACY_SECRETS=bench \
    SMSHOOK_CONFIG="$evconfig" SMSHOOK_KEY_PREFIX=benchev LOG_LEVEL=error "$bin" serve >"$dir/serve-events.log" 2>&1 &
events_server=$!
pids+=($events_server)
for _ in $(seq 200); do curl -sf "localhost:$evaport/readyz" >/dev/null && break; sleep 0.05; done
# the same serve with merged ingest calls (REDIS_INGEST_CALLS=2): requests arriving while 2 calls are in flight share
# the next one
mgport=$("$here/free-port.sh"); mgaport=$("$here/free-port.sh")
REDIS_URL="redis://127.0.0.1:$rport" SMSHOOK_PORT=$mgport SMSHOOK_ADMIN_PORT=$mgaport SMSHOOK_LEGACY_AUTH=token SMSHOOK_LEGACY_SECRETS=bench \
    SMSHOOK_CONFIG="$root/config/smshook.yaml" REDIS_INGEST_CALLS=2 LOG_LEVEL=error "$bin" serve >"$dir/serve-merged.log" 2>&1 &
merged_server=$!
pids+=($merged_server)
for _ in $(seq 200); do curl -sf "localhost:$mgaport/readyz" >/dev/null && break; sleep 0.05; done
main_server=$server
main_url=$url
# with_spool CMD...: runs CMD against the serve that has a spool directory
with_spool() { server=$spool_server url="http://127.0.0.1:$spport" "$@"; server=$main_server; url=$main_url; }
with_merging() { server=$merged_server url="http://127.0.0.1:$mgport" "$@"; server=$main_server; url=$main_url; }
# with_console CMD...: runs CMD while an operator's browser reloads the console dashboard every second (its default
# is every 10 s): the dashboard's reads (every shard's queues, the minute series, workers) next to the ingest
with_console() {
    local jar="$dir/console.cookies" page csrf
    page=$(curl -s -c "$jar" "http://127.0.0.1:$aport/console/login")
    csrf=$(echo "$page" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -1)
    curl -s -b "$jar" -c "$jar" -o /dev/null -d "csrf=$csrf&token=$console_token" "http://127.0.0.1:$aport/console/login"
    touch "$dir/console.on"
    (for _ in $(seq 600); do [ -e "$dir/console.on" ] || break; curl -s -b "$jar" -o /dev/null "http://127.0.0.1:$aport/console"; sleep 1; done) &
    local refresher=$!
    "$@"
    rm -f "$dir/console.on"
    wait "$refresher" 2>/dev/null || true
    echo "$(curl -s -b "$jar" "http://127.0.0.1:$aport/console" | grep -c 'stat-queued')" >"$dir/console.check"
}
# with_logins CMD...: runs CMD while 4 clients keep posting wrong passwords to the console's login (each costs an
# scrypt hash, about 0.1 s of CPU and 32 MiB, then a second's pause before the refusal)
with_logins() {
    touch "$dir/logins.on"
    : >"$dir/logins.codes"
    local loops=() l
    for l in 1 2 3 4; do
        (for i in $(seq 600); do [ -e "$dir/logins.on" ] || break
            curl -s -o /dev/null -w '%{http_code}\n' -b "smshook_console_login=csrf$l" \
                -d "csrf=csrf$l&username=bench&password=wrong$i" "http://127.0.0.1:$aport/console/login" >>"$dir/logins.codes"
        done) &
        loops+=($!)
    done
    sleep 0.5
    "$@"
    rm -f "$dir/logins.on"
    for l in "${loops[@]}"; do wait "$l" 2>/dev/null || true; done
    grep -c '^401$' "$dir/logins.codes" >>"$dir/logins.refused" || true
}
# with_events CMD...: runs CMD against the serve with one event endpoint, then drops the events it queued
with_events() {
    server=$events_server url="http://127.0.0.1:$evport" "$@"; server=$main_server; url=$main_url
    redis-cli -p "$rport" DEL benchev:events:app >/dev/null
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/${1:-$server}/stat"; }
script_calls() { redis-cli -p "$rport" INFO commandstats | awk -F'[=,]' '/^cmdstat_evalsha:/ {n = $2} END {print n + 0}'; }
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; printf "%.2f", v}'; }
# run NAME MESSAGES_PER_REQUEST [wrk args...]: appends "name rps msgs/s p50 p99 cpu_us_per_req" to results
run() {
    local name=$1 per=$2; shift 2
    local before after out rps reqs
    echo 5 >"/proc/$server/clear_refs" 2>/dev/null || true  # restart the peak RSS count for this load
    before=$(cpu_ticks)
    local redis_before calls_before
    redis_before=$(cpu_ticks "$redis")
    calls_before=$(script_calls)
    local path=${PATH_SUFFIX:-}
    out=$(wrk -t2 -c50 -d"${duration}s" --latency "$@" "$url$path" 2>&1)
    after=$(cpu_ticks)
    local redis_after calls_after
    redis_after=$(cpu_ticks "$redis")
    calls_after=$(script_calls)
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    reqs=$(echo "$out" | awk '/requests in/ {print $1}')
    local p50 p99
    p50=$(echo "$out" | awk '$1 == "50%" {print $2}' | to_ms)
    p99=$(echo "$out" | awk '$1 == "99%" {print $2}' | to_ms)
    local cpu
    cpu=$(awk -v t=$((after - before)) -v n="$reqs" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}')
    local non2xx
    non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
    local rss redis_cpu
    rss=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$server/status")
    redis_cpu=$(awk -v t=$((redis_after - redis_before)) -v n="$reqs" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}')
    local per_call  # requests per ingest script call (merged calls carry several)
    per_call=$(awk -v c=$((calls_after - calls_before)) -v n="$reqs" 'BEGIN {printf "%.1f", (c > 0 ? n / c : 0)}')
    echo "$name $rps $(awk -v r="$rps" -v p="$per" 'BEGIN {printf "%.0f", r * p}') $p50 $p99 $cpu ${non2xx:-0} $rss $redis_cpu $per_call" >>"$dir/results"
    printf '  %-12s %9s req/s %9s msg/s  p50 %6s ms  p99 %6s ms  cpu %7s us/req (redis %s)  non-2xx %s  peak RSS %s MB\n' \
        "$name" "$rps" "$(awk -v r="$rps" -v p="$per" 'BEGIN {printf "%.0f", r * p}')" "$p50" "$p99" "$cpu" "$redis_cpu" "${non2xx:-0}" "$rss"
}

lua="$root/ops/bench/ingest.lua"
# Single messages first (so their peak RSS is not the batches' memory kept by the allocator), then batches.
for r in $(seq "$rounds"); do
    echo "round $r"
    PATH_SUFFIX=/healthz run bare 0
    RUN="r$r-p" MODE=single TARGET=/bench/discard run barepost 0 -s "$lua"
    RUN="r$r-q" MODE=single TARGET=/bench/ping run barepostping 0 -s "$lua"
    run refused 0 -s "$root/ops/bench/refused.lua"
    RUN="r$r-s" MODE=single run single 1 -s "$lua"
    RUN="r$r-m" MODE=single with_merging run merged 1 -s "$lua"
    RUN="r$r-sp" MODE=single with_spool run spool 1 -s "$lua"
    RUN="r$r-ev" MODE=single with_events run events1 1 -s "$lua"
    RUN="r$r-c" MODE=single with_console run console 1 -s "$lua"
    RUN="r$r-l" MODE=single with_logins run logins 1 -s "$lua"
    RUN="r$r-d" MODE=dup run dup30 1 -s "$lua"
done
for r in $(seq "$rounds"); do
    echo "round $r, batches"
    RUN="r$r-b10" MODE=batch BATCH=10 run batch10 10 -s "$lua"
    [ "$r" = "$rounds" ] && redis-cli -p "$rport" config resetstat >/dev/null  # the last round's commands, below
    RUN="r$r-b100" MODE=batch BATCH=100 run batch100 100 -s "$lua"
    [ "$r" = "$rounds" ] && redis-cli -p "$rport" info commandstats | tr -d '\r' >"$dir/commandstats"
    RUN="r$r-bl" MODE=batch BATCH=100 NUMBERS=few run batch100loop 100 -s "$lua"
done
final_keys=$(redis-cli -p "$rport" dbsize)
final_tables=$(tables)
# Redis per message by command in the last batch100 run: one EVALSHA per request of 100 (the rest run inside it)
by_command=$(awk -F'[:,=]' '
    /^cmdstat_/ { name[++n] = substr($1, 9); calls[n] = $3; usec[n] = $5; if ($1 == "cmdstat_evalsha") msgs = $3 * 100 }
    END { for (i = 1; i <= n; i++) if (msgs > 0 && calls[i] / msgs >= 0.005)
        printf "%-10s %5.2f calls %6.2f us\n", name[i], calls[i] / msgs, usec[i] / msgs }' "$dir/commandstats" |
    sort -k1,1 | awk '$1 == "evalsha" {print; next} {rest = rest $0 "\n"} END {printf "%s", rest}')
# every load but the bare routes, and the logins, whose scrypt takes 32 MiB per hash by design (reported apart)
rss_all=$(awk '$1 != "bare" && $1 != "barepost" && $1 != "barepostping" && $1 != "logins" {print $8}' "$dir/results" | sort -n | tail -1)
med() { awk -v n="$1" -v c="$2" '$1 == n {print $c}' "$dir/results" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { # median over rounds of (single / bare) computed within each round
    paste <(awk '$1 == "single" {print $2}' "$dir/results") <(awk '$1 == "bare" {print $2}' "$dir/results") |
        awk '{print $1 / $2}' | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]}'
}
pair() { # median over rounds of (column $3 of $1 / column $3 of $2) within each round
    paste <(awk -v n="$1" -v c="$3" '$1 == n {print $c}' "$dir/results") <(awk -v n="$2" -v c="$3" '$1 == n {print $c}' "$dir/results") |
        awk '{print $1 / $2}' | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]}'
}
cpuratio() { # median over rounds of (${1:-single} CPU per request / bare CPU per request) within each round
    paste <(awk -v n="${1:-single}" '$1 == n {print $6}' "$dir/results") <(awk '$1 == "bare" {print $6}' "$dir/results") |
        awk '{print $1 / $2}' | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]}'
}
echo "worker drain"
# drain NAME ARGS...: the median jobs/s of 3 runs of bench-worker.sh ARGS (environment passed through); the median
# run's CPU per job ("worker X us, Redis Y us") goes to $dir/cpu-NAME
drain() {
    local name=$1 line
    shift
    for _ in 1 2 3; do "$here/bench-worker.sh" "$@" | tee -a /dev/stderr; done >"$dir/runs-$name"
    line=$(awk '{print $(NF-1), NR}' "$dir/runs-$name" | sort -n | sed -n 2p | awk '{print $2}')
    line=$(sed -n "${line}p" "$dir/runs-$name")
    echo "$line" | sed 's/.*CPU per job: \(worker [0-9.]* us, Redis [0-9.]* us\).*/\1/' >"$dir/cpu-$name"
    echo "$line" | awk '{print $(NF-1)}'
}
drain_console=$(drain console "$bin" 100000 console "$rport")
drain_console_single=$(WORKER_FETCH_BATCH=1 drain console1 "$bin" 100000 console "$rport")
drain_console32=$(WORKER_CONCURRENCY=32 drain console32 "$bin" 100000 console "$rport")
drain_http=$(drain http "$bin" 40000 http "$rport")
drain_http_single=$(WORKER_FETCH_BATCH=1 drain http1 "$bin" 40000 http "$rport")
drain_channels=$(CHANNELS=2 drain channels "$bin" 100000 console "$rport")
cpu() { sed 's/us/µs/g' "$dir/cpu-$1"; }
drain_events=$(EVENTS=1 "$here/bench-worker.sh" "$bin" 50000 http "$rport" | tee -a /dev/stderr | awk '{print $(NF-1)}')
rb=$(redis-benchmark -p "$rport" -c 50 -n 200000 -t set,lpush -q | tr '\r' '\n' | grep -E '^(SET|LPUSH): [0-9.]+ requests per second' | awk '{print $1 " " int($2)}')
set_rate=$(echo "$rb" | awk '$1 == "SET:" {print $2}')
lpush_rate=$(echo "$rb" | awk '$1 == "LPUSH:" {print $2}')

echo "Redis Cluster next to a single Redis"
"$here/bench-cluster.sh" "$bin" "$rounds" >"$dir/cluster.out" 2>&1 || { cat "$dir/cluster.out" >&2; exit 1; }
grep -A14 '^| figure' "$dir/cluster.out" >&2 || true

echo "heap allocations per request"
allocs=$("$here/bench-allocs.sh" "$bin" | tee -a /dev/stderr)
echo "Redis instructions per single-message request (Redis under callgrind)"
redis_single=$("$here/bench-redis-single.sh" "$bin" | tee -a /dev/stderr | awk '$1 == "redis-single" {print $2}')
echo "the same from 50 connections at once: one call per request (the default), then merged calls"
redis_unmerged=$(CONCURRENCY=50 "$here/bench-redis-single.sh" "$bin" | tee -a /dev/stderr | sed -n 's/^redis-single //p')
redis_merged=$(CONCURRENCY=50 REDIS_INGEST_CALLS=2 "$here/bench-redis-single.sh" "$bin" | tee -a /dev/stderr |
    sed -n 's/^redis-single //p')
alloc() { echo "$allocs" | awk -v r="$1" -v c="$2" '$1 == r {print $c}'; }

pipeline=""
pipeline_instructions=""
floor=""
floor_instructions=""
if [ -n "$bench_bin" ]; then  # CPU per step of the pure ingest path, one message, in-process (no I/O)
    echo "ingest steps (smshook-bench pipeline)"
    pipeline=$("$bench_bin" pipeline "$root/config/smshook.yaml" 30000 | tee -a /dev/stderr)
    # the batch path again in instructions (callgrind), which do not vary from run to run: the difference of two runs
    # (3,000 and 6,000 loops of 5 rounds), so that start-up and first-use costs cancel. valgrind cannot read the
    # binary's DWARF 5, so it runs a copy without debug information.
    strip --strip-debug -o "$dir/smshook-bench" "$bench_bin"
    pipeline_ir() {
        valgrind --tool=callgrind --callgrind-out-file=/dev/null "$dir/smshook-bench" pipeline "$root/config/smshook.yaml" "$1" batch100/msg \
            2>&1 >/dev/null | awk '/refs:/ {gsub(",", "", $NF); print $NF}'
    }
    pipeline_instructions=$(awk -v a="$(pipeline_ir 3000)" -v b="$(pipeline_ir 6000)" 'BEGIN {printf "%.0f", (b - a) / 15000}')
    echo "  batch100/msg: $pipeline_instructions instructions per message"
    # Redis alone: the ingest script against the floor of its arguments and of its commands, on a Redis of its own
    # with nothing else on the cores, pre-sized like the first (3M keys: tables of 2^22 slots, room for the 360k
    # keys this writes)
    echo "Redis CPU per message of the ingest script, alone (smshook-bench floor)"
    fport=$("$here/free-port.sh")
    redis-server --port "$fport" --bind 127.0.0.1 --dir "$dir" --dbfilename floor.rdb --save "" --appendonly no \
        --logfile "$dir/redis-floor.log" --enable-debug-command local &
    floor_redis=$!
    pids+=($floor_redis)
    for _ in $(seq 200); do redis-cli -p "$fport" ping >/dev/null 2>&1 && break; sleep 0.05; done
    "$here/presize-redis.sh" 3000000 "$fport"
    floor=$("$bench_bin" floor "redis://127.0.0.1:$fport" "$root/config/smshook.yaml" 300 | tee -a /dev/stderr)
    kill "$floor_redis"; wait "$floor_redis" 2>/dev/null || true
    # the same in instructions, which do not vary from run to run: Redis under callgrind (about 50x slower, so
    # 400k keys: tables of 2^19 slots, room for the 40k this writes)
    echo "the same in instructions per message (Redis under callgrind)"
    fport=$("$here/free-port.sh")
    valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out" redis-server --port "$fport" --bind 127.0.0.1 \
        --dir "$dir" --dbfilename floor.rdb --save "" --appendonly no --logfile "$dir/redis-callgrind.log" \
        --enable-debug-command local 2>"$dir/valgrind.log" &
    floor_redis=$!
    pids+=($floor_redis)
    for _ in $(seq 300); do redis-cli -p "$fport" ping >/dev/null 2>&1 && break; sleep 0.1; done
    "$here/presize-redis.sh" 400000 "$fport"
    floor_instructions=$(FLOOR_CALLGRIND="$floor_redis:$dir/callgrind.out" "$bench_bin" floor "redis://127.0.0.1:$fport" \
        "$root/config/smshook.yaml" 100 | tee -a /dev/stderr)
    kill "$floor_redis"; wait "$floor_redis" 2>/dev/null || true
fi

summary=$(cat <<TXT
| figure | median of $rounds rounds |
|---|---|
| bare route (GET /healthz) | $(med bare 2) req/s, p50 $(med bare 4) ms, p99 $(med bare 5) ms, $(med bare 6) µs CPU/req |
| single-message ingest | $(med single 2) req/s, p50 $(med single 4) ms, p99 $(med single 5) ms, $(med single 6) µs CPU/req (Redis: $(med single 9) µs/req) |
| single-message ingest with merged calls (\`REDIS_INGEST_CALLS=2\`: requests arriving while 2 calls are in flight share the next one) | $(med merged 2) req/s, p99 $(med merged 5) ms, $(med merged 6) µs CPU/req, Redis $(med merged 9) µs/req, $(med merged 10) requests per script call: **$(pair merged single 2)× the requests/s, $(pair merged single 6)× the server CPU and $(pair merged single 9)× the Redis CPU per request** of the same ingest with one call per request (same round) |
| **ingest / bare** (requests/s, same round) | **$(ratio)** |
| **ingest CPU / bare CPU** per request | **$(cpuratio)** |
| bare POST route (\`POST /bench/discard\`: the same body read as the webhook reads it, dropped, an answer of the ingest's size) | $(med barepost 2) req/s, p99 $(med barepost 5) ms, $(med barepost 6) µs CPU/req |
| **ingest / bare POST** (requests/s) and **ingest CPU / bare POST CPU** | **$(pair single barepost 2)** and **$(pair single barepost 6)** |
| the bare POST route plus one Redis round trip (\`POST /bench/ping\`: \`PING\` on the shared connection, as the ingest's one call goes) | $(med barepostping 2) req/s, p99 $(med barepostping 5) ms, $(med barepostping 6) µs CPU/req: **$(pair barepostping barepost 6)×** the bare POST's CPU |
| single-message ingest, spool directory configured (Redis healthy) | $(med spool 2) req/s, p99 $(med spool 5) ms, $(med spool 6) µs CPU/req: **$(pair spool single 2)× the requests/s and $(pair spool single 6)× the CPU per request** of the same ingest without one (same round) |
| single-message ingest with one event endpoint configured (each message also queues its signed-event entry) | $(med events1 2) req/s, p99 $(med events1 5) ms, $(med events1 6) µs CPU/req, Redis $(med events1 9) µs/req: **$(pair events1 single 2)× the requests/s, $(pair events1 single 6)× the server CPU and $(pair events1 single 9)× the Redis CPU per message** of the same ingest without endpoints (same round) |
| single-message ingest while the operator console's dashboard reloads every second (logged in, on the admin listener) | $(med console 2) req/s, p99 $(med console 5) ms, $(med console 6) µs CPU/req: **$(pair console single 2)× the requests/s and $(pair console single 6)× the CPU per request** of the same ingest without it (same round; dashboard rendered: $(cat "$dir/console.check" 2>/dev/null || echo 0)) |
| single-message ingest while 4 clients keep trying wrong passwords at the console's login (each an scrypt hash, on NIO's blocking pool) | $(med logins 2) req/s, p99 **$(med logins 5) ms**, peak RSS $(med logins 8) MB (32 MiB per hash in progress): **$(pair logins single 2)× the requests/s** of the same ingest without them (same round; logins refused: $(awk '{s += $1} END {print s + 0}' "$dir/logins.refused" 2>/dev/null || echo 0)) |
| unsigned requests refused with 401 (wrong token) | $(med refused 2) req/s, p99 $(med refused 5) ms, $(med refused 6) µs CPU/req, **$(cpuratio refused)× the bare route's CPU** (limit 2) |
| batch of 10 | $(med batch10 2) req/s = $(med batch10 3) msg/s, p99 $(med batch10 5) ms |
| batch of 100 | $(med batch100 2) req/s = **$(med batch100 3) msg/s**, p99 $(med batch100 5) ms, CPU per message: server $(awk -v c="$(med batch100 6)" 'BEGIN {printf "%.1f", c / 100}') µs, Redis $(awk -v c="$(med batch100 9)" 'BEGIN {printf "%.1f", c / 100}') µs |
| batch of 100, every message from one of 100 numbers over their reply limit (the loop guard's path: the records rewritten in the script) | $(med batch100loop 2) req/s = $(med batch100loop 3) msg/s, p99 $(med batch100loop 5) ms, CPU per message: server $(awk -v c="$(med batch100loop 6)" 'BEGIN {printf "%.1f", c / 100}') µs, Redis $(awk -v c="$(med batch100loop 9)" 'BEGIN {printf "%.1f", c / 100}') µs |
| 30% duplicates | $(med dup30 2) req/s, p99 $(med dup30 5) ms |
| server peak RSS (VmHWM) under single-message ingest | **$(med single 8) MB** (the highest under any load: $rss_all MB, with batches of 100) |
| worker drain, console provider (100,000 jobs), WORKER_CONCURRENCY=16, WORKER_FETCH_BATCH=8 (defaults), median of 3 | **$drain_console jobs/s** (CPU per job: $(cpu console)) |
| the same, one job per fetch (WORKER_FETCH_BATCH=1: fetch, claim and finish a round trip each per job) | $drain_console_single jobs/s ($(cpu console1)) |
| the same with WORKER_CONCURRENCY=32 | **$drain_console32 jobs/s** ($(cpu console32)) |
| the same, jobs alternating between two declared channels | **$drain_channels jobs/s** ($(cpu channels)) |
| worker drain, http provider to a local sink (40,000 jobs), median of 3 | **$drain_http jobs/s** ($(cpu http); WORKER_FETCH_BATCH=1: $drain_http_single jobs/s) |
| event delivery to a local sink (50,000 message.received events, one endpoint, EVENTS_CONCURRENCY=16, signed) | **$drain_events events/s** |
| heap allocations per request (every allocation of serve, counted by its malloc, jemalloc: \`ops/scripts/bench-allocs.sh\`; the difference of two runs of 1,000 and 6,000 requests; bytes in size classes) | GET /healthz **$(alloc get 2)** ($(alloc get 3) bytes); single-message ingest **$(alloc ingest 2)** ($(alloc ingest 3) bytes); batch of 100 **$(awk -v a="$(alloc batch100 2)" 'BEGIN {printf "%.1f", a / 100}') per message** ($(alloc batch100 2) per request) |
| Redis instructions per single-message request (user space; Redis under callgrind, \`ops/scripts/bench-redis-single.sh\`: 300 then 600 requests, the difference; repeats within about 1%) | **$redis_single** |
| the same from 50 connections at once (\`CONCURRENCY=50\`) | one call per request (the default): $redis_unmerged; merged calls (\`REDIS_INGEST_CALLS=2\`): **$redis_merged** |
| redis-benchmark -c 50 SET / LPUSH | $set_rate / $lpush_rate req/s |
TXT
)
echo
echo "$summary"
case "$(ldd "$bin")" in  # not `ldd | grep -q`: grep's early exit can fail ldd with SIGPIPE under pipefail
    *libswiftCore*) build='release build (Swift runtime from shared libraries)' ;;
    *) build='the shipped build (release, Swift runtime linked in: `--static-swift-stdlib`, as `make install` and the image build it)' ;;
esac
cat >"$root/BENCHMARKS.md" <<MD
# Benchmarks

Run of record: $(date -u +%Y-%m-%d), \`make bench\` on $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo),
$(. /etc/os-release; echo "$PRETTY_NAME"), $(swift --version 2>&1 | head -1), $build.

Method: one redis-server and one \`smshook serve\` on loopback, wrk \`-t2 -c50 -d${duration}s\`, server, Redis and wrk
sharing the cores. Each round runs the bare route, single-message ingest and the duplicate mix back to back, then
rounds of batches follow; figures are medians over $rounds rounds, and ratios are taken within a round. Peak RSS is
counted afresh for each run (\`/proc/PID/clear_refs\`); server and Redis CPU per request come from /proc. Single-message ingest is the full path: token auth, JSON
decode, validation, classification, one EVALSHA (dedup + audit + loop guard + enqueue), response. CPU per request is
the server's utime+stime from /proc over the run divided by the requests. Unique guids per request (wrk Lua,
\`ops/bench/ingest.lua\`), each from its own number (subscribers answering a campaign); the duplicate mix re-sends
30% earlier guids. Redis at steady state: before the runs, its keyspace is pre-sized with $presized_keys keys that
carry a TTL (tables of $presized_tables slots, main/expires), so that no table doubles during the runs, as none does
in a service that has held a week of dedup keys; at the end it held $final_keys keys in tables of $final_tables
slots.

$summary

Redis per message in the last batch-of-100 run, by command (\`INFO commandstats\`: calls and µs per message;
\`evalsha\` is the whole script, the others run inside it):

\`\`\`
$by_command
\`\`\`

$( [ -n "$floor" ] && printf 'Redis CPU per message of the ingest script in batches of 100, on a Redis of its own with nothing else running
(`smshook-bench floor`: 300 calls of new messages per variant, 3 rounds alternating, medians; pre-sized with 3M keys).
The two other scripts get the very same KEYS and ARGV: one only reads them and answers (what the arguments cost),
one runs the same commands with no other Lua (what the commands cost, `redis.call` included). "arguments empty" is
the first of them given as many arguments, each empty: what their number costs; the rest of "arguments only" is
what their bytes cost, as the Lua of Redis 7 hashes every byte of every string it makes (ARGV included). The last
line is the size of KEYS and ARGV per message:

```
%s
```

The same in instructions Redis executes per message (user space; Redis under callgrind, one round of 100 calls,
pre-sized with 400k keys). These do not vary from run to run: the figure to compare two versions of the script by:

```
%s
```
' "$floor" "$floor_instructions")

$( [ -n "$pipeline" ] && printf 'CPU per step of the pure ingest path for one message, in-process, best of 5 runs of 30,000\n(`smshook-bench pipeline`; "call" is the whole EVALSHA command written with its JSON records; batch100/msg is a\nbatch of 100 decoded, decided, written as its command and answered, per message):\n\n```\n%s\n```\n\nThe batch path in instructions per message (callgrind; these do not vary from run to run): **%s**\n' "$pipeline" "$pipeline_instructions")

All rounds (name, req/s, msg/s, p50 ms, p99 ms, server CPU µs/req, non-2xx, peak RSS MB, Redis CPU µs/req):

\`\`\`
$(cat "$dir/results")
\`\`\`

$(cat "$root/ops/bench/where-the-time-goes.md" 2>/dev/null)

$(cat "$root/ops/bench/redis-client.md" 2>/dev/null)

$(cat "$root/ops/bench/redis-cluster.md" 2>/dev/null)

$(cat "$root/ops/bench/scaling-model.md" 2>/dev/null)
MD
echo "wrote BENCHMARKS.md"
