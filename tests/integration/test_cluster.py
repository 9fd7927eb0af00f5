"""Several Herald nodes on the Redis engine serving one channel space
(docs/protocol.md, `engine = redis`): publications of /ws clients, client-
protocol clients and the server API reach the subscribers of every node;
history and recovery, presence and join/leave, `info`, and the API's
unsubscribe and disconnect work across nodes; channels are sharded over two
Redis servers; and the nodes live through Redis being unreachable at start,
lost while they serve, and one of them being killed.

Every test starts its own redis-server(s) (tests/integration/redis_server.py)
and its own nodes, with `redis-io-timeout = 1s` so that a lost Redis is
noticed at once. A test that kills a node marks it (`expect_exit`); every
other node must still be running, and exit cleanly, at the end.
"""

import asyncio
import json
import os
import re
import signal
import subprocess
import threading
import time

import pytest

import herald_harness as hh
import redis_server as rs
from centrifugo_client import SECRET, Client, api, api_async, close_all, make_token
from test_sdk import SDK_DIR, check_node_modules

API_KEY = "cluster-api-key"
INTERNAL = {"code": 100, "message": "internal server error", "temporary": True}
UNSUBSCRIBED_2500 = {"code": 2500, "reason": "insufficient state"}
BASE = {**hh.OPEN_CHANNELS, "allow-anonymous": "true", "token-hmac-secret": SECRET,
        "redis-io-timeout": "1s", "redis-connect-timeout": "1s"}
HISTORY = {"history-size": "100", "history-ttl": "300s"}
# A namespace without history: subscribers there have no position.
PLAIN = {"namespaces.plain.history-size": "0", "namespaces.plain.history-ttl": "0s"}
PRESENCE = {"presence": "true", "join-leave": "true", "presence-ttl": "3s"}
NAMES = ("node-a", "node-b", "node-c")


# --- helpers ---------------------------------------------------------------------------------

def start_nodes(start_herald, redis, count=3, options=None):
    """`count` nodes named node-a, node-b... on `redis` (a RedisServer, or a
    list of them: the shards, in order); waits until each has its engine up."""
    servers = redis if isinstance(redis, (list, tuple)) else [redis]
    nodes = [start_herald(options={**BASE, "engine": "redis",
                                   "redis-address": ",".join(r.address for r in servers),
                                   "node-name": NAMES[i], **(options or {})})
             for i in range(count)]
    for node in nodes:
        wait_engine(node, 1)
    return nodes


def metrics(node):
    """/metrics as {name: value} for the unlabelled samples."""
    response = hh.http_get(node.port, "/metrics")
    assert response.status == 200, response
    values = {}
    for line in response.body.decode().splitlines():
        m = re.match(r"^([a-z_]+) (\S+)$", line)
        if m:
            values[m.group(1)] = float(m.group(2))
    return values


def wait_until(predicate, timeout, what, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def wait_engine(node, up, timeout=15):
    """Waits until the node's herald_engine_up is `up` (1 or 0)."""
    last = {}

    def check():
        last.update(metrics(node))
        return last.get("herald_engine_up") == up
    try:
        wait_until(check, timeout, "herald_engine_up %d" % up)
    except AssertionError:
        raise AssertionError("herald_engine_up is %r, not %d, after %ds on %s\n%s" % (
            last.get("herald_engine_up"), up, timeout, node.args, node.stderr_text()))


def kill_node(node):
    """SIGKILLs a node, which the teardown then expects dead."""
    node.expect_exit = True
    node.send_signal(signal.SIGKILL)
    assert node.wait_exit(10) == -signal.SIGKILL


def assert_alive(*nodes):
    for node in nodes:
        assert node.alive(), "herald died: %s\n%s" % (hh.describe_exit(node.poll()),
                                                     node.stderr_text())


def user(name, **claims):
    claims["sub"] = name
    return make_token(claims)


def info(client, user_id=""):
    return {"user": user_id, "client": client.client_id}


async def ws_messages(ws, count, timeout=20):
    """The next `count` /ws frames, decoded."""
    return [json.loads(await asyncio.wait_for(ws.recv(), timeout)) for _ in range(count)]


async def ws_sync(sender, receivers, tag, timeout=10):
    """/ws: sends probe messages from `sender` until every receiver got
    one, so that every node has its seed channel subscribed in Redis; then
    drains the probes (those still in flight included: the last probe is
    sent, then read by everyone)."""
    got = [False] * len(receivers)
    deadline = time.monotonic() + timeout
    n = 0
    while not all(got):
        assert time.monotonic() < deadline, "probes %s did not reach every node: %s" % (tag, got)
        n += 1
        await sender.send(json.dumps({"message": "%s-%d" % (tag, n)}))
        for i, ws in enumerate(receivers):
            try:
                while True:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 0.1))
                    assert frame["message"].startswith(tag + "-"), frame
                    got[i] = True
            except asyncio.TimeoutError:
                pass
    last = "%s-last" % tag
    await sender.send(json.dumps({"message": last}))
    for ws in receivers:
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert frame["message"].startswith(tag + "-"), frame
            if frame["message"] == last:
                break


# --- a: /ws ------------------------------------------------------------------------------

def test_ws_messages_reach_every_node_in_per_sender_order(redis_server, start_herald):
    nodes = start_nodes(start_herald, redis_server)

    async def main():
        # The subscription to the seed channel is made before the 101 (also in
        # Redis): a /ws client gets its own first message back.
        first = await hh.connect(nodes[0])
        await first.send('{"message":"first"}')
        assert await ws_messages(first, 1, 5) == [{"message": "first"}]

        clients = [await hh.connect(node) for node in nodes for _ in range(2)]
        await ws_sync(clients[0], clients + [first], "sync")
        senders = clients[0::2]  # one per node

        async def send_all(i, ws):
            for n in range(50):
                await ws.send(json.dumps({"message": "s%d:%d" % (i, n)}))

        async def receive_all(ws):
            seen = {0: [], 1: [], 2: []}
            for frame in await ws_messages(ws, 150):
                sender, n = frame["message"][1:].split(":")
                seen[int(sender)].append(int(n))
            return seen

        receiving = [asyncio.ensure_future(receive_all(ws)) for ws in clients + [first]]
        await asyncio.gather(*(send_all(i, ws) for i, ws in enumerate(senders)))
        for seen in await asyncio.gather(*receiving):
            assert seen == {i: list(range(50)) for i in range(3)}, seen
        # nothing more, no duplicate
        for ws in clients + [first]:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(ws.recv(), 0.3)
        for ws in clients + [first]:
            await ws.close()
    hh.run(main())
    assert_alive(*nodes)


# --- b: client protocol ------------------------------------------------------------------

def test_client_protocol_publications_cross_nodes(redis_server, start_herald):
    a_node, b_node, c_node = start_nodes(start_herald, redis_server)

    async def main():
        reader = await Client.open(b_node)
        writer = await Client.open(a_node)
        # a subscribe's reply means subscribed, in Redis too: a publication
        # made at once elsewhere arrives
        assert await reader.subscribe("chat") == {}
        assert await writer.subscribe("chat") == {}
        assert await writer.publish("chat", {"text": "from A"}) == {}
        from_a = {"channel": "chat", "pub": {"data": {"text": "from A"}, "info": info(writer)}}
        assert await reader.push() == from_a
        assert await writer.push() == from_a
        assert await api_async(c_node, "publish", {"channel": "chat",
                                                   "data": {"text": "from C"}}) == {"result": {}}
        from_c = {"channel": "chat", "pub": {"data": {"text": "from C"}}}
        assert await reader.push() == from_c
        assert await writer.push() == from_c
        # broadcast from C reaches a client-protocol subscriber of the seed
        # channel on B and a /ws client on A
        ws = await hh.connect(a_node)
        assert await reader.subscribe("broadcast") == {}
        assert await api_async(c_node, "broadcast", {
            "channels": ["chat", "broadcast"], "data": {"message": "both"}}) == {
            "result": {"responses": [{"result": {}}, {"result": {}}]}}
        pushes = [await reader.push(), await reader.push()]
        assert sorted(pushes, key=lambda p: p["channel"]) == [
            {"channel": "broadcast", "pub": {"data": {"message": "both"}}},
            {"channel": "chat", "pub": {"data": {"message": "both"}}}]
        assert await ws_messages(ws, 1, 5) == [{"message": "both"}]
        assert (await writer.push()) == {"channel": "chat", "pub": {"data": {"message": "both"}}}
        await reader.no_push()
        await writer.no_push()
        await ws.close()
        await close_all(reader, writer)
    hh.run(main())
    assert_alive(a_node, b_node, c_node)


# --- c: history and recovery with the SDK ------------------------------------------------

def run_cluster_scenarios(nodes, names, stdin=subprocess.DEVNULL):
    a, b, c = nodes
    return subprocess.Popen(
        ["node", os.path.join(SDK_DIR, "cluster_scenarios.mjs"), str(a.port), SECRET, API_KEY,
         str(b.port), str(c.port)] + list(names),
        stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_sdk_recovers_on_another_node(redis_server, start_herald):
    check_node_modules("centrifuge", "ws", "cent.js")
    nodes = start_nodes(start_herald, redis_server, options={**HISTORY, "api-key": API_KEY})
    names = ["crossNodeRecovery", "sinceOnAnotherNode"]
    node = run_cluster_scenarios(nodes, names)
    try:
        out, err = node.communicate(timeout=120)
    finally:
        if node.poll() is None:
            node.kill()
            node.wait(10)
    assert node.returncode == 0, out + err
    assert out.split() == [w for name in names for w in ("ok", name)], out + err
    # the history is in Redis, for every node
    for srv in nodes:
        result = api(srv, "history", {"channel": "feed", "limit": -1},
                     {"X-API-Key": API_KEY})["result"]
        assert [p["data"]["n"] for p in result["publications"]] == list(range(1, 25)), result
        assert result["offset"] == 24
    assert_alive(*nodes)


# --- d: presence and join/leave -----------------------------------------------------------

def test_presence_and_join_leave_across_nodes(redis_server, start_herald):
    nodes = start_nodes(start_herald, redis_server, options=PRESENCE)
    a_node, b_node, c_node = nodes

    async def main():
        a = await Client.open(a_node, user("u-a"))
        b = await Client.open(b_node, user("u-b"))
        c = await Client.open(c_node, user("u-c"))
        assert await a.subscribe("room", join_leave=True) == {}
        assert await a.push() == {"channel": "room", "join": {"info": info(a, "u-a")}}
        assert await b.subscribe("room", join_leave=True) == {}
        for x in (a, b):
            assert await x.push() == {"channel": "room", "join": {"info": info(b, "u-b")}}
        assert await c.subscribe("room") == {}
        for x in (a, b):
            assert await x.push() == {"channel": "room", "join": {"info": info(c, "u-c")}}

        everyone = {"presence": {x.client_id: info(x, u) for x, u in
                                 ((a, "u-a"), (b, "u-b"), (c, "u-c"))}}
        for srv in nodes:
            assert await api_async(srv, "presence", {"channel": "room"}) == {"result": everyone}
            assert await api_async(srv, "presence_stats", {"channel": "room"}) == {
                "result": {"num_clients": 3, "num_users": 3}}
        for x in (a, b, c):
            assert await x.ok("presence", {"channel": "room"}) == everyone
            assert await x.ok("presence_stats", {"channel": "room"}) == {
                "num_clients": 3, "num_users": 3}

        # leave on unsubscribe (B) reaches A on another node
        assert await b.ok("unsubscribe", {"channel": "room"}) == {}
        assert await a.push() == {"channel": "room", "leave": {"info": info(b, "u-b")}}
        assert await b.subscribe("room", join_leave=True) == {}
        for x in (a, b):
            assert await x.push() == {"channel": "room", "join": {"info": info(b, "u-b")}}
        # and on disconnect
        await c.close()
        for x in (a, b):
            assert await x.push() == {"channel": "room", "leave": {"info": info(c, "u-c")}}
        await a.no_push()
        stats = await api_async(c_node, "presence_stats", {"channel": "room"})
        assert stats == {"result": {"num_clients": 2, "num_users": 2}}, stats

        # node B is killed: its client leaves presence within the TTL (3 s;
        # up to twice that allowed), without anyone telling
        c2 = await Client.open(c_node, user("u-c2"))
        assert await c2.subscribe("room") == {}
        await asyncio.sleep(0.2)
        assert (await api_async(a_node, "presence_stats", {"channel": "room"}))["result"] == {
            "num_clients": 3, "num_users": 3}
        kill_node(b_node)
        killed_at = time.monotonic()
        expected = {"presence": {a.client_id: info(a, "u-a"), c2.client_id: info(c2, "u-c2")}}
        while True:
            presence = await api_async(a_node, "presence", {"channel": "room"})
            if presence == {"result": expected}:
                break
            assert time.monotonic() - killed_at < 6.5, presence
            await asyncio.sleep(0.1)
        assert await a.ok("presence", {"channel": "room"}) == expected
        assert await c2.ok("presence_stats", {"channel": "room"}) == {
            "num_clients": 2, "num_users": 2}
        await close_all(a, c2)
    hh.run(main(), timeout=60)
    assert_alive(a_node, c_node)


# --- e: info -------------------------------------------------------------------------------

def node_names(srv):
    return sorted(n["name"] for n in api(srv, "info")["result"]["nodes"])


def test_info_lists_every_node(redis_server, start_herald):
    nodes = start_nodes(start_herald, redis_server)
    for srv in nodes:
        wait_until(lambda: node_names(srv) == list(NAMES), 8, "three nodes in info")
    result = api(nodes[1], "info")["result"]["nodes"]
    assert len(result) == 3 and len({n["uid"] for n in result}) == 3, result
    for n in result:
        assert n["version"] and n["uptime"] >= 0, n

    async def clients():
        # node-b's counts come with its announcements (every 3 s)
        cs = [await Client.open(nodes[1], user("info-%d" % i)) for i in range(2)]
        for c in cs:
            assert await c.subscribe("info-room") == {}

        def counts():
            for n in api(nodes[0], "info")["result"]["nodes"]:
                if n["name"] == "node-b":
                    return (n["num_clients"], n["num_users"], n["num_channels"])
        deadline = time.monotonic() + 8
        while counts() != (2, 2, 1):
            assert time.monotonic() < deadline, api(nodes[0], "info")
            await asyncio.sleep(0.2)
        await close_all(*cs)
    hh.run(clients())

    # a node that stops leaves the list within ~10 s
    code, problem = nodes[2].stop()
    assert problem is None and code == 0, problem
    for srv in nodes[:2]:
        wait_until(lambda: node_names(srv) == ["node-a", "node-b"], 11, "node-c gone from info")
    assert_alive(*nodes[:2])


# --- f: unsubscribe and disconnect through another node's API ------------------------------

def test_api_disconnect_and_unsubscribe_reach_other_nodes(redis_server, start_herald):
    a_node, b_node, c_node = start_nodes(start_herald, redis_server)

    async def main():
        on_a = await Client.open(a_node, user("victim"))
        on_b = await Client.open(b_node, user("victim"))
        other = await Client.open(a_node, user("bystander"))
        for x in (on_a, on_b, other):
            assert await x.subscribe("news") == {}
            assert await x.subscribe("sports") == {}
        assert await api_async(c_node, "unsubscribe", {"channel": "news", "user": "victim"}) \
            == {"result": {}}
        for x in (on_a, on_b):
            assert await x.push() == {"channel": "news", "unsubscribe": {
                "code": 2000, "reason": "server unsubscribe"}}
        assert await api_async(c_node, "publish", {"channel": "news", "data": 1}) == \
            {"result": {}}
        assert await other.push() == {"channel": "news", "pub": {"data": 1}}
        await on_a.no_push()
        await on_b.no_push()
        # one connection, by client id, with a code of its own
        assert await api_async(c_node, "disconnect", {
            "user": "victim", "client": on_a.client_id,
            "disconnect": {"code": 4007, "reason": "moved"}}) == {"result": {}}
        assert await on_a.closed_with() == (4007, "moved")
        assert await on_b.subscribe("news") == {}  # the other stays
        # every connection of the user, on every node
        on_c = await Client.open(c_node, user("victim"))
        assert await api_async(b_node, "disconnect", {"user": "victim"}) == {"result": {}}
        assert await on_b.closed_with() == (3503, "force disconnect")
        assert await on_c.closed_with() == (3503, "force disconnect")
        assert await api_async(c_node, "publish", {"channel": "sports", "data": 2}) == \
            {"result": {}}
        assert await other.push() == {"channel": "sports", "pub": {"data": 2}}
        await other.no_push()
        await other.close()
    hh.run(main())
    assert_alive(a_node, b_node, c_node)


# --- redis-prefix: clusters sharing a Redis ----------------------------------------------

def test_prefixes_keep_clusters_apart(redis_server, start_herald):
    blue = start_nodes(start_herald, redis_server, 2, {**HISTORY, "redis-prefix": "blue"})
    green = start_nodes(start_herald, redis_server, 1, {**HISTORY, "redis-prefix": "green"})

    async def main():
        blue_reader = await Client.open(blue[1])
        green_reader = await Client.open(green[0])
        for c in (blue_reader, green_reader):
            assert await c.subscribe("chat") == {}
        assert (await api_async(blue[0], "publish", {"channel": "chat", "data": "blue"})
                )["result"]["offset"] == 1
        assert (await api_async(green[0], "publish", {"channel": "chat", "data": "green"})
                )["result"]["offset"] == 1
        assert (await blue_reader.push())["pub"]["data"] == "blue"
        assert (await green_reader.push())["pub"]["data"] == "green"
        for c in (blue_reader, green_reader):
            await c.no_push()
        await close_all(blue_reader, green_reader)
    hh.run(main())
    keys = redis_server.command("KEYS", "*").decode()
    assert sorted(line for line in keys.split("\r\n") if line and line[0] not in "*$") == [
        "blue.meta.chat", "blue.stream.chat", "green.meta.chat", "green.stream.chat"], keys
    wait_until(lambda: node_names(blue[0]) == ["node-a", "node-b"], 8, "blue's two nodes")
    assert node_names(green[0]) == ["node-a"]
    assert_alive(*blue, *green)


# --- g: two Redis shards -------------------------------------------------------------------

def fnv1a_64(text):
    h = 14695981039346656037
    for byte in text.encode():
        h ^= byte
        h = (h * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h


def jump_consistent_hash(key, buckets):
    bucket, following = -1, 0
    while following < buckets:
        bucket = following
        key = (key * 2862933555777941757 + 1) & 0xFFFFFFFFFFFFFFFF
        following = int(float(bucket + 1) * (float(1 << 31) / float((key >> 33) + 1)))
    return bucket


def shard_of(channel, shards):
    return 0 if shards <= 1 else jump_consistent_hash(fnv1a_64(channel), shards)


def test_shard_hash_reference_values():
    # FNV-1a 64 (Go's hash/fnv New64a) and the jump hash's published vectors
    # (Lamping and Veach; github.com/dgryski/go-jump), which the server's
    # unit tests use as well: the shards computed below are the server's.
    assert fnv1a_64("") == 0xcbf29ce484222325
    assert fnv1a_64("a") == 0xaf63dc4c8601ec8c
    assert [jump_consistent_hash(k, b) for k, b in
            ((1, 1), (42, 57), (0xDEAD10CC, 666), (256, 1024))] == [0, 43, 361, 520]
    assert [shard_of("a", 2), shard_of("a", 3), shard_of("chat", 5)] == [1, 2, 4]


def test_channels_sharded_over_two_redis(redis_factory, start_herald):
    shards = [redis_factory(), redis_factory()]
    nodes = start_nodes(start_herald, shards)
    a_node, b_node, c_node = nodes
    channels = ["shard-%d" % n for n in range(20)]
    where = {ch: shard_of(ch, 2) for ch in channels}
    assert sorted(set(where.values())) == [0, 1], where

    async def main():
        reader = await Client.open(b_node)
        writer = await Client.open(a_node)
        for ch in channels:
            assert await reader.subscribe(ch) == {}
            assert await writer.subscribe(ch) == {}
        # each node subscribed each channel on its shard only
        for i, redis in enumerate(shards):
            listed = redis.command("PUBSUB", "CHANNELS", "herald.client.shard-*").decode()
            found = sorted(re.findall(r"herald\.client\.(shard-\d+)", listed))
            assert found == sorted(ch for ch in channels if where[ch] == i), (i, listed)
            counts = redis.command("PUBSUB", "NUMSUB", *("herald.client." + ch for ch in
                                                         channels)).decode()
            numbers = [int(x) for x in re.findall(r"^:(\d+)", counts, re.M)]
            assert numbers == [2 if where[ch] == i else 0 for ch in channels], counts
        for n, ch in enumerate(channels):
            assert await writer.publish(ch, {"n": n}) == {}
            assert await api_async(c_node, "publish", {"channel": ch, "data": {"api": n}}) == \
                {"result": {}}
        pushes = [await reader.push() for _ in range(40)]
        for n, ch in enumerate(channels):
            assert [p["pub"]["data"] for p in pushes if p["channel"] == ch] == [
                {"n": n}, {"api": n}], (ch, pushes)
        await reader.no_push()

        # shard 1 lost: its channels' publications fail, shard 0's go on
        shards[1].stop()
        for srv in nodes:
            wait_engine(srv, 0)
        live = [ch for ch in channels if where[ch] == 0]
        dead = [ch for ch in channels if where[ch] == 1]
        for ch in dead:
            assert await writer.error("publish", {"channel": ch, "data": 1}) == INTERNAL
            reply = await api_async(c_node, "publish", {"channel": ch, "data": 1})
            assert reply["error"]["code"] == 100, reply
        for n, ch in enumerate(live):
            assert await writer.publish(ch, {"after": n}) == {}
            assert await api_async(c_node, "publish", {"channel": ch, "data": {"api": n}}) == \
                {"result": {}}
        writer.pushes.clear()
        pushes = [await reader.push() for _ in range(2 * len(live))]
        for n, ch in enumerate(live):
            assert [p["pub"]["data"] for p in pushes if p["channel"] == ch] == [
                {"after": n}, {"api": n}], (ch, pushes)
        await reader.no_push()  # not positioned: no unsubscribe for the dead shard's

        # shard 1 back: its channels work again, the subscriptions kept
        shards[1].restart()
        for srv in nodes:
            wait_engine(srv, 1)
        ch = dead[0]
        deadline = time.monotonic() + 10
        while not reader.pushes:  # until the nodes have resubscribed on shard 1
            assert time.monotonic() < deadline, "no publication on %s after the restart" % ch
            reply = await api_async(c_node, "publish", {"channel": ch, "data": "probe"})
            assert reply == {"result": {}}, reply
            await reader.pump(0.2)
        await reader.pump(0.3)  # the probes still on their way
        assert all(p["push"] == {"channel": ch, "pub": {"data": "probe"}}
                   for p in reader.pushes), reader.pushes
        reader.pushes.clear()
        for n, ch in enumerate(dead):
            assert await api_async(c_node, "publish", {"channel": ch, "data": {"back": n}}) == \
                {"result": {}}
        pushes = [await reader.push() for _ in range(len(dead))]
        assert pushes == [{"channel": ch, "pub": {"data": {"back": n}}}
                          for n, ch in enumerate(dead)], pushes
        await close_all(reader, writer)
    hh.run(main(), timeout=90)
    assert_alive(*nodes)


# --- h: Redis unreachable at start ---------------------------------------------------------

def test_redis_unreachable_at_start(tmp_path, start_herald):
    redis = rs.RedisServer(tmp_path / "late-redis", port=rs.free_port())
    nodes = []
    try:
        for name in NAMES[:2]:
            nodes.append(start_herald(options={
                **BASE, "engine": "redis", "redis-address": redis.address, "node-name": name}))
        for srv in nodes:
            assert hh.http_get(srv.port, "/health").status == 200
            index = hh.http_get(srv.port, "/index.html")
            assert index.status == 200 and b"root index" in index.body, index
            values = metrics(srv)
            assert values["herald_engine_up"] == 0, values
            assert values["herald_engine_reconnects_total"] == 0, values

        async def while_down():
            c = await Client.open(nodes[0])
            assert await c.error("subscribe", {"channel": "early"}) == INTERNAL
            assert await c.error("subscribe", {"channel": "early"}) == INTERNAL  # not half-made
            reply = await api_async(nodes[1], "publish", {"channel": "early", "data": 1})
            assert reply["error"]["code"] == 100, reply
            await c.close()
        hh.run(while_down())

        redis.start()  # retried with backoff: up within a few seconds
        for srv in nodes:
            wait_engine(srv, 1, timeout=10)

        async def after():
            a = await hh.connect(nodes[0])
            b = await hh.connect(nodes[1])
            await ws_sync(a, [a, b], "late")
            await a.send('{"message":"across"}')
            assert await ws_messages(b, 1, 5) == [{"message": "across"}]
            assert await ws_messages(a, 1, 5) == [{"message": "across"}]
            c = await Client.open(nodes[1])
            assert await c.subscribe("early") == {}
            assert await api_async(nodes[0], "publish", {"channel": "early", "data": 2}) == \
                {"result": {}}
            assert await c.push() == {"channel": "early", "pub": {"data": 2}}
            for ws in (a, b, c):
                await ws.close()
        hh.run(after())
        assert_alive(*nodes)
    finally:
        redis.stop()


# --- i: Redis lost while serving, and back ---------------------------------------------------

def test_redis_lost_and_back(redis_server, start_herald):
    nodes = start_nodes(start_herald, redis_server, options={**HISTORY, **PLAIN})
    a_node, b_node, c_node = nodes

    async def main():
        reader = await Client.open(b_node)
        writer = await Client.open(a_node)
        joined = await reader.subscribe("hist", recoverable=True)
        # (a zero offset is left out, as protobuf's JSON does)
        assert joined == {"recoverable": True, "positioned": True, "epoch": joined["epoch"]}, \
            joined
        assert await reader.subscribe("plain:live") == {}
        for ch in ("hist", "plain:live"):
            assert await writer.subscribe(ch) == {}
        ws_a = await hh.connect(a_node)
        ws_c = await hh.connect(c_node)
        await ws_sync(ws_c, [ws_a, ws_c], "before")
        assert await writer.publish("hist", {"n": 1}) == {}
        push = await reader.push()
        assert push["pub"]["data"] == {"n": 1} and push["pub"]["offset"] == 1, push

        # mid-stream: /ws messages keep coming while Redis dies
        streaming = True

        async def stream():
            n = 0
            while streaming:
                n += 1
                await ws_c.send(json.dumps({"message": "stream-%d" % n}))
                await asyncio.sleep(0.01)
        streamer = asyncio.ensure_future(stream())
        await asyncio.sleep(0.2)
        redis_server.stop()
        # the positioned subscriber is told to recover
        pushes = await reader.pushes_until(lambda p: "unsubscribe" in p, 5)
        assert pushes[-1] == {"channel": "hist", "unsubscribe": UNSUBSCRIBED_2500}, pushes
        assert all(p["channel"] == "hist" and "pub" in p for p in pushes[:-1]), pushes
        streaming = False
        await streamer
        for srv in nodes:
            await asyncio.to_thread(wait_engine, srv, 0, 5)
            assert hh.http_get(srv.port, "/health").status == 200
        # while it is down: temporary error 100 for publish and subscribe
        assert await writer.error("publish", {"channel": "plain:live", "data": 1}) == INTERNAL
        assert await writer.error("publish", {"channel": "hist", "data": 1}) == INTERNAL
        assert await reader.error("subscribe", {"channel": "hist", "recoverable": True}) == \
            INTERNAL
        reply = await api_async(c_node, "publish", {"channel": "plain:live", "data": 1})
        assert reply["error"]["code"] == 100, reply
        await reader.no_push(0.5)  # the plain subscription is kept, untold

        redis_server.restart()
        for srv in nodes:
            await asyncio.to_thread(wait_engine, srv, 1, 15)
        # Redis came back empty (nothing saved): the stream is a new one
        result = await reader.subscribe("hist", recoverable=True, recover=True, offset=1,
                                        epoch=joined["epoch"])
        assert result["was_recovering"] is True and result.get("recovered", False) is False, \
            result
        assert result["epoch"] != joined["epoch"] and result.get("offset", 0) == 0, result
        assert "publications" not in result, result
        assert await writer.publish("hist", {"n": 2}) == {}
        push = await reader.push()
        assert push == {"channel": "hist", "pub": {"data": {"n": 2}, "offset": 1,
                                                   "info": info(writer)}}, push
        # the kept plain subscription gets publications again, once the nodes
        # have resubscribed its channel
        deadline = time.monotonic() + 10
        while not reader.pushes:
            assert time.monotonic() < deadline, "plain:live did not come back"
            assert await writer.publish("plain:live", "probe") == {}
            await reader.pump(0.2)
        await reader.pump(0.3)
        assert all(p["push"]["channel"] == "plain:live" and p["push"]["pub"]["data"] == "probe"
                   for p in reader.pushes), reader.pushes
        reader.pushes.clear()
        for n in range(20):
            assert await writer.publish("plain:live", n) == {}
        pushes = [await reader.push() for _ in range(20)]
        assert [p["pub"]["data"] for p in pushes] == list(range(20)), pushes
        await reader.no_push()
        # /ws across nodes again (the stream's messages that went out before
        # the loss may still be queued: skipped by the sync)
        for ws in (ws_a, ws_c):
            try:
                while True:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 0.3))
                    assert frame["message"].startswith(("stream-", "before-")), frame
            except asyncio.TimeoutError:
                pass
        await ws_sync(ws_c, [ws_a, ws_c], "after")
        await ws_a.send('{"message":"back"}')
        for ws in (ws_a, ws_c):
            assert await ws_messages(ws, 1, 5) == [{"message": "back"}]
            await ws.close()
        await close_all(reader, writer)
    hh.run(main(), timeout=90)
    assert_alive(*nodes)
    for srv in nodes:
        values = metrics(srv)
        assert values["herald_engine_up"] == 1 and values["herald_engine_reconnects_total"] >= 1, \
            values
    # the writer's two publishes on A; the API's publish on C
    assert metrics(a_node)["herald_engine_publish_errors_total"] >= 2
    assert metrics(c_node)["herald_engine_publish_errors_total"] >= 1
    # B's channels of the lost shard ("hist" at least) were interrupted
    assert metrics(b_node)["herald_engine_interruptions_total"] >= 1


def test_sdk_resubscribes_after_redis_returns(redis_server, start_herald):
    check_node_modules("centrifuge", "ws", "cent.js")
    nodes = start_nodes(start_herald, redis_server, options={**HISTORY, "api-key": API_KEY})
    node = run_cluster_scenarios(nodes, ["redisOutage"], stdin=subprocess.PIPE)
    killer = threading.Timer(90, node.kill)
    killer.start()
    lines = []
    try:
        for line in node.stdout:
            lines.append(line)
            if line.strip() == "kill-redis":
                redis_server.stop()
                node.stdin.write("killed\n")
                node.stdin.flush()
            elif line.strip() == "restart-redis":
                redis_server.restart()
                for srv in nodes:
                    wait_engine(srv, 1)
                node.stdin.write("up\n")
                node.stdin.flush()
            elif line.startswith(("ok ", "FAILED ")):
                break
        rest, errors = node.communicate(timeout=30)
    finally:
        killer.cancel()
        if node.poll() is None:
            node.kill()
            node.wait(10)
    output = "".join(lines) + rest + errors
    assert node.returncode == 0, output
    assert [line.strip() for line in lines] == ["kill-redis", "restart-redis",
                                                "ok redisOutage"], output
    assert_alive(*nodes)


# --- j: a node killed ------------------------------------------------------------------------

def test_killed_node_leaves_the_others_working(redis_server, start_herald):
    nodes = start_nodes(start_herald, redis_server, options=PRESENCE)
    a_node, b_node, c_node = nodes

    async def main():
        reader = await Client.open(b_node)
        writer = await Client.open(a_node)
        doomed = await Client.open(c_node)
        for x in (reader, writer, doomed):
            assert await x.subscribe("survive") == {}
        ws_a = await hh.connect(a_node)
        ws_b = await hh.connect(b_node)
        ws_c = await hh.connect(c_node)
        await ws_sync(ws_a, [ws_a, ws_b, ws_c], "sync")

        kill_node(c_node)
        # its client lost the connection without a close frame
        assert await doomed.closed_with(5) == (1006, "")
        assert await writer.publish("survive", {"n": 1}) == {}
        expected = {"channel": "survive", "pub": {"data": {"n": 1}, "info": info(writer)}}
        assert await reader.push() == expected
        assert await writer.push() == expected
        assert await api_async(b_node, "publish", {"channel": "survive", "data": {"n": 2}}) == \
            {"result": {}}
        for x in (reader, writer):
            assert await x.push() == {"channel": "survive", "pub": {"data": {"n": 2}}}
        await ws_b.send('{"message":"still here"}')
        for ws in (ws_a, ws_b):
            assert await ws_messages(ws, 1, 5) == [{"message": "still here"}]
        # a new client on a survivor works too
        late = await Client.open(a_node)
        assert await late.subscribe("survive") == {}
        assert await reader.publish("survive", {"n": 3}) == {}
        for x in (reader, writer, late):
            assert (await x.push())["pub"]["data"] == {"n": 3}
        for x in (reader, writer, late):
            await x.no_push()
        await close_all(reader, writer, late, ws_a, ws_b)
    hh.run(main())
    # and node-c leaves info (silent for over 7 s)
    for srv in (a_node, b_node):
        wait_until(lambda: node_names(srv) == ["node-a", "node-b"], 12, "node-c gone from info")
    assert_alive(a_node, b_node)


# --- exact subscriptions while publications pour in -----------------------------------------

def test_subscriptions_mid_stream_get_every_offset_once(redis_server, start_herald):
    """A subscription set up on node B while node A's API publishes as fast
    as it can: the recovered publications (or the position in the reply)
    and the pushes that follow meet exactly, with no offset missing and
    none twice, however the pub/sub messages and the stream read race."""
    a_node, b_node = start_nodes(start_herald, redis_server, count=2,
                                 options={"history-size": "2000", "history-ttl": "300s",
                                          "force-positioning": "true"})
    total = 600

    epoch = [None]

    async def publish_all():
        for n in range(1, total + 1):
            result = await api_async(a_node, "publish", {"channel": "feed", "data": {"n": n}})
            assert result["result"]["offset"] == n, result
            epoch[0] = epoch[0] or result["result"]["epoch"]
            assert result["result"]["epoch"] == epoch[0], result

    async def follow(recover_from):
        client = await Client.open(b_node)
        params = {}
        if recover_from is not None:
            params = {"recoverable": True, "recover": True, "offset": recover_from,
                      "epoch": epoch[0]}
        reply = await client.subscribe("feed", **params)
        if recover_from is not None:
            assert reply.get("recovered") is True, reply
            offsets = [p["offset"] for p in reply.get("publications", [])]
            start = recover_from
        else:
            offsets = []
            start = reply["offset"]
        while (offsets[-1] if offsets else start) < total:
            push = await client.push(timeout=20)
            offsets.append(push["pub"]["offset"])
        await close_all(client)
        assert offsets == list(range(start + 1, total + 1)), (recover_from, start, offsets[:20])
        return len(offsets)

    async def main():
        publisher = asyncio.ensure_future(publish_all())
        followers = []
        while not publisher.done() and len(followers) < 24:
            await asyncio.sleep(0.03)
            if epoch[0] is None:
                continue
            top = (await api_async(b_node, "history", {"channel": "feed", "limit": 0}))["result"]
            behind = top.get("offset", 0)
            # Alternately recovering from a little behind the top, and
            # positioned at the top with no recovery.
            recover_from = max(0, behind - 5) if len(followers) % 2 == 0 else None
            followers.append(asyncio.ensure_future(follow(recover_from)))
        await publisher
        received = await asyncio.gather(*followers)
        assert len(received) >= 6, "the publisher finished before enough followers joined"
    hh.run(main(), timeout=120)
    assert_alive(a_node, b_node)
