#!/usr/bin/python3
"""Replays the attacks of tests/integration/test_abuse.py at their full size
against one Herald binary, and reports what a bystander saw and what the
server held:

    abuse_replay.py BINARY CASE [CASE ...]

Cases: storm, joins, recovery, flood, churn, api_bodies, presence, pattern.
For each: the server starts on a free loopback port with the case's
options, a /ws bystander echoes a message every 20 ms, the attack runs to
its end (and 3 s more), and one JSON line reports the bystander's echo
times (p50, p99, max, in ms), the server's peak RSS and its RSS after. Every
attack stops by itself; the server is stopped at the end of its case."""

import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time

import websockets

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ATTACKER = os.path.join(ROOT, "tests", "integration", "abuse_clients.py")
sys.path.insert(0, os.path.dirname(ATTACKER))
import abuse_clients  # noqa: E402  (the attackers' helpers; each attacker runs as a process)
BENCH = os.path.join(ROOT, "build-release", "apps", "herald-bench", "herald-bench")
OPEN = ["--allow-subscribe-for-client=true", "--allow-subscribe-for-anonymous=true",
        "--allow-publish-for-subscriber=true", "--allow-publish-for-anonymous=true",
        "--allow-presence-for-subscriber=true", "--allow-presence-for-anonymous=true",
        "--allow-history-for-subscriber=true", "--allow-history-for-anonymous=true",
        "--allow-recovery=true", "--allow-anonymous=true", "--max-connections=19000"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def api(port, method, body, headers=None):
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        head = ["POST /api/%s HTTP/1.1" % method, "Host: x", "Connection: close",
                "Content-Length: %d" % len(body)] + ["%s: %s" % kv for kv in (headers or {}).items()]
        s.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return data.split(b"\r\n\r\n", 1)[1]


class Server:
    def __init__(self, binary, options):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [binary, "--port=%d" % self.port, "--address=127.0.0.1",
             "--static-dir=" + os.path.join(ROOT, "public")] + options,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env={k: v for k, v in os.environ.items() if not k.startswith("HERALD_")})
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not start: %s" % self.proc.stderr.read().decode())

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


async def sampler(pid, stop, peak):
    while not stop.is_set():
        peak[0] = max(peak[0], rss_mb(pid))
        await asyncio.sleep(0.1)


async def attackers(port, mode, args, count=1):
    processes = [await asyncio.create_subprocess_exec(
        "/usr/bin/python3", ATTACKER, mode, str(port), *[str(a) for a in args],
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE) for _ in range(count)]
    seen = []
    for process in processes:
        out, _ = await process.communicate()
        lines = out.decode().strip().splitlines()
        seen.append(json.loads(lines[-1]) if lines else None)
    return seen


async def members(port, channel, count, join_leave):
    """`count` client-protocol subscribers of `channel`, reading all they
    get; returns them and the close codes they meet."""
    clients, closes = [], []
    gate = asyncio.Semaphore(200)  # joining together, as a crowd arrives

    async def join():
        async with gate:
            ws = await websockets.connect("ws://127.0.0.1:%d/connection/websocket" % port,
                                          ping_interval=None, max_size=None, open_timeout=60)
            await ws.send('{"connect":{},"id":1}')
            await ws.recv()
            await ws.send(json.dumps({"subscribe": {"channel": channel,
                                                    "join_leave": join_leave}, "id": 2}))
            clients.append(ws)
            readers.append(asyncio.create_task(abuse_clients.read_until_closed(ws, closes)))

    readers = []
    await asyncio.gather(*(join() for _ in range(count)))
    return clients, readers, closes


async def case_storm(server):
    clients, readers, closes = await members(server.port, "room", 2000, True)
    seen = await attackers(server.port, "join_leave_storm", [10, 700, "room"])
    return {"attacker": seen, "members_cut": len(closes)}, (clients, readers)


async def case_joins(server):
    # No attacker: 5000 clients simply joining a join/leave channel.
    clients, readers, closes = await members(server.port, "room", 5000, True)
    return {"members_cut": len(closes)}, (clients, readers)


async def case_recovery(server):
    data = json.dumps("r" * 60000).encode()
    for _ in range(1000):
        api(server.port, "publish", b'{"channel":"deep","data":' + data + b"}")
    epoch = json.loads(api(server.port, "history", b'{"channel":"deep","limit":0}'))
    epoch = epoch["result"]["epoch"]
    # Offset 700 of 1000: each subscribe recovers 300 publications, 18 MB.
    return {"attacker": await attackers(server.port, "recovery_loop",
                                        [10, 350, "deep", epoch, 700])}, None


async def case_flood(server):
    return {"attacker": await attackers(server.port, "publish_flood", [20, 500, 100],
                                        count=2)}, None


async def case_churn(server):
    return {"attacker": await attackers(server.port, "position_churn", [2250000, 200])}, None


async def case_api_bodies(server):
    body = b"x" * 458000
    sockets = []
    for _ in range(3000):
        s = socket.create_connection(("127.0.0.1", server.port))
        s.setblocking(False)
        head = ("POST /api/publish HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                % len(body)).encode()
        try:
            s.send(head)
        except OSError:
            pass
        sockets.append(s)
    sent = 0
    for _ in range(20):  # send what the server takes, for a while
        for s in sockets:
            try:
                sent += s.send(body[:65536])
            except OSError:
                pass
        await asyncio.sleep(0.1)
    for s in sockets:
        s.close()
    return {"bytes_sent": sent}, None


async def case_presence(server):
    crowd = await asyncio.create_subprocess_exec(
        BENCH, "--url", "ws://127.0.0.1:%d/connection/websocket" % server.port,
        "--protocol", "centrifuge", "--channel", "crowd", "--idle", "--subscribers", "5000",
        "--settle", "0", "--duration", "60", "--connect-concurrency", "200", "--json",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        stats = json.loads(api(server.port, "presence_stats", b'{"channel":"crowd"}'))
        if stats["result"]["num_clients"] >= 5000:
            break
        await asyncio.sleep(0.5)
    seen = await attackers(server.port, "presence_loop", [15, "crowd", 1], count=4)
    crowd.terminate()
    await crowd.wait()
    return {"attacker": seen}, None


async def case_pattern(server):
    # 1000 channels with a subscriber each, which the pattern is matched
    # against; a pattern of 20000 stars and one letter that no name ends
    # with makes a backtracking matcher try every split.
    holders = []
    for k in range(10):
        # max_queue: its replies are never read, and a full queue would
        # stop websockets reading the close frame.
        ws = await websockets.connect("ws://127.0.0.1:%d/connection/websocket" % server.port,
                                      ping_interval=None, max_size=None, max_queue=None)
        await ws.send('{"connect":{},"id":1}')
        await ws.recv()
        await ws.send("\n".join(json.dumps({"subscribe": {"channel": "c%d" % (100 * k + n)},
                                             "id": 2 + n}) for n in range(100)))
        holders.append(ws)
    while True:
        reply = json.loads(api(server.port, "info", b"{}"))
        if reply["result"]["nodes"][0].get("num_channels", 0) >= 1000:
            break
        await asyncio.sleep(0.2)
    started = time.monotonic()
    reply = api(server.port, "channels", b'{"pattern":"' + b"*" * 20000 + b'x"}')
    api_s = round(time.monotonic() - started, 3)
    for ws in holders:
        await ws.close()
    return {"reply": reply.decode()[:120], "api_s": api_s}, None


CASES = {
    "storm": (case_storm, ["--presence=true", "--join-leave=true"]),
    "joins": (case_joins, ["--presence=true", "--join-leave=true"]),
    "recovery": (case_recovery, ["--history-size=1000", "--history-ttl=600s"]),
    "flood": (case_flood, ["--history-size=100", "--history-ttl=600s",
                           "--allow-publish-for-client=true"]),
    "churn": (case_churn, ["--history-size=10", "--history-ttl=600s"]),
    "api_bodies": (case_api_bodies, ["--api-key=secret"]),
    "presence": (case_presence, ["--presence=true"]),
    "pattern": (case_pattern, []),
}


async def replay(binary, name):
    run, options = CASES[name]
    server = Server(binary, OPEN + options)
    stop, peak = asyncio.Event(), [0.0]
    # The bystander in a process of its own: this one's event loop also
    # runs thousands of members, whose pauses must not count as the
    # server's.
    watcher = await asyncio.create_subprocess_exec(
        "/usr/bin/python3", ATTACKER, "bystander", str(server.port), "3600",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    sampling = asyncio.create_task(sampler(server.proc.pid, stop, peak))
    await asyncio.sleep(0.5)
    started = time.monotonic()
    seen, held = await run(server)
    await asyncio.sleep(3)
    stop.set()
    watcher.stdin.close()
    out, _ = await watcher.communicate()
    echoes = json.loads(out.decode().strip().splitlines()[-1])
    rtts, failures = [r / 1000 for r in echoes["echo_ms"]], [0] * echoes["timeouts"]
    await sampling
    after = rss_mb(server.proc.pid)
    alive = server.proc.poll() is None
    if held:
        clients, readers = held
        for ws in clients:
            await ws.close()
        for reader in readers:
            reader.cancel()
    server.stop()
    rtts_ms = sorted(r * 1000 for r in rtts) or [0.0]
    return {
        "case": name, "binary": binary, "alive": alive, "seconds": round(time.monotonic() - started, 1),
        "echoes": len(rtts), "echo_timeouts": len(failures),
        "echo_p50_ms": round(statistics.median(rtts_ms), 2),
        "echo_p99_ms": round(rtts_ms[int(len(rtts_ms) * 0.99) - 1 if len(rtts_ms) > 1 else 0], 2),
        "echo_max_ms": round(rtts_ms[-1], 2),
        "rss_peak_mb": round(peak[0], 1), "rss_after_mb": round(after, 1), "seen": seen,
    }


def main():
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    binary, *names = sys.argv[1:]
    for name in names:
        print(json.dumps(asyncio.run(replay(binary, name))), flush=True)


if __name__ == "__main__":
    main()
