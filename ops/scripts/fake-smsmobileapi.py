#!/usr/bin/env python3
"""A local fake of SMSMobileAPI's send API for the end-to-end test: POST /sendsms/ with form fields
apikey, recipients, message. Checks the exact request, records accepted ones as JSON lines in OUT."""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

PORT, KEY, OUT = int(sys.argv[1]), sys.argv[2], sys.argv[3]


class Fake(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        problems = []
        if self.path != "/sendsms/":
            problems.append("path " + self.path)
        if self.headers.get("Content-Type") != "application/x-www-form-urlencoded":
            problems.append("content-type " + str(self.headers.get("Content-Type")))
        if form.get("apikey") != KEY:
            problems.append("apikey")
        if not form.get("recipients") or not form.get("message"):
            problems.append("recipients/message missing")
        if problems:
            with open(OUT + ".bad", "a") as f:
                f.write(json.dumps({"problems": problems, "form": form}) + "\n")
            return self.answer(400, {"result": {"error": "1", "sent": "0"}})
        with open(OUT, "a") as f:
            f.write(json.dumps(form) + "\n")
        self.answer(200, {"result": {"error": "0", "sent": "1"}})

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", PORT), Fake).serve_forever()
