#!/usr/bin/env python3
"""`make chaos`: fault scenarios against the real binaries on loopback. Usage: chaos.py SMSHOOK_BIN [--scale small|full]
[--only 1,2,...] [--report RELIABILITY.md]. Each scenario starts what it needs, runs bounded traffic, stops
everything and prints its figures; the last line is 'N passed, N failed'."""
import argparse
import os
import random
import signal
import subprocess
import tempfile
import time

from cluster import cluster_failover, cluster_reshard, cluster_storm
from events import event_storm
from network import network_faults
from recovery import spool_drain_kill, stalled_worker, tls_restart
from harness import (ROOT, Load, Procs, Redis, Sentinel, Sink, enqueue_jobs, message, post, processing_total,
                     redis_cli, serve, storm_posts, verify_stored, wait_for, worker)

SCALE = {"small": {"storm": 1000, "crash": 1500, "load_s": 2.0, "away_s": 3.0, "stall_jobs": 1000, "stall_s": 5, "lease_s": 10,
                   "phase_s": 4.0, "partition_s": 4.0, "reshard_slots": 1200},
         "full": {"storm": 5000, "crash": 5000, "load_s": 4.0, "away_s": 20.0, "stall_jobs": 3000, "stall_s": 40, "lease_s": 60,
                  "phase_s": 15.0, "partition_s": 10.0, "reshard_slots": 5461}}


def retry_storm(b, s):
    """1. every guid POSTed 3 times concurrently to 3 instances -> each accepted once, one reply each, 0 duplicates;
    two channels (?channel=storm-a / storm-b): each reply leaves through its message's channel."""
    n = s["storm"]
    procs, sink = Procs(), Sink()
    try:
        r = Redis(procs, "r")
        config = os.path.join(procs.dir, "storm.yaml")
        with open(os.path.join(ROOT, "config/smshook.yaml")) as src, open(config, "w") as dst:
            dst.write(src.read() + "\nchannels:\n" + "".join(
                f"  - {{name: storm-{c}, provider: http, credentials: {{url: STORM_{c.upper()}_URL, secret: STORM_SECRET}}}}\n"
                for c in "ab"))
        channel_env = {"SMSHOOK_CONFIG": config, "STORM_A_URL": sink.url + "/a", "STORM_B_URL": sink.url + "/b",
                       "STORM_SECRET": "storm"}
        ports = [serve(procs, b, {"REDIS_URL": r.url}, "storm", env={"SMSHOOK_CONFIG": config}) for _ in range(3)]
        accepted, statuses = storm_posts(
            ports, n, "storm", lambda i: "/api/webhook/sms-received?channel=storm-" + ("a" if i % 2 == 0 else "b"))
        for _ in range(2):
            worker(procs, b, r.url, "storm", sink.url, env=channel_env)
        wait_for(lambda: sink.counts()[0] >= n, 60, 0.1)
        delivered, dups = sink.counts()
        with sink.lock:
            via = {p: sink.paths.count("/hook" + p) for p in ("/a", "/b")}
        ok = (sum(accepted) == n and all(a == 1 for a in accepted) and delivered == n and dups == 0
              and via["/a"] == (n + 1) // 2 and via["/b"] == n // 2)
        return ok, (f"{n} guids x 3 concurrent POSTs to 3 instances: {sum(accepted)} accepted, non-200: "
                    f"{sum(1 for x in statuses if x != 200)}, replies delivered {delivered} (channel a {via['/a']}, "
                    f"b {via['/b']}), duplicates {dups}")
    finally:
        sink.close()
        procs.stop_all()


def worker_crashes(b, s):
    """2. SIGKILL of a random worker every 0.5 s during a drain -> all delivered, duplicates <= jobs in flight."""
    n = s["crash"]
    procs, sink = Procs(), Sink(delay=0.02)
    try:
        r = Redis(procs, "r")
        enqueue_jobs(r.port, "crash", n)
        workers = [worker(procs, b, r.url, "crash", sink.url) for _ in range(3)]
        in_flight, kills, start = 0, 0, time.time()
        while sink.counts()[0] < n and time.time() - start < 120:
            time.sleep(0.5)
            if sink.counts()[0] >= n:
                break
            victim = random.choice([w for w in workers if w.poll() is None])
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            kills += 1
            in_flight += processing_total(r.port, "crash")  # held by the dead one (and others, an upper bound)
            workers.append(worker(procs, b, r.url, "crash", sink.url))
        delivered, dups = sink.counts()
        ok = delivered == n and dups <= in_flight and kills >= 1  # a drain that beat every kill proves nothing
        return ok, (f"{n} jobs, 3 workers, {kills} SIGKILLs (one every 0.5 s): delivered {delivered}, duplicates {dups}, "
                    f"in flight at the kills <= {in_flight}, {time.time() - start:.1f} s")
    finally:
        sink.close()
        procs.stop_all()


def redis_crash(b, s, fsync):
    """3. redis-server SIGKILLed under load, restarted from its AOF: every 2xx guid must still be there (always)."""
    procs = Procs()
    try:
        r = Redis(procs, "r", ["--appendonly", "yes", "--appendfsync", fsync])
        port = serve(procs, b, {"REDIS_URL": r.url, "REDIS_COMMAND_TIMEOUT_MS": "1000"}, "aof")
        load = Load(port, "aof")
        time.sleep(s["load_s"])
        r.kill()
        time.sleep(0.5)
        load.stop()
        r.start()
        no_key, no_audit, no_job = verify_stored(r.port, "aof", load.acked)
        lost = max(no_key, no_audit, no_job)
        ok = lost == 0 if fsync == "always" else True
        return ok, (f"appendfsync {fsync}: {len(load.acked)} acknowledged before the kill; after the restart, missing "
                    f"dedup keys {no_key}, audit entries {no_audit}, queued jobs {no_job}: acknowledged but lost {lost}")
    finally:
        procs.stop_all()


def redis_down(b, s):
    """4. Redis down -> every request 503 + Retry-After; back -> 2xx within 2 s without restarting serve."""
    procs = Procs()
    try:
        r = Redis(procs, "r")
        port = serve(procs, b, {"REDIS_URL": r.url}, "down")
        r.kill()
        results = [post(port, message(f"down-{i}")) for i in range(200)]
        all_503 = all(st == 503 and h.get("Retry-After") for st, _, h in results)
        r.start()
        t0 = time.time()
        wait_for(lambda: post(port, message("down-0"))[0] == 200, 10, 0.05)
        back = time.time() - t0
        ok = all_503 and back < 2
        return ok, f"200 requests with Redis down: {sum(1 for st, _, _ in results if st == 503)} x 503 with Retry-After, 0 x 2xx; 2xx again {back:.2f} s after Redis came back"
    finally:
        procs.stop_all()


def redis_away(b, s):
    """7. Redis stopped under load from clients that never retry (as Twilio by default): with the outage spool every
    2xx is stored once Redis is back, nothing lost; without it, every call made during the outage is lost."""
    procs = Procs()
    try:
        r = Redis(procs, "r", ["--appendonly", "yes", "--appendfsync", "always"])
        spool = os.path.join(procs.dir, "spool")
        with_spool = serve(procs, b, {"REDIS_URL": r.url, "REDIS_COMMAND_TIMEOUT_MS": "1000"}, "away",
                           env={"SMSHOOK_SPOOL_DIR": spool})
        without = serve(procs, b, {"REDIS_URL": r.url, "REDIS_COMMAND_TIMEOUT_MS": "1000"}, "away")
        a, n = Load(with_spool, "sp", threads=4), Load(without, "ns", threads=4)
        time.sleep(1.0)
        r.kill()
        time.sleep(s["away_s"])
        r.start()
        time.sleep(1.0)
        a.stop()
        n.stop()
        drained = wait_for(lambda: not any(f.endswith(".spool") for f in os.listdir(spool)), 60, 0.2)
        no_key, no_audit, no_job = verify_stored(r.port, "away", a.acked)
        lost = max(no_key, no_audit, no_job)
        refused_with = a.attempts - len(a.acked)
        lost_without = n.attempts - len(n.acked)
        ok = drained and lost == 0 and refused_with == 0
        return ok, (f"Redis away {s['away_s']:.0f} s, clients never retry. With the spool: {a.attempts} calls, "
                    f"{len(a.acked)} x 2xx, {refused_with} refused, acknowledged but lost {lost} (spool drained: "
                    f"{drained}). Without: {n.attempts} calls, {len(n.acked)} x 2xx, {lost_without} answered 503 and "
                    f"so lost by a client that does not retry")
    finally:
        procs.stop_all()


def failover(b, s, min_ack):
    """5. primary + replica + 3 sentinels; kill the primary under load: seconds without service, acked-but-lost."""
    procs = Procs()
    try:
        primary = Redis(procs, "p")
        replica = Redis(procs, "rep", ["--replicaof", "127.0.0.1", str(primary.port)])
        wait_for(lambda: "master_link_status:up" in redis_cli(replica.port, "info", "replication"), 10)
        sentinels = [Sentinel(procs, primary.port) for _ in range(3)]
        env = {"REDIS_SENTINELS": ",".join(f"127.0.0.1:{x.port}" for x in sentinels), "REDIS_MASTER_NAME": "chaos",
               "REDIS_CONNECT_TIMEOUT_MS": "300", "REDIS_COMMAND_TIMEOUT_MS": "1000"}
        if min_ack:
            env["REDIS_MIN_REPLICAS_ACK"] = "1"
        port = serve(procs, b, env, "fo")
        load = Load(port, "fo", threads=8)
        time.sleep(1.5)
        killed = time.time()
        primary.kill()
        # without the replica ack the service comes back on the promoted replica; with it, no replica is left to
        # acknowledge, so it stays at 503 (nothing unreplicated is acknowledged) until a new replica joins
        wait_for(lambda: any(x > killed + 1.0 for x in list(load.times)), 8 if min_ack else 30, 0.1)
        time.sleep(1.0)
        end = time.time()
        load.stop()
        window = [killed] + sorted(x for x in load.times if x > killed) + [end]
        gap = max(b - a for a, b in zip(window, window[1:]))
        after = [x for x in load.times if x > killed + 1.0]
        lost = verify_stored(replica.port, "fo", load.acked)[0]
        ok = lost == 0 if min_ack else after != []
        recovered = "service back on the promoted replica" if after else "503 until a replica can acknowledge again"
        return ok, (f"REDIS_MIN_REPLICAS_ACK={1 if min_ack else 0}: {len(load.acked)} acknowledged; longest time without a "
                    f"2xx {gap:.1f} s after the primary was killed ({recovered}); acknowledged but lost: {lost}")
    finally:
        procs.stop_all()


def hostile(b, s):
    """6. schemathesis against openapi.yaml (no 5xx, responses conform) + oversized, invalid UTF-8, nested, huge batch."""
    procs = Procs()
    try:
        r = Redis(procs, "r")
        token = "tok_chaos_0123456789abcdef"  # the send/read API is on, so that schemathesis covers it too
        port = serve(procs, b, {"REDIS_URL": r.url, "SMSHOOK_BODY_TIMEOUT_MS": "1000", "SMSHOOK_API_TOKENS": token}, "hostile")
        checks = []
        checks.append(("body over 1 MiB -> 413", post(port, b'{"message":"' + b"a" * (1 << 20) + b'"}')[0] == 413))
        checks.append(("invalid UTF-8 -> 400", post(port, b'{"message":"\xff\xfe"}')[0] == 400))
        checks.append(("nesting 10,000 deep -> 400", post(port, b'{"message":' + b"[" * 10000 + b"]" * 10000 + b"}")[0] == 400))
        big = {"messages": [{"message": "yes", "guid": f"h-{i}"} for i in range(10000)]}
        checks.append(("10,000-message batch -> 413", post(port, big)[0] == 413))
        checks.append(("still serving", post(port, message("h-after"))[0] == 200))
        # a client that sends its body very slowly: cut off with 408, others served meanwhile
        import socket
        slow = socket.create_connection(("127.0.0.1", port))
        slow.sendall(b"POST /api/webhook/sms-received HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n{\"mess")
        t0 = time.time()
        others = post(port, message("h-during-slow"))[0] == 200 and time.time() - t0 < 1.0  # before the 408
        slow.settimeout(5)
        answer = slow.recv(4096)
        slow.close()
        checks.append(("slow body -> 408 after 1 s, others served meanwhile", answer.startswith(b"HTTP/1.1 408") and others))
        st = None
        if subprocess.run(["python3", "-c", "import schemathesis"], capture_output=True).returncode != 0:
            subprocess.run(["pip", "install", "-q", "schemathesis"], capture_output=True)
        cmd = ["schemathesis", "run", os.path.join(ROOT, "openapi.yaml"), "--url", f"http://127.0.0.1:{port}",
               "--header", f"Authorization: Bearer {token}",
               "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
               "--max-examples", "30"]
        with tempfile.TemporaryDirectory() as scratch:  # schemathesis keeps a cache in its working directory
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=scratch)
        st = res.returncode
        lines = [l.strip() for l in res.stdout.splitlines() if l.strip()]
        tail = lines[-3:]
        cases = next((l for l in lines if "generated" in l and "passed" in l), "no summary")
        checks.append((f"schemathesis ({cases}): no 5xx, responses match openapi.yaml", st == 0))
        ok = all(c for _, c in checks)
        detail = "; ".join(f"{name}: {'ok' if c else 'FAIL'}" for name, c in checks)
        if st != 0:
            detail += " | schemathesis: " + " / ".join(tail)
        return ok, detail
    finally:
        procs.stop_all()


NOTES = (
    "\nReading the figures:\n\n"
    "- Duplicates in 2 are replies re-sent after a worker died between the send and its finish step "
    "(at least once: the provider may have them); they wait for the dead worker's send claim to lapse "
    "(`WORKER_SEND_LEASE`, 2 s here). The in-flight figure is an upper bound (every processing list, sampled after "
    "each kill).\n"
    "- 3b: a SIGKILL of the redis-server process loses nothing even with `appendfsync everysec`, because "
    "every acknowledged write already reached the kernel; everysec can lose up to about one second of "
    "acknowledged writes only when the machine itself stops (power, kernel panic). Use `always`, or a "
    "replica with `REDIS_MIN_REPLICAS_ACK`, when that matters.\n"
    "- 5b: with `REDIS_MIN_REPLICAS_ACK=1` and a single replica, the promoted replica has no replica of "
    "its own, so serve answers 503 until one joins: nothing unreplicated is acknowledged, at the cost of "
    "availability. Run two replicas to keep serving through a failover.\n"
    "- 8: files whose replay had been stored but not yet removed when serve was killed are replayed again at start "
    "and caught by dedup (no second reply job).\n"
    "- 9: the jobs the stopped worker held but had not claimed are fenced (it finds them gone from its processing "
    "list and sends nothing; the worker that got them sends them); those it was sending when it stopped keep its claim "
    "for the lease, so the other worker waits, and the stopped one finishes them when it wakes.\n"
    "- 10: this kernel has no sch_netem, so latency comes from a relay on serve's side that delays each chunk "
    "towards Redis by 50 +- 20 ms; loss and the partition are nftables drops in Redis's namespace. During the "
    "partition each call waits for the command timeout (1 s here) and is then spooled (503 without a spool). A "
    "worker drains throughout; every acknowledged message is checked at the provider sink.\n"
    "- 11: serve reconnects over TLS by itself (certificate verified against the test CA) once Redis is back.\n"
    "- 12-14 run on a Redis Cluster of 3 primaries and 3 replicas on loopback (`cluster-node-timeout` 1 s, "
    "`cluster-require-full-coverage no`, AOF always), 64 shards; every acknowledged message is checked in its own "
    "shard (dedup key and audit entry; reply job or delivery).\n"
    "- 13: the longest gap is for the shards of the killed primary: `cluster-node-timeout` (1 s here, 15 s by "
    "default) plus the replica's election; the other shards keep answering 2xx throughout. With "
    "`REDIS_MIN_REPLICAS_ACK=1` the promoted replica has no replica until the old primary rejoins as one (restarted "
    "here right after the promotion), and answers 503 until then.\n"
    "- 14: `redis-cli --cluster reshard` moves slots with their keys (`MIGRATE`) while 8 threads post messages and "
    "a worker drains; a shard's keys move in one short step, so most calls meet a `MOVED` (one per moved shard per "
    "client) and few or none an `ASK`/`TRYAGAIN`.\n")


SCENARIOS = [
    ("1 retry storm", retry_storm),
    ("2 worker crashes", worker_crashes),
    ("3a Redis SIGKILL, AOF always", lambda b, s: redis_crash(b, s, "always")),
    ("3b Redis SIGKILL, AOF everysec", lambda b, s: redis_crash(b, s, "everysec")),
    ("4 Redis down", redis_down),
    ("5a Sentinel failover", lambda b, s: failover(b, s, False)),
    ("5b Sentinel failover, REDIS_MIN_REPLICAS_ACK=1", lambda b, s: failover(b, s, True)),
    ("6 hostile input", hostile),
    ("7 Redis away, outage spool", redis_away),
    ("8 serve SIGKILL while the spool drains", spool_drain_kill),
    ("9 stalled worker (SIGSTOP past its TTL)", stalled_worker),
    ("10 network faults between serve and Redis", network_faults),
    ("11 TLS Redis restart under load", tls_restart),
    ("12 Redis Cluster retry storm", cluster_storm),
    ("13a Redis Cluster primary SIGKILL", lambda b, s: cluster_failover(b, s, False)),
    ("13b Redis Cluster primary SIGKILL, REDIS_MIN_REPLICAS_ACK=1", lambda b, s: cluster_failover(b, s, True)),
    ("14 Redis Cluster live resharding under load", cluster_reshard),
    ("15 event delivery under a retry storm, worker SIGKILL", event_storm),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--scale", default="small", choices=SCALE)
    ap.add_argument("--only", default="")
    ap.add_argument("--report", default="")
    a = ap.parse_args()
    binary = os.path.abspath(a.binary)
    rows, passed, failed, skipped = [], 0, 0, 0
    for name, fn in SCENARIOS:
        if a.only and name.split()[0].rstrip("ab") not in a.only.split(","):
            continue
        t0 = time.time()
        try:
            ok, detail = fn(binary, SCALE[a.scale])
        except Exception as e:  # a scenario that crashes is a failure, reported
            ok, detail = False, f"error: {e!r}"
        if ok is None and os.environ.get("CI") == "true":
            ok, detail = False, detail + " (CI=true: a scenario that cannot run fails)"
        label = "skip" if ok is None else "ok  " if ok else "FAIL"
        print(f"{label} {name} ({time.time() - t0:.0f} s): {detail}", flush=True)
        rows.append((name, ok, detail))
        if ok is None:
            skipped += 1
        else:
            passed, failed = passed + ok, failed + (not ok)
    if a.report:
        with open(a.report, "w") as f:
            f.write("# Reliability\n\nLatest figures of the fault scenarios, produced by "
                    f"`make chaos` (`python3 ops/chaos/chaos.py .build/debug/smshook --scale {a.scale}`) on "
                    f"{time.strftime('%Y-%m-%d', time.gmtime())}, {os.cpu_count()} cores, everything on loopback.\n\n"
                    "| scenario | result | figures |\n|---|---|---|\n")
            for name, ok, detail in rows:
                result = "skipped" if ok is None else "pass" if ok else "FAIL"
                f.write(f"| {name} | {result} | {detail.replace('|', '/')} |\n")
            f.write(NOTES)
            soak = os.path.join(ROOT, "ops/chaos/soak-of-record.md")  # `make soak` writes it
            if os.path.exists(soak):
                with open(soak) as record:
                    f.write("\n" + record.read())
    print(f"chaos: {passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    raise SystemExit(0 if failed == 0 else 1)


if __name__ == "__main__":
    main()
