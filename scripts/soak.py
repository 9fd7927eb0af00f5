#!/usr/bin/python3
"""A soak of the running server at PORT for MINUTES: many clients at once,
each doing what a real deployment's clients do, and checks at the end.

    soak.py PORT MINUTES PID

- churners: client-protocol clients that subscribe (with recovery) to a
  chat channel, stay a random while, disconnect and come back from the
  position they had, checking that a recovery brings exactly what they
  missed (when more than 300 were, or the channel was another's, they are
  told recovered=false);
- publishers: clients publishing numbered messages to the chat channels;
- a steady reader on every chat channel that must see every publication,
  in order, with no gap;
- readers asking for presence, presence_stats and history now and then;
- an API caller: publish, broadcast, presence_stats, history, channels, info;
- a storm of subscribe/unsubscribe pairs every few seconds;
- a /ws bystander echoing a message every 50 ms.

Every 30 s it samples the server's RSS (/proc/PID/status). At the end it
prints a JSON summary and exits 1 if the server died, the steady readers
missed anything, the bystander waited over a second, or RSS after the first
minute grew more than 64 MB."""

import asyncio
import json
import random
import sys
import time
import urllib.request

import websockets

CHANNELS = ["chat:room%d" % i for i in range(4)]


def compact(value):
    return json.dumps(value, separators=(",", ":"))


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def api(port, method, params):
    body = compact(params).encode()
    request = urllib.request.Request("http://127.0.0.1:%d/api/%s" % (port, method), data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


async def answer_pings(ws, frame):
    """The server's pings are `{}` lines; a client answers each with `{}`."""
    if any(line == "{}" for line in frame.split("\n")):
        await ws.send("{}")


async def client(port):
    ws = await websockets.connect("ws://127.0.0.1:%d/connection/websocket" % port,
                                  ping_interval=None, max_size=None, close_timeout=2)
    await ws.send('{"connect":{"name":"soak"},"id":1}')
    reply = json.loads((await asyncio.wait_for(ws.recv(), 10)).split("\n")[0])
    assert "connect" in reply, reply
    return ws


class Soak:
    def __init__(self, port, minutes, pid):
        self.port, self.pid = port, pid
        self.deadline = time.monotonic() + minutes * 60
        self.stats = {"published": 0, "api_calls": 0, "queries": 0, "storms": 0,
                      "reconnects": 0, "recovered": 0, "not_recovered": 0, "recovery_gaps": 0,
                      "steady_seen": 0,
                      "steady_gaps": 0, "errors": [], "echo_max_s": 0.0, "echoes": 0,
                      "rss_mb": []}

    def running(self):
        return time.monotonic() < self.deadline

    def error(self, what):
        if len(self.stats["errors"]) < 20:
            self.stats["errors"].append(what)

    async def steady(self, channel):
        """Sees every publication of `channel`, in order of offset."""
        ws = await client(self.port)
        await ws.send(compact({"subscribe": {"channel": channel, "recoverable": True}, "id": 2}))
        last = None
        try:
            while self.running():
                try:
                    frame = await asyncio.wait_for(ws.recv(), 1)
                except asyncio.TimeoutError:
                    continue
                await answer_pings(ws, frame)
                for line in frame.split("\n"):
                    message = json.loads(line)
                    if "subscribe" in message:
                        last = message["subscribe"].get("offset", 0)
                    pub = message.get("push", {}).get("pub")
                    if pub is None:
                        continue
                    offset = pub.get("offset")
                    if last is not None and offset != last + 1:
                        self.stats["steady_gaps"] += 1
                        self.error("%s: offset %s after %s" % (channel, offset, last))
                    last = offset
                    self.stats["steady_seen"] += 1
        finally:
            await ws.close()

    async def churner(self):
        position = {}
        while self.running():
            channel = random.choice(CHANNELS)
            try:
                ws = await client(self.port)
                subscribe = {"channel": channel, "recoverable": True}
                if channel in position:
                    subscribe.update(recover=True, offset=position[channel][0],
                                     epoch=position[channel][1])
                await ws.send(compact({"subscribe": subscribe, "id": 2}))
                stay = time.monotonic() + random.uniform(0.5, 5)
                while time.monotonic() < stay and self.running():
                    try:
                        frame = await asyncio.wait_for(ws.recv(), 0.5)
                    except asyncio.TimeoutError:
                        continue
                    for line in frame.split("\n"):
                        message = json.loads(line)
                        result = message.get("subscribe")
                        if result is not None:
                            if result.get("was_recovering"):
                                key = "recovered" if result.get("recovered") else "not_recovered"
                                self.stats[key] += 1
                            if result.get("recovered"):
                                # Exactly what it missed: from its offset on, no gap.
                                expected = position[channel][0] + 1
                                for pub in result.get("publications", []):
                                    if pub["offset"] != expected:
                                        self.stats["recovery_gaps"] += 1
                                        self.error("%s: recovered %s, expected %s" % (
                                            channel, pub["offset"], expected))
                                    expected = pub["offset"] + 1
                            position[channel] = (result.get("offset", 0), result.get("epoch", ""))
                        pub = message.get("push", {}).get("pub")
                        if pub is not None:
                            position[channel] = (pub["offset"], position[channel][1])
                await ws.close()
                self.stats["reconnects"] += 1
                await asyncio.sleep(random.uniform(0.1, 2))
            except (OSError, websockets.WebSocketException, asyncio.TimeoutError) as e:
                self.error("churner: %r" % e)
                await asyncio.sleep(1)

    async def publisher(self, index):
        ws = await client(self.port)
        command_id = 2
        try:
            while self.running():
                channel = CHANNELS[command_id % len(CHANNELS)]
                await ws.send(compact({"publish": {"channel": channel,
                                                   "data": {"from": index, "n": command_id}},
                                       "id": command_id}))
                while True:  # its reply, answering pings meanwhile
                    frame = await asyncio.wait_for(ws.recv(), 10)
                    await answer_pings(ws, frame)
                    if '"id":%d' % command_id in frame:
                        break
                command_id += 1
                self.stats["published"] += 1
                await asyncio.sleep(0.02)
        except (websockets.WebSocketException, asyncio.TimeoutError) as e:
            self.error("publisher: %r" % e)
        finally:
            await ws.close()

    async def querier(self):
        ws = await client(self.port)
        command_id = 2
        try:
            while self.running():
                channel = random.choice(CHANNELS)
                await ws.send(compact({"subscribe": {"channel": channel}, "id": command_id}))
                for method in ("presence", "presence_stats", "history"):
                    params = {"channel": channel}
                    if method == "history":
                        params["limit"] = 50
                    await ws.send(compact({method: params, "id": command_id + 1}))
                    command_id += 1
                    self.stats["queries"] += 1
                await ws.send(compact({"unsubscribe": {"channel": channel}, "id": command_id + 1}))
                command_id += 2
                await asyncio.sleep(0.5)
                while True:
                    try:
                        await answer_pings(ws, await asyncio.wait_for(ws.recv(), 0.01))
                    except asyncio.TimeoutError:
                        break
        except websockets.WebSocketException as e:
            self.error("querier: %r" % e)
        finally:
            await ws.close()

    async def api_caller(self):
        n = 0
        while self.running():
            calls = [("publish", {"channel": random.choice(CHANNELS), "data": {"api": n}}),
                     ("broadcast", {"channels": CHANNELS[:2], "data": {"api": n}}),
                     ("presence_stats", {"channel": random.choice(CHANNELS)}),
                     ("history", {"channel": random.choice(CHANNELS), "limit": 10}),
                     ("channels", {"pattern": "chat:*"}),
                     ("info", {})]
            for method, params in calls:
                try:
                    reply = await asyncio.to_thread(api, self.port, method, params)
                    if "error" in reply:
                        self.error("api %s: %s" % (method, reply))
                    self.stats["api_calls"] += 1
                except OSError as e:
                    self.error("api %s: %r" % (method, e))
            n += 1
            await asyncio.sleep(1)

    async def storm(self):
        while self.running():
            try:
                ws = await client(self.port)
                lines = []
                for k in range(300):
                    lines.append(compact({"subscribe": {"channel": "chat:storm"}, "id": 2 + 2 * k}))
                    lines.append(compact({"unsubscribe": {"channel": "chat:storm"},
                                          "id": 3 + 2 * k}))
                await ws.send("\n".join(lines))
                await asyncio.sleep(1)
                await ws.close()
                self.stats["storms"] += 1
            except (OSError, websockets.WebSocketException) as e:
                self.error("storm: %r" % e)
            await asyncio.sleep(5)

    async def bystander(self):
        ws = await websockets.connect("ws://127.0.0.1:%d/ws" % self.port, ping_interval=None)
        k = 0
        while self.running():
            started = time.monotonic()
            await ws.send(compact({"message": "soak-%d" % k}))
            while True:
                got = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if got["message"] == "soak-%d" % k:
                    break
            self.stats["echo_max_s"] = max(self.stats["echo_max_s"], time.monotonic() - started)
            self.stats["echoes"] += 1
            k += 1
            await asyncio.sleep(0.05)
        await ws.close()

    async def sampler(self):
        while self.running():
            self.stats["rss_mb"].append(round(rss_mb(self.pid), 1))
            await asyncio.sleep(30)
        self.stats["rss_mb"].append(round(rss_mb(self.pid), 1))

    async def run(self):
        tasks = [self.steady(channel) for channel in CHANNELS]
        tasks += [self.churner() for _ in range(150)]
        tasks += [self.publisher(i) for i in range(8)]
        tasks += [self.querier() for _ in range(4)]
        tasks += [self.api_caller(), self.storm(), self.bystander(), self.sampler()]
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):
                self.error("task: %r" % result)


def main():
    port, minutes, pid = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
    soak = Soak(port, minutes, pid)
    asyncio.run(soak.run())
    stats = soak.stats
    rss = stats["rss_mb"]
    growth = (rss[-1] - rss[2]) if len(rss) > 3 else 0.0  # after the first minute
    stats["rss_growth_after_first_minute_mb"] = round(growth, 1)
    problems = []
    if stats["steady_gaps"]:
        problems.append("steady readers missed publications")
    if stats["recovery_gaps"]:
        problems.append("a recovery missed or repeated publications")
    if stats["echo_max_s"] > 1.0:
        problems.append("the bystander waited %.2f s" % stats["echo_max_s"])
    if growth > 64:
        problems.append("RSS grew %.1f MB after the first minute" % growth)
    if stats["published"] == 0 or stats["steady_seen"] == 0:
        problems.append("nothing was published or seen")
    stats["problems"] = problems
    print(json.dumps(stats, indent=1))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
