#!/usr/bin/env python3
"""CPU of `flightrec serve` while N SSE streams follow one session: python3 follow_cpu.py BINARY DB N SESSION."""
import socket, sys, time, subprocess, re, os
binary, db, n, sess = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
p = subprocess.Popen([binary, "--db", db, "serve", "--addr", "127.0.0.1:0", "--ping-interval", "15s"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
port = int(re.search(r":(\d+)$", p.stdout.readline().strip()).group(1))
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.send(("GET /v1/sessions/%s/events/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % sess).encode())
    socks.append(s)
time.sleep(3)
for s in socks:
    s.setblocking(False)
    try:
        while s.recv(1 << 20): pass
    except BlockingIOError: pass
def cpu():
    f = open("/proc/%d/stat" % p.pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
c0, t0 = cpu(), time.time(); time.sleep(10); c1, t1 = cpu(), time.time()
print("%d followers: %.3f cores (%.2f s CPU in %.1f s)" % (n, (c1-c0)/(t1-t0), c1-c0, t1-t0))
p.kill()
