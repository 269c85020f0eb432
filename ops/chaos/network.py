"""Chaos scenario 10: serve and Redis on different "hosts" (network namespaces joined by a veth pair, made and removed
here), with latency, packet loss and a partition between them under load, with the outage spool on and off.

Loss and the partition are kernel packet drops (nftables rules in Redis's namespace: `numgen random mod 100 < 5
drop`, then drop everything). Latency is `tc qdisc netem delay 50ms 20ms` on the veth when the kernel has sch_netem;
when it has not, a relay on serve's side delays each chunk of the serve -> Redis stream by 50 +- 20 ms (the scenario
says which). Every client reaches Redis through that relay, so its hop is part of every phase."""
import os
import random
import shutil
import socket
import subprocess
import threading
import time

from harness import Load, Procs, Sink, p99_ms, queue_empty, redis_cli, serve, verify_stored, wait_for, worker

SUBNET = "10.211.{}.{}"


def sh(*args, check=True):
    res = subprocess.run(list(args), capture_output=True, text=True, timeout=30)
    if check and res.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {res.stderr.strip()}")
    return res


class Relay:
    """TCP relay 127.0.0.1:port -> upstream; chunks towards upstream wait `delay()` seconds, in order."""

    def __init__(self, upstream):
        self.upstream, self.delay = upstream, None
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.closed = False
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.connect, args=(client,), daemon=True).start()

    def connect(self, client):
        try:
            server = socket.create_connection(self.upstream, timeout=5)
            server.settimeout(None)
        except OSError:
            client.close()
            return
        for src, dst, delayed in ((client, server, True), (server, client, False)):
            threading.Thread(target=self.pipe, args=(src, dst, delayed), daemon=True).start()

    def pipe(self, src, dst, delayed):
        queue, cond = [], threading.Condition()

        def writer():
            while True:
                with cond:
                    while not queue:
                        cond.wait()
                    due, data = queue.pop(0)
                if data is None:
                    break
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                try:
                    dst.sendall(data)
                except OSError:
                    break
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

        threading.Thread(target=writer, daemon=True).start()
        last = 0.0
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            d = self.delay() if (delayed and self.delay) else 0.0
            last = max(last, time.monotonic() + d)
            with cond:
                queue.append((last, data or None))
                cond.notify()
            if not data:
                return

    def close(self):
        self.closed = True
        self.listener.close()


class Unavailable(Exception):
    """This machine cannot make network namespaces (no privilege, no kernel support)."""


class Hosts:
    """Redis in its own namespace, reachable from here over a veth pair; faults are set on that link."""

    def __init__(self, procs):
        tag = f"{os.getpid() % 100000}"
        self.ns, self.veth, self.peer = f"smshook-chaos-{tag}", f"shc{tag}a", f"shc{tag}b"
        net = random.randint(1, 250)
        self.here, self.there = SUBNET.format(net, 1), SUBNET.format(net, 2)
        try:
            sh("ip", "netns", "add", self.ns)
        except RuntimeError as e:
            raise Unavailable(str(e))
        self.relay = None
        try:
            sh("ip", "link", "add", self.veth, "type", "veth", "peer", "name", self.peer)
            sh("ip", "link", "set", self.peer, "netns", self.ns)
            sh("ip", "addr", "add", self.here + "/24", "dev", self.veth)
            sh("ip", "link", "set", self.veth, "up")
            sh("ip", "-n", self.ns, "addr", "add", self.there + "/24", "dev", self.peer)
            sh("ip", "-n", self.ns, "link", "set", self.peer, "up")
            sh("ip", "-n", self.ns, "link", "set", "lo", "up")
            self.nft("add table inet chaos")
            for hook in ("input", "output"):
                self.nft(f"add chain inet chaos {hook} {{ type filter hook {hook} priority 0; }}")
            self.netem = sh("tc", "qdisc", "add", "dev", self.veth, "root", "netem", "delay", "0ms", check=False).returncode == 0
            self.redis = procs.start(["ip", "netns", "exec", self.ns, "redis-server", "--port", "6379", "--bind", self.there, "--protected-mode", "no",
                                      "--dir", procs.dir, "--save", "", "--appendonly", "yes", "--appendfsync", "always"],
                                     log="redis-ns.log")
            self.relay = Relay((self.there, 6379))
            assert wait_for(lambda: redis_cli(self.relay.port, "ping") == "PONG"), "redis-server in the namespace did not start"
        except BaseException:
            self.remove()
            raise

    def nft(self, rule):
        sh("ip", "netns", "exec", self.ns, "nft", *rule.split())

    def clear(self):
        for hook in ("input", "output"):
            self.nft(f"flush chain inet chaos {hook}")
        self.relay.delay = None
        if self.netem:
            sh("tc", "qdisc", "change", "dev", self.veth, "root", "netem", "delay", "0ms")

    def latency(self, ms, jitter):
        if self.netem:
            sh("tc", "qdisc", "change", "dev", self.veth, "root", "netem", "delay", f"{ms}ms", f"{jitter}ms")
        else:
            self.relay.delay = lambda: max(0.0, random.uniform(ms - jitter, ms + jitter) / 1000)

    def loss(self, percent):
        for hook, side in (("input", "iifname"), ("output", "oifname")):
            self.nft(f"add rule inet chaos {hook} {side} {self.peer} numgen random mod 100 < {percent} drop")

    def partition(self):
        for hook, side in (("input", "iifname"), ("output", "oifname")):
            self.nft(f"add rule inet chaos {hook} {side} {self.peer} drop")

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.relay.port}"

    def remove(self):
        if self.relay:
            self.relay.close()
        sh("ip", "link", "del", self.veth, check=False)
        sh("ip", "netns", "del", self.ns, check=False)


def network_faults(b, s):
    """10. latency 50 +- 20 ms, 5% packet loss, a partition, between serve and Redis under load (spool on and off):
    every 2xx stored, every reply delivered once."""
    if shutil.which("ip") is None or shutil.which("nft") is None:
        return None, "skipped: needs iproute2 and nftables (`make test` installs them)"
    procs, sink, hosts = Procs(), Sink(), None
    try:
        try:
            hosts = Hosts(procs)
        except Unavailable as e:
            return None, f"skipped: network namespaces cannot be made here ({e})"
        env = {"REDIS_URL": hosts.url, "REDIS_COMMAND_TIMEOUT_MS": "1000", "REDIS_CONNECT_TIMEOUT_MS": "500"}
        spool = os.path.join(procs.dir, "spool")
        on = serve(procs, b, env, "nf", env={"SMSHOOK_SPOOL_DIR": spool})
        off = serve(procs, b, env, "nf")
        worker(procs, b, hosts.url, "nf", sink.url, env={"REDIS_COMMAND_TIMEOUT_MS": "1000"})
        # each serve its own senders, so one's loop guard does not hold back the other's replies
        loads = {k: Load(p, f"nf-{k}", threads=4, number=lambda t, i, guid, area=area: f"+1{area}{t:02d}{i % 100000:05d}")
                 for k, p, area in (("on", on, 555), ("off", off, 556))}
        phases = []

        def phase(name, seconds, fault):
            hosts.clear()
            fault()
            start = time.time()
            time.sleep(seconds)
            phases.append((name, start, time.time()))

        phase("healthy", 2.0, lambda: None)
        phase("latency 50+-20 ms", s["phase_s"], lambda: hosts.latency(50, 20))
        phase("5% loss", s["phase_s"], lambda: hosts.loss(5))
        phase(f"partition {s['partition_s']:.0f} s", s["partition_s"], hosts.partition)
        healed = time.time()
        phase("healed", 3.0, lambda: None)
        for load in loads.values():
            load.stop()
        drained = wait_for(lambda: not any(f.endswith(".spool") for f in os.listdir(spool)), 60, 0.2)
        acked = {k: [c[4] for c in l.calls if c[2] == 200] for k, l in loads.items()}
        port = hosts.relay.port
        # the worker drains while the faults run: what reached the queue is checked at the sink, not in Redis
        lost = {k: max(verify_stored(port, "nf", g)[:2]) for k, g in acked.items()}
        everyone = acked["on"] + acked["off"]
        wait_for(lambda: queue_empty(port, "nf") and sink.replies(everyone)[0] == 0, 60, 0.2)
        unanswered, dups = sink.replies(everyone)
        first_direct = min((c[0] + c[1] for c in loads["on"].calls if c[0] >= healed and c[2] == 200 and not c[3]),
                           default=None)
        rows = []
        for name, start, end in phases:
            cs = {k: l.window(start, end) for k, l in loads.items()}
            rows.append(f"{name}: spool on {len(cs['on'])} calls, {sum(1 for c in cs['on'] if c[2] == 200)} x 2xx "
                        f"({sum(1 for c in cs['on'] if c[3])} spooled), p99 {p99_ms(c[1] for c in cs['on']):.0f} ms; off "
                        f"{sum(1 for c in cs['off'] if c[2] == 200)}/{len(cs['off'])} x 2xx, p99 {p99_ms(c[1] for c in cs['off']):.0f} ms")
        refused_on = sum(1 for c in loads["on"].calls if c[2] != 200)
        lost_off = sum(1 for c in loads["off"].calls if c[2] != 200)
        recovery = f"{first_direct - healed:.1f} s" if first_direct else "never"
        ok = (drained and lost["on"] == 0 and lost["off"] == 0 and refused_on == 0 and unanswered == 0 and dups == 0
              and first_direct is not None)
        how = "tc netem" if hosts.netem else "no sch_netem in this kernel: a delaying relay"
        return ok, ("; ".join(rows) + f". Latency by {how}; loss and partition by nftables drops. Spool on: "
                    f"{refused_on} refused, acknowledged but lost {lost['on']} (drained {drained}); spool off: "
                    f"{lost_off} answered non-2xx (lost to a client that never retries), acknowledged but lost "
                    f"{lost['off']}; of {len(everyone)} acknowledged messages {unanswered} got no reply, duplicate replies "
                    f"{dups}; stored directly again {recovery} after the partition healed")
    finally:
        sink.close()
        procs.stop_all()
        if hosts:
            hosts.remove()
