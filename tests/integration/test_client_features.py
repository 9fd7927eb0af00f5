"""Centrifugo's client protocol beyond publish and subscribe (docs/protocol.md):
presence and presence_stats, history (limit, since, reverse), join and leave
pushes, the recovery and positioning options of a subscribe reply, channel
tokens and sub_refresh, the claims of a connect token (info, channels),
connection and subscription expiry, the per-connection channel limit,
allowed origins, and the subscribe/publish/presence/history permissions of a
namespace. Every error reply is checked by its exact code and message, and
after each one the server must go on serving."""

import asyncio
import json
import time

import pytest

import herald_harness as hh
from centrifugo_client import SECRET, Client, close_all, eventually, make_token

PERMISSION_DENIED = {"code": 103, "message": "permission denied"}
UNKNOWN_CHANNEL = {"code": 102, "message": "unknown channel"}
NOT_AVAILABLE = {"code": 108, "message": "not available"}
BAD_REQUEST = {"code": 107, "message": "bad request"}
UNRECOVERABLE = {"code": 112, "message": "unrecoverable position"}
TOKEN_EXPIRED = {"code": 109, "message": "token expired"}
LIMIT_EXCEEDED = {"code": 106, "message": "limit exceeded"}


def namespace(name, **options):
    return {"namespaces.%s.%s" % (name, key.replace("_", "-")): value
            for key, value in options.items()}


# Channel defaults (presence, join/leave and history on, Herald's permission
# defaults), and namespaces that each turn something off or on.
OPTIONS = {
    **hh.OPEN_CHANNELS, "allow-anonymous": "true", "token-hmac-secret": SECRET,
    "presence": "true", "join-leave": "true", "history-size": "100", "history-ttl": "300s",
    **namespace("quiet", presence="false", join_leave="false", history_size="0",
                history_ttl="0s"),
    **namespace("big", history_size="1000"),
    **namespace("short", history_size="2"),
    **namespace("forced", force_push_join_leave="true"),
    **namespace("norecovery", allow_recovery="false"),
    # neither allow-recovery nor history access: no recovery, no positions
    **namespace("nohistory", allow_recovery="false", allow_history_for_subscriber="false",
                allow_history_for_anonymous="false"),
    **namespace("forcerec", force_recovery="true"),
    **namespace("positions", allow_positioning="true"),
    **namespace("forcepos", force_positioning="true"),
    # non-subscribers may ask (for_client)
    **namespace("open", allow_presence_for_client="true", allow_history_for_client="true",
                allow_publish_for_client="true"),
    # ... but not anonymous ones
    **namespace("openusers", allow_presence_for_client="true", allow_history_for_client="true",
                allow_publish_for_client="true", allow_presence_for_anonymous="false",
                allow_history_for_anonymous="false", allow_publish_for_anonymous="false"),
    # anonymous subscribers may not ask
    **namespace("users", allow_presence_for_anonymous="false",
                allow_history_for_anonymous="false", allow_publish_for_anonymous="false"),
    # subscribers may not ask
    **namespace("closed", allow_presence_for_subscriber="false",
                allow_history_for_subscriber="false", allow_publish_for_subscriber="false"),
    **namespace("nosub", allow_subscribe_for_client="false"),
    **namespace("noanon", allow_subscribe_for_anonymous="false"),
}


@pytest.fixture(scope="module")
def server(module_start_herald):
    return module_start_herald(options=OPTIONS)


pytestmark = pytest.mark.usefixtures("server_stays_alive")


def user_token(user, **claims):
    claims["sub"] = user
    return make_token(claims)


def channel_token(user, channel, **claims):
    claims.update(sub=user, channel=channel)
    return make_token(claims)


def info(client, user="", conn_info=None, chan_info=None):
    """A ClientInfo as the server writes it."""
    result = {"user": user, "client": client.client_id}
    if conn_info is not None:
        result["conn_info"] = conn_info
    if chan_info is not None:
        result["chan_info"] = chan_info
    return result


async def still_serves(srv):
    """Another client can connect, subscribe and get its own publication."""
    probe = await Client.open(srv)
    await probe.subscribe("still-serving")
    assert await probe.publish("still-serving", {"ok": True}) == {}
    push = await probe.push()
    assert push["channel"] == "still-serving" and push["pub"]["data"] == {"ok": True}, push
    await probe.close()


async def publish_and_wait(publisher, channel, values):
    """Publishes each of `values` from a subscriber of `channel` in one frame,
    then waits until its own last publication came back (it is in history
    then). Returns the offsets."""
    first = publisher.next_id
    publisher.next_id += len(values)
    await publisher.send("\n".join(
        json.dumps({"publish": {"channel": channel, "data": value}, "id": first + n})
        for n, value in enumerate(values)))
    for n in range(len(values)):
        assert await publisher.reply(first + n) == {"id": first + n, "publish": {}}
    pushes = []
    while len(pushes) < len(values):
        push = await publisher.push()
        if push["channel"] == channel and "pub" in push:
            pushes.append(push["pub"])
    assert [p["data"] for p in pushes] == list(values)
    return [p["offset"] for p in pushes]


# --- presence -------------------------------------------------------------------------

def test_presence_and_presence_stats(server):
    async def main():
        alice = await Client.open(server, user_token("alice", info={"name": "Alice"}))
        alice2 = await Client.open(server, user_token("alice"))
        anon = await Client.open(server)
        for c in (alice, alice2, anon):
            assert await c.subscribe("presence-room") == {}
        presence = await alice.ok("presence", {"channel": "presence-room"})
        assert presence == {"presence": {
            alice.client_id: info(alice, "alice", conn_info={"name": "Alice"}),
            alice2.client_id: info(alice2, "alice"),
            anon.client_id: info(anon),
        }}
        stats = await anon.ok("presence_stats", {"channel": "presence-room"})
        assert stats == {"num_clients": 3, "num_users": 2}

        # An unsubscribe and a disconnect leave presence.
        assert await anon.ok("unsubscribe", {"channel": "presence-room"}) == {}
        await alice2.close()
        expected = {"num_clients": 1, "num_users": 1}
        assert await eventually(lambda: alice.ok(
            "presence_stats", {"channel": "presence-room"}), expected) == expected
        assert await alice.ok("presence", {"channel": "presence-room"}) == {"presence": {
            alice.client_id: info(alice, "alice", conn_info={"name": "Alice"})}}
        await close_all(alice, anon)
    hh.run(main())


def test_presence_errors(server):
    async def main():
        c = await Client.open(server)
        for method in ("presence", "presence_stats"):
            assert await c.error(method, {"channel": "nowhere:x"}) == UNKNOWN_CHANNEL
            assert await c.subscribe("quiet:p-" + method) == {}
            assert await c.error(method, {"channel": "quiet:p-" + method}) == NOT_AVAILABLE
            # not subscribed, and presence-for-client is off by default
            assert await c.error(method, {"channel": "p-unsubscribed"}) == PERMISSION_DENIED
        # the connection is still usable after each error
        assert await c.subscribe("p-after") == {}
        assert await c.ok("presence_stats", {"channel": "p-after"}) == {
            "num_clients": 1, "num_users": 1}
        await c.close()
        await still_serves(server)
    hh.run(main())


# --- permissions per namespace ----------------------------------------------------------

ALLOWED = "ok"

# (channel, user or None for anonymous, subscribed first, expected)
PERMISSION_CASES = [
    ("perm", None, True, ALLOWED),
    ("perm", None, False, PERMISSION_DENIED),
    ("perm", "u1", True, ALLOWED),
    ("perm", "u1", False, PERMISSION_DENIED),
    ("open:perm", None, False, ALLOWED),
    ("open:perm", "u1", False, ALLOWED),
    ("openusers:perm", "u1", False, ALLOWED),
    ("openusers:perm", None, False, PERMISSION_DENIED),
    ("openusers:perm", None, True, PERMISSION_DENIED),
    ("users:perm", "u1", True, ALLOWED),
    ("users:perm", None, True, PERMISSION_DENIED),
    ("closed:perm", "u1", True, PERMISSION_DENIED),
    ("closed:perm", None, True, PERMISSION_DENIED),
]


@pytest.mark.parametrize("method", ["presence", "presence_stats", "history", "publish"])
@pytest.mark.parametrize("channel,user,subscribed,expected", PERMISSION_CASES)
def test_permissions(server, method, channel, user, subscribed, expected):
    async def main():
        c = await Client.open(server, user_token(user) if user else None)
        if subscribed:
            assert await c.subscribe(channel) == {}
        params = {"channel": channel}
        if method == "publish":
            params["data"] = {"n": 1}
        reply = await c.call(method, params)
        if expected == ALLOWED:
            assert method in reply, reply
        else:
            assert reply == {"id": reply["id"], "error": expected}, reply
        # still connected and served
        assert await c.subscribe(channel + "-after") == {}
        await c.close()
    hh.run(main())


def test_subscribe_permissions(server):
    async def main():
        anon = await Client.open(server)
        user = await Client.open(server, user_token("u1"))
        # allow-subscribe-for-client = false: nobody without a channel token
        assert await anon.error("subscribe", {"channel": "nosub:x"}) == PERMISSION_DENIED
        assert await user.error("subscribe", {"channel": "nosub:x"}) == PERMISSION_DENIED
        # ... but a channel token lets a user in
        assert await user.subscribe("nosub:x", token=channel_token("u1", "nosub:x")) == {}
        # allow-subscribe-for-anonymous = false: users only
        assert await anon.error("subscribe", {"channel": "noanon:x"}) == PERMISSION_DENIED
        assert await user.subscribe("noanon:x") == {}
        assert await anon.error("subscribe", {"channel": "nowhere:x"}) == UNKNOWN_CHANNEL
        assert await anon.subscribe("sub-perm-after") == {}
        await close_all(anon, user)
        await still_serves(server)
    hh.run(main())


# --- history --------------------------------------------------------------------------

def test_history_limit_since_and_reverse(server):
    async def main():
        c = await Client.open(server)
        assert await c.subscribe("hist") == {}
        offsets = await publish_and_wait(c, "hist", [{"n": n} for n in range(1, 6)])
        assert offsets == [1, 2, 3, 4, 5]

        async def history(**params):
            params["channel"] = "hist"
            result = await c.ok("history", params)
            epoch = result["epoch"]
            assert isinstance(epoch, str) and epoch and result["offset"] == 5, result
            return [p["offset"] for p in result["publications"]], epoch

        assert await history() == ([], (await history())[1])  # limit 0: position only
        all_five, epoch = await history(limit=-1)
        assert all_five == [1, 2, 3, 4, 5]
        result = await c.ok("history", {"channel": "hist", "limit": -1})
        # a client's publication carries its publisher's info, as in Centrifugo
        assert result["publications"][0] == {"data": {"n": 1}, "offset": 1,
                                             "info": info(c)}, result
        assert (await history(limit=2))[0] == [1, 2]
        assert (await history(limit=-1, since={"offset": 3, "epoch": epoch}))[0] == [4, 5]
        assert (await history(limit=1, since={"offset": 3, "epoch": epoch}))[0] == [4]
        assert (await history(limit=2, reverse=True))[0] == [5, 4]
        assert (await history(limit=-1, reverse=True, since={"offset": 3, "epoch": epoch}))[0] \
            == [2, 1]
        assert (await history(limit=-1, since={"offset": 5, "epoch": epoch}))[0] == []

        assert await c.error("history", {"channel": "hist", "since": {
            "offset": 1, "epoch": "another-epoch"}}) == UNRECOVERABLE
        assert await c.error("history", {"channel": "hist", "reverse": True, "since": {
            "offset": 0, "epoch": epoch}}) == BAD_REQUEST
        assert await c.error("history", {"channel": "nowhere:hist"}) == UNKNOWN_CHANNEL
        assert await c.subscribe("quiet:hist") == {}
        assert await c.error("history", {"channel": "quiet:hist"}) == NOT_AVAILABLE
        assert await c.error("history", {"channel": "hist-not-subscribed"}) == PERMISSION_DENIED
        assert (await history(limit=-1))[0] == [1, 2, 3, 4, 5]  # the connection still works
        await c.close()
        await still_serves(server)
    hh.run(main())


def test_history_limit_is_capped_at_300(server):
    async def main():
        c = await Client.open(server)
        assert await c.subscribe("big:cap") == {}
        await publish_and_wait(c, "big:cap", list(range(1, 306)))
        for limit in (-1, 301, 1000):
            result = await c.ok("history", {"channel": "big:cap", "limit": limit})
            assert [p["data"] for p in result["publications"]] == list(range(1, 301)), limit
            assert result["offset"] == 305
        result = await c.ok("history", {"channel": "big:cap", "limit": 300, "reverse": True})
        assert [p["offset"] for p in result["publications"]] == list(range(305, 5, -1))
        result = await c.ok("history", {"channel": "big:cap", "limit": 299})
        assert len(result["publications"]) == 299
        await c.close()
    hh.run(main())


# --- join and leave ---------------------------------------------------------------------

def test_join_and_leave_pushes(server):
    async def main():
        a = await Client.open(server, user_token("ann", info={"name": "Ann"}))
        b = await Client.open(server)
        c = await Client.open(server)
        a_info = info(a, "ann", conn_info={"name": "Ann"})
        assert await a.subscribe("jl", join_leave=True) == {}
        # a subscriber that asked sees its own join
        assert await a.push() == {"channel": "jl", "join": {"info": a_info}}
        assert await b.subscribe("jl", join_leave=True) == {}
        for x in (a, b):
            assert await x.push() == {"channel": "jl", "join": {"info": info(b)}}
        # c did not ask: it gets no joins or leaves, the others see it come
        assert await c.subscribe("jl") == {}
        for x in (a, b):
            assert await x.push() == {"channel": "jl", "join": {"info": info(c)}}
        assert await b.ok("unsubscribe", {"channel": "jl"}) == {}
        assert await a.push() == {"channel": "jl", "leave": {"info": info(b)}}
        await c.no_push()
        await b.no_push()  # no longer subscribed: not even its own leave
        await c.close()
        assert await a.push() == {"channel": "jl", "leave": {"info": info(c)}}
        await a.no_push()
        await close_all(a, b)
    hh.run(main())


def test_join_leave_off_and_forced(server):
    async def main():
        a = await Client.open(server)
        b = await Client.open(server)
        # join-leave off in the namespace: asking gets nothing
        assert await a.subscribe("quiet:jl", join_leave=True) == {}
        assert await b.subscribe("quiet:jl", join_leave=True) == {}
        await a.no_push()
        # force-push-join-leave: every subscriber gets them, asked or not
        assert await a.subscribe("forced:jl") == {}
        assert await a.push() == {"channel": "forced:jl", "join": {"info": info(a)}}
        assert await b.subscribe("forced:jl") == {}
        for x in (a, b):
            assert await x.push() == {"channel": "forced:jl", "join": {"info": info(b)}}
        await b.close()
        assert await a.push() == {"channel": "forced:jl", "leave": {"info": info(b)}}
        await a.no_push()
        await a.close()
    hh.run(main())


# --- recovery and positioning options ----------------------------------------------------

def test_subscribe_reply_recovery_and_positioning_fields(server):
    async def main():
        c = await Client.open(server)
        writer = await Client.open(server)
        epochs = {}
        for ch in ("opts", "norecovery:opts", "forcerec:opts", "positions:opts",
                   "forcepos:opts"):
            await writer.subscribe(ch)
            await publish_and_wait(writer, ch, [1, 2])
            epochs[ch] = (await writer.ok("history", {"channel": ch}))["epoch"]

        assert await c.subscribe("opts") == {}
        await c.ok("unsubscribe", {"channel": "opts"})
        # recoverable implies positioned, as in centrifuge
        assert await c.subscribe("opts", recoverable=True) == {
            "recoverable": True, "epoch": epochs["opts"], "offset": 2, "positioned": True}
        await c.ok("unsubscribe", {"channel": "opts"})
        # Centrifugo's rule: without allow-positioning / allow-recovery, a
        # client that may read the history gets them all the same ...
        assert await c.subscribe("opts", positioned=True) == {
            "epoch": epochs["opts"], "offset": 2, "positioned": True}
        assert await c.subscribe("norecovery:opts", recoverable=True) == {
            "recoverable": True, "epoch": epochs["norecovery:opts"], "offset": 2,
            "positioned": True}
        # ... and one that may not, gets neither.
        await writer.subscribe("nohistory:opts")
        await publish_and_wait(writer, "nohistory:opts", [1, 2])
        assert await c.subscribe("nohistory:opts", recoverable=True, positioned=True) == {}
        assert await c.subscribe("forcerec:opts") == {
            "recoverable": True, "epoch": epochs["forcerec:opts"], "offset": 2,
            "positioned": True}
        assert await c.subscribe("positions:opts", positioned=True) == {
            "epoch": epochs["positions:opts"], "offset": 2, "positioned": True}
        assert await c.subscribe("forcepos:opts") == {
            "epoch": epochs["forcepos:opts"], "offset": 2, "positioned": True}
        # without history there is no position to give
        assert await c.subscribe("quiet:opts", recoverable=True, positioned=True) == {}
        await close_all(c, writer)
    hh.run(main())


def test_recovery_from_a_lost_position(server):
    async def main():
        writer = await Client.open(server)
        assert await writer.subscribe("short:rec") == {}
        await publish_and_wait(writer, "short:rec", [1, 2, 3, 4, 5])
        epoch = (await writer.ok("history", {"channel": "short:rec"}))["epoch"]
        c = await Client.open(server)
        # history keeps 2: offsets 4 and 5; from offset 1 it cannot recover
        result = await c.subscribe("short:rec", recoverable=True, recover=True, offset=1,
                                   epoch=epoch)
        assert result.get("recovered", False) is False and "publications" not in result, result
        assert result["was_recovering"] is True and result["offset"] == 5, result
        await c.ok("unsubscribe", {"channel": "short:rec"})
        # from offset 3 it can
        result = await c.subscribe("short:rec", recoverable=True, recover=True, offset=3,
                                   epoch=epoch)
        assert result["recovered"] is True and [p["data"] for p in result["publications"]] \
            == [4, 5], result
        await c.ok("unsubscribe", {"channel": "short:rec"})

        # flag 2 (reject unrecovered): error 112, and not subscribed
        for position in ({"offset": 1, "epoch": epoch}, {"offset": 5, "epoch": "gone"}):
            assert await c.error("subscribe", {
                "channel": "short:rec", "recoverable": True, "recover": True, "flag": 2,
                **position}) == UNRECOVERABLE
            await publish_and_wait(writer, "short:rec", [6])
            await c.no_push()
            assert await c.error("presence", {"channel": "short:rec"}) == PERMISSION_DENIED
        # it can subscribe again: it was not left half subscribed
        assert await c.subscribe("short:rec") == {}
        await publish_and_wait(writer, "short:rec", [7])
        push = await c.push()
        assert push == {"channel": "short:rec", "pub": {"data": 7, "offset": 8,
                                                        "info": info(writer)}}, push
        await close_all(c, writer)
        await still_serves(server)
    hh.run(main())


def test_client_publication_carries_publisher_info(server):
    # Centrifugo publishes a client's publication with WithClientInfo (its
    # internal/client/handler.go OnPublish), so subscribers and history see
    # who published it: Publication.info in client.proto.
    async def main():
        alice = await Client.open(server, user_token("alice", info={"name": "Alice"}))
        reader = await Client.open(server)
        for c in (alice, reader):
            assert await c.subscribe("with-info") == {}
        await alice.publish("with-info", {"text": "hi"})
        expected = info(alice, "alice", conn_info={"name": "Alice"})
        push = await reader.push()
        assert push == {"channel": "with-info", "pub": {
            "data": {"text": "hi"}, "offset": 1, "info": expected}}, push
        history = await reader.ok("history", {"channel": "with-info", "limit": -1})
        assert history["publications"] == [
            {"data": {"text": "hi"}, "offset": 1, "info": expected}], history
        await close_all(alice, reader)
    hh.run(main())


# --- channel tokens -------------------------------------------------------------------

def test_private_channel_tokens(server):
    async def main():
        now = int(time.time())
        c = await Client.open(server, user_token("pat", info={"who": "pat"}))
        assert await c.error("subscribe", {"channel": "$priv"}) == PERMISSION_DENIED
        result = await c.subscribe("$priv", token=channel_token(
            "pat", "$priv", exp=now + 600, info={"role": "admin"}))
        assert result["expires"] is True and 590 <= result["ttl"] <= 600, result
        assert set(result) == {"expires", "ttl"}, result
        assert await c.ok("presence", {"channel": "$priv"}) == {"presence": {
            c.client_id: info(c, "pat", conn_info={"who": "pat"},
                              chan_info={"role": "admin"})}}
        # without exp: no expiry
        assert await c.subscribe("$forever", token=channel_token("pat", "$forever")) == {}
        # expired: 109, not subscribed, still connected
        assert await c.error("subscribe", {"channel": "$old", "token": channel_token(
            "pat", "$old", exp=now - 10)}) == TOKEN_EXPIRED
        assert await c.error("presence", {"channel": "$old"}) == PERMISSION_DENIED
        # sub_refresh with a later token
        result = await c.ok("sub_refresh", {"channel": "$priv", "token": channel_token(
            "pat", "$priv", exp=now + 3600)})
        assert result["expires"] is True and 3590 <= result["ttl"] <= 3600, result
        assert set(result) == {"expires", "ttl"}, result
        # sub_refresh of a channel it is not subscribed to
        assert await c.error("sub_refresh", {"channel": "$other", "token": channel_token(
            "pat", "$other", exp=now + 3600)}) == PERMISSION_DENIED
        # the subscription still works; chan_info is in the join too
        other = await Client.open(server, user_token("pat"))
        assert await other.subscribe("$priv", join_leave=True, token=channel_token(
            "pat", "$priv", info={"role": "guest"})) == {}
        assert await other.push() == {"channel": "$priv", "join": {"info": info(
            other, "pat", chan_info={"role": "guest"})}}
        await other.publish("$priv", {"secret": 1})
        push = await c.push()
        assert push["channel"] == "$priv" and push["pub"]["data"] == {"secret": 1}, push
        await close_all(c, other)
    hh.run(main())


@pytest.mark.parametrize("case", ["wrong channel", "wrong user"])
def test_channel_token_for_another_disconnects_3500(server, case):
    async def main():
        c = await Client.open(server, user_token("pat"))
        token = {
            "wrong channel": channel_token("pat", "$elsewhere"),
            "wrong user": channel_token("someone-else", "$priv"),
        }[case]
        await c.send(json.dumps({"subscribe": {"channel": "$priv", "token": token}, "id": 9}))
        assert await c.closed_with() == (3500, "invalid token")
        await still_serves(server)
    hh.run(main())


@pytest.mark.parametrize("case", ["bad signature", "HS512", "not a JWT"])
def test_unverifiable_channel_token_is_103(server, case):
    # As Centrifugo: a token that does not verify refuses the subscription
    # only; the connection stays.
    async def main():
        c = await Client.open(server, user_token("pat"))
        token = {
            "bad signature": make_token({"sub": "pat", "channel": "$priv"}, secret="wrong"),
            "HS512": make_token({"sub": "pat", "channel": "$priv"}, alg="HS512"),
            "not a JWT": "not.a.jwt",
        }[case]
        assert await c.error("subscribe", {"channel": "$priv", "token": token}) == \
            PERMISSION_DENIED
        assert await c.subscribe("$priv", token=channel_token("pat", "$priv")) == {}
        await c.close()
    hh.run(main())


# --- connect token claims ------------------------------------------------------------------

def test_connect_token_info_and_channels(server):
    async def main():
        watcher = await Client.open(server)
        assert await watcher.subscribe("srv-news", join_leave=True) == {}
        assert await watcher.push() == {"channel": "srv-news", "join": {"info": info(watcher)}}
        c = await Client.open(server, user_token(
            "sam", info={"name": "Sam"}, channels=["srv-news", "srv-alerts"]))
        assert c.result["subs"] == {"srv-news": {}, "srv-alerts": {}}, c.result
        sam = info(c, "sam", conn_info={"name": "Sam"})
        # a server-side subscription joins, with conn_info
        assert await watcher.push() == {"channel": "srv-news", "join": {"info": sam}}
        # publications reach it without a subscribe command
        publisher = await Client.open(server)
        for ch in ("srv-news", "srv-alerts"):
            assert await publisher.subscribe(ch) == {}
            await publisher.publish(ch, {"on": ch})
            push = await c.push()
            assert push["channel"] == ch and push["pub"]["data"] == {"on": ch}, push
        # server-side subscribers are in presence, with their conn_info
        presence = await publisher.ok("presence", {"channel": "srv-news"})
        assert presence["presence"][c.client_id] == sam
        # conn_info is in the joins of its own subscriptions too
        assert await publisher.subscribe("info-join", join_leave=True) == {}
        await publisher.pushes_until(lambda p: p["channel"] == "info-join")  # its own join
        assert await c.subscribe("info-join") == {}
        assert await publisher.push() == {"channel": "info-join", "join": {"info": sam}}
        await c.close()
        assert await publisher.push() == {"channel": "info-join", "leave": {"info": sam}}
        # the watcher saw publisher join, the publication, then sam leave
        pushes = await watcher.pushes_until(lambda p: "leave" in p)
        assert pushes[-1] == {"channel": "srv-news", "leave": {"info": sam}}, pushes
        await close_all(watcher, publisher)
    hh.run(main())


# --- servers of their own --------------------------------------------------------------------

def test_connection_and_subscription_expiry(start_herald):
    # The shortest pings the config allows (pong-timeout at least 1s and
    # below ping-interval).
    srv = start_herald(options={**hh.OPEN_CHANNELS, "token-hmac-secret": SECRET,
                                "ping-interval": "2s", "pong-timeout": "1s"})

    async def main():
        exp = int(time.time()) + 2
        expiring = await Client.open(srv, user_token("eve", exp=exp))
        refreshed = await Client.open(srv, user_token("eve", exp=exp))
        for c in (expiring, refreshed):
            assert c.result["expires"] is True and 0 < c.result["ttl"] <= 2, c.result
            assert c.result["ping"] == 2, c.result
        result = await refreshed.ok("refresh", {"token": user_token("eve", exp=exp + 3600)})
        assert result["expires"] is True and result["ttl"] > 3500, result
        # channel tokens that expire at the same time, one of them refreshed
        for ch in ("$lapses", "$renewed"):
            result = await refreshed.subscribe(ch, token=channel_token("eve", ch, exp=exp))
            assert result["expires"] is True and 0 < result["ttl"] <= 2, result
        result = await refreshed.ok("sub_refresh", {"channel": "$renewed", "token": channel_token(
            "eve", "$renewed", exp=exp + 3600)})
        assert result["expires"] is True and result["ttl"] > 3500, result

        # Both answer pings meanwhile (pong-timeout is 1s), if one comes.
        expired = asyncio.ensure_future(expiring.closed_with(timeout=8))
        while not expired.done():
            await refreshed.pump(0.1)
        assert expired.result() == (3005, "connection expired")
        assert time.time() >= exp - 0.1
        # (No ping count for `expiring`: its token lapses 1-2 s after it
        # connects, the first ping is due 2 s after, so which comes first
        # is up to the scheduler. The refreshed one is checked below.)
        # the lapsed subscription ends with 2501
        assert await refreshed.push(timeout=5) == {"channel": "$lapses", "unsubscribe": {
            "code": 2501, "reason": "subscription expired"}}
        # the refreshed connection and subscription live on: more pings,
        # and commands work
        pings = refreshed.pings
        while refreshed.pings < pings + 1:
            await refreshed.no_push(0.5)
        await refreshed.publish("$renewed", "still here")
        push = await refreshed.push()
        assert push["channel"] == "$renewed" and push["pub"]["data"] == "still here", push
        assert await refreshed.error("publish", {"channel": "$lapses", "data": 1}) \
            == PERMISSION_DENIED
        assert await refreshed.subscribe("after-expiry") == {}
        await refreshed.close()
    hh.run(main())


def test_client_channel_limit(start_herald):
    srv = start_herald(options={**hh.OPEN_CHANNELS, "allow-anonymous": "true",
                                "client-channel-limit": "3"})

    async def main():
        c = await Client.open(srv)
        for n in range(3):
            assert await c.subscribe("lim-%d" % n) == {}
        assert await c.error("subscribe", {"channel": "lim-3"}) == LIMIT_EXCEEDED
        # the refused channel is not subscribed; freeing a slot lets it in
        assert await c.ok("unsubscribe", {"channel": "lim-0"}) == {}
        assert await c.subscribe("lim-3") == {}
        assert await c.error("subscribe", {"channel": "lim-4"}) == LIMIT_EXCEEDED
        # the limit is per connection
        other = await Client.open(srv)
        for n in range(3):
            assert await other.subscribe("lim-%d" % n) == {}
        await close_all(c, other)
    hh.run(main())


def test_client_channel_limit_counts_token_channels(start_herald):
    srv = start_herald(options={**hh.OPEN_CHANNELS, "token-hmac-secret": SECRET,
                                "client-channel-limit": "2"})

    async def main():
        c = await Client.open(srv, user_token("tom", channels=["tc-1"]))
        assert c.result["subs"] == {"tc-1": {}}
        assert await c.subscribe("tc-2") == {}
        assert await c.error("subscribe", {"channel": "tc-3"}) == LIMIT_EXCEEDED
        await c.close()
    hh.run(main())


def test_allowed_origins(start_herald, tmp_path):
    config = tmp_path / "origins.ini"
    config.write_text('[global]\nallow-anonymous = true\n'
                      'allowed-origins = ["https://*.example.com"]\n')
    srv = start_herald(options={"config-file": str(config)})
    for path in ("/connection/websocket", "/ws"):
        for origin in ("https://evil.com", "http://chat.example.com",
                       "https://chat.example.com.evil.com", "null"):
            with pytest.raises(hh.HandshakeRefused) as refused:
                hh.RawWebSocket(srv.port, path=path, headers={"Origin": origin})
            assert refused.value.response.status == 403, (path, origin)
            assert hh.http_get(srv.port, "/health").status == 200
        for headers in ({"Origin": "https://chat.example.com"}, {}):
            ws = hh.RawWebSocket(srv.port, path=path, headers=headers)
            if path == "/ws":
                ws.send_text('{"message":"let in"}')
                frame = ws.read_frame(timeout=5)
                assert frame.payload == b'{"message":"let in"}', frame
            else:
                ws.send_text('{"connect":{},"id":1}')
                reply = json.loads(ws.read_frame(timeout=5).payload)
                assert reply["id"] == 1 and "client" in reply["connect"], reply
            ws.send_close()
            ws.close()


def test_join_leave_needs_presence_access(server):
    # Join/leave pushes carry other clients' info: a subscriber that may not
    # read presence ("closed": allow-presence-for-subscriber off) asks for
    # them in vain, as in Centrifugo.
    async def main():
        watcher = await Client.open(server)
        assert await watcher.subscribe("closed:jl", join_leave=True) == {}
        other = await Client.open(server)
        assert await other.subscribe("closed:jl") == {}
        await other.close()
        await watcher.no_push(0.5)
        await watcher.close()
    hh.run(main())


def test_queries_in_flight_are_capped(server):
    # One frame of 100 history commands: the session lets 32 reach the
    # broadcaster and answers the rest with 111 (temporary), so one client
    # cannot queue unbounded work on the broadcaster's thread.
    async def main():
        c = await Client.open(server)
        assert await c.subscribe("cap") == {}
        first = c.next_id
        c.next_id += 100
        await c.send("\n".join(json.dumps({"history": {"channel": "cap", "limit": 1},
                                           "id": first + n}) for n in range(100)))
        replies = [await c.reply(first + n) for n in range(100)]
        answered = [r for r in replies if "history" in r]
        refused = [r for r in replies if r.get("error", {}).get("code") == 111]
        assert len(answered) == 32 and len(refused) == 68, replies[:3]
        assert refused[0]["error"]["temporary"] is True
        # Once the replies are back, queries flow again.
        assert (await c.ok("history", {"channel": "cap"}))["publications"] == []
        await c.close()
    hh.run(main())


def test_a_refused_recovery_does_not_end_a_later_subscription(server):
    # subscribe (refused with 112: flag 2 and a lost position), unsubscribe
    # and subscribe again, in one frame: the broadcaster's "forget it" for
    # the first subscribe arrives after the second one and must not end it.
    async def main():
        c = await Client.open(server)
        first = c.next_id
        c.next_id += 3
        await c.send("\n".join(json.dumps(command) for command in (
            {"id": first, "subscribe": {"channel": "again", "recoverable": True,
                                        "recover": True, "offset": 7, "epoch": "gone",
                                        "flag": 2}},
            {"id": first + 1, "unsubscribe": {"channel": "again"}},
            {"id": first + 2, "subscribe": {"channel": "again"}})))
        assert (await c.reply(first))["error"]["code"] == 112
        assert "unsubscribe" in await c.reply(first + 1)
        assert "subscribe" in await c.reply(first + 2)
        writer = await Client.open(server)
        assert await writer.subscribe("again") == {}
        await writer.publish("again", {"n": 1})
        push = await c.push()
        assert push["channel"] == "again" and push["pub"]["data"] == {"n": 1}, push
        await close_all(c, writer)
    hh.run(main())


def test_server_side_subscriptions_recover_through_connect(server):
    # A token channel in a force-recovery namespace: the connect reply's
    # `subs` carries its position; reconnecting with that position in the
    # connect's `subs` recovers what was missed, as centrifuge-js does for
    # server-side subscriptions.
    async def main():
        token = user_token("rita", channels=["forcerec:srv"])
        c = await Client.open(server, token)
        first = c.result["subs"]["forcerec:srv"]
        assert first["recoverable"] is True and first["positioned"] is True, first
        epoch, offset = first["epoch"], first.get("offset", 0)
        await c.close()
        publisher = await Client.open(server)
        assert await publisher.subscribe("forcerec:srv") == {
            "recoverable": True, "epoch": epoch, "positioned": True, **(
                {"offset": offset} if offset else {})}
        await publish_and_wait(publisher, "forcerec:srv", [1, 2, 3])
        back = await Client.open(server, token, subs={
            "forcerec:srv": {"recover": True, "offset": offset, "epoch": epoch}})
        result = back.result["subs"]["forcerec:srv"]
        assert result["recovered"] is True and result["was_recovering"] is True, result
        assert [p["data"] for p in result["publications"]] == [1, 2, 3], result
        assert result["offset"] == offset + 3
        # and it goes on receiving
        await publisher.publish("forcerec:srv", 4)
        push = await back.push()
        assert push["pub"]["data"] == 4 and push["pub"]["offset"] == offset + 4, push
        await close_all(back, publisher)
    hh.run(main())
