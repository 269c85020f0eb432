#!/usr/bin/env python3
"""`make soak`: steady mixed load for SOAK_SECONDS (default 600) against 2 serve instances and 2 workers sending to a
provider that fails 5% of sends with 500 and 1% with 429. Every 10 s it samples each process's RSS, open fds and
threads, Redis memory and keys, queue depth and the p99 of the last 10 s. Usage: soak.py SMSHOOK_BIN [--seconds N]
[--rate CALLS_PER_S] [--report FILE].

It fails when:
- a process grows: RSS at the end more than 16 MiB + 20% above its RSS at a third of the run; open fds more than
  8 above, threads more than 4 above their count at a third of the run;
- Redis holds keys the TTLs do not explain: more than one per acknowledged message (dedup key) + one per reply sent
  (sent marker) + one per number (loop-guard window) + 128 (queues, streams, sets, locks, heartbeats, and the send
  claims of the jobs in flight: at most 2 workers x 16), or fewer than the acknowledged messages; or its memory per key + audit entry at the end exceeds 1.5x that at a third of the run;
- any reply is lost or sent twice (every guid checked at the end), a duplicate is accepted, or a 10 s window's p99
  exceeds 2 s."""
import argparse
import os
import random
import sys
import time

from harness import LoadThreads, Procs, Redis, Sink, p99_ms, post, queue_empty, redis_cli, serve, wait_for, worker

MIB = 1 << 20


def proc_stats(pid):
    rss, threads = 0, 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    return {"rss": rss, "fds": len(os.listdir(f"/proc/{pid}/fd")), "threads": threads}


def redis_info(port, section, field):
    for line in redis_cli(port, "info", section).splitlines():
        if line.startswith(field + ":"):
            return int(line.split(":")[1].split(",")[0].split("=")[-1])
    return 0


class Mix(LoadThreads):
    """The load: paced calls from 4 threads, each a single message (80%), a batch of 5 (10%) or a duplicate of an
    acknowledged message sent to the other instance (10%); every 2 s a fresh number sends STOP, and START 5 s later."""

    def __init__(self, ports, rate):
        self.ports, self.rate = ports, rate
        self.acked, self.numbers, self.calls = [], set(), []  # calls: (time, seconds, status)
        self.recent = []  # (guid, number) of acknowledged single messages, for provider-style retries
        self.dup_accepted, self.dups_sent, self.seq = 0, 0, 0
        self.start_threads(4, extra=[self.stop_start])

    def next_id(self):
        with self.lock:
            self.seq += 1
            return self.seq

    def call(self, port, body, guids, number_list):
        t0 = time.time()
        st, answer, _ = post(port, body)
        with self.lock:
            self.calls.append((t0, time.time() - t0, st))
            if st == 200:
                self.acked.extend(guids)
                self.numbers.update(number_list)
        return st, answer

    def message(self, text=None):
        n = self.next_id()
        number = f"+1555{random.randrange(20000):07d}"
        return {"message": text or random.choice(["yes", "no", "YES please", "nope", "what time?", "ok"]),
                "number": number, "guid": f"soak-{n}"}

    def run(self, t):
        interval, due = 4.0 / self.rate, time.time()
        while not self.stopped.is_set():
            k = random.random()
            port = random.choice(self.ports)
            if k < 0.8:
                m = self.message()
                if self.call(port, m, [m["guid"]], [m["number"]])[0] == 200:
                    with self.lock:
                        self.recent = self.recent[-4999:] + [(m["guid"], m["number"])]
            elif k < 0.9:
                ms = [self.message() for _ in range(5)]
                self.call(port, {"messages": ms}, [m["guid"] for m in ms], [m["number"] for m in ms])
            else:
                with self.lock:
                    retry = random.choice(self.recent) if self.recent else None
                if retry:
                    other = self.ports[1] if port == self.ports[0] else self.ports[0]
                    st, answer = post(other, {"message": "yes", "number": retry[1], "guid": retry[0]})[:2]
                    with self.lock:
                        self.dups_sent += 1
                        self.dup_accepted += (answer or {}).get("processed", 0) if st == 200 else 0
            due += interval
            pause = due - time.time()
            if pause > 0:
                self.stopped.wait(pause)
            else:
                due = time.time()  # behind: do not burst to catch up

    def stop_start(self):
        pending, k = [], 0
        while not self.stopped.wait(2.0):
            k += 1
            number = f"+1666{k:07d}"
            self.call(random.choice(self.ports), {"message": "STOP", "number": number, "guid": f"soak-stop-{k}"},
                      [f"soak-stop-{k}"], [number])
            pending.append((time.time() + 5, number, k))
            while pending and pending[0][0] <= time.time():
                _, num, j = pending.pop(0)
                self.call(random.choice(self.ports), {"message": "START", "number": num, "guid": f"soak-start-{j}"},
                          [f"soak-start-{j}"], [num])

    def p99(self, start, end):
        with self.lock:
            return p99_ms(c[1] for c in self.calls if start <= c[0] < end)


DECISIONS = """
local out = {}
for i = 2, #ARGV do
  local v = redis.call('GET', ARGV[1] .. ':dedup:' .. ARGV[i])
  out[#out + 1] = v and cjson.decode(v).decision or 'missing'
end
return out
"""


def decisions(port, prefix, guids):
    out = []
    for i in range(0, len(guids), 2000):
        out += redis_cli(port, "EVAL", DECISIONS, 0, prefix, *guids[i:i + 2000]).split()
    return dict(zip(guids, out))


def soak_markdown(a, summary, curves, samples, failures):
    """The run as a RELIABILITY.md section: the figures, the bounds, a sample a minute."""
    every = max(1, len(samples) // 10)
    rows = "".join(
        f"| {s['t']:.0f} | {s['keys']} | {s['memory'] / MIB:.1f} | {s['queue']} | {s['p99']:.0f} | "
        + " | ".join(f"{v['rss'] / MIB:.0f} / {v['fds']} / {v['threads']}" for v in s["procs"].values()) + " |\n"
        for s in samples[::every] + ([samples[-1]] if (len(samples) - 1) % every else []))
    names = list(samples[0]["procs"])
    return (f"## Soak\n\n`make soak` ({a.seconds:.0f} s, `python3 ops/chaos/soak.py`) on {time.strftime('%Y-%m-%d')}, "
            f"{os.cpu_count()} cores: {'passed' if not failures else 'FAILED: ' + '; '.join(failures)}.\n\n"
            f"{summary}.\n\nFrom a third of the run to its end: {curves}.\n\n"
            "Bounds (the run fails beyond them): RSS at the end at most 16 MiB + 20% above its value at a third of the run; "
            "fds +8, threads +4; Redis keys at most one per acknowledged message + one per reply sent + one per number "
            "+ 128, never fewer than the acknowledged messages; Redis bytes per key + audit entry at most 1.5x; no "
            "reply lost or sent twice, no duplicate accepted, no dead job; p99 of every 10 s under 2 s.\n\n"
            "| s | Redis keys | Redis MiB | queue | p99 ms | " + " | ".join(f"{n} RSS MiB / fds / threads" for n in names)
            + " |\n|" + "---|" * (5 + len(names)) + "\n" + rows)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", 600)))
    ap.add_argument("--rate", type=float, default=float(os.environ.get("SOAK_RATE", 200)))
    ap.add_argument("--report", default="")
    a = ap.parse_args()
    binary = os.path.abspath(a.binary)

    def answer():
        x = random.random()
        return (500, {}) if x < 0.05 else (429, {"Retry-After": "1"}) if x < 0.06 else (204, {})

    procs, sink = Procs(), Sink(answer=answer)
    failures, samples = [], []
    try:
        r = Redis(procs, "r", ["--appendonly", "yes", "--appendfsync", "everysec"])
        env = {"SMSHOOK_AUDIT_MAXLEN": "50000"}
        ports = [serve(procs, binary, {"REDIS_URL": r.url}, "soak", env=env) for _ in range(2)]
        serves = procs.procs[-2:]
        wenv = {**env, "RETRY_BASE_SECONDS": "0.5", "RETRY_CAP_SECONDS": "5", "WORKER_SEND_LEASE": "10"}
        workers = [worker(procs, binary, r.url, "soak", sink.url, env=wenv) for _ in range(2)]
        named = [(f"serve-{i}", p) for i, p in enumerate(serves)] + [(f"worker-{i}", p) for i, p in enumerate(workers)]
        base_memory = redis_info(r.port, "memory", "used_memory")
        mix, start = Mix(ports, a.rate), time.time()
        step = min(10.0, a.seconds / 6)
        while time.time() - start < a.seconds:
            time.sleep(min(step, max(0.0, start + a.seconds - time.time())))
            now = time.time()
            with mix.lock:
                acked, numbers = len(set(mix.acked)), len(mix.numbers)
            with sink.lock:
                sent = len(set(sink.deliveries))
            keys = int(redis_cli(r.port, "dbsize") or 0)
            entries = keys + int(redis_cli(r.port, "XLEN", "soak:audit") or 0)
            memory = redis_info(r.port, "memory", "used_memory")
            sample = {"t": now - start, "procs": {n: proc_stats(p.pid) for n, p in named}, "keys": keys,
                      "explained": acked + sent + numbers + 128, "acked": acked, "memory": memory,
                      "per_entry": (memory - base_memory) / max(1, entries),
                      "queue": int(redis_cli(r.port, "LLEN", "soak:replies") or 0)
                      + int(redis_cli(r.port, "ZCARD", "soak:replies:retry") or 0),
                      "p99": mix.p99(now - step, now)}
            samples.append(sample)
            s0 = sample["procs"]
            print(f"{sample['t']:6.0f} s  keys {keys} (explained <= {sample['explained']})  redis {memory / MIB:.1f} MiB  "
                  f"queue {sample['queue']}  p99 {sample['p99']:.0f} ms  "
                  + "  ".join(f"{n} {v['rss'] / MIB:.0f}M/{v['fds']}fd/{v['threads']}t" for n, v in s0.items()), flush=True)
            if keys > sample["explained"] or keys < acked:
                failures.append(f"at {sample['t']:.0f} s: {keys} keys, explained {acked} .. {sample['explained']}")
            if sample["p99"] > 2000:
                failures.append(f"at {sample['t']:.0f} s: p99 {sample['p99']:.0f} ms over 2 s")
        mix.stop()
        settled = wait_for(lambda: queue_empty(r.port, "soak"), 120, 0.5)
        time.sleep(1.0)
        third = next(s for s in samples if s["t"] >= samples[-1]["t"] / 3)
        end = samples[-1]
        for name in end["procs"]:
            a0, a1 = third["procs"][name], end["procs"][name]
            if a1["rss"] > a0["rss"] * 1.2 + 16 * MIB:
                failures.append(f"{name} RSS {a0['rss'] / MIB:.0f} -> {a1['rss'] / MIB:.0f} MiB")
            if a1["fds"] > a0["fds"] + 8:
                failures.append(f"{name} fds {a0['fds']} -> {a1['fds']}")
            if a1["threads"] > a0["threads"] + 4:
                failures.append(f"{name} threads {a0['threads']} -> {a1['threads']}")
        if end["per_entry"] > 1.5 * third["per_entry"]:
            failures.append(f"Redis bytes per key+entry {third['per_entry']:.0f} -> {end['per_entry']:.0f}")
        # every acknowledged message: one reply if its decision queued one, none otherwise
        unique = sorted(set(mix.acked))
        decided = decisions(r.port, "soak", unique)
        missing = [g for g, d in decided.items() if d == "missing"]
        with sink.lock:
            got = dict(sink.guids)
        lost = [g for g, d in decided.items() if d == "queued" and got.get(g, 0) == 0]
        twice = [g for g in unique if got.get(g, 0) > 1]
        unexpected = [g for g, d in decided.items() if d != "queued" and got.get(g, 0) > 0]
        dead = int(redis_cli(r.port, "LLEN", "soak:replies:dead") or 0)
        for what, items in (("acknowledged but not stored", missing), ("replies lost", lost), ("replies sent twice", twice),
                            ("replies for no queued decision", unexpected)):
            if items:
                failures.append(f"{len(items)} {what} (e.g. {items[:3]})")
        if mix.dup_accepted:
            failures.append(f"{mix.dup_accepted} duplicates accepted")
        if dead:
            failures.append(f"{dead} dead jobs")
        if not settled:
            failures.append("the queue did not drain within 120 s after the load")
        queued = sum(1 for d in decided.values() if d == "queued")
        summary = (f"{a.seconds:.0f} s at {a.rate:.0f} calls/s: {len(mix.calls)} calls, {len(unique)} messages acknowledged, "
                   f"{mix.dups_sent} duplicates sent ({mix.dup_accepted} accepted), {queued} replies due, "
                   f"{sum(got.get(g, 0) for g in unique)} delivered ({sink.attempts} send attempts with 5% 500 and 1% "
                   f"429), lost {len(lost)}, twice {len(twice)}, dead {dead}")
        curves = "; ".join(
            f"{n} RSS {third['procs'][n]['rss'] / MIB:.0f}->{end['procs'][n]['rss'] / MIB:.0f} MiB, fds "
            f"{samples[0]['procs'][n]['fds']}->{end['procs'][n]['fds']}, threads "
            f"{samples[0]['procs'][n]['threads']}->{end['procs'][n]['threads']}" for n in end["procs"])
        curves += (f"; Redis {samples[0]['memory'] / MIB:.1f}->{end['memory'] / MIB:.1f} MiB, keys {samples[0]['keys']}->"
                   f"{end['keys']} (explained <= {end['explained']}), p99 per 10 s {min(s['p99'] for s in samples):.0f}-"
                   f"{max(s['p99'] for s in samples):.0f} ms")
        print("soak: " + summary)
        print("curves (RSS from a third of the run to the end): " + curves)
        if a.report:
            with open(a.report, "w") as f:
                f.write(soak_markdown(a, summary, curves, samples, failures))
        for f in failures:
            print("FAIL " + f)
        print("soak: " + ("passed" if not failures else f"failed ({len(failures)})"))
        sys.exit(1 if failures else 0)
    finally:
        sink.close()
        procs.stop_all()


if __name__ == "__main__":
    main()
