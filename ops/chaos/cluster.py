"""Redis Cluster scenarios of `make chaos` (12-14): a 3-primary, 3-replica cluster on loopback, serve and workers
with REDIS_CLUSTER_NODES, checked key by key in every shard."""
import re
import subprocess
import time
import urllib.request

from harness import (Load, Procs, Redis, Sink, free_port, message, missing, redis_cli, serve, storm_posts,
                     verify_masks, wait_for, worker)

SHARDS = 64  # the cluster default (KeySpace.defaultClusterShards)


class Cluster:
    """Three primaries with one replica each, made with `redis-cli --cluster create`."""

    def __init__(self, procs, name="cl", node_timeout=1000, extra=()):
        self.procs = procs
        self.nodes = [Redis(procs, f"{name}{i}", ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                                                    "--cluster-port", str(free_port()), "--cluster-node-timeout", str(node_timeout),
                                                    "--appendonly", "yes", "--appendfsync", "always",
                                                    # as recommended for smshook: a failed primary stops its own
                                                    # shards only, not the whole cluster
                                                    "--cluster-require-full-coverage", "no", *extra])
                      for i in range(6)]
        out = subprocess.run(["redis-cli", "--cluster", "create", *[f"127.0.0.1:{n.port}" for n in self.nodes],
                              "--cluster-replicas", "1", "--cluster-yes"], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stdout + out.stderr
        assert self.wait_ready(), "cluster did not become ready"

    def wait_ready(self, timeout=30):
        def ready():
            live = [n for n in self.nodes if n.proc.poll() is None]
            return all("cluster_state:ok" in redis_cli(n.port, "cluster", "info") for n in live) and all(
                "role:master" in (i := redis_cli(n.port, "info", "replication")) or "master_link_status:up" in i for n in live)
        return wait_for(ready, timeout, 0.1)

    @property
    def seeds(self):
        return ",".join(f"127.0.0.1:{n.port}" for n in self.nodes)

    def live(self):
        return next(n for n in self.nodes if n.proc.poll() is None)

    def owners(self):
        """slot -> primary port, from a live node's CLUSTER SHARDS (via CLUSTER SLOTS text)."""
        owner = {}
        lines = redis_cli(self.live().port, "cluster", "nodes").splitlines()
        for line in lines:
            parts = line.split()
            if "master" not in parts[2] or "fail" in parts[2]:
                continue
            port = int(parts[1].split("@")[0].rsplit(":", 1)[1])
            for r in parts[8:]:
                if r.startswith("["):
                    continue
                a, _, b = r.partition("-")
                for slot in range(int(a), int(b or a) + 1):
                    owner[slot] = port
        return owner

    def node(self, port):
        return next(n for n in self.nodes if n.port == port)

    def node_id(self, port):
        return redis_cli(port, "cluster", "myid")


def crc16(data):
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def shard_of(number):
    """As KeySpace.shardIndex: 64-bit FNV-1a of the subscriber (an E.164 number is its own subscriber)."""
    h = 0xCBF29CE484222325
    for byte in number.encode():
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h % SHARDS


def slot_of_shard(s):
    return crc16(str(s).encode()) % 16384


def verify_cluster(cluster, prefix, guid_numbers, delivered=()):
    """Key by key, in each guid's shard: [no dedup key, no audit entry, no reply job where one is due and it was not
    delivered either] counts. `guid_numbers`: (guid, number) pairs."""
    by_shard = {}
    for guid, number in guid_numbers:
        by_shard.setdefault(shard_of(number), []).append(guid)
    guids, masks = [], []
    for s, part in by_shard.items():
        guids += part
        masks += verify_masks(["redis-cli", "-c", "-p", str(cluster.live().port)], f"{prefix}:{{{s}}}", part)
    return missing(guids, masks, delivered)


def redirects(admin_port):
    """MOVED / ASK / TRYAGAIN counts from a serve's /metrics."""
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/metrics", timeout=5).read().decode()
    except Exception:
        return {}
    return {k: int(float(v)) for k, v in re.findall(r'redis_cluster_redirects_total\{kind="(\w+)"\} ([0-9.e+]+)', text)}


def cluster_serve(procs, b, cluster, prefix, env=None):
    admin = free_port()
    port = serve(procs, b, {"REDIS_CLUSTER_NODES": cluster.seeds}, prefix, env, admin=admin)
    return port, admin


def cluster_worker(procs, b, cluster, prefix, sink):
    return worker(procs, b, "redis://127.0.0.1:1", prefix, sink.url, env={"REDIS_CLUSTER_NODES": cluster.seeds})


def cluster_storm(b, s):
    """12. retry storm on the cluster: every guid POSTed 3 times concurrently to 3 instances -> accepted once, one
    reply each."""
    n = s["storm"]
    procs, sink = Procs(), Sink()
    try:
        cluster = Cluster(procs)
        ports = [cluster_serve(procs, b, cluster, "cstorm")[0] for _ in range(3)]
        accepted, statuses = storm_posts(ports, n, "cstorm")
        for _ in range(2):
            cluster_worker(procs, b, cluster, "cstorm", sink)
        wait_for(lambda: sink.counts()[0] >= n, 90, 0.1)
        delivered, dups = sink.counts()
        lost = verify_cluster(cluster, "cstorm", [(f"cstorm-{i}", f"+1555{i:07d}") for i in range(n)], delivered=set(
            f"cstorm-{i}" for i in range(n)))
        shards = len({shard_of(f"+1555{i:07d}") for i in range(n)})
        ok = all(a == 1 for a in accepted) and delivered == n and dups == 0 and lost[:2] == [0, 0]
        return ok, (f"{n} guids x 3 concurrent POSTs to 3 instances on 3 primaries ({shards} shards): {sum(accepted)} "
                    f"accepted, non-200: {sum(1 for x in statuses if x != 200)}, replies delivered {delivered}, "
                    f"duplicates {dups}, stored-key misses {lost[0]}, audit misses {lost[1]}")
    finally:
        sink.close()
        procs.stop_all()


def cluster_failover(b, s, min_ack):
    """13. a primary SIGKILLed under load: its replica is promoted; the longest time without a 2xx for the shards it
    served, and acknowledged-but-lost, key by key; then the old primary comes back as a replica."""
    procs = Procs()
    try:
        cluster = Cluster(procs)
        env = {"REDIS_CONNECT_TIMEOUT_MS": "300", "REDIS_COMMAND_TIMEOUT_MS": "1000"}
        if min_ack:
            env["REDIS_MIN_REPLICAS_ACK"] = "1"
        port, _ = cluster_serve(procs, b, cluster, "cfo", env)
        load = Load(port, "cfo", threads=8)
        time.sleep(1.5)
        owners = cluster.owners()
        victim = owners[slot_of_shard(0)]
        victim_shards = {x for x in range(SHARDS) if owners[slot_of_shard(x)] == victim}
        killed = time.time()
        cluster.node(victim).kill()
        on_victim = lambda guid: shard_of(message(guid)["number"]) in victim_shards  # noqa: E731

        def resumed():
            with load.lock:
                return any(c[2] == 200 and c[0] > killed + 0.5 and on_victim(c[4]) for c in load.calls)
        promoted = wait_for(lambda: cluster.owners().get(slot_of_shard(0)) not in (None, victim), 30, 0.1)
        promoted_after = time.time() - killed
        cluster.node(victim).start()  # back, as a replica of the promoted one: with the ack required, writes resume
        back = wait_for(resumed, 30, 0.1)
        time.sleep(1.0)
        end = time.time()
        load.stop()
        with load.lock:
            calls = list(load.calls)
        ok_times = sorted(c[0] + c[1] for c in calls if c[2] == 200 and on_victim(c[4]) and c[0] + c[1] > killed)
        window = [killed] + ok_times + [end]
        gap = max(y - x for x, y in zip(window, window[1:]))
        other = [c for c in calls if c[0] > killed and c[0] < killed + 3 and not on_victim(c[4])]
        other_ok = sum(1 for c in other if c[2] == 200)
        acked = [(c[4], message(c[4])["number"]) for c in calls if c[2] == 200]
        wait_for(cluster.wait_ready, 30)
        lost = verify_cluster(cluster, "cfo", acked)[:2]
        non503 = sum(1 for c in calls if c[2] not in (200, 503))
        how = (f"replica promoted {promoted_after:.1f} s after the kill; "
               + ("writes resumed on it" if not min_ack else "503 (no replica left to acknowledge) until the old primary "
                  "rejoined as its replica") if promoted else "no promotion")
        ok = lost == [0, 0] and non503 == 0 and promoted and back
        return ok, (f"REDIS_MIN_REPLICAS_ACK={1 if min_ack else 0}: {len(acked)} acknowledged; killed primary served "
                    f"{len(victim_shards)} of {SHARDS} shards; longest time without a 2xx for those {gap:.1f} s ({how}); "
                    f"other shards in the 3 s after the kill: {other_ok}/{len(other)} 2xx; answers other than 200/503: "
                    f"{non503}; acknowledged but lost: {lost[0]} dedup keys, {lost[1]} audit entries")
    finally:
        procs.stop_all()


def cluster_reshard(b, s):
    """14. live resharding under load: `redis-cli --cluster reshard` moves slots (with their shards' keys) between
    primaries while messages arrive and a worker drains; no answer but 200/503, nothing lost, no reply twice."""
    procs, sink = Procs(), Sink()
    try:
        cluster = Cluster(procs)
        port, admin = cluster_serve(procs, b, cluster, "crs")
        cluster_worker(procs, b, cluster, "crs", sink)
        load = Load(port, "crs", threads=8)
        time.sleep(1.0)
        owners = cluster.owners()
        primaries = sorted(set(owners.values()))
        source, target = primaries[0], primaries[1]
        moving = sum(1 for x in range(SHARDS) if owners[slot_of_shard(x)] == source)
        t0 = time.time()
        out = subprocess.run(["redis-cli", "--cluster", "reshard", f"127.0.0.1:{source}", "--cluster-from", cluster.node_id(source),
                              "--cluster-to", cluster.node_id(target), "--cluster-slots", str(s["reshard_slots"]), "--cluster-yes",
                              "--cluster-pipeline", "100"], capture_output=True, text=True, timeout=600)
        took = time.time() - t0
        time.sleep(1.0)
        load.stop()
        after = cluster.owners()
        moved = sum(1 for x in range(SHARDS) if owners[slot_of_shard(x)] == source and after[slot_of_shard(x)] == target)
        with load.lock:
            calls = list(load.calls)
        statuses = {}
        for c in calls:
            statuses[c[2]] = statuses.get(c[2], 0) + 1
        acked = [(c[4], message(c[4])["number"]) for c in calls if c[2] == 200]
        wait_for(lambda: sink.replies([g for g, _ in acked])[0] == 0, 60, 0.2)
        undelivered, twice = sink.replies([g for g, _ in acked])
        lost = verify_cluster(cluster, "crs", acked, delivered=set(g for g, _ in acked))[:2]
        counts = redirects(admin)
        non = sum(v for k, v in statuses.items() if k not in (200, 503))
        ok = out.returncode == 0 and moved > 0 and non == 0 and lost == [0, 0] and undelivered == 0 and twice == 0
        return ok, (f"{moved} of {moving} shards of one primary moved to another in {took:.1f} s "
                    f"(`redis-cli --cluster reshard`, {s['reshard_slots']} slots) under load: {len(calls)} calls, {statuses.get(200, 0)} "
                    f"x 200, {statuses.get(503, 0)} x 503, other {non}; acknowledged but lost: {lost[0]} dedup keys, "
                    f"{lost[1]} audit entries; replies missing {undelivered}, twice {twice}; serve saw MOVED "
                    f"{counts.get('moved', 0)}, ASK {counts.get('ask', 0)}, TRYAGAIN {counts.get('tryagain', 0)}")
    finally:
        sink.close()
        procs.stop_all()
