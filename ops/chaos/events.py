"""Scenario 15: event delivery under a retry storm, with the README's example consumer as a second endpoint."""
import base64
import hashlib
import hmac
import json
import os
import random
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler

from harness import (ROOT, Procs, Redis, Sink, answer_empty, free_port, post, redis_cli, serve, serve_http, storm_posts,
                     wait_for, worker)

SECRET = "whsec_" + base64.b64encode(b"chaos-events-secret-0123").decode()


class EventSink:
    """An application endpoint that checks every delivery's Standard Webhooks signature, fails about one first
    attempt in ten with a 500 (so retries happen), and counts 2xx deliveries per webhook-id and per guid."""

    def __init__(self):
        self.lock = threading.Lock()
        self.delivered = {}  # webhook-id -> 2xx answers
        self.guids = {}  # guid of a message.received -> distinct webhook-ids delivered
        self.bad_signatures = 0
        self.failed_first = 0
        key = base64.b64decode(SECRET[len("whsec_"):])
        sink = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                event_id, ts = self.headers.get("webhook-id", ""), self.headers.get("webhook-timestamp", "")
                mac = hmac.new(key, f"{event_id}.{ts}.".encode() + body, hashlib.sha256).digest()
                good = ("v1," + base64.b64encode(mac).decode()) in self.headers.get("webhook-signature", "").split()
                status = 204
                with sink.lock:
                    if not good:
                        sink.bad_signatures += 1
                        status = 401
                    elif event_id not in sink.delivered and random.random() < 0.1:
                        sink.failed_first += 1
                        status = 500
                    else:
                        sink.delivered[event_id] = sink.delivered.get(event_id, 0) + 1
                        event = json.loads(body)
                        if event.get("type") == "message.received":
                            sink.guids.setdefault(event["data"]["guid"], set()).add(event_id)
                answer_empty(self, status)

            def log_message(self, *a):
                pass

        self.server = serve_http(H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/events"

    def figures(self, guids):
        """(guids without their event, deliveries beyond the first per webhook-id, guids with two event ids)."""
        with self.lock:
            missing = sum(1 for g in guids if g not in self.guids)
            repeats = sum(c - 1 for c in self.delivered.values())
            split = sum(1 for g in guids if len(self.guids.get(g, ())) > 1)
        return missing, repeats, split

    def close(self):
        self.server.shutdown()


def events_processing(redis_port, prefix):
    out = redis_cli(redis_port, "EVAL",
                    "local n = 0 for _, k in ipairs(redis.call('KEYS', ARGV[1])) do n = n + redis.call('LLEN', k) end return n",
                    0, f"{prefix}:events:app:processing:*")
    return int(out or 0)


def event_storm(b, s):
    """15. retry storm with event endpoints: every guid POSTed 3 times to 3 instances; `message.received` reaches the
    checking endpoint once per guid with one webhook-id (10% of first attempts fail and are retried), and the example
    consumer (examples/consumer.py) prints each answer once; then a worker is SIGKILLed mid-delivery: redelivery,
    no loss (repeats bounded by the events it held)."""
    n = s["storm"]
    procs, events, sms = Procs(), EventSink(), Sink()
    try:
        r = Redis(procs, "r")
        example_port = free_port()
        example_log = os.path.join(procs.dir, "example.log")
        procs.start(["python3", "-u", os.path.join(ROOT, "examples/consumer.py"), str(example_port)],
                    env={"SMSHOOK_EVENTS_SECRET": SECRET}, log="example.log")
        config = os.path.join(procs.dir, "events.yaml")
        with open(os.path.join(ROOT, "config/smshook.yaml")) as src, open(config, "w") as dst:
            dst.write(src.read() + "\nevents:\n  endpoints:\n"
                      f"    - {{name: app, url: \"{events.url}\", secrets: [APP_SECRET], types: [message.received]}}\n"
                      f"    - {{name: example, url: \"http://127.0.0.1:{example_port}/\", secrets: [APP_SECRET], types: [message.received]}}\n"
                      "  retry_schedule: [0.2, 0.5, 1, 2, 5]\n")
        env = {"SMSHOOK_CONFIG": config, "APP_SECRET": SECRET}
        ports = [serve(procs, b, {"REDIS_URL": r.url}, "ev", env=env) for _ in range(3)]
        accepted, statuses = storm_posts(ports, n, "ev")
        workers = [worker(procs, b, r.url, "ev", sms.url, env=env) for _ in range(2)]
        guids = [f"ev-{i}" for i in range(n)]
        wait_for(lambda: events.figures(guids)[0] == 0, 120, 0.2)
        missing, repeats, split = events.figures(guids)
        t0 = time.time()
        # phase 2: a worker SIGKILLed while it delivers (the endpoint slowed by the storm of the first phase is gone)
        more = [f"ev2-{i}" for i in range(n // 5)]
        for i in range(0, len(more), 50):
            batch = {"messages": [{"message": "yes", "number": f"+1556{i + j:07d}", "guid": more[i + j]}
                                  for j in range(min(50, len(more) - i))]}
            post(ports[i % 3], batch)
        wait_for(lambda: events_processing(r.port, "ev") > 0, 10, 0.005)
        held = events_processing(r.port, "ev")
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait()
        worker(procs, b, r.url, "ev", sms.url, env=env)
        wait_for(lambda: events.figures(more)[0] == 0, 60, 0.2)
        missing2, repeats2, split2 = events.figures(more)
        repeats2 -= repeats
        # the example consumer printed each answer once (it ignores repeats by webhook-id)
        wait_for(lambda: open(example_log).read().count(" answered ") >= n + len(more), 30, 0.2)
        with open(example_log) as f:
            printed = sum(1 for line in f if " answered affirmative (en): 'yes'" in line)
        ok = (sum(accepted) == n and missing == 0 and repeats == 0 and split == 0 and events.bad_signatures == 0
              and missing2 == 0 and split2 == 0 and repeats2 <= held and printed == n + len(more))
        return ok, (f"{n} guids x 3 POSTs to 3 instances ({sum(accepted)} accepted, non-200 "
                    f"{sum(1 for x in statuses if x != 200)}): message.received delivered for {n - missing} of {n}, "
                    f"repeats {repeats}, guids with two event ids {split}, first attempts failed on purpose "
                    f"{events.failed_first} (all retried), bad signatures {events.bad_signatures}; worker SIGKILLed "
                    f"holding {held} events: {len(more) - missing2} of {len(more)} delivered, repeats {repeats2} "
                    f"(at least once around the kill); example consumer printed {printed} of {n + len(more)} answers "
                    f"in {time.time() - t0:.0f} s after the storm")
    finally:
        events.close()
        sms.close()
        procs.stop_all()
