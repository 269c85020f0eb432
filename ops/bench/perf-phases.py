#!/usr/bin/env python3
"""Server CPU per request by phase, from `perf script | swift demangle` output of `smshook serve` (profile-ingest.sh).

Usage: perf-phases.py NAME:STACKS:CPU_US [NAME:STACKS:CPU_US ...]

A sample goes to the first phase in PHASES with a frame anywhere in its stack that matches (so the runtime, libc and
kernel work done for our code counts with it; the order puts inner steps before the ones that call them). A sample
with no such frame goes to the framework (Hummingbird, NIO, the runtime under them) or, with its leaf in the kernel,
to the kernel. Samples are scaled to the CPU time /proc gave for the same run (CPU_US per request; perf's sampling
adds to it). With two runs or more, the last column is the last run minus the first.
"""
import collections
import re
import sys

# (phase, substrings of a frame's function name: demangled, generic arguments and signatures removed)
PHASES = [
    ("Redis client: write", ["RedisChannelHandler.write"]),
    ("Redis client: read, reply parse", ["RedisChannelHandler.channelRead", "RedisReplyReader"]),
    ("Redis client: queueing, resuming the caller", ["Link.enqueue", "RedisConnection.", "RedisRequest.",
                                                     "RedisClient.RedisClient.", "RedisConnectionStateMachine"]),
    ("response body", ["IngestSummary.", "JSONResponse."]),
    ("records + RESP command", ["IngestStore.call", "IngestScript.write", "IngestScript.Entry.write",
                                "RedisCommandBuilder", "ReplyJob.write", "JSONWriter"]),
    ("auth", ["authenticate", "WebhookAuth."]),
    ("decode + validate", ["LegacyPayload.", "JSONParser.", "MessageValidator."]),
    ("classify", ["Classifier.", "TextNormalizer."]),
    ("decide, job, ids, timestamp", ["IngestService.prepare", "ReplyPolicy.", "JobID.", "Timestamp.", "PhoneNumber.",
                                     "ReplyJob."]),
    ("metrics", ["WebhookMetrics.", "MinuteStats.", "Prometheus", "CoreMetrics."]),
    ("logging", ["TextLogHandler", "Logger.subscript", "Logger.Storage"]),
    ("body read + its deadline", ["readBody", "Deadlines."]),
    ("rest of our code", ["SMSWebhook.", "SMSCore.", "SMSStore.", "RedisClient.", "SMSSystem."]),
]
FRAMEWORK, KERNEL = "framework (Hummingbird, NIO) + runtime", "kernel (TCP, epoll, scheduling)"
FRAME = re.compile(r"\s+[0-9a-f]+ (.*) \((.*)\)$")


def function_name(symbol):
    """`Module.Type.method`, without generic arguments, parameters and result types."""
    previous = None
    while previous != symbol:
        previous = symbol
        symbol = re.sub(r"\([^()]*\)|<[^<>]*>", "", symbol)
    return re.sub(r" -> \S+$", "", symbol)


def stacks(path):
    """Each sample's frames as (function name, dso), leaf first."""
    frames = []
    with open(path, errors="replace") as f:
        for line in f:
            if not line.strip():
                if frames:
                    yield frames
                frames = []
            elif line[0] not in " \t":
                frames = []
            else:
                m = FRAME.match(line.rstrip())
                if m:
                    frames.append((function_name(m.group(1)), m.group(2)))
    if frames:
        yield frames


def phase(frames):
    for name, patterns in PHASES:
        if any(p in symbol for symbol, _ in frames for p in patterns):
            return name
    return KERNEL if "kernel" in frames[0][1] else FRAMEWORK


def main(runs):
    table, order = {}, []
    for run in runs:
        try:
            name, rest = run.split(":", 1)
            path, cpu = rest.rsplit(":", 1)
            cpu = float(cpu)
        except ValueError:
            sys.exit(f"perf-phases: {run!r} is not NAME:STACKS:CPU_US")
        counts = collections.Counter(phase(s) for s in stacks(path))
        total = sum(counts.values())
        if total == 0:
            sys.exit(f"perf-phases: no samples in {path}")
        table[name] = {k: v / total * cpu for k, v in counts.items()}
        table[name]["total"] = cpu
        order.append(name)
    names = [p for p, _ in PHASES] + [FRAMEWORK, KERNEL]
    diff = len(order) >= 2
    print("| server CPU per request, µs | " + " | ".join(order) + (f" | {order[-1]} − {order[0]} |" if diff else " |"))
    print("|---" * (len(order) + 1 + diff) + "|")
    for p in names + ["total"]:
        values = [table[n].get(p, 0.0) for n in order]
        if p != "total" and max(values) < 0.05:
            continue
        cells = " | ".join(f"{v:.1f}" for v in values)
        label = f"**{p}**" if p == "total" else p
        print(f"| {label} | {cells}" + (f" | {values[-1] - values[0]:+.1f} |" if diff else " |"))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
