#!/usr/bin/env python3
"""stallproxy.py - a TCP proxy that can go silent, like a stalled NAT or
load balancer: on SIGUSR1 every open connection stops forwarding in both
directions but stays open (nothing is sent, nothing is closed); new
connections are forwarded normally; it then says "stalled N connections" on
stderr.  Test tooling for the daemon.

    stallproxy.py LISTEN_PORT TARGET_PORT PORT_FILE   (127.0.0.1 only)
"""
import selectors
import signal
import socket
import sys

listen_port, target_port, port_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
sel = selectors.DefaultSelector()
pairs = {}          # socket -> its peer
stalled = set()     # sockets that no longer forward


def on_usr1(signum, frame):
    stalled.update(pairs.keys())
    # Tests wait for this line before they go on.
    sys.stderr.write("stalled %d connections\n" % (len(pairs) // 2))
    sys.stderr.flush()


signal.signal(signal.SIGUSR1, on_usr1)
lsock = socket.socket()
lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
lsock.bind(("127.0.0.1", listen_port))
lsock.listen(16)
with open(port_file, "w") as f:
    f.write("%d\n" % lsock.getsockname()[1])
sel.register(lsock, selectors.EVENT_READ)


def close(s):
    for x in (s, pairs.get(s)):
        if x is None:
            continue
        try:
            sel.unregister(x)
        except (KeyError, ValueError):
            pass
        x.close()
        pairs.pop(x, None)
        stalled.discard(x)


while True:
    try:
        events = sel.select(0.5)
    except InterruptedError:
        continue
    for key, _ in events:
        s = key.fileobj
        if s is lsock:
            c, _ = lsock.accept()
            t = socket.create_connection(("127.0.0.1", target_port))
            pairs[c], pairs[t] = t, c
            sel.register(c, selectors.EVENT_READ)
            sel.register(t, selectors.EVENT_READ)
            continue
        if s in stalled:
            # Silent: read nothing more (leave it in the kernel), send nothing.
            sel.unregister(s)
            continue
        try:
            data = s.recv(65536)
        except OSError:
            data = b""
        if not data:
            close(s)
            continue
        pairs[s].sendall(data)
