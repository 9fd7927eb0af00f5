#!/usr/bin/python3
"""Smoke check of the benchmark peers (run bench/setup-peers.sh first).

Usage: /usr/bin/python3 bench/check-peers.py [--clients N] [--churn S] [PEER ...]

For each peer (default: all three) it starts bench/start-peer.sh PEER PORT and
checks, with Debian's python3-websockets:
  1. a plain HTTP GET /ws (no upgrade) does not kill the server;
  2. 3 clients connect, one sends {"message":"hi"}, all 3 receive a frame
     containing "message":"hi" (the exact frame type and bytes are printed);
  3. N clients (default 2000) connect at once, one message is broadcast, all
     N receive it, and the server survives closing them all;
  4. S seconds (default 5) of connection churn (50 loops connecting and
     closing) while a client broadcasts every 10 ms: the server survives.
Exit status 0 when every peer passed everything.
"""
import argparse
import asyncio
import os
import resource
import socket
import subprocess
import sys
import time

import websockets

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = ["go-tutorial", "node-ws", "websocketpp"]


def wait_port(port, proc, timeout=15.0):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def plain_get(port):
    s = socket.create_connection(("127.0.0.1", port), 5)
    s.sendall(b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    s.settimeout(5)
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    s.close()
    return data.split(b"\r\n", 1)[0].decode(errors="replace") or "(connection closed, no response)"


async def connect(url):
    return await websockets.connect(url, ping_interval=None, max_size=None,
                                    open_timeout=60, close_timeout=2)


async def three_clients(url):
    conns = [await connect(url) for _ in range(3)]
    await asyncio.sleep(0.2)  # let the server register all three
    await conns[0].send('{"message":"hi"}')
    frames = []
    for c in conns:
        frames.append(await asyncio.wait_for(c.recv(), 5))
    await asyncio.gather(*(c.close() for c in conns))
    return frames


async def ramp(url, n):
    t0 = time.monotonic()
    res = await asyncio.gather(*(connect(url) for _ in range(n)), return_exceptions=True)
    conns = [r for r in res if not isinstance(r, BaseException)]
    errors = [r for r in res if isinstance(r, BaseException)]
    t_conn = time.monotonic() - t0
    await asyncio.sleep(0.5)  # websocketpp registers connections on its processing thread

    async def recv_one(c):
        try:
            return "ramp" in str(await asyncio.wait_for(c.recv(), 30))
        except Exception:
            return False

    got = 0
    t_bcast = None
    if conns:
        waiters = [asyncio.ensure_future(recv_one(c)) for c in conns]
        t1 = time.monotonic()
        await conns[0].send('{"message":"ramp"}')
        got = sum(await asyncio.gather(*waiters))
        t_bcast = time.monotonic() - t1
    await asyncio.gather(*(c.close() for c in conns), return_exceptions=True)
    err_kinds = sorted({type(e).__name__ + ": " + str(e)[:80] for e in errors})
    return len(conns), errors, err_kinds, t_conn, got, t_bcast


async def churn(url, seconds):
    stop = time.monotonic() + seconds
    sender = await connect(url)
    counts = {"cycles": 0, "errors": 0, "sent": 0, "sender_lost": False}

    async def drain():
        try:
            async for _ in sender:
                pass
        except Exception:
            pass

    async def send_loop():
        try:
            while time.monotonic() < stop:
                await sender.send('{"message":"churn"}')
                counts["sent"] += 1
                await asyncio.sleep(0.01)
        except websockets.exceptions.ConnectionClosed:
            counts["sender_lost"] = True

    async def cycle_loop(i):
        while time.monotonic() < stop:
            try:
                c = await connect(url)
                if i % 5 == 0:
                    await c.send('{"message":"from-churner"}')
                await asyncio.sleep(0.005 * (i % 4))
                await c.close()
                counts["cycles"] += 1
            except Exception:
                counts["errors"] += 1
                await asyncio.sleep(0.05)

    d = asyncio.ensure_future(drain())
    await asyncio.gather(send_loop(), *(cycle_loop(i) for i in range(50)))
    await sender.close()
    d.cancel()
    return counts


def check_peer(name, port, n, churn_s):
    os.makedirs(os.path.join(HERE, ".build", "logs"), exist_ok=True)
    logpath = os.path.join(HERE, ".build", "logs", f"{name}.log")
    log = open(logpath, "wb")
    proc = subprocess.Popen([os.path.join(HERE, "start-peer.sh"), name, str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"ws://127.0.0.1:{port}/ws"
    ok = True
    print(f"== {name} (pid {proc.pid}, log {logpath})")
    try:
        if not wait_port(port, proc):
            print("   FAIL: server did not start")
            return False
        exe = os.readlink(f"/proc/{proc.pid}/exe")
        print(f"   pid {proc.pid} is {exe}")

        status = plain_get(port)
        alive = proc.poll() is None
        print(f"   plain GET /ws -> {status!r}; server alive: {alive}")
        if not alive:
            print("   FAIL: a plain GET /ws killed the server; restarting it")
            ok = False
            proc = subprocess.Popen([os.path.join(HERE, "start-peer.sh"), name, str(port)],
                                    stdout=log, stderr=subprocess.STDOUT)
            wait_port(port, proc)

        frames = asyncio.run(three_clients(url))
        for i, f in enumerate(frames):
            kind = "text" if isinstance(f, str) else "binary"
            raw = f.encode() if isinstance(f, str) else f
            good = '"message":"hi"' in (f if isinstance(f, str) else f.decode(errors="replace"))
            ok &= good and kind == "text"
            print(f"   client {i}: {kind} frame {len(raw)} bytes {raw!r} {'ok' if good else 'FAIL'}")

        nconn, errors, kinds, t_conn, got, t_b = asyncio.run(ramp(url, n))
        alive = proc.poll() is None
        print(f"   ramp: {nconn}/{n} connected in {t_conn:.2f}s ({len(errors)} failed"
              f"{': ' + '; '.join(kinds) if kinds else ''}), broadcast received by {got}/{nconn}"
              f"{f' in {t_b:.2f}s' if t_b is not None else ''}; server alive after closing all: {alive}")
        ok &= nconn == n and got == nconn and alive

        if churn_s > 0:
            counts = asyncio.run(churn(url, churn_s))
            time.sleep(0.5)
            alive = proc.poll() is None
            print(f"   churn {churn_s}s: {counts['cycles']} connect/close cycles, {counts['errors']} errors,"
                  f" {counts['sent']} broadcasts{' (sender connection lost)' if counts['sender_lost'] else ''};"
                  f" server alive: {alive}")
            ok &= alive and not counts["sender_lost"]
        if proc.poll() is not None:
            print(f"   server exited with {proc.returncode}; see {logpath}")
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
    print(f"   {'PASS' if ok else 'FAIL'}")
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=2000)
    ap.add_argument("--churn", type=float, default=5.0)
    ap.add_argument("--port", type=int, default=19101)
    ap.add_argument("peers", nargs="*", default=PEERS)
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, a.clients * 2 + 1000))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if want < a.clients + 100:
        print(f"warning: open-file limit {want} is low for {a.clients} clients (ulimit -n 20000)")
    results = {p: check_peer(p, a.port + i, a.clients, a.churn) for i, p in enumerate(a.peers)}
    print("summary:", ", ".join(f"{p} {'PASS' if r else 'FAIL'}" for p, r in results.items()))
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
