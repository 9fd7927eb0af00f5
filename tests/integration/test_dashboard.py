"""The live dashboard's server side (docs/protocol.md, "Dashboard"): the
token endpoint (404 while `dashboard = false`, 403 for a wrong password,
429 after too many, 200 and a token for the right one), the stats channel
that only such a token opens, and the stats documents every node publishes
on it once a second, whose figures follow what the server does; with the
Redis engine, one document per node reaches a subscriber of either node.
No timing is measured: a figure "moves" when a later document differs."""

import json

import websockets

import herald_harness as hh
from centrifugo_client import SECRET, Client, api_async, api_request, make_token

PASSWORD = "dashboard-test-password"
CHANNEL = "$herald.dashboard:stats"
DASHBOARD = {"dashboard": "true", "dashboard-password": PASSWORD}
OPEN = {**hh.OPEN_CHANNELS, "allow-anonymous": "true", "token-hmac-secret": SECRET,
        "allow-publish-for-client": "true"}
PERMISSION_DENIED = {"code": 103, "message": "permission denied"}
UNKNOWN_CHANNEL = {"code": 102, "message": "unknown channel"}


def login(srv, password=PASSWORD, body=None, method="POST"):
    return api_request(srv.port, None, {"password": password} if body is None else body,
                       http_method=method, path="/dashboard/token")


def token_for(srv):
    reply = login(srv)
    assert reply.status == 200, reply
    return reply.json["token"]


async def stats_subscriber(srv, token):
    client = await Client.open(srv, token)
    assert await client.subscribe(CHANNEL, token=token) == {}
    return client


async def next_document(client, timeout=10):
    """The next stats document (publication data) pushed on the channel."""
    while True:
        push = await client.push(timeout)
        if push.get("channel") == CHANNEL and "pub" in push:
            return push["pub"]["data"]


# --- the token endpoint -----------------------------------------------------------------

def test_token_endpoint_is_404_and_channel_unknown_when_off(start_herald):
    srv = start_herald(options=OPEN)
    assert login(srv).status == 404
    assert login(srv, method="GET", body="").status == 404

    async def main():
        anonymous = await Client.open(srv)
        assert await anonymous.error("subscribe", {"channel": CHANNEL}) == UNKNOWN_CHANNEL
        await anonymous.close()
    hh.run(main())


def test_token_endpoint_checks_the_password(start_herald):
    srv = start_herald(options=DASHBOARD)
    wrong = login(srv, "not-the-password")
    assert wrong.status == 403 and wrong.json == {"error": "wrong password"}, wrong
    assert login(srv, body={"pass": PASSWORD}).status == 400
    assert login(srv, body="password=" + PASSWORD).status == 400
    refused = login(srv, method="GET", body="")
    assert refused.status == 405 and refused.header("allow") == "POST", refused
    right = login(srv)
    assert right.status == 200, right
    assert right.header("cache-control") == "no-store"
    assert set(right.json) == {"token", "channel", "expires_in"}
    assert right.json["channel"] == CHANNEL and right.json["expires_in"] == 600
    assert right.json["token"].count(".") == 2


def test_token_endpoint_limits_wrong_passwords(start_herald):
    srv = start_herald(options=DASHBOARD)
    for _ in range(5):
        assert login(srv, "guess").status == 403
    limited = login(srv)  # the right one too, for the rest of the minute
    assert limited.status == 429, limited


def test_dashboard_without_password_exits_2(herald_binary, tmp_path):
    for args, env in ((["--dashboard=true"], None), ([], {"HERALD_DASHBOARD": "true"})):
        r = hh.run_herald(["--check-config", "--static-dir=" + str(tmp_path)] + args, env=env)
        assert r.returncode == 2, r
        assert "herald: config: dashboard-password:" in r.stderr, r.stderr
    ok = hh.run_herald(["--check-config", "--static-dir=" + str(tmp_path), "--dashboard=true",
                        "--dashboard-password=x"])
    assert ok.returncode == 0, ok.stderr


# --- the stats channel ----------------------------------------------------------------------

def test_stats_documents_follow_the_server(start_herald):
    srv = start_herald(options={**OPEN, **DASHBOARD, "node-name": "node-under-test"})

    async def main():
        watcher = await stats_subscriber(srv, token_for(srv))
        first = await next_document(watcher)
        assert set(first) == {"node", "time", "interval", "connections", "rates", "totals",
                              "cpu", "rss_bytes", "engine"}, first
        assert first["node"] == "node-under-test"
        assert first["engine"] == "memory"
        assert set(first["connections"]) == {"ws", "centrifuge"}
        assert set(first["rates"]) == set(first["totals"]) == {
            "publications", "deliveries", "bytes_in", "bytes_out", "slow_disconnects"}
        assert first["rss_bytes"] > 0 and first["cpu"] >= 0
        assert first["connections"]["centrifuge"] >= 1  # the watcher itself
        assert PASSWORD not in json.dumps(first) and SECRET not in json.dumps(first)

        # A /ws client, a client-protocol subscriber and 30 publications.
        chat = await websockets.connect(srv.ws_url)
        reader = await Client.open(srv)
        assert await reader.subscribe("news") == {}
        for n in range(30):
            await api_async(srv, "publish", {"channel": "news", "data": {"n": n}})
        documents = [first]
        while documents[-1]["totals"]["publications"] < first["totals"]["publications"] + 30 or \
                documents[-1]["connections"]["centrifuge"] < first["connections"]["centrifuge"] + 1 \
                or documents[-1]["connections"]["ws"] < first["connections"]["ws"] + 1:
            documents.append(await next_document(watcher))
        later = documents[-1]
        assert later["time"] > first["time"]
        assert later["totals"]["deliveries"] >= first["totals"]["deliveries"] + 30
        assert later["totals"]["bytes_out"] > first["totals"]["bytes_out"]
        # Each rate is its total's change over the document's interval.
        for name in ("publications", "deliveries", "bytes_out"):
            moved = sum(d["rates"][name] * d["interval"] for d in documents[1:])
            change = later["totals"][name] - first["totals"][name]
            assert abs(moved - change) < 0.01 * max(change, 1), (name, moved, change)
        assert max(d["rates"]["publications"] for d in documents[1:]) > 0
        await chat.close()
        await reader.close()
        await watcher.close()
    hh.run(main())


def test_only_a_dashboard_token_opens_the_stats_channel(start_herald):
    srv = start_herald(options={**OPEN, **DASHBOARD})
    token = token_for(srv)

    async def main():
        # Anonymous and signed-in clients, even with a channel token signed
        # with token-hmac-secret or the channel in their connect token.
        anonymous = await Client.open(srv)
        assert await anonymous.error("subscribe", {"channel": CHANNEL}) == PERMISSION_DENIED
        assert await anonymous.error("publish", {"channel": CHANNEL,
                                                 "data": {"node": "fake"}}) == PERMISSION_DENIED
        alice = await Client.open(srv, make_token({"sub": "alice", "channels": [CHANNEL]}))
        channel_token = make_token({"sub": "alice", "channel": CHANNEL})
        assert await alice.error("subscribe", {"channel": CHANNEL,
                                               "token": channel_token}) == PERMISSION_DENIED
        assert await alice.error("publish", {"channel": CHANNEL,
                                             "data": {"node": "fake"}}) == PERMISSION_DENIED
        # A token signed with the password itself is no dashboard token.
        forged = make_token({"aud": "herald-dashboard", "channel": CHANNEL,
                             "exp": 4102444800}, secret=PASSWORD)
        assert await anonymous.error("subscribe", {"channel": CHANNEL,
                                                   "token": forged}) == PERMISSION_DENIED
        await alice.no_push(1.5)  # no stats reached the connect token's `channels`

        # The dashboard's token: the stats channel and nothing else.
        watcher = await stats_subscriber(srv, token)
        assert await watcher.error("publish", {"channel": CHANNEL,
                                               "data": {"node": "fake"}}) == PERMISSION_DENIED
        assert await watcher.error("subscribe", {"channel": "news"}) == PERMISSION_DENIED
        assert await watcher.error("presence", {"channel": CHANNEL}) == PERMISSION_DENIED
        assert await watcher.error("history", {"channel": CHANNEL}) == PERMISSION_DENIED
        assert await watcher.ok("unsubscribe", {"channel": CHANNEL}) == {}
        assert await watcher.subscribe(CHANNEL) == {}  # the connection's token suffices
        assert (await next_document(watcher))["node"]
        # A client token holder with the dashboard's token may subscribe.
        assert await alice.subscribe(CHANNEL, token=token) == {}
        assert (await next_document(alice))["node"]
        for client in (anonymous, alice, watcher):
            await client.close()
    hh.run(main())


def test_each_node_publishes_its_own_line(start_herald, redis_server):
    nodes = [start_herald(options={**OPEN, **DASHBOARD, "engine": "redis",
                                   "redis-address": redis_server.address,
                                   "redis-io-timeout": "1s", "node-name": name})
             for name in ("dash-a", "dash-b")]

    async def main():
        # A token from one node is good on the other.
        watcher = await stats_subscriber(nodes[1], token_for(nodes[0]))
        names = set()
        while names != {"dash-a", "dash-b"}:
            document = await next_document(watcher, timeout=15)
            assert document["engine"] in ("up", "down"), document
            names.add(document["node"])
        await watcher.close()
    hh.run(main())
