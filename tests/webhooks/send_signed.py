"""Signs deliveries with the Standard Webhooks reference library (PyPI `standardwebhooks`) and
POSTs them, printing one HTTP status per delivery.

usage: send_signed.py URL < deliveries.json
deliveries.json: [{"msg_id", "key" (whsec_...), "age" (seconds before now), "body"}, ...]
"""

import json
import sys
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

from standardwebhooks.webhooks import Webhook


def send(url, d):
    body = d["body"].encode()
    ts = datetime.now(tz=timezone.utc) - timedelta(seconds=d["age"])
    sig = Webhook(d["key"]).sign(msg_id=d["msg_id"], timestamp=ts, data=body)
    req = urllib.request.Request(url, data=body, method="POST")
    req.add_header("content-type", "application/json")
    req.add_header("webhook-id", d["msg_id"])
    req.add_header("webhook-timestamp", str(int(ts.timestamp())))
    req.add_header("webhook-signature", sig)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def main():
    url = sys.argv[1]
    for d in json.load(sys.stdin):
        print(send(url, d), flush=True)


if __name__ == "__main__":
    main()
