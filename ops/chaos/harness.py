"""Processes and helpers for the chaos scenarios: redis-server, sentinels, smshook serve/worker, a sink provider."""
import concurrent.futures as cf
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, timeout=10.0, step=0.02):
    end = time.time() + timeout
    while time.time() < end:
        try:
            if check():
                return True
        except Exception:
            pass
        time.sleep(step)
    return False


class Procs:
    """Every process a scenario starts; all are stopped at the end, whatever happens."""

    def __init__(self):
        self.procs = []
        self.dir = tempfile.mkdtemp(prefix="smshook-chaos-")

    def start(self, args, env=None, log=None):
        out = open(os.path.join(self.dir, log), "ab") if log else subprocess.DEVNULL
        p = subprocess.Popen(args, env={**os.environ, **(env or {})}, stdout=out, stderr=subprocess.STDOUT)
        self.procs.append(p)
        return p

    def stop_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
        for p in self.procs:
            try:
                p.wait(5)
            except Exception:
                pass
        if os.environ.get("CHAOS_KEEP") != "1":
            subprocess.run(["rm", "-rf", self.dir])


def redis_cli(port, *args):
    out = subprocess.run(["redis-cli", "-p", str(port), *map(str, args)], capture_output=True, text=True, timeout=10)
    return out.stdout.strip()


class Redis:
    def __init__(self, procs, name, extra=(), port=None):
        self.procs, self.port = procs, port or free_port()
        self.dir = os.path.join(procs.dir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.extra = list(extra)
        self.proc = None
        self.start()

    def start(self):
        self.proc = self.procs.start(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
                                      "--save", "", "--repl-diskless-sync-delay", "0", *self.extra])
        assert wait_for(lambda: redis_cli(self.port, "ping") == "PONG"), "redis-server did not start"
        assert wait_for(lambda: "loading:0" in redis_cli(self.port, "info", "persistence")), "redis still loading"

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}"


class Sentinel:
    def __init__(self, procs, primary_port, name="chaos"):
        self.port = free_port()
        conf = os.path.join(procs.dir, f"sentinel-{self.port}.conf")
        with open(conf, "w") as f:
            f.write(f"port {self.port}\nbind 127.0.0.1\ndir {procs.dir}\n"
                    f"sentinel monitor {name} 127.0.0.1 {primary_port} 2\n"
                    f"sentinel down-after-milliseconds {name} 1000\nsentinel failover-timeout {name} 5000\n")
        procs.start(["redis-server", conf, "--sentinel"])
        assert wait_for(lambda: redis_cli(self.port, "ping") == "PONG")


def serve(procs, binary, redis_env, prefix, env=None, admin=None):
    port = free_port()
    procs.start([binary, "serve", "--port", str(port), "--admin-port", str(admin or free_port())],
                env={**redis_env, "SMSHOOK_KEY_PREFIX": prefix, "SMSHOOK_AUTH": "none", "LOG_LEVEL": "error",
                     "SMSHOOK_CONFIG": os.path.join(ROOT, "config/smshook.yaml"), **(env or {})},
                log=f"serve-{port}.log")
    assert wait_for(lambda: get(port, "/healthz")[0] == 200, 20), "serve did not start"
    return port


def worker(procs, binary, redis_url, prefix, sink_url, env=None, log="workers.log"):
    return procs.start([binary, "worker"],
                       env={"REDIS_URL": redis_url, "SMSHOOK_KEY_PREFIX": prefix, "SMSHOOK_PROVIDER": "http",
                            "HTTP_PROVIDER_URL": sink_url, "HTTP_PROVIDER_SECRET": "chaos", "SMSHOOK_ALLOW_INSECURE_PROVIDER": "1", "LOG_LEVEL": "error",
                            "WORKER_HEARTBEAT_TTL": "2", "WORKER_HEARTBEAT_INTERVAL": "0.5",
                            "WORKER_REAP_INTERVAL": "0.5", "WORKER_BLOCK_SECONDS": "0.2", "WORKER_SEND_LEASE": "2", **(env or {})},
                       log=log)


_local = threading.local()


def _conn(port):
    conns = getattr(_local, "conns", None)
    if conns is None:
        conns = _local.conns = {}
    if port not in conns:
        conns[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    return conns[port]


def request(port, method, path, body=None, headers=None):
    """(status, parsed JSON or None, headers); reconnects once on a broken keep-alive connection."""
    for attempt in range(2):
        c = _conn(port)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            try:
                parsed = json.loads(data) if data else None
            except ValueError:
                parsed = None
            return r.status, parsed, dict(r.getheaders())
        except (ConnectionError, http.client.HTTPException, OSError):
            c.close()
            _local.conns.pop(port, None)
            if attempt == 1:
                return 0, None, {}


def get(port, path):
    return request(port, "GET", path)


def post(port, body, path="/api/webhook/sms-received"):
    if not isinstance(body, (bytes, bytearray)):
        body = json.dumps(body).encode()
    return request(port, "POST", path, body, {"Content-Type": "application/json"})


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a worker killed mid-request resets its connection: expected here


def serve_http(handler):
    """`handler` on a free loopback port, on a thread of its own; `.shutdown()` stops it."""
    server = QuietServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def answer_empty(handler, status, headers=None):
    handler.send_response(status)
    for k, v in (headers or {}).items():
        handler.send_header(k, v)
    handler.send_header("Content-Length", "0")
    handler.end_headers()


class Sink:
    """A provider endpoint that counts deliveries by job id (webhook-id header)."""

    def __init__(self, delay=0.0, answer=None):
        """`answer()` picks each answer's (status, headers); default 204. Only 2xx answers count as delivered."""
        self.lock = threading.Lock()
        self.deliveries = []
        self.paths = []
        self.guids = {}  # in_reply_to -> replies received
        self.attempts = 0
        sink = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if delay:
                    time.sleep(delay)
                try:
                    guid = json.loads(body).get("in_reply_to")
                except ValueError:
                    guid = None
                status, headers = answer() if answer else (204, {})
                with sink.lock:
                    sink.attempts += 1
                    if status < 300:
                        sink.deliveries.append(self.headers.get("webhook-id"))
                        sink.paths.append(self.path)
                        sink.guids[guid] = sink.guids.get(guid, 0) + 1
                answer_empty(self, status, headers)

            def log_message(self, *a):
                pass

        self.server = serve_http(H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def counts(self):
        with self.lock:
            ids = list(self.deliveries)
        return len(set(ids)), len(ids) - len(set(ids))

    def replies(self, guids):
        """(guids without a reply, replies beyond the first) for these inbound guids."""
        with self.lock:
            counts = [self.guids.get(g, 0) for g in guids]
        return sum(1 for c in counts if c == 0), sum(c - 1 for c in counts if c > 1)

    def close(self):
        self.server.shutdown()


def enqueue_jobs(redis_port, prefix, n):
    script = ("for i = 1, tonumber(ARGV[1]) do redis.call('LPUSH', KEYS[1], '{\"id\":\"job-' .. i .. '\",\"to\":\"+1555' .. i .. "
              "'\",\"body\":\"Thanks\",\"in_reply_to\":\"g-' .. i .. '\",\"intent\":\"affirmative\",\"provider\":\"smsmobileapi\","
              "\"created_at\":\"2025-01-20T10:00:00Z\",\"attempt\":0}') end return 1")
    redis_cli(redis_port, "EVAL", script, 1, f"{prefix}:replies", n)


def processing_total(redis_port, prefix):
    out = redis_cli(redis_port, "EVAL",
                    "local n = 0 for _, k in ipairs(redis.call('KEYS', ARGV[1])) do n = n + redis.call('LLEN', k) end return n",
                    0, f"{prefix}:replies:processing:*")
    return int(out or 0)


def message(guid, text="yes"):
    return {"message": text, "number": "+1555" + str(abs(hash(guid)) % 10**7), "guid": guid}


def rand_guid(tag):
    return f"{tag}-{random.getrandbits(48):x}"


class LoadThreads:
    """`threads` threads running `self.run(t)` (plus `extra` callables) until `stop()`; `lock` guards what they record."""

    def start_threads(self, threads, extra=()):
        self.lock, self.stopped = threading.Lock(), threading.Event()
        self.threads = ([threading.Thread(target=self.run, args=(t,)) for t in range(threads)]
                        + [threading.Thread(target=f) for f in extra])
        for t in self.threads:
            t.start()

    def stop(self):
        self.stopped.set()
        for t in self.threads:
            t.join()


def p99_ms(seconds):
    """The 99th percentile of these durations (seconds), in milliseconds; 0 for none."""
    xs = sorted(seconds)
    return xs[min(len(xs) - 1, int(len(xs) * 0.99))] * 1000 if xs else 0.0


class Load(LoadThreads):
    """Threads posting unique messages ("yes") to one serve port until stopped; every call is kept as
    (start, seconds, status, spooled, guid). `number(t, i, guid)` picks the sender (by default from the guid)."""

    def __init__(self, port, tag, threads=16, number=None):
        self.port, self.tag, self.calls = port, tag, []
        self.number = number or (lambda t, i, guid: message(guid)["number"])
        self.start_threads(threads)

    def run(self, t):
        i = 0
        while not self.stopped.is_set():
            guid = f"{self.tag}-{t}-{i}"
            t0 = time.time()
            st, body, _ = post(self.port, {"message": "yes", "number": self.number(t, i, guid), "guid": guid})
            with self.lock:
                self.calls.append((t0, time.time() - t0, st, (body or {}).get("spooled", 0) if st == 200 else 0, guid))
            i += 1

    @property
    def acked(self):
        """Guids answered 2xx, in order."""
        with self.lock:
            return [c[4] for c in self.calls if c[2] == 200]

    @property
    def times(self):
        """When each 2xx came back."""
        with self.lock:
            return [c[0] + c[1] for c in self.calls if c[2] == 200]

    @property
    def attempts(self):
        with self.lock:
            return len(self.calls)

    def window(self, start, end):
        """The calls started in [start, end)."""
        with self.lock:
            return [c for c in self.calls if start <= c[0] < end]


VERIFY = """
-- per guid a bitmask: 1 no dedup key, 2 no audit entry, 4 no reply job though one is due. KEYS[1]: the key base
-- (the prefix, or a cluster shard's prefix:{s}, so the script runs where that shard lives).
local base = KEYS[1]
local audit, jobs = {}, {}
for _, e in ipairs(redis.call('XRANGE', base .. ':audit', '-', '+')) do
  local f = e[2]
  for i = 1, #f, 2 do if f[i] == 'data' then audit[cjson.decode(f[i + 1]).guid or ''] = true end end
end
for _, j in ipairs(redis.call('LRANGE', base .. ':replies', 0, -1)) do jobs[cjson.decode(j).in_reply_to] = true end
local out = {}
for i = 1, #ARGV do
  local g, m = ARGV[i], 0
  local value = redis.call('GET', base .. ':dedup:' .. g)
  if not value then m = m + 1 end
  if not audit[g] then m = m + 2 end
  -- a reply job is due only where the ingest decided 'queued' (not for a loop-guard or opt-out suppression)
  if value and cjson.decode(value).decision == 'queued' and not jobs[g] then m = m + 4 end
  out[i] = m
end
return out
"""


def verify_masks(cli, base, guids):
    """Each guid's VERIFY bitmask under `base`; `cli` is the redis-cli command (with -c for a cluster). An answer
    that is not one mask per guid counts each of them as missing everything."""
    masks = []
    for start in range(0, len(guids), 2000):
        part = guids[start:start + 2000]
        out = subprocess.run([*cli, "EVAL", VERIFY, "1", base, *part], capture_output=True, text=True,
                             timeout=30).stdout.split()
        masks += [int(x) for x in out] if len(out) == len(part) and all(x.isdigit() for x in out) else [7] * len(part)
    return masks


def missing(guids, masks, delivered=()):
    """[no dedup key, no audit entry, no reply job (and not delivered either)] counts."""
    return [sum(1 for m in masks if m & 1), sum(1 for m in masks if m & 2),
            sum(1 for g, m in zip(guids, masks) if m & 4 and g not in delivered)]


def verify_stored(redis_port, prefix, guids):
    """How many of these acknowledged guids lack their dedup key, their audit entry, their reply job (where due)."""
    return missing(guids, verify_masks(["redis-cli", "-p", str(redis_port)], prefix, guids))


def storm_posts(ports, n, tag, path_of=lambda i: "/api/webhook/sms-received", threads=48):
    """Every guid `tag-i` (number +1555 i) POSTed once to each port, all in a shuffled order, `threads` at a time:
    the messages each guid had accepted, and every answer's status."""
    posts = [(i, port) for i in range(n) for port in ports]
    random.shuffle(posts)
    accepted = [0] * n
    lock = threading.Lock()

    def send(item):
        i, port = item
        st, body, _ = post(port, {"message": "yes", "number": f"+1555{i:07d}", "guid": f"{tag}-{i}"}, path_of(i))
        with lock:
            accepted[i] += (body or {}).get("processed", 0) if st == 200 else 0
        return st

    with cf.ThreadPoolExecutor(threads) as ex:
        return accepted, list(ex.map(send, posts))


DUPLICATE_JOBS = """
local seen, dups = {}, 0
for _, key in ipairs(KEYS) do
  for _, j in ipairs(redis.call('LRANGE', key, 0, -1)) do
    local g = cjson.decode(j).in_reply_to
    if seen[g] then dups = dups + 1 else seen[g] = true end
  end
end
return dups
"""


def duplicate_jobs(redis_port, prefix):
    """Reply jobs queued twice for one inbound message (the queue and the retry set are read as lists of jobs)."""
    return int(redis_cli(redis_port, "EVAL", DUPLICATE_JOBS, 1, f"{prefix}:replies") or 0)


def queue_empty(redis_port, prefix):
    """Nothing queued, due for a retry or held by a worker."""
    return (int(redis_cli(redis_port, "LLEN", f"{prefix}:replies") or 0) == 0
            and int(redis_cli(redis_port, "ZCARD", f"{prefix}:replies:retry") or 0) == 0
            and processing_total(redis_port, prefix) == 0)
