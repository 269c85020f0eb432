#!/usr/bin/env bash
# `make run`: starts a local redis-server (data and AOF in .data/) unless REDIS_URL is set, then `smshook serve`.
# Ctrl-C stops both.
set -uo pipefail
bin=${1:?usage: run.sh PATH_TO_SMSHOOK}
root=$(cd "$(dirname "$0")/../.." && pwd)
pid=""
if [ -z "${REDIS_URL:-}" ]; then
    port=${REDIS_PORT:-6379}
    if redis-cli -p "$port" ping >/dev/null 2>&1; then
        echo "run: using the redis-server already answering on 127.0.0.1:$port"
    else
        mkdir -p "$root/.data"
        redis-server "$root/ops/redis/redis-dev.conf" --port "$port" --dir "$root/.data" \
            --logfile "$root/.data/redis.log" --daemonize no &
        pid=$!
        for _ in $(seq 200); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
        echo "run: redis-server pid $pid on 127.0.0.1:$port, data in .data/"
    fi
    export REDIS_URL="redis://127.0.0.1:$port"
fi
# Local development: no webhook authentication unless configured (serve logs this loudly).
export SMSHOOK_AUTH=${SMSHOOK_AUTH:-none}
# While Redis is away, calls are fsynced here and replayed when it is back (README "Outage spool").
export SMSHOOK_SPOOL_DIR=${SMSHOOK_SPOOL_DIR:-$root/.data/spool}
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; }
trap cleanup EXIT
# In the foreground: Ctrl-C reaches smshook, which shuts down gracefully; then the EXIT trap stops redis-server.
"$bin" serve
