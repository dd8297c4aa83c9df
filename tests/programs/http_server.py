#!/usr/bin/env python3
"""An HTTP server for the tests, on 127.0.0.1 only. Prints "PORT PID" on its
first line, then serves until killed:
  POST /echo          200 with the request's Idempotency-Key, X-Correlation-ID,
                      X-Custom, traceparent and tracestate headers and its JSON body
  POST /status/NNN    answers NNN
  POST /text          200 with a body that is not JSON
  POST /big           200 with a 2 MiB body
  POST /slow          answers after 5 s
  POST /flaky/N       503 for the first N calls, then 200
  GET /count/flaky    how many calls /flaky has received, as JSON
"""
import http.server
import json
import os
import sys
import threading
import time

flaky_calls = 0
flaky_lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body, content_type="application/json"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/count/flaky":
            with flaky_lock:
                self.reply(200, json.dumps({"calls": flaky_calls}))
        else:
            self.reply(404, "{}")

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        if self.path == "/echo":
            self.reply(200, json.dumps({
                "idempotency_key": self.headers.get("Idempotency-Key"),
                "correlation_id": self.headers.get("X-Correlation-ID"),
                "custom": self.headers.get("X-Custom"),
                "traceparent": self.headers.get("traceparent"),
                "tracestate": self.headers.get("tracestate"),
                "content_type": self.headers.get("Content-Type"),
                "body": json.loads(raw or b"null")}))
        elif self.path.startswith("/status/"):
            code = int(self.path.rsplit("/", 1)[1])
            self.reply(code, json.dumps({"error": "status %d" % code}))
        elif self.path == "/text":
            self.reply(200, "plain words", "text/plain")
        elif self.path == "/big":
            self.reply(200, b"x" * (2 << 20), "text/plain")
        elif self.path.startswith("/flaky/"):
            global flaky_calls
            with flaky_lock:
                flaky_calls += 1
                n = flaky_calls
            failing = n <= int(self.path.rsplit("/", 1)[1])
            self.reply(503 if failing else 200, json.dumps({"call": n}))
        elif self.path == "/slow":
            time.sleep(5)
            self.reply(200, "{}")
        else:
            self.reply(404, "{}")


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that gave up (a timeout test) is not news


server = Server(("127.0.0.1", 0), Handler)
print(server.server_address[1], os.getpid(), flush=True)
server.serve_forever()
