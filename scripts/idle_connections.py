#!/usr/bin/env python3
"""N connections that send half a request head to `flightrec serve`, then time a whole request: python3 idle_connections.py BINARY DB N half [SERVE ARGS]; LIM=1024 caps the server's descriptors."""
import socket, sys, time, subprocess, re, os
binary, db, n, half = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "half"
lim = os.environ.get("LIM"); pre = ["sh", "-c", "ulimit -n %s; exec \"$0\" \"$@\"" % lim] if lim else []
p = subprocess.Popen(pre + [binary, "--db", db, "serve", "--addr", "127.0.0.1:0"] + sys.argv[5:], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
line = p.stdout.readline()
port = int(re.search(r":(\d+)$", line.strip()).group(1))
socks = []
t0 = time.time()
for i in range(n):
    s = socket.socket(); s.settimeout(5)
    try:
        s.connect(("127.0.0.1", port))
    except Exception as e:
        print("connect", i, "failed:", e); break
    if half: s.send(b"GET /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    socks.append(s)
print("opened", len(socks), "in %.2fs" % (time.time()-t0))
time.sleep(0.5)
def normal():
    t = time.time()
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.send(b"GET /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        d = s.recv(65536)
        if not d: break
        data += d
    return time.time() - t, data[:12]
print("normal request: %.3fs %r" % normal())
t = time.time(); time.sleep(float(os.environ.get("WAIT", "0")))
closed = 0
for s in socks:
    s.setblocking(False)
    try:
        if s.recv(1) == b"": closed += 1
    except BlockingIOError: pass
    except Exception: closed += 1
print("closed by server after wait:", closed)
print("normal request: %.3fs %r" % normal())
p.kill()
