"""Chaos scenarios 8, 9 and 11: serve killed while its outage spool drains; a worker stalled (SIGSTOP) past its
heartbeat TTL, reaped, then woken; a TLS-only Redis restarted under load."""
import os
import signal
import subprocess
import time

from harness import (Load, Procs, Redis, Sink, duplicate_jobs, enqueue_jobs, free_port, queue_empty, redis_cli, serve,
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
        env = {"WORKER_SEND_LEASE": str(lease), "SEND_RATE_PER_SECOND": "300", "LOG_LEVEL": os.environ.get("CHAOS_WORKER_LOG", "warning")}
        a = worker(procs, b, r.url, "st", sink.url, env={**env, "WORKER_ID": "stall-a"}, log="stall-a.log")
        wait_for(lambda: sink.counts()[0] >= n // 10, 30, 0.01)
        a.send_signal(signal.SIGSTOP)
        stopped = time.time()
        held = int(redis_cli(r.port, "LLEN", "st:replies:processing:stall-a") or 0)
        worker(procs, b, r.url, "st", sink.url, env={**env, "WORKER_ID": "stall-b"}, log="stall-b.log")
        reaped = wait_for(lambda: redis_cli(r.port, "LLEN", "st:replies:processing:stall-a") == "0", 30, 0.05)
        reaped_after = time.time() - stopped
        time.sleep(max(0.0, stall - (time.time() - stopped)))
        a.send_signal(signal.SIGCONT)
        woke = time.time() - stopped
        done = wait_for(lambda: sink.counts()[0] >= n and queue_empty(r.port, "st"), lease + 90, 0.1)
        delivered, dups = sink.counts()
        with open(os.path.join(procs.dir, "stall-a.log"), errors="replace") as f:
            fenced = f.read().count("job no longer owned")
        with sink.lock:
            doubled = sorted({d for d in sink.deliveries if sink.deliveries.count(d) > 1}) if dups else []
        ok = reaped and held > 0 and done and delivered == n and dups == 0 and a.poll() is None
        return ok, (f"{n} jobs; worker A stopped holding {held} jobs, reaped after {reaped_after:.1f} s (heartbeat TTL "
                    f"2 s), woken after {woke:.0f} s (send lease {lease} s): it refused {fenced} jobs it no longer owned; "
                    f"delivered {delivered}, duplicates {dups}" + (f" ({', '.join(doubled[:5])})" if doubled else ""))
    finally:
        sink.close()
        procs.stop_all()


class TLSRedis:
    """A TLS-only redis-server (AOF always) with a CA and a certificate for 127.0.0.1 made here by openssl."""

    def __init__(self, procs):
        self.procs, self.port = procs, free_port()
        self.dir = os.path.join(procs.dir, "tls")
        os.makedirs(self.dir, exist_ok=True)
        f = lambda name: os.path.join(self.dir, name)
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        run = lambda *a: subprocess.run(["openssl", *a], check=True, capture_output=True)
        run("req", "-x509", *ec, "-days", "2", "-subj", "/CN=chaos ca", "-keyout", f("ca.key"), "-out", f("ca.crt"))
        run("req", *ec, "-subj", "/CN=127.0.0.1", "-keyout", f("server.key"), "-out", f("server.csr"))
        with open(f("server.ext"), "w") as ext:
            ext.write("subjectAltName=IP:127.0.0.1\n")
        run("x509", "-req", "-in", f("server.csr"), "-CA", f("ca.crt"), "-CAkey", f("ca.key"), "-CAcreateserial",
            "-days", "2", "-extfile", f("server.ext"), "-out", f("server.crt"))
        self.ca = f("ca.crt")
        self.args = ["redis-server", "--port", "0", "--tls-port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
                     "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--tls-cert-file", f("server.crt"),
                     "--tls-key-file", f("server.key"), "--tls-ca-cert-file", self.ca, "--tls-auth-clients", "no"]
        self.start()

    def cli(self, *args):
        out = subprocess.run(["redis-cli", "-p", str(self.port), "--tls", "--cacert", self.ca, *map(str, args)],
                             capture_output=True, text=True, timeout=10)
        return out.stdout.strip()

    def start(self):
        self.proc = self.procs.start(self.args)
        assert wait_for(lambda: self.cli("ping") == "PONG"), "TLS redis-server did not start"
        assert wait_for(lambda: "loading:0" in self.cli("info", "persistence")), "redis still loading"

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


VERIFY_TLS = """
local n = 0
for i = 2, #ARGV do if redis.call('EXISTS', ARGV[1] .. ':dedup:' .. ARGV[i]) == 0 then n = n + 1 end end
return n
"""


def tls_restart(b, s):
    """11. a TLS-only Redis (certificate verified) SIGKILLed under load and restarted from its AOF: serve reconnects
    over TLS by itself; every 2xx is still there."""
    procs = Procs()
    try:
        r = TLSRedis(procs)
        env = {"REDIS_URL": f"rediss://127.0.0.1:{r.port}", "REDIS_TLS_CA_FILE": r.ca, "REDIS_COMMAND_TIMEOUT_MS": "1000"}
        port = serve(procs, b, env, "tls")
        load = Load(port, "tls", threads=8)
        time.sleep(s["load_s"])
        r.kill()
        killed = time.time()
        time.sleep(1.0)
        r.start()
        back = wait_for(lambda: any(t > time.time() - 0.5 for t in list(load.times)), 20, 0.05)
        recovered = time.time() - killed - 1.0
        time.sleep(1.0)
        load.stop()
        lost = 0
        for i in range(0, len(load.acked), 2000):
            lost += int(r.cli("EVAL", VERIFY_TLS, 0, "tls", *load.acked[i:i + 2000]) or 0)
        before = sum(1 for t in load.times if t < killed)
        ok = back and lost == 0 and before > 0
        return ok, (f"{len(load.acked)} acknowledged over TLS ({before} before the kill); Redis down 1 s, 2xx again "
                    f"{recovered:.1f} s after its restart; acknowledged but lost {lost}")
    finally:
        procs.stop_all()
