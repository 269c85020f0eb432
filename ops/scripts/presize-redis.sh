#!/usr/bin/env bash
# Usage: presize-redis.sh KEYS PORT [PORT...]
# Brings benchmark Redis servers on 127.0.0.1 to steady state: KEYS keys with a TTL (bench:presize:*), then waits
# (up to 200 s per server) for the rehash they started to finish. With one PORT, one server. With several, the
# ports are one Redis Cluster's nodes: the keys spread over its primaries (about KEYS / primaries each, copied to
# their replicas), and every node's rehash is waited for.
#
# Why: a service that has run for a week holds a week of dedup keys, and its hash tables no longer grow. An empty
# Redis doubles them again and again during a run. Each doubling is an incremental rehash that taxes every command
# while it lasts: +15-20% of Redis CPU per message, measured by replaying the ingest script.
set -euo pipefail
keys=${1:?usage: presize-redis.sh KEYS PORT [PORT...]}
shift
[ $# -ge 1 ] || { echo "usage: presize-redis.sh KEYS PORT [PORT...]" >&2; exit 2; }
if [ $# -eq 1 ]; then
    redis-benchmark -p "$1" -n "$keys" -r 1000000000 -P 100 -c 4 -q SET bench:presize:__rand_int__ "" EX 604800 >/dev/null
else
    # in cluster mode redis-benchmark replaces {tag} with one that hashes to each primary's slots
    redis-benchmark --cluster -p "$1" -n "$keys" -r 1000000000 -P 100 -c 6 -q \
        SET 'bench:presize:{tag}:__rand_int__' "" EX 604800 >/dev/null
fi
for port in "$@"; do
    redis-cli -p "$port" config set hz 500 >/dev/null  # the rehash runs in serverCron: 1 ms per call
    for _ in $(seq 100); do redis-cli -p "$port" debug htstats 0 | grep -q "rehashing target" || break; sleep 2; done
    redis-cli -p "$port" config set hz 10 >/dev/null
done
