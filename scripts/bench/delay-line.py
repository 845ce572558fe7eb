#!/usr/bin/env python3
"""A userspace delay line between two TUN devices, for links that need added latency: this kernel has no
netem (and no fq for EDT pacing), so the NAT benchmarks carry the inter-cloud path through this process.

Usage: delay-line.py TUN-A TUN-B ADDED-RTT-MS [QUEUE-PACKETS]

Creates the two TUN devices (IFF_TUN, no packet info) in the caller's network namespace and prints "ready"; the
caller then moves them into the namespaces they join (a TUN device keeps its file descriptor across a move) and
routes through them. Every IP packet read on one device is written to the other half the added round-trip time
later, in order. Each direction holds at most QUEUE-PACKETS (default 20000) packets in flight; beyond that a packet
is dropped, as a full link buffer would. Rate limits belong to `tc tbf` on the devices, not here. Runs until killed
or its stdin closes; the devices go away with it.
"""
import collections
import fcntl
import os
import select
import struct
import sys
import threading
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
BATCH = 256


def open_tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def main():
    a, b, rtt_ms = sys.argv[1], sys.argv[2], float(sys.argv[3])
    limit = int(sys.argv[4]) if len(sys.argv) > 4 else 20000
    one_way = rtt_ms / 2000.0
    fds = [open_tun(a), open_tun(b)]
    queues = [collections.deque(), collections.deque()]  # queues[i]: packets read on fds[i], bound for the other
    dropped = [0, 0]
    print("ready", flush=True)
    # the caller closing our stdin (or dying) ends the line
    threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
    while True:
        heads = [q[0][0] for q in queues if q]
        timeout = max(0.0, min(heads) - time.monotonic()) if heads else None
        readable, _, _ = select.select(fds, [], [], timeout)
        now = time.monotonic()
        for i, fd in enumerate(fds):
            if fd not in readable:
                continue
            for _ in range(BATCH):
                try:
                    packet = os.read(fd, 65535)
                except BlockingIOError:
                    break
                if len(queues[i]) >= limit:
                    dropped[i] += 1
                else:
                    queues[i].append((now + one_way, packet))
        for i, q in enumerate(queues):
            out = fds[1 - i]
            while q and q[0][0] <= now:
                try:
                    os.write(out, q.popleft()[1])
                except OSError:
                    pass  # the other device is down (being moved or removed): the packet is lost, as on a link


if __name__ == "__main__":
    main()
