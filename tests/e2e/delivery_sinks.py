"""Receivers for the delivery end-to-end test, run with Debian's python3.

  delivery_sinks.py smtp PORT MAILDIR REFUSE_FIRST
      An SMTP server (aiosmtpd) that answers "451 try again later" to the
      first REFUSE_FIRST messages, then stores every message in MAILDIR.
  delivery_sinks.py http PORT LOG SECRET...
      An HTTP server that appends one JSON line per request to LOG: path,
      status answered, webhook-id, body, and whether webhook-signature
      verifies with one of the SECRETs (Standard Webhooks v1, checked here
      independently of herald). Paths:
        /flaky/<name>  500 to the first request, then 200
        /slow          answers after 5 s (beyond herald's timeout)
        /hang          never answers
        anything else  200
  delivery_sinks.py hooks PORT LOG DELAY
      An HTTP server for fan-outs: appends path and webhook-id of each POST
      to LOG as it arrives, then answers 200 after DELAY seconds, so that a
      fan-out lasts long enough to break something under it.
"""
import base64
import hashlib
import hmac
import json
import mailbox
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def run_smtp(port, maildir, refuse_first):
    from aiosmtpd.controller import Controller

    box = mailbox.Maildir(maildir, create=True)
    state = {"refused": 0}
    lock = threading.Lock()

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            with lock:
                if state["refused"] < refuse_first:
                    state["refused"] += 1
                    return "451 4.3.0 try again later"
                box.add(envelope.original_content)
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    threading.Event().wait()


def verifies(secrets, headers, body):
    msg_id = headers.get("webhook-id")
    ts = headers.get("webhook-timestamp")
    sigs = (headers.get("webhook-signature") or "").split()
    if not msg_id or not ts or not sigs:
        return False
    content = f"{msg_id}.{ts}.".encode() + body
    for secret in secrets:
        key = base64.b64decode(secret.removeprefix("whsec_"))
        want = "v1," + base64.b64encode(
            hmac.new(key, content, hashlib.sha256).digest()).decode()
        if any(hmac.compare_digest(want, s) for s in sigs):
            return True
    return False


def run_http(port, log_path, secrets):
    seen = set()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = 200
            if self.path.startswith("/flaky/"):
                with lock:
                    if self.path not in seen:
                        seen.add(self.path)
                        status = 500
            entry = {
                "path": self.path,
                # /slow answers after herald has given up on it.
                "status": ("late" if self.path == "/slow" else
                           "never" if self.path == "/hang" else status),
                "id": self.headers.get("webhook-id"),
                "signed": verifies(secrets, self.headers, body),
                "body": json.loads(body or b"null"),
            }
            with lock, open(log_path, "a") as log:
                log.write(json.dumps(entry) + "\n")
            if self.path == "/slow":
                time.sleep(5)
            if self.path == "/hang":
                threading.Event().wait()  # until the sink is stopped
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def run_hooks(port, log_path, delay):
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            entry = {"path": self.path, "id": self.headers.get("webhook-id")}
            with lock, open(log_path, "a") as log:
                log.write(json.dumps(entry) + "\n")
            time.sleep(delay)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256  # every replica's workers connect at once

    Server(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode == "smtp":
        run_smtp(port, sys.argv[3], int(sys.argv[4]))
    elif mode == "hooks":
        run_hooks(port, sys.argv[3], float(sys.argv[4]))
    else:
        run_http(port, sys.argv[3], sys.argv[4:])
