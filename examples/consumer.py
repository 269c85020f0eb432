#!/usr/bin/env python3
"""A minimal application endpoint for smshook events (standard library only).

Verifies each delivery's Standard Webhooks signature, ignores repeats of an event it already handled (same
webhook-id), and prints every answer with the question it answers:

    SMSHOOK_EVENTS_SECRET=whsec_... python3 examples/consumer.py 8000
"""
import base64, hashlib, hmac, json, os, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = base64.b64decode(os.environ["SMSHOOK_EVENTS_SECRET"].removeprefix("whsec_"))
TOLERANCE = 300  # seconds: older (or future) timestamps are refused, so a captured request cannot be replayed later
seen = set()  # webhook-ids handled; keep them in your database in production
lock = threading.Lock()  # requests are handled on several threads


def verify(headers, body):
    msg_id, timestamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
    if not msg_id or not timestamp.isdigit() or abs(time.time() - int(timestamp)) > TOLERANCE:
        return False
    mac = hmac.new(SECRET, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    expected = "v1," + base64.b64encode(mac).decode()
    return any(hmac.compare_digest(expected, sig) for sig in headers.get("webhook-signature", "").split())


class Events(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if not verify(self.headers, body):
            self.send_response(401)
            self.end_headers()
            return
        event_id = self.headers["webhook-id"]
        with lock:
            first = event_id not in seen  # at least once: a repeat is acknowledged, not handled twice
            seen.add(event_id)
        if first:
            event = json.loads(body)
            data = event["data"]
            if event["type"] == "message.received":
                question = (data.get("in_reply_to") or {}).get("body", "(no open question)")
                line = (f"{data.get('number')} answered {data.get('intent')} ({data.get('language')}): "
                        f"{data.get('message')!r} to {question!r}")
            else:
                line = f"{event['type']}: {json.dumps(data)}"
            with lock:
                print(line, flush=True)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 8000), Events).serve_forever()
