#!/usr/bin/env bash
# Usage: bench-worker.sh PATH_TO_SMSHOOK [JOBS] [PROVIDER] [REDIS_PORT]
# Queues JOBS reply jobs (default 100000) on a redis-server at REDIS_PORT (a fresh one when not given), runs one
# `smshook worker` with PROVIDER (console, output discarded; or http to a local keep-alive sink: nginx answering 204,
# about 80k requests/s on this machine, so the sink is not what is measured) and prints jobs/s.
# CHANNELS=2: the jobs alternate between two channels declared in a config file (console senders), to measure routing.
# EVENTS=1: queues JOBS message.received events for one endpoint (the sink) instead, and measures their delivery.
set -euo pipefail
bin=${1:?usage: bench-worker.sh PATH_TO_SMSHOOK [JOBS] [PROVIDER] [REDIS_PORT]}
jobs=${2:-100000}
provider=${3:-console}
here=$(cd "$(dirname "$0")" && pwd)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "${dir:-}" "${ngx:-}"; }
trap cleanup EXIT
port=${4:-}
if [ -z "$port" ]; then
    port=$("$here/free-port.sh")
    dir=$(mktemp -d -t smshook-bw.XXXXXX)
    redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no --logfile "$dir/redis.log" &
    pids+=($!)
    for _ in $(seq 200); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
fi
prefix="bench$RANDOM"
channels=${CHANNELS:-0}
redis-cli -p "$port" EVAL "local two = ARGV[2] == '2' for i = 1, tonumber(ARGV[1]) do local ch = '' if two then ch = ',\"channel\":{\"provider\":\"smsmobileapi\",\"name\":\"bench-' .. (i % 2 == 0 and 'a' or 'b') .. '\"}' end redis.call('LPUSH', KEYS[1], '{\"id\":\"job-' .. i .. '\",\"to\":\"+1555' .. i .. '\",\"body\":\"Thanks! We got your YES.\",\"in_reply_to\":\"g-' .. i .. '\",\"intent\":\"affirmative\",\"provider\":\"smsmobileapi\",\"created_at\":\"2025-01-20T10:00:00Z\",\"attempt\":0' .. ch .. '}') end return redis.call('LLEN', KEYS[1])" 1 "$prefix:replies" "$jobs" "$channels" >/dev/null
env=(REDIS_URL="redis://127.0.0.1:$port" SMSHOOK_KEY_PREFIX="$prefix" SMSHOOK_PROVIDER="$provider" LOG_LEVEL=error)
queue="$prefix:replies"
processing="$prefix:replies:processing:"  # + the worker's id (from the registry)
if [ "${EVENTS:-0}" = 1 ]; then  # the jobs above stay queued for nobody: the worker gets no provider work
    redis-cli -p "$port" DEL "$prefix:replies" >/dev/null
    redis-cli -p "$port" EVAL "for i = 1, tonumber(ARGV[1]) do redis.call('LPUSH', KEYS[1], 'evt_bench_' .. i .. ' 0 {\"type\":\"message.received\",\"timestamp\":\"2025-01-20T10:00:00Z\",\"data\":{\"decision\":\"queued\",\"guid\":\"g-' .. i .. '\",\"provider\":\"smsmobileapi\",\"number\":\"+1555' .. i .. '\",\"message\":\"Yes\",\"intent\":\"affirmative\",\"language\":\"en\"}}') end return 0" 1 "$prefix:events:app" "$jobs" >/dev/null
    queue="$prefix:events:app"
    processing="$prefix:events:app:processing:"
fi
if [ "$channels" = 2 ]; then
    config=$(mktemp -t smshook-bw-XXXXXX.yaml)
    { cat "$here/../../config/smshook.yaml"; printf '\nchannels:\n  - {name: bench-a, provider: console}\n  - {name: bench-b, provider: console}\n'; } >"$config"
    env+=(SMSHOOK_CONFIG="$config")
    provider="$provider, 2 channels"
fi
if [ "$provider" = http ]; then
    sink_port=$("$here/free-port.sh")
    if command -v nginx >/dev/null; then
        ngx=$(mktemp -d -t smshook-sink.XXXXXX)
        mkdir -p "$ngx/logs"
        cat >"$ngx/nginx.conf" <<NGX
daemon off;
worker_processes 1;
error_log $ngx/logs/error.log;
pid $ngx/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $ngx/body;
    server { listen 127.0.0.1:$sink_port; keepalive_requests 1000000; location / { return 204; } }
}
NGX
        nginx -p "$ngx" -c "$ngx/nginx.conf" &
        pids+=($!)
    else  # the Python sink tops out near 8k requests/s: it then bounds the figure
        python3 "$here/http-sink.py" "$sink_port" &
        pids+=($!)
    fi
    for _ in $(seq 100); do curl -s -o /dev/null -X POST "http://127.0.0.1:$sink_port/hook" && break; sleep 0.05; done
    env+=(HTTP_PROVIDER_URL="http://127.0.0.1:$sink_port/hook" HTTP_PROVIDER_SECRET=bench SMSHOOK_ALLOW_INSECURE_PROVIDER=1)
    if [ "${EVENTS:-0}" = 1 ]; then
        config=$(mktemp -t smshook-bw-XXXXXX.yaml)
        { cat "$here/../../config/smshook.yaml"
          printf '\nevents:\n  endpoints:\n    - {name: app, url: "http://127.0.0.1:%s/events", secrets: [BENCH_EVENTS_SECRET]}\n' "$sink_port"; } >"$config"
        env+=(SMSHOOK_CONFIG="$config" BENCH_EVENTS_SECRET="whsec_$(head -c 24 /dev/urandom | base64)" EVENTS_CONCURRENCY=16)
        provider="events to an http sink"
    fi
fi
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
redis_pid=$(redis-cli -p "$port" info server | tr -d '\r' | awk -F: '$1 == "process_id" {print $2}')
redis_before=$(ticks "$redis_pid")
start=$(date +%s.%N)
env "${env[@]}" "$bin" worker >/dev/null &
worker=$!
pids+=($worker)
# done when the queue and the registered workers' processing lists are empty (read by name: a KEYS or SCAN would
# walk the whole keyspace, which `make bench` pre-sizes to millions of keys, and stall Redis under the drain)
left="local n = redis.call('LLEN', KEYS[1]) for _, w in ipairs(redis.call('SMEMBERS', KEYS[2])) do n = n + redis.call('LLEN', ARGV[1] .. w) end return n"
for _ in $(seq 6000); do  # at most 10 min
    [ "$(redis-cli -p "$port" EVAL "$left" 2 "$queue" "$prefix:workers" "$processing")" = 0 ] && break
    sleep 0.1
done
end=$(date +%s.%N)
redis_after=$(ticks "$redis_pid")
worker_ticks=$(ticks "$worker")  # its whole life: start-up and the last poll are a few ms of it
kill -TERM "$worker"; wait "$worker" || true
# the sent markers counted and deleted by name, with the run's other keys (the minute stats expire on their own): the
# keyspace is left as it was found, without a KEYS or SCAN over the pre-sized millions
sent=$(redis-cli -p "$port" EVAL "local n = 0 for i = 1, tonumber(ARGV[2]) do n = n + redis.call('DEL', ARGV[1] .. i) end redis.call('DEL', unpack(KEYS)) return n" \
    4 "$prefix:shards" "$prefix:audit" "$prefix:workers" "$prefix:dead" "$prefix:sent:job-" "$jobs")
# the last two fields are what callers read: jobs/s
awk -v n="$jobs" -v s="$start" -v e="$end" -v p="$provider" -v sent="$sent" -v w="$worker_ticks" -v r=$((redis_after - redis_before)) \
    -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "worker drain (%s): %d jobs, %d sent-markers, CPU per job: worker %.1f us, Redis %.1f us, %.1f s, %d jobs/s\n",
        p, n, sent, w / hz * 1e6 / n, r / hz * 1e6 / n, e - s, n / (e - s)}'
if [ -n "${config:-}" ]; then rm -f "$config"; fi
