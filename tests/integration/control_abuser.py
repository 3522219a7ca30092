#!/usr/bin/env python3
"""A paced, local abuser of rank 0's control server (control_server_abuse.sh).

For --seconds it keeps these going at once against 127.0.0.1:PORT, from one
thread (selectors, at most ~5 wake-ups a second besides answers; the test compares
training throughput on a 2-core machine where both ranks keep both cores busy
(MPI polls), so every wake-up of the abuser or of the server thread preempts a
rank: it must be paced, or the test measures CPU starvation, not the server):
  held       --held connections opened in the first seconds (in batches) and
             never written to or closed;
  slowloris  --slowloris clients trickling a request header, one byte every
             --trickle-s; those the server cut or refused are replaced at the next tick;
  oversize   one GET with a header over 8 KiB every second (answer: 431);
  garbage    binary junk and junk lines every second (answer: 400 or a cut);
  heartbeat  every second a connection that says "LLMSREC-HB 1" and then half a
             record, nothing, a line that is not JSON, or a record for a rank
             the job does not have; never a valid record of a real rank;
  probe      GET /status every 2 s: when it gets through, the ranks'
             heartbeat ages are recorded.
Then it stops sending but holds every socket it still has open, prints one JSON
line of statistics to stdout, and waits for SIGTERM (the test counts rank 0's
file descriptors meanwhile, so the server must cut them itself).
"""
import argparse
import json
import os
import random
import resource
import selectors
import signal
import socket
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--seconds", type=float, default=20)
ap.add_argument("--held", type=int, default=1000)
ap.add_argument("--slowloris", type=int, default=8)
ap.add_argument("--trickle-s", type=float, default=1.0)
ap.add_argument("--watch-pid", type=int, default=0, help="sample this pid's open fd count (peak reported)")
args = ap.parse_args()

ADDR = ("127.0.0.1", args.port)
sel = selectors.DefaultSelector()
rng = random.Random(15)
stats = {k: 0 for k in ("held_opened", "held_cut", "connect_failed", "slowloris_opened", "slowloris_cut",
                        "slowloris_bytes", "oversize_431", "oversize_other", "garbage_400", "garbage_cut",
                        "heartbeat_opened", "heartbeat_cut", "probes", "probes_answered")}
stats["max_heartbeat_age_s"] = 0.0
stats["peak_fds"] = 0
conns = {}  # fd -> Conn


class Conn:
    def __init__(self, kind, payload=b"", trickle=False):
        self.kind, self.pending, self.trickle = kind, payload, trickle
        self.opened = time.monotonic()
        self.got = b""
        self.closed_by_server = False
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setblocking(False)
        try:
            self.sock.connect(ADDR)
        except BlockingIOError:
            pass
        except OSError:
            stats["connect_failed"] += 1
            self.sock.close()
            self.sock = None
            return
        conns[self.sock.fileno()] = self
        sel.register(self.sock, selectors.EVENT_READ, self)

    def send_some(self, n=None):
        if not self.sock or self.closed_by_server or not self.pending:
            return
        chunk = self.pending if n is None else self.pending[:n]
        try:
            sent = self.sock.send(chunk)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.on_cut()
            return
        self.pending = self.pending[sent:]
        if self.kind == "slowloris":
            stats["slowloris_bytes"] += sent

    def on_readable(self):
        try:
            data = self.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if data:
            self.got += data
            return
        self.on_cut()

    def on_cut(self):
        # The server closed (or reset) it. Keep the socket: the client side stays held.
        if self.closed_by_server:
            return
        self.closed_by_server = True
        sel.unregister(self.sock)
        status = self.got.split(b"\r\n", 1)[0].decode(errors="replace")
        k = self.kind
        if k == "held":
            stats["held_cut"] += 1
        elif k == "slowloris":
            stats["slowloris_cut"] += 1
        elif k == "oversize":
            stats["oversize_431" if " 431 " in status else "oversize_other"] += 1
        elif k == "garbage":
            stats["garbage_400" if " 400 " in status else "garbage_cut"] += 1
        elif k == "heartbeat":
            stats["heartbeat_cut"] += 1
        elif k == "probe" and " 200 " in status:
            stats["probes_answered"] += 1
            try:
                body = json.loads(self.got.split(b"\r\n\r\n", 1)[1])
                for r in body["ranks"]:
                    stats["max_heartbeat_age_s"] = max(stats["max_heartbeat_age_s"], r["heartbeat_age_s"])
            except (ValueError, KeyError, IndexError):
                pass
        if k in ("oversize", "garbage", "probe"):  # one-shot clients: done with them
            self.close()

    def close(self):
        if self.sock:
            conns.pop(self.sock.fileno(), None)
            try:
                sel.unregister(self.sock)
            except (KeyError, ValueError):
                pass
            self.sock.close()
            self.sock = None


def garbage():
    if rng.random() < 0.5:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(64, 2048)))  # binary, maybe no newline
    return b"%s %s\r\n\r\n" % (os.urandom(8).hex().encode(), b"\x00\xff junk" * rng.randrange(1, 50))


HEARTBEAT_ABUSE = [
    b"LLMSREC-HB 1\n",                                               # hello, then nothing
    b'LLMSREC-HB 1\n{"rank": 1, "host": "abuser", "pid": 1, "st',    # half a record, held
    b"LLMSREC-HB 1\nnot json at all\n",                              # dropped by the server
    b'LLMSREC-HB 1\n{"rank": 99, "host": "x", "pid": 1, "step": 0, "phase": "x", "time": 0, '
    b'"progress_age_s": 0}\n',                                       # a rank the job does not have
    b"LLMSREC-HB",                                                   # half the hello
]


def fd_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
start = time.monotonic()
end = start + args.seconds
slow = []
next_tick = {"trickle": start, "oversize": start, "garbage": start + 0.25, "heartbeat": start + 0.1,
             "probe": start + 1, "fds": start}
held_batch = max(1, args.held // 10)  # the held connections over the first ~2 s, in 10 batches
next_held = start
while True:
    now = time.monotonic()
    if now >= end:
        break
    if stats["held_opened"] < args.held and now >= next_held:
        for _ in range(min(held_batch, args.held - stats["held_opened"])):
            Conn("held")
            stats["held_opened"] += 1
        next_held = now + 0.2
    if now >= next_tick["trickle"]:
        # Replace the clients the server cut (or refused: all slots taken) once per tick, not at
        # once: a reconnect storm would be a CPU test, not a server test.
        for c in slow:
            if c.closed_by_server:
                c.close()
        slow = [c for c in slow if c.sock]
        while len(slow) < args.slowloris:
            c = Conn("slowloris", b"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 100000,
                     trickle=True)
            stats["slowloris_opened"] += 1
            if not c.sock:
                break
            slow.append(c)
        for c in slow:
            c.send_some(1)
        next_tick["trickle"] = now + args.trickle_s
    if now >= next_tick["oversize"]:
        Conn("oversize", b"GET /status HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 12000 + b"\r\n\r\n").send_some()
        next_tick["oversize"] = now + 1.0
    if now >= next_tick["garbage"]:
        Conn("garbage", garbage()).send_some()
        next_tick["garbage"] = now + 1.0
    if now >= next_tick["heartbeat"]:
        Conn("heartbeat", rng.choice(HEARTBEAT_ABUSE)).send_some()
        stats["heartbeat_opened"] += 1
        next_tick["heartbeat"] = now + 1.0
    if now >= next_tick["probe"]:
        Conn("probe", b"GET /status HTTP/1.1\r\nHost: x\r\n\r\n").send_some()
        stats["probes"] += 1
        next_tick["probe"] = now + 2.0
    if args.watch_pid and now >= next_tick["fds"]:
        stats["peak_fds"] = max(stats["peak_fds"], fd_count(args.watch_pid))
        next_tick["fds"] = now + 0.5
    for key, _ in sel.select(timeout=0.2):
        key.data.on_readable()
        key.data.send_some()  # the rest of a payload the socket buffer did not take at once

# Stop sending; hold everything still open (the server must cut it on its own).
stats["held_by_client_now"] = sum(1 for c in conns.values() if c.sock)
stats["cut_by_server_so_far"] = sum(1 for c in conns.values() if c.closed_by_server)
ru = resource.getrusage(resource.RUSAGE_SELF)
stats["abuser_cpu_s"] = round(ru.ru_utime + ru.ru_stime, 3)
stats["seconds"] = round(time.monotonic() - start, 1)
print(json.dumps(stats), flush=True)
while True:
    time.sleep(3600)
