"""Chaos scenarios 8 and 9: serve killed while its outage spool drains; a worker stalled (SIGSTOP) past its
heartbeat TTL, reaped, then woken."""
import os
import signal
import time

from harness import (Load, Procs, Redis, Sink, duplicate_jobs, enqueue_jobs, queue_empty, redis_cli, serve,
                     verify_stored, wait_for, worker)


def spool_files(spool):
    try:
        return sum(1 for f in os.listdir(spool) if f.endswith(".spool"))
    except FileNotFoundError:
        return 0


def spool_drain_kill(b, s):
    """8. Redis away under never-retrying load (calls spooled), back; serve SIGKILLed while it replays the spool, then
    restarted on the same spool: every 2xx stored, no reply job twice, every reply delivered once."""
    procs, sink = Procs(), Sink()
    try:
        r = Redis(procs, "r", ["--appendonly", "yes", "--appendfsync", "always"])
        spool = os.path.join(procs.dir, "spool")
        redis_env = {"REDIS_URL": r.url, "REDIS_COMMAND_TIMEOUT_MS": "1000"}
        port = serve(procs, b, redis_env, "dk", env={"SMSHOOK_SPOOL_DIR": spool})
        first = procs.procs[-1]
        r.kill()
        load = Load(port, "dk", threads=4)
        time.sleep(s["away_s"])
        load.stop()
        spooled = spool_files(spool)
        r.start()
        # the drainer looks every 500 ms; kill once it has replayed some of the spool but not all
        caught = wait_for(lambda: 0 < spool_files(spool) <= spooled * 0.8, 30, 0.005)
        first.send_signal(signal.SIGKILL)
        first.wait()
        left_at_kill = spool_files(spool)
        serve(procs, b, redis_env, "dk", env={"SMSHOOK_SPOOL_DIR": spool})
        drained = wait_for(lambda: spool_files(spool) == 0, 60, 0.1)
        no_key, no_audit, no_job = verify_stored(r.port, "dk", load.acked)
        lost = max(no_key, no_audit, no_job)
        dup_jobs = duplicate_jobs(r.port, "dk")
        queued = int(redis_cli(r.port, "LLEN", "dk:replies") or 0)
        worker(procs, b, r.url, "dk", sink.url)
        wait_for(lambda: sink.counts()[0] >= queued and queue_empty(r.port, "dk"), 60, 0.1)
        delivered, dups = sink.counts()
        ok = (caught and drained and len(load.acked) == load.attempts and spooled > 0 and lost == 0 and dup_jobs == 0
              and delivered == queued and dups == 0)
        return ok, (f"{load.attempts} calls while Redis was away, {len(load.acked)} x 2xx, {spooled} spool files; serve "
                    f"SIGKILLed mid-drain with {left_at_kill} files left (caught mid-drain: {caught}); after the restart "
                    f"drained: {drained}, acknowledged but lost {lost}, reply jobs queued twice {dup_jobs}, replies "
                    f"delivered {delivered} of {queued}, duplicates {dups}")
    finally:
        sink.close()
        procs.stop_all()


def stalled_worker(b, s):
    """9. a worker SIGSTOPped past its heartbeat TTL while holding jobs; the reaper gives them to another worker; the
    stalled one is SIGCONTed within its send lease: every reply sent once (claims fence it)."""
    n, stall, lease = s["stall_jobs"], s["stall_s"], s["lease_s"]
    procs, sink = Procs(), Sink(delay=0.01)
    try:
        r = Redis(procs, "r")
        enqueue_jobs(r.port, "st", n)
        # a send rate makes most fetch loops wait for their turn, unclaimed, when the stop lands
        env = {"WORKER_SEND_LEASE": str(lease), "SEND_RATE_PER_SECOND": "300", "LOG_LEVEL": "warning"}
        a = worker(procs, b, r.url, "st", sink.url, env={**env, "WORKER_ID": "stall-a"}, log="stall-a.log")
        wait_for(lambda: sink.counts()[0] >= n // 10, 30, 0.01)
        a.send_signal(signal.SIGSTOP)
        stopped = time.time()
        held = int(redis_cli(r.port, "LLEN", "st:replies:processing:stall-a") or 0)
        worker(procs, b, r.url, "st", sink.url, env={**env, "WORKER_ID": "stall-b"})
        reaped = wait_for(lambda: redis_cli(r.port, "LLEN", "st:replies:processing:stall-a") == "0", 30, 0.05)
        reaped_after = time.time() - stopped
        time.sleep(max(0.0, stall - (time.time() - stopped)))
        a.send_signal(signal.SIGCONT)
        woke = time.time() - stopped
        done = wait_for(lambda: sink.counts()[0] >= n and queue_empty(r.port, "st"), lease + 90, 0.1)
        delivered, dups = sink.counts()
        with open(os.path.join(procs.dir, "stall-a.log"), errors="replace") as f:
            fenced = f.read().count("job no longer owned")
        ok = reaped and held > 0 and done and delivered == n and dups == 0 and a.poll() is None
        return ok, (f"{n} jobs; worker A stopped holding {held} jobs, reaped after {reaped_after:.1f} s (heartbeat TTL "
                    f"2 s), woken after {woke:.0f} s (send lease {lease} s): it refused {fenced} jobs it no longer owned; "
                    f"delivered {delivered}, duplicates {dups}")
    finally:
        sink.close()
        procs.stop_all()
