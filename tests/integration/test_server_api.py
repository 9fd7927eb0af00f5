"""Centrifugo's v5 server HTTP API on POST /api/<method> (docs/protocol.md): the API
key (X-API-Key or `Authorization: apikey`) and the loopback rule without
one, HTTP-level errors (405, 404, 400, 401), error results (107, 102, 108,
100), and each method against live clients: publish (to client-protocol
subscribers and /ws clients on the seed channel), broadcast, unsubscribe,
disconnect, presence, presence_stats, history, history_remove, channels and
info. After each error the server must go on serving."""

import asyncio
import json

import pytest

import herald_harness as hh
from centrifugo_client import (SECRET, Client, api, api_async, api_request, close_all,
                               eventually, make_token)

API_KEY = "api-test-key"
BAD_REQUEST = {"error": {"code": 107, "message": "bad request"}}
UNKNOWN_CHANNEL = {"error": {"code": 102, "message": "unknown channel"}}
NOT_AVAILABLE = {"error": {"code": 108, "message": "not available"}}

OPTIONS = {
    **hh.OPEN_CHANNELS, "allow-anonymous": "true", "token-hmac-secret": SECRET,
    "presence": "true",
    "history-size": "100", "history-ttl": "300s",
    "namespaces.plain.history-size": "0", "namespaces.plain.history-ttl": "0s",
    "namespaces.plain.presence": "false",
}


@pytest.fixture(scope="module")
def server(module_start_herald):
    return module_start_herald(options=OPTIONS)


pytestmark = pytest.mark.usefixtures("server_stays_alive")


def user(name, **claims):
    claims["sub"] = name
    return make_token(claims)


def healthy(srv):
    return hh.http_get(srv.port, "/health").status == 200


def serves_api(srv, headers=None):
    """The API still answers a good call."""
    return "result" in api(srv, "info", {}, headers)


# --- auth ---------------------------------------------------------------------------------

def test_api_key(start_herald):
    srv = start_herald(options={**hh.OPEN_CHANNELS, "api-key": API_KEY, "allow-anonymous": "true"})
    for headers in ({"X-API-Key": API_KEY}, {"Authorization": "apikey " + API_KEY}):
        reply = api_request(srv.port, "info", {}, headers)
        assert reply.status == 200 and len(reply.json["result"]["nodes"]) == 1, reply
        reply = api_request(srv.port, "publish", {"channel": "c", "data": 1}, headers)
        assert reply.status == 200 and reply.json == {"result": {}}, reply
    for headers in ({}, {"X-API-Key": "wrong"}, {"X-API-Key": API_KEY + "x"},
                    {"X-API-Key": ""}, {"Authorization": "apikey wrong"},
                    {"Authorization": "Bearer " + API_KEY}, {"Authorization": API_KEY},
                    {"X-Api-Key": API_KEY.upper()}):
        reply = api_request(srv.port, "publish", {"channel": "c", "data": 1}, headers)
        assert reply.status == 401, (headers, reply)
        assert healthy(srv)
    # header names are case-insensitive
    assert api(srv, "info", {}, {"x-api-key": API_KEY})["result"]["nodes"]
    assert api(srv, "info", {}, {"authorization": "apikey " + API_KEY})["result"]["nodes"]


def test_no_api_key_allows_loopback(start_herald):
    # A server of its own (the module's, without api-key too), so that the
    # counts are this test's clients only.
    srv = start_herald(options=OPTIONS)

    async def node_counts(headers=None):
        """The one node of an info reply, less its uptime (absent while 0)
        and its uid, name and version (non-empty strings)."""
        reply = await api_async(srv, "info", {}, headers)
        node = dict(reply["result"]["nodes"][0])
        assert reply == {"result": {"nodes": [node]}}, reply
        assert 0 <= node.pop("uptime", 0) < 600, reply
        for key in ("uid", "name", "version"):
            assert isinstance(node[key], str) and node[key], reply
            del node[key]
        return node

    async def main():
        a1 = await Client.open(srv, user("loopback-a"))
        a2 = await Client.open(srv, user("loopback-a"))
        b = await Client.open(srv, user("loopback-b"))
        anon = await Client.open(srv)
        for c in (a1, anon):
            assert await c.subscribe("loopback-room") == {}
        ws = await hh.connect(srv)
        # 5 connections; users loopback-a, loopback-b and "" (the anonymous
        # one; /ws clients have none); channels broadcast (the /ws client's)
        # and loopback-room. Clients reach the broadcaster a moment after
        # their connect reply.
        expected = {"num_clients": 5, "num_users": 3, "num_channels": 2, "num_subs": 3}
        assert await eventually(node_counts, expected) == expected
        # a key sent anyway is not checked
        assert await node_counts({"X-API-Key": "anything"}) == expected
        await close_all(a1, a2, b, anon, ws)
    hh.run(main())


# Callers from other addresses (403 without api-key) are covered by the unit
# tests of core::check_api_access: tests bind loopback addresses only.


def test_ipv4_mapped_loopback_callers_count_as_loopback(start_herald):
    # Bound to the IPv6 form of 127.0.0.1 (still loopback only), the server
    # sees its callers as ::ffff:127.0.0.1; without api-key they may call.
    srv = start_herald(options={"address": "::ffff:127.0.0.1"})
    reply = api_request(srv.port, "info", {})
    assert reply.status == 200 and "result" in reply.json, reply


# --- HTTP-level errors ---------------------------------------------------------------------

def test_http_errors(server):
    for method in ("GET", "PUT", "DELETE"):
        reply = api_request(server.port, "publish", "", http_method=method)
        assert reply.status == 405, (method, reply)
        assert reply.header("allow") == "POST", reply
    for name in ("foo", "batch", "rpc", "subscribe", "refresh", "Publish", "publish/x"):
        reply = api_request(server.port, name, {"channel": "c", "data": 1})
        assert reply.status == 404, (name, reply)
        assert reply.body == b"404 page not found\n", reply
    for body in ("{bad", "", "[1]", '"text"', "1", '{"channel":1,"data":1}',
                 '{"channel":"c","data":1', '{"channel":"c","data":{"a":1}} trailing'):
        reply = api_request(server.port, "publish", body)
        assert reply.status == 400, (body, reply)
        assert reply.body == b"Bad Request\n", (body, reply)
    reply = api_request(server.port, "history", '{"channel":"c","limit":1.5}')
    assert reply.status == 400, reply
    assert healthy(server)
    assert serves_api(server)


def test_error_results(server):
    assert api(server, "publish", {"data": {"a": 1}}) == BAD_REQUEST
    assert api(server, "publish", {"channel": "", "data": 1}) == BAD_REQUEST
    assert api(server, "publish", {"channel": "c"}) == BAD_REQUEST
    assert api(server, "publish", {"channel": "x" * 256, "data": 1}) == BAD_REQUEST
    assert api(server, "broadcast", {"data": 1}) == BAD_REQUEST
    assert api(server, "broadcast", {"channels": [], "data": 1}) == BAD_REQUEST
    assert api(server, "broadcast", {"channels": ["c"]}) == BAD_REQUEST
    for method in ("presence", "presence_stats", "history", "history_remove"):
        assert api(server, method, {}) == BAD_REQUEST, method
        assert api(server, method, {"channel": "nowhere:x"}) == UNKNOWN_CHANNEL, method
    assert api(server, "publish", {"channel": "nowhere:x", "data": 1}) == UNKNOWN_CHANNEL
    assert api(server, "presence", {"channel": "plain:x"}) == NOT_AVAILABLE
    assert api(server, "presence_stats", {"channel": "plain:x"}) == NOT_AVAILABLE
    assert api(server, "history", {"channel": "plain:x"}) == NOT_AVAILABLE
    assert api(server, "channels", {"pattern": "[a"}) == {
        "error": {"code": 100, "message": "internal server error"}}
    assert healthy(server)
    assert serves_api(server)


def test_broadcast_checks_each_channel(server):
    reply = api(server, "broadcast", {"channels": ["bc-ok-1", "", "x" * 256, "bc-ok-2"],
                                      "data": {"a": 1}})
    responses = reply["result"]["responses"]
    assert len(responses) == 4, reply
    assert responses[1] == BAD_REQUEST and responses[2] == BAD_REQUEST, reply
    assert [sorted(r["result"]) for r in (responses[0], responses[3])] == \
        [["epoch", "offset"]] * 2, reply


def test_legacy_api_route_answers_each_line(server):
    # Centrifugo's legacy route (method in the body, one command per line),
    # which cent.js's pipeline() uses: one response per line, in order.
    body = "\n".join(json.dumps(command) for command in (
        {"method": "publish", "params": {"channel": "legacy", "data": {"n": 1}}},
        {"method": "nope", "params": {}},
        {"method": "history", "params": {"channel": "legacy", "limit": -1}}))
    reply = api_request(server.port, "", body, path="/api")
    assert reply.status == 200, reply
    lines = [json.loads(line) for line in reply.body.decode().split("\n")]
    assert lines[0]["result"]["offset"] >= 1, lines
    assert lines[1] == {"error": {"code": 104, "message": "method not found"}}, lines
    assert lines[2]["result"]["publications"][-1]["data"] == {"n": 1}, lines
    # A line that is no command fails the request; /api/ names no method.
    assert api_request(server.port, "", "not json", path="/api").status == 400
    reply = api_request(server.port, "", {}, path="/api/")
    assert reply.status == 404 and reply.body == b"404 page not found\n", reply
    assert healthy(server)


# --- publish and broadcast -----------------------------------------------------------------

def test_publish_reaches_subscribers_and_ws_clients(server):
    async def main():
        c = await Client.open(server)
        for ch in ("broadcast", "api-news", "plain:news"):
            assert await c.subscribe(ch) == {}
        ws = await hh.connect(server)
        reply = await api_async(server, "publish", {"channel": "broadcast",
                                                    "data": {"message": "hi"}})
        offset, epoch = reply["result"]["offset"], reply["result"]["epoch"]
        assert reply == {"result": {"offset": offset, "epoch": epoch}} and offset >= 1, reply
        assert isinstance(epoch, str) and epoch
        assert await asyncio.wait_for(ws.recv(), 5) == '{"message":"hi"}'
        assert await c.push() == {"channel": "broadcast", "pub": {
            "data": {"message": "hi"}, "offset": offset}}
        # any JSON value reaches /ws clients as it is
        await api_async(server, "publish", {"channel": "broadcast", "data": [1, "two", None]})
        assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == [1, "two", None]
        assert (await c.push())["pub"]["data"] == [1, "two", None]
        # offsets go on from 1 per channel
        assert await api_async(server, "publish", {"channel": "api-news", "data": {"n": 1}}) \
            == {"result": {"offset": 1, "epoch": (await api_async(
                server, "history", {"channel": "api-news"}))["result"]["epoch"]}}
        assert await c.push() == {"channel": "api-news", "pub": {"data": {"n": 1}, "offset": 1}}
        # null is data too, as in Centrifugo
        await api_async(server, "publish", {"channel": "broadcast", "data": None})
        assert await asyncio.wait_for(ws.recv(), 5) == "null"
        assert (await c.push())["pub"]["data"] is None
        # without history: an empty result, and no offset in the push
        assert await api_async(server, "publish", {"channel": "plain:news",
                                                   "data": {"n": 2}}) == {"result": {}}
        assert await c.push() == {"channel": "plain:news", "pub": {"data": {"n": 2}}}
        # skip_history: delivered, not kept
        await api_async(server, "publish", {"channel": "api-news", "data": {"n": 3},
                                            "skip_history": True})
        assert (await c.push())["pub"]["data"] == {"n": 3}
        history = await api_async(server, "history", {"channel": "api-news", "limit": -1})
        assert [p["data"] for p in history["result"]["publications"]] == [{"n": 1}], history
        await c.no_push()
        await c.close()
        await ws.close()
    hh.run(main())


def test_broadcast(server):
    async def main():
        c = await Client.open(server)
        for ch in ("bc-a", "bc-b", "plain:bc"):
            assert await c.subscribe(ch) == {}
        reply = await api_async(server, "broadcast", {
            "channels": ["bc-a", "bc-b", "plain:bc", "nowhere:bc"], "data": {"all": True}})
        responses = reply["result"]["responses"]
        assert set(reply) == {"result"} and set(reply["result"]) == {"responses"}, reply
        assert len(responses) == 4, reply
        for slot in responses[:2]:
            assert slot["result"]["offset"] == 1 and slot["result"]["epoch"], reply
        assert responses[2] == {"result": {}}, reply
        assert responses[3] == UNKNOWN_CHANNEL, reply
        got = {}
        for _ in range(3):
            push = await c.push()
            got[push["channel"]] = push["pub"]["data"]
        assert got == {"bc-a": {"all": True}, "bc-b": {"all": True},
                       "plain:bc": {"all": True}}
        await c.no_push()
        await c.close()
    hh.run(main())


# --- unsubscribe and disconnect -----------------------------------------------------------

UNSUBSCRIBED = {"code": 2000, "reason": "server unsubscribe"}


def test_server_unsubscribe(server):
    async def main():
        u1 = await Client.open(server, user("unsub-1"))
        u1b = await Client.open(server, user("unsub-1"))
        u2 = await Client.open(server, user("unsub-2"))
        for c in (u1, u1b, u2):
            assert await c.subscribe("room") == {}
            assert await c.subscribe("room-2") == {}
        assert await api_async(server, "unsubscribe", {"channel": "room", "user": "unsub-1"}) \
            == {"result": {}}
        for c in (u1, u1b):
            assert await c.push() == {"channel": "room", "unsubscribe": UNSUBSCRIBED}
        await api_async(server, "publish", {"channel": "room", "data": {"n": 1}})
        assert (await u2.push())["pub"]["data"] == {"n": 1}
        for c in (u1, u1b):
            await c.no_push()
        # other channels stay subscribed
        await api_async(server, "publish", {"channel": "room-2", "data": {"n": 2}})
        for c in (u1, u1b, u2):
            assert (await c.push())["pub"]["data"] == {"n": 2}
        # and they may subscribe again
        for c in (u1, u1b):
            assert await c.subscribe("room") == {}
        # one connection of a user, by client id
        assert await api_async(server, "unsubscribe", {
            "channel": "room", "user": "unsub-1", "client": u1b.client_id}) == {"result": {}}
        assert await u1b.push() == {"channel": "room", "unsubscribe": UNSUBSCRIBED}
        await api_async(server, "publish", {"channel": "room", "data": {"n": 3}})
        for c in (u1, u2):
            assert (await c.push())["pub"]["data"] == {"n": 3}
        await u1b.no_push()
        # a user that is not there: nothing happens
        assert await api_async(server, "unsubscribe", {"channel": "room", "user": "nobody"}) \
            == {"result": {}}
        await u1.no_push()
        await close_all(u1, u1b, u2)
    hh.run(main())


def test_server_unsubscribe_every_channel_and_token_channels(server):
    async def main():
        c = await Client.open(server, user("unsub-all", channels=["unsub-srv"]))
        assert c.result["subs"] == {"unsub-srv": {}}, c.result
        for ch in ("unsub-a", "unsub-b"):
            assert await c.subscribe(ch) == {}
        # a channel from the connect token
        assert await api_async(server, "unsubscribe", {
            "channel": "unsub-srv", "user": "unsub-all"}) == {"result": {}}
        assert await c.push() == {"channel": "unsub-srv", "unsubscribe": UNSUBSCRIBED}
        # no channel: every channel of the user (centrifuge's Node.Unsubscribe)
        assert await api_async(server, "unsubscribe", {"user": "unsub-all"}) == {"result": {}}
        pushes = [await c.push(), await c.push()]
        assert sorted(pushes, key=lambda p: p["channel"]) == [
            {"channel": ch, "unsubscribe": UNSUBSCRIBED} for ch in ("unsub-a", "unsub-b")]
        for ch in ("unsub-srv", "unsub-a", "unsub-b"):
            await api_async(server, "publish", {"channel": ch, "data": 1})
        await c.no_push()
        assert await c.subscribe("unsub-a") == {}
        await c.close()
    hh.run(main())


def test_server_disconnect(server):
    async def main():
        a1 = await Client.open(server, user("disc-a"))
        a2 = await Client.open(server, user("disc-a"))
        b = await Client.open(server, user("disc-b"))
        assert await b.subscribe("disc-room") == {}
        assert await api_async(server, "disconnect", {
            "user": "disc-a", "client": a1.client_id,
            "disconnect": {"code": 4000, "reason": "bye"}}) == {"result": {}}
        assert await a1.closed_with() == (4000, "bye")
        assert await a2.subscribe("disc-room") == {}  # the other connection stays
        # a reason is cut to what fits in a close frame (123 bytes)
        a3 = await Client.open(server, user("disc-a"))
        assert await api_async(server, "disconnect", {
            "user": "disc-a", "client": a3.client_id,
            "disconnect": {"code": 4001, "reason": "r" * 200}}) == {"result": {}}
        assert await a3.closed_with() == (4001, "r" * 123)
        assert await api_async(server, "disconnect", {"user": "disc-a"}) == {"result": {}}
        assert await a2.closed_with() == (3503, "force disconnect")
        await api_async(server, "publish", {"channel": "disc-room", "data": 1})
        assert (await b.push())["pub"]["data"] == 1
        # the disconnected ones are out of presence
        expected = {"result": {"num_clients": 1, "num_users": 1}}
        stats = await eventually(lambda: api_async(
            server, "presence_stats", {"channel": "disc-room"}), expected)
        assert stats == expected, stats
        await b.close()
    hh.run(main())


def test_server_disconnect_whitelist(server):
    async def main():
        kept = await Client.open(server, user("disc-w"))
        cut = await Client.open(server, user("disc-w"))
        assert await api_async(server, "disconnect", {
            "user": "disc-w", "whitelist": [kept.client_id]}) == {"result": {}}
        assert await cut.closed_with() == (3503, "force disconnect")
        assert await kept.subscribe("disc-w-room") == {}
        await kept.close()
    hh.run(main())


# --- presence, history, channels, info -----------------------------------------------------

def test_presence_and_presence_stats(server):
    async def main():
        a = await Client.open(server, user("pres-a", info={"name": "A"}))
        b = await Client.open(server)
        for c in (a, b):
            assert await c.subscribe("api-presence") == {}
        assert await api_async(server, "presence", {"channel": "api-presence"}) == {
            "result": {"presence": {
                a.client_id: {"user": "pres-a", "client": a.client_id,
                              "conn_info": {"name": "A"}},
                b.client_id: {"user": "", "client": b.client_id}}}}
        assert await api_async(server, "presence_stats", {"channel": "api-presence"}) == {
            "result": {"num_clients": 2, "num_users": 2}}
        assert await api_async(server, "presence", {"channel": "api-nobody"}) == {
            "result": {"presence": {}}}
        assert await api_async(server, "presence_stats", {"channel": "api-nobody"}) == {
            "result": {"num_clients": 0, "num_users": 0}}
        await close_all(a, b)
    hh.run(main())


def test_history_and_history_remove(server):
    for n in range(1, 6):
        assert api(server, "publish", {"channel": "api-hist", "data": {"n": n}}
                   )["result"]["offset"] == n
    result = api(server, "history", {"channel": "api-hist", "limit": -1})["result"]
    epoch = result["epoch"]
    assert result == {"publications": [{"data": {"n": n}, "offset": n} for n in range(1, 6)],
                      "epoch": epoch, "offset": 5}

    def offsets(**params):
        params["channel"] = "api-hist"
        reply = api(server, "history", params)
        assert reply["result"]["epoch"] == epoch and reply["result"]["offset"] == 5, reply
        return [p["offset"] for p in reply["result"]["publications"]]

    assert offsets() == []
    assert offsets(limit=2) == [1, 2]
    assert offsets(limit=2, reverse=True) == [5, 4]
    assert offsets(limit=-1, since={"offset": 2, "epoch": epoch}) == [3, 4, 5]
    assert offsets(limit=-1, reverse=True, since={"offset": 2, "epoch": epoch}) == [1]
    assert api(server, "history", {"channel": "api-hist", "limit": -1, "since": {
        "offset": 2, "epoch": "other"}}) == {
        "error": {"code": 112, "message": "unrecoverable position"}}
    assert api(server, "history", {"channel": "api-hist", "reverse": True, "since": {
        "offset": 0, "epoch": epoch}}) == BAD_REQUEST
    # a channel nobody used: empty
    assert api(server, "history", {"channel": "api-hist-none", "limit": -1})["result"][
        "publications"] == []

    assert api(server, "history_remove", {"channel": "api-hist"}) == {"result": {}}
    assert api(server, "history", {"channel": "api-hist", "limit": -1}) == {
        "result": {"publications": [], "epoch": epoch, "offset": 5}}
    assert api(server, "publish", {"channel": "api-hist", "data": {"n": 6}}) == {
        "result": {"offset": 6, "epoch": epoch}}
    assert api(server, "history", {"channel": "api-hist", "limit": -1}) == {
        "result": {"publications": [{"data": {"n": 6}, "offset": 6}], "epoch": epoch,
                   "offset": 6}}
    assert healthy(server)


def test_channels_and_info(start_herald):
    srv = start_herald(options={**hh.OPEN_CHANNELS, "allow-anonymous": "true",
                                "token-hmac-secret": SECRET})

    async def main():
        a = await Client.open(srv, user("info-a"))
        b = await Client.open(srv, user("info-b"))
        anon = await Client.open(srv)
        for c in (a, b):
            assert await c.subscribe("chan-a") == {}
        assert await a.subscribe("chan-b") == {}
        assert await anon.subscribe("other") == {}
        assert await api_async(srv, "channels", {"pattern": "chan-*"}) == {"result": {
            "channels": {"chan-a": {"num_clients": 2}, "chan-b": {"num_clients": 1}}}}
        assert await api_async(srv, "channels", {}) == {"result": {"channels": {
            "chan-a": {"num_clients": 2}, "chan-b": {"num_clients": 1},
            "other": {"num_clients": 1}}}}
        assert await api_async(srv, "channels", {"pattern": "{other,chan-?}"}) == {
            "result": {"channels": {"chan-a": {"num_clients": 2}, "chan-b": {"num_clients": 1},
                                    "other": {"num_clients": 1}}}}
        assert await api_async(srv, "channels", {"pattern": "nothing*"}) == {
            "result": {"channels": {}}}
        reply = await api_async(srv, "info", {})
        nodes = reply["result"]["nodes"]
        assert len(nodes) == 1, reply
        node = nodes[0]
        assert node["uid"] and node["name"] and node["version"], node
        assert node["num_clients"] == 3 and node["num_users"] == 3, node
        assert node["num_channels"] == 3 and node["num_subs"] == 4, node
        await anon.ok("unsubscribe", {"channel": "other"})
        expected = {"result": {"channels": {}}}
        assert await eventually(lambda: api_async(
            srv, "channels", {"pattern": "other"}), expected) == expected
        await close_all(a, b, anon)
    hh.run(main())


def test_publish_over_64k_is_accepted(server):
    # An /api body may be as large as a publication (64 KiB and more), unlike
    # other requests' bodies; Beast checks a Content-Length against the
    # limit in force while the header is read.
    async def main():
        c = await Client.open(server)
        assert await c.subscribe("big-api") == {}
        data = {"blob": "x" * 60000, "more": "y" * 40000}
        published = await api_async(server, "publish", {"channel": "big-api", "data": data})
        assert published["result"]["offset"] == 1, published
        push = await c.push()
        assert push["pub"]["data"] == data
        await c.close()
    hh.run(main())


def test_disconnect_reason_is_cut_on_a_character_boundary(server):
    async def main():
        c = await Client.open(server, user("utf8-cut"))
        assert await api_async(server, "disconnect", {
            "user": "utf8-cut", "disconnect": {"code": 4002, "reason": "é" * 100}}) == \
            {"result": {}}
        # 123 bytes would split an "é" (2 bytes): 61 of them, 122 bytes.
        assert await c.closed_with() == (4002, "é" * 61)
    hh.run(main())


def test_unsubscribe_in_unknown_namespace_is_102(server):
    assert api(server, "unsubscribe", {"channel": "nope:x", "user": "u"}) == UNKNOWN_CHANNEL


def test_expect_100_continue_is_answered(server):
    # curl sends `Expect: 100-continue` with bodies over 1 KiB and waits for
    # the interim answer before sending the body.
    body = json.dumps({"channel": "continue", "data": {"x": "y" * 2000}}).encode()
    with hh.tcp_connect(server.port, timeout=5) as sock:
        sock.sendall(b"POST /api/publish HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     b"Content-Type: application/json\r\nExpect: 100-continue\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body))
        interim = sock.recv(4096)
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n"), interim
        sock.sendall(body)
        raw = hh.recv_all(sock, 5)
    assert raw.startswith(b"HTTP/1.1 200 "), raw[:200]
    assert "result" in json.loads(raw.split(b"\r\n\r\n", 1)[1]), raw[-200:]
