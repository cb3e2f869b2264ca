"""Receives webhooks and verifies each with the Standard Webhooks reference library (PyPI
`standardwebhooks`): 204 and a line `ok <data.type> <data.id> <webhook-id>` for a valid delivery,
401 and `bad <reason>` otherwise. Prints `listening <port>` first.

usage: receive_verified.py KEY
"""

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

KEY = sys.argv[1]


OUT = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            payload = Webhook(KEY).verify(body, headers)
            line = "ok %s %s %s" % (payload["data"]["type"], payload["data"]["id"], headers["webhook-id"])
            status = 204
        except (WebhookVerificationError, KeyError, ValueError) as e:
            line = "bad %s" % (str(e) or type(e).__name__)
            status = 401
        # One write per line under a lock: the server answers on several threads, and print's
        # text and newline are two writes that another thread's line can come between.
        with OUT:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print("listening %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
