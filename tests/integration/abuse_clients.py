"""Attackers for test_abuse.py, each in a process of its own so that its
Python work never delays the test's own measurements:

    abuse_clients.py MODE PORT [ARG ...]

Every mode uses only what a client with ordinary permissions may do, runs
for a bounded count and stops by itself, and prints one JSON line of what
it saw (close codes, replies, errors) on stdout."""

import asyncio
import json
import sys
import time

import websockets


def compact(value):
    return json.dumps(value, separators=(",", ":"))


def url(port, path="/connection/websocket"):
    return "ws://127.0.0.1:%d%s" % (port, path)


async def connected(port):
    ws = await websockets.connect(url(port), ping_interval=None, max_size=None,
                                  close_timeout=1, open_timeout=10)
    await ws.send('{"connect":{"name":"abuse"},"id":1}')
    reply = json.loads((await asyncio.wait_for(ws.recv(), 10)).split("\n")[0])
    assert "connect" in reply, reply
    return ws


async def echo(ws, k, timeout):
    """Sends the /ws message echo-K and waits for it to come back among the
    channel's traffic; returns the seconds it took."""
    started = time.monotonic()
    await ws.send(compact({"message": "echo-%d" % k}))
    while True:
        got = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if got["message"] == "echo-%d" % k:
            return time.monotonic() - started


async def read_until_closed(ws, closes):
    """Reads and drops everything until the connection ends; appends the
    close code the server sent, if it sent one, to `closes`."""
    try:
        while True:
            await ws.recv()
    except websockets.ConnectionClosed as closed:
        if closed.rcvd is not None:
            closes.append(closed.rcvd.code)


async def drain(ws, seen):
    """Reads until the connection ends, counting lines and close codes, and
    answers the server's pings, as an attacker that means to stay would."""
    try:
        while True:
            frame = await ws.recv()
            seen["lines"] = seen.get("lines", 0) + frame.count("\n") + 1
            if frame == "{}":
                await ws.send("{}")
    except websockets.ConnectionClosed as closed:
        code = closed.rcvd.code if closed.rcvd else 1006
        seen.setdefault("closes", []).append(code)


async def join_leave_storm(port, frames, pairs, channel):
    """Frames of subscribe/unsubscribe pairs on one channel, as fast as the
    server reads them."""
    seen = {}
    ws = await connected(port)
    reader = asyncio.create_task(drain(ws, seen))
    command_id = 2
    for _ in range(int(frames)):
        lines = []
        for _ in range(int(pairs)):
            lines.append(compact({"subscribe": {"channel": channel}, "id": command_id}))
            lines.append(compact({"unsubscribe": {"channel": channel}, "id": command_id + 1}))
            command_id += 2
        await ws.send("\n".join(lines))
    await asyncio.sleep(1)
    await ws.close()
    await reader
    return seen


async def recovery_loop(port, rounds, pairs, channel, epoch, offset=1):
    """Reconnects, and sends frames of subscribes that recover what came
    after `offset`, each followed by an unsubscribe."""
    seen = {}
    for _ in range(int(rounds)):
        ws = await connected(port)
        reader = asyncio.create_task(drain(ws, seen))
        lines = []
        for k in range(int(pairs)):
            lines.append(compact({"subscribe": {"channel": channel, "recover": True,
                                                   "recoverable": True, "offset": int(offset),
                                                   "epoch": epoch}, "id": 2 + 2 * k}))
            lines.append(compact({"unsubscribe": {"channel": channel}, "id": 3 + 2 * k}))
        try:
            for _ in range(4):  # back to back: the server has them all at once
                await ws.send("\n".join(lines))
            await asyncio.wait_for(reader, 3)
        except (asyncio.TimeoutError, websockets.ConnectionClosed):
            pass
        await ws.close()
        await reader
    return seen


async def publish_flood(port, seconds, per_frame, channels):
    """Frames of `per_frame` publishes spread over `channels` channels, for
    `seconds`; the frame is built once and sent again and again, so the
    attacker spends its time sending."""
    seen = {"published": 0}
    ws = await connected(port)
    reader = asyncio.create_task(drain(ws, seen))
    deadline = time.monotonic() + float(seconds)
    frame = "\n".join(
        compact({"publish": {"channel": "flood%d" % (k % int(channels)), "data": {"p": "x" * 20}},
                 "id": 2 + k}) for k in range(int(per_frame)))
    while time.monotonic() < deadline and not reader.done():
        try:
            await asyncio.wait_for(ws.send(frame), 10)
        except (asyncio.TimeoutError, websockets.ConnectionClosed):
            break
        seen["published"] += int(per_frame)
    await ws.close()
    await reader
    return seen


async def position_churn(port, names, per_frame, in_flight=4):
    """Positioned, recoverable subscribes to ever new channel names, each
    left at once: every name a position the server could be made to keep.
    It reads its replies, `in_flight` frames behind at most, so that it is
    never cut as a slow reader and every name reaches the server."""
    seen = {}
    names, per_frame, in_flight = int(names), int(per_frame), int(in_flight)
    ws = await connected(port)
    reader = asyncio.create_task(drain(ws, seen))
    command_id, sent = 2, 0
    try:
        for start in range(0, names, per_frame):
            lines = []
            for n in range(start, min(start + per_frame, names)):
                channel = "churn-%d" % n
                lines.append(compact({"subscribe": {"channel": channel, "recoverable": True,
                                                       "positioned": True}, "id": command_id}))
                lines.append(compact({"unsubscribe": {"channel": channel},
                                         "id": command_id + 1}))
                command_id += 2
            await ws.send("\n".join(lines))
            sent += len(lines)
            while seen.get("lines", 0) < sent - in_flight * 2 * per_frame and not reader.done():
                await asyncio.sleep(0.001)
        await asyncio.sleep(1)
    except websockets.ConnectionClosed:
        pass
    seen["sent"] = sent
    await ws.close()
    await reader
    return seen


async def presence_loop(port, seconds, channel, in_flight):
    """Presence queries of a crowded channel, `in_flight` at a time, for
    `seconds`; cut as slow, it comes back."""
    seen = {"answers": 0, "closes": []}
    deadline = time.monotonic() + float(seconds)
    command_id = 3
    while time.monotonic() < deadline:
        ws = await connected(port)
        await ws.send(compact({"subscribe": {"channel": channel}, "id": 2}))
        await ws.recv()
        try:
            while time.monotonic() < deadline:
                lines = [compact({"presence": {"channel": channel}, "id": command_id + k})
                         for k in range(int(in_flight))]
                command_id += int(in_flight)
                await ws.send("\n".join(lines))
                answered = 0
                while answered < int(in_flight):
                    answered += (await asyncio.wait_for(ws.recv(), 30)).count("\n") + 1
                seen["answers"] += answered
        except websockets.ConnectionClosed as closed:
            seen["closes"].append(closed.rcvd.code if closed.rcvd else 1006)
        await ws.close()
    return seen


async def bystander(port, seconds):
    """A /ws client echoing a message every 20 ms, for `seconds` or until
    its standard input closes; prints its echo times (ms), sorted."""
    ws = await websockets.connect(url(port, "/ws"), ping_interval=None)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_reader(sys.stdin.fileno(), stop.set)
    deadline = time.monotonic() + float(seconds)
    rtts, timeouts, k = [], 0, 0
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            rtts.append(round(await echo(ws, k, 60) * 1000, 3))
        except asyncio.TimeoutError:
            timeouts += 1
            break
        k += 1
        await asyncio.sleep(0.02)
    await ws.close()
    return {"echo_ms": sorted(rtts), "timeouts": timeouts}


MODES = {
    "bystander": bystander,
    "join_leave_storm": join_leave_storm,
    "recovery_loop": recovery_loop,
    "publish_flood": publish_flood,
    "position_churn": position_churn,
    "presence_loop": presence_loop,
}


def main():
    mode, port, *args = sys.argv[1:]
    seen = asyncio.run(MODES[mode](int(port), *args))
    print(compact(seen))


if __name__ == "__main__":
    main()
