"""Connection churn while steady clients broadcast: the tutorial's server
crashes here (`concurrent map writes`); Herald must lose nothing (docs/protocol.md)."""

import asyncio
import json
import os
import random
import socket
import struct
import time

import websockets

import herald_harness as hh

STEADY = 4
CHURNERS = 200
DURATION = 10.0
SEND_INTERVAL = 0.025
ABRUPT_SHARE = 0.3


async def raw_handshake(port, timeout=10):
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    key = __import__("base64").b64encode(os.urandom(16)).decode()
    writer.write(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                  "Sec-WebSocket-Version: 13\r\n\r\n" % key).encode())
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    assert head.startswith(b"HTTP/1.1 101"), head[:100]
    return reader, writer


def drop(writer, rst):
    sock = writer.get_extra_info("socket")
    if rst and sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()


def test_churn_loses_nothing_for_steady_clients(start_herald):
    srv = start_herald()
    rng = random.Random(20240607)
    stats = {"graceful": 0, "abrupt": 0, "mid-handshake": 0, "failed": []}
    sent = [0] * STEADY

    async def main():
        steady = [await websockets.connect(srv.ws_url, ping_interval=None, open_timeout=10,
                                           close_timeout=2, max_size=2 ** 20)
                  for _ in range(STEADY)]
        received = [[[] for _ in range(STEADY)] for _ in range(STEADY)]
        stop_sending = asyncio.Event()

        async def steady_sender(i):
            n = 0
            while not stop_sending.is_set():
                await steady[i].send(json.dumps({"message": "steady:%d:%d" % (i, n)}))
                n += 1
                await asyncio.sleep(SEND_INTERVAL)
            sent[i] = n

        async def steady_reader(i):
            ws = steady[i]
            while True:
                text = await ws.recv()
                msg = json.loads(text)["message"]
                if msg.startswith("steady:"):
                    _, s, n = msg.split(":")
                    received[i][int(s)].append(int(n))

        async def churner(idx):
            lifetime = rng.uniform(0.05, 1.5)
            abrupt = rng.random() < ABRUPT_SHARE
            try:
                if abrupt:
                    if idx % 3 == 0:
                        # connect, send half a request, vanish
                        r, w = await asyncio.open_connection("127.0.0.1", srv.port)
                        w.write(b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: web")
                        await w.drain()
                        await asyncio.sleep(lifetime / 3)
                        drop(w, rst=idx % 2 == 0)
                        stats["mid-handshake"] += 1
                        return
                    r, w = await raw_handshake(srv.port)
                    if idx % 4 == 1:
                        w.write(hh.encode_frame(hh.OP_TEXT, b'{"message": "churn %d"}' % idx))
                    elif idx % 4 == 2:
                        w.write(hh.encode_frame(hh.OP_TEXT, b'{"mess', fin=False))
                    end = time.monotonic() + lifetime
                    while time.monotonic() < end:  # read a little, then stop reading
                        try:
                            await asyncio.wait_for(r.read(4096), end - time.monotonic())
                        except asyncio.TimeoutError:
                            break
                    drop(w, rst=idx % 2 == 1)
                    stats["abrupt"] += 1
                    return
                ws = await websockets.connect(srv.ws_url, ping_interval=None, open_timeout=10,
                                              close_timeout=2)
                if idx % 2:
                    await ws.send(json.dumps({"message": "churn %d" % idx}))
                end = time.monotonic() + lifetime
                while time.monotonic() < end:
                    try:
                        await asyncio.wait_for(ws.recv(), end - time.monotonic())
                    except asyncio.TimeoutError:
                        break
                await ws.close()
                stats["graceful"] += 1
            except Exception as e:
                stats["failed"].append("churner %d (%s): %r" % (idx, "abrupt" if abrupt
                                                                else "graceful", e))

        readers = [asyncio.create_task(steady_reader(i)) for i in range(STEADY)]
        senders = [asyncio.create_task(steady_sender(i)) for i in range(STEADY)]
        churn_tasks = []
        start = time.monotonic()
        for idx in range(CHURNERS):
            churn_tasks.append(asyncio.create_task(churner(idx)))
            await asyncio.sleep(max(0.0, start + (idx + 1) * DURATION / CHURNERS
                                    - time.monotonic()))
        await asyncio.wait_for(asyncio.gather(*churn_tasks), 30)
        stop_sending.set()
        await asyncio.wait_for(asyncio.gather(*senders), 10)

        # every steady client gets every steady message, per sender in order
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if all(len(received[i][s]) >= sent[s] for i in range(STEADY) for s in range(STEADY)):
                break
            for t in readers:
                if t.done():
                    t.result()  # surfaces a closed steady connection
            await asyncio.sleep(0.05)
        for i in range(STEADY):
            for s in range(STEADY):
                assert received[i][s] == list(range(sent[s])), (
                    "steady client %d got %d of %d messages of sender %d (first gap at %s)" % (
                        i, len(received[i][s]), sent[s], s,
                        next((k for k, v in enumerate(received[i][s]) if k != v), "end")))
        for t in readers:
            t.cancel()
        await asyncio.gather(*readers, return_exceptions=True)

        # still serving
        check = await websockets.connect(srv.ws_url, ping_interval=None, open_timeout=10)
        await check.send('{"message": "after churn"}')
        while True:
            if json.loads(await asyncio.wait_for(check.recv(), 10))["message"] == "after churn":
                break
        await check.close()
        for ws in steady:
            await ws.close()

    asyncio.run(asyncio.wait_for(main(), 120))
    assert not stats["failed"], "\n".join(stats["failed"][:20])
    assert srv.alive(), hh.describe_exit(srv.poll()) + "\n" + srv.stderr_text()
    health = hh.http_get(srv.port, "/health")
    assert health.status == 200, health
    assert stats["graceful"] + stats["abrupt"] + stats["mid-handshake"] == CHURNERS, stats
    print("churn: %r, steady messages sent %r" % (
        {k: v for k, v in stats.items() if k != "failed"}, sent))
