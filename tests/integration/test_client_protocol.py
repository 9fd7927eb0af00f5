"""Centrifugo's client protocol on /connection/websocket (docs/protocol.md) with a
plain WebSocket client: every reply and error code, the disconnects for bad
input, pings, tokens, and one channel space shared with /ws."""

import asyncio
import json
import signal
import time

import pytest
import websockets

import herald_harness as hh
from centrifugo_client import (SECRET, closed_with, command, command_replies, connected, make_token,
                               open_client, subscribe, url)


@pytest.fixture(scope="module")
def server(module_start_herald):
    return module_start_herald(options={**hh.OPEN_CHANNELS, "allow-anonymous": "true",
                                        "token-hmac-secret": SECRET})


def test_anonymous_connect_announces_ping(server):
    async def main():
        ws, result = await connected(server)
        assert result["pong"] is True and result["ping"] == 25
        assert len(result["client"]) == 36 and result["version"].startswith("herald")
        await ws.close()
    hh.run(main())


def test_subscribe_publish_and_the_shared_channel_space(server):
    async def main():
        a, a_connected = await connected(server)
        b, _ = await connected(server)
        assert await command(a, '{"subscribe":{"channel":"chat"},"id":2}') == \
            [{"id": 2, "subscribe": {}}]
        assert await command(b, '{"subscribe":{"channel":"chat"},"id":2}\n'
                                '{"subscribe":{"channel":"broadcast"},"id":3}') == \
            [{"id": 2, "subscribe": {}}]
        assert json.loads(await b.recv()) == {"id": 3, "subscribe": {}}
        reply = await command(a, '{"publish":{"channel":"chat","data":{"text":"hi"}},"id":3}')
        assert reply[0] == {"id": 3, "publish": {}}
        # A client's publication names its publisher (Centrifugo's ClientInfo).
        push = {"push": {"channel": "chat", "pub": {
            "data": {"text": "hi"}, "info": {"user": "", "client": a_connected["client"]}}}}
        if len(reply) == 1:
            assert json.loads(await a.recv()) == push
        else:
            assert reply[1] == push
        assert json.loads(await b.recv()) == push
        # /ws publishes on the seed channel: client-protocol subscribers get
        # the message as data, and /ws clients get client publications.
        ws = await hh.connect(server)
        await ws.send('{"message":"from ws"}')
        assert json.loads(await ws.recv()) == {"message": "from ws"}
        assert json.loads(await b.recv()) == {
            "push": {"channel": "broadcast", "pub": {"data": {"message": "from ws"}}}}
        await command(b, '{"publish":{"channel":"broadcast","data":{"message":"from b"}},"id":4}')
        assert json.loads(await ws.recv()) == {"message": "from b"}
        for client in (a, b, ws):
            await client.close()
    hh.run(main())


def test_error_replies_keep_the_connection(server):
    async def main():
        ws, _ = await connected(server)
        replies = await command(ws, "\n".join([
            '{"subscribe":{"channel":"c"},"id":2}',
            '{"subscribe":{"channel":"c"},"id":3}',
            '{"publish":{"channel":"elsewhere","data":1},"id":4}',
            '{"subscribe":{"channel":"%s"},"id":5}' % ("x" * 256),
            '{"presence":{"channel":"c"},"id":6}',
            '{"history":{"channel":"c"},"id":7}',
            '{"rpc":{"method":"m","data":{}},"id":8}',
            '{"send":{"data":{}}}',
        ]))
        lines = replies
        while len(lines) < 7:
            lines += [json.loads(x) for x in (await asyncio.wait_for(ws.recv(), 10)).split("\n")]
        by_id = {line["id"]: line for line in lines}
        assert by_id[2] == {"id": 2, "subscribe": {}}
        assert by_id[3]["error"]["code"] == 105
        assert by_id[4]["error"]["code"] == 103
        assert by_id[5]["error"]["code"] == 107
        assert by_id[6]["error"]["code"] == 108
        assert by_id[7]["error"]["code"] == 108
        assert by_id[8]["error"]["code"] == 108
        assert await command(ws, '{"unsubscribe":{"channel":"c"},"id":9}') == \
            [{"id": 9, "unsubscribe": {}}]
        await ws.close()
    hh.run(main())


@pytest.mark.parametrize("frame", [
    "not json",
    "[1]",
    '{"subscribe":{"channel":"c"}}',
    '{"nonsense":{},"id":2}',
    '{"subscribe":{"channel":""},"id":2}',
    '{"subscribe":{"channel":"c","offset":"1"},"id":2}',
    "{}",  # a pong that answers no ping
])
def test_malformed_commands_disconnect_with_3501(server, frame):
    async def main():
        ws, _ = await connected(server)
        await ws.send(frame)
        assert await closed_with(ws) == (3501, "bad request")
        bystander, _ = await connected(server)  # the server keeps serving
        await bystander.close()
    hh.run(main())


def test_replies_before_a_bad_command_go_out_before_the_close(server):
    """Replies to the commands of a frame that precede the one that closes
    the connection are written first, although the session's writes wait
    for its thread's write pass."""
    async def main():
        ws, _ = await connected(server)
        # The session answers an unsubscribe itself, at once. (Replies the
        # broadcaster gives come back later; a connection closed for a bad
        # command before they do never gets them, as in Centrifugo, whose
        # handlers may answer asynchronously too.)
        await ws.send('{"unsubscribe":{"channel":"c"},"id":2}\n{}')
        received = []
        try:
            while True:
                received.append(await asyncio.wait_for(ws.recv(), 10))
        except websockets.ConnectionClosed as closed:
            assert (closed.rcvd.code, closed.rcvd.reason) == (3501, "bad request")
        assert [json.loads(line) for frame in received for line in frame.split("\n")] == \
            [{"id": 2, "unsubscribe": {}}]
    hh.run(main())


def test_commands_before_connect_and_binary_frames_disconnect(server):
    async def main():
        ws = await open_client(server)
        await ws.send('{"subscribe":{"channel":"c"},"id":1}')
        assert await closed_with(ws) == (3501, "bad request")
        ws, _ = await connected(server)
        await ws.send(b'{"publish":{}}')
        assert await closed_with(ws) == (3501, "bad request")
    hh.run(main())


@pytest.mark.parametrize("payload,code", [
    (b'{"publish":{"channel":"c","data":"' + b"x" * 70000 + b'"},"id":2}', 1009),
    (b'{"publish":{"channel":"c","data":"\xc3\x28"},"id":2}', 1007),
], ids=["oversized", "invalid-utf8"])
def test_frames_websocket_refuses_close_with_its_codes(server, payload, code):
    # Above max-message-bytes (64 KiB here): 1009, as Centrifugo's
    # websocket_message_size_limit does; invalid UTF-8 in a text frame: 1007.
    # Everyone else is still served.
    async def main():
        raw = await asyncio.to_thread(hh.RawWebSocket, server.port, "/connection/websocket")
        raw.send_text('{"connect":{},"id":1}')
        assert b'"connect"' in (await asyncio.to_thread(raw.read_frame)).payload
        try:
            raw.send_frame(0x1, payload)
        except OSError:
            pass  # the server may close while the frame is still going out
        frames, close = await asyncio.to_thread(raw.read_until_close, 10, True)
        assert close is not None and close.close_code() == code, (frames, close)
        bystander, _ = await connected(server)
        assert await command(bystander, '{"subscribe":{"channel":"c"},"id":2}') == \
            [{"id": 2, "subscribe": {}}]
        await bystander.close()
    hh.run(main())


def test_tokens(server):
    async def main():
        ws, result = await connected(server, make_token(
            {"sub": "42", "exp": int(time.time()) + 3600}))
        assert result["expires"] is True and 3500 <= result["ttl"] <= 3600
        # Refresh in band with a later token for the same user.
        reply = await command(ws, json.dumps({"refresh": {"token": make_token(
            {"sub": "42", "exp": int(time.time()) + 7200})}, "id": 2}))
        assert reply[0]["refresh"]["expires"] is True and reply[0]["refresh"]["ttl"] > 3600
        await ws.close()
        # Expired: error 109, the connection stays for a refresh.
        ws = await open_client(server)
        reply = await command(ws, json.dumps({"connect": {"token": make_token(
            {"sub": "42", "exp": int(time.time()) - 10})}, "id": 1}))
        assert reply == [{"id": 1, "error": {"code": 109, "message": "token expired"}}]
        await ws.close()
        # Bad signature, another algorithm, not valid yet (nbf), or a sub
        # that is not a string (which must not make an anonymous user):
        # 3500 invalid token.
        for token in (make_token({"sub": "42"}, secret="wrong"),
                      make_token({"sub": "42"}, alg="HS512"),
                      make_token({"sub": "42", "nbf": int(time.time()) + 600}),
                      make_token({"sub": 42}), make_token({"sub": None})):
            ws = await open_client(server)
            await ws.send(json.dumps({"connect": {"token": token}, "id": 1}))
            assert await closed_with(ws) == (3500, "invalid token")
    hh.run(main())


def test_anonymous_refused_without_allow_anonymous(start_herald):
    srv = start_herald(options={"token-hmac-secret": SECRET})

    async def main():
        ws = await open_client(srv)
        await ws.send('{"connect":{},"id":1}')
        assert await closed_with(ws) == (3500, "invalid token")
        ws, _ = await connected(srv, make_token({"sub": "7"}))
        await ws.close()
    hh.run(main())


def test_pings_and_missing_pong(start_herald):
    srv = start_herald(options={**hh.OPEN_CHANNELS, "allow-anonymous": "true",
                                "ping-interval": "2s",
                                "pong-timeout": "1s"})

    async def main():
        ws, result = await connected(srv)
        assert result["ping"] == 2
        for _ in range(2):  # answered pings keep it open
            assert await asyncio.wait_for(ws.recv(), 5) == "{}"
            await ws.send("{}")
        assert await asyncio.wait_for(ws.recv(), 5) == "{}"
        assert await closed_with(ws) == (3012, "no pong")
    hh.run(main())


def test_shutdown_sends_3001(start_herald):
    srv = start_herald(options={**hh.OPEN_CHANNELS, "allow-anonymous": "true"})

    async def main():
        ws, _ = await connected(srv)
        srv.send_signal(signal.SIGTERM)
        assert await closed_with(ws) == (3001, "shutdown")
    hh.run(main())
    assert srv.wait_exit(15) == 0


HISTORY = {**hh.OPEN_CHANNELS, "allow-anonymous": "true", "history-size": "100",
           "history-ttl": "300s"}


def test_recovery_returns_exactly_the_missed_publications(start_herald):
    srv = start_herald(options=HISTORY)

    async def main():
        reader, _ = await connected(srv)
        joined = (await subscribe(reader, "feed", 2, recoverable=True))["subscribe"]
        assert joined["recoverable"] is True and joined["epoch"]
        epoch = joined["epoch"]
        writer, _ = await connected(srv)
        await subscribe(writer, "feed", 2)
        await command(writer, '{"publish":{"channel":"feed","data":{"n":0}},"id":3}')
        push = json.loads(await reader.recv())
        seen = push["push"]["pub"]["offset"]
        await reader.close()  # the reader's connection is cut...
        for n in range(1, 51):  # ...while 50 are published
            await writer.send(json.dumps({"publish": {"channel": "feed", "data": {"n": n}},
                                          "id": 3 + n}))
        # A publish reply means accepted, not yet in history: wait until the
        # writer, a subscriber too, got the 50th back from the broadcaster.
        last = None
        while last != 50:
            for line in (await asyncio.wait_for(writer.recv(), 10)).split("\n"):
                message = json.loads(line)
                if "push" in message:
                    last = message["push"]["pub"]["data"]["n"]
        back, _ = await connected(srv)
        result = (await subscribe(back, "feed", 2, recoverable=True, recover=True, offset=seen,
                                  epoch=epoch))["subscribe"]
        assert result["recovered"] is True and result["was_recovering"] is True
        assert [p["data"]["n"] for p in result["publications"]] == list(range(1, 51))
        assert [p["offset"] for p in result["publications"]] == list(range(seen + 1, seen + 51))
        assert result["offset"] == seen + 50 and result["epoch"] == epoch
        for ws in (writer, back):
            await ws.close()
        return epoch, seen + 50
    epoch, offset = hh.run(main())

    # After a restart the in-memory stream is gone: a new epoch, not recovered.
    srv.stop()
    again = start_herald(options=HISTORY)

    async def after_restart():
        ws, _ = await connected(again)
        result = (await subscribe(ws, "feed", 2, recoverable=True, recover=True, offset=offset,
                                  epoch=epoch))["subscribe"]
        assert result["epoch"] != epoch
        assert result.get("recovered", False) is False and "publications" not in result
        await ws.close()
    hh.run(after_restart())


def test_namespace_permissions(start_herald, tmp_path):
    config = tmp_path / "herald.ini"
    config.write_text('[global]\nallow-anonymous = true\nallow-subscribe-for-client = true\n'
                      'allow-subscribe-for-anonymous = true\n'
                      'allow-publish-for-subscriber = true\n'
                      'allow-publish-for-anonymous = true\n\n'
                      '[namespaces.readonly]\nallow-publish-for-subscriber = false\n')
    srv = start_herald(options={"config-file": str(config)})

    async def main():
        ws, _ = await connected(srv)
        replies = await command(ws, "\n".join([
            '{"subscribe":{"channel":"readonly:news"},"id":2}',
            '{"subscribe":{"channel":"nowhere:x"},"id":3}',
            '{"subscribe":{"channel":"$private"},"id":4}',
        ]))
        while len(replies) < 3:
            replies += [json.loads(x) for x in (await ws.recv()).split("\n")]
        by_id = {reply["id"]: reply for reply in replies}
        assert by_id[2] == {"id": 2, "subscribe": {}}
        assert by_id[3]["error"]["code"] == 102
        assert by_id[4]["error"]["code"] == 103
        reply = await command(ws, '{"publish":{"channel":"readonly:news","data":1},"id":5}')
        assert reply[0]["error"]["code"] == 103
        await ws.close()
    hh.run(main())


def test_channel_limit_per_connection(server):
    async def main():
        ws, _ = await connected(server)
        lines = "\n".join('{"subscribe":{"channel":"limit-%d"},"id":%d}' % (n, n + 2)
                          for n in range(129))
        await ws.send(lines)
        replies = []
        while len(replies) < 129:
            replies += [json.loads(x) for x in (await asyncio.wait_for(ws.recv(), 10)).split("\n")]
        by_id = {reply["id"]: reply for reply in replies}
        assert all(by_id[n + 2] == {"id": n + 2, "subscribe": {}} for n in range(128))
        assert by_id[130]["error"]["code"] == 106
        await ws.close()
    hh.run(main())


def test_publish_and_user_limited_rules(start_herald, tmp_path):
    config = tmp_path / "herald.ini"
    config.write_text('[global]\nallow-anonymous = true\ntoken-hmac-secret = "%s"\n'
                      'allow-subscribe-for-client = true\n'
                      'allow-subscribe-for-anonymous = true\n'
                      'allow-publish-for-subscriber = true\n'
                      'allow-publish-for-anonymous = false\n\n'
                      '[namespaces.dialog]\nallow-user-limited-channels = true\n'
                      'allow-subscribe-for-client = false\n' % SECRET)
    srv = start_herald(options={"config-file": str(config)})

    async def main():
        anonymous, _ = await connected(srv)
        await subscribe(anonymous, "room", 2)
        reply = await command(anonymous, '{"publish":{"channel":"room","data":1},"id":3}')
        assert reply[0]["error"]["code"] == 103  # subscribed, but anonymous
        user, _ = await connected(srv, make_token({"sub": "42"}))
        await subscribe(user, "room", 2)
        reply = await command(user, '{"publish":{"channel":"room","data":1},"id":3}')
        assert reply[0] == {"id": 3, "publish": {}}
        if len(reply) == 1:  # the push of its own publication, if not batched
            assert "push" in json.loads(await user.recv())
        # dialog#42,43 admits users 42 and 43 only.
        assert (await subscribe(user, "dialog:chat#42,43", 4)) == {"id": 4, "subscribe": {}}
        assert (await subscribe(user, "dialog:chat#7,8", 5))["error"]["code"] == 103
        for ws in (anonymous, user):
            await ws.close()
    hh.run(main())


def test_no_push_after_the_unsubscribe_reply(server):
    # A publish and an unsubscribe in one frame: the broadcaster sends the
    # push before it sees the unsubscribe, so it reaches the session after
    # the unsubscribe reply went out; the session drops it.
    async def main():
        reader, _ = await connected(server)
        await subscribe(reader, "busy", 2)
        replies, pushes = await command_replies(
            reader, '{"id":3,"publish":{"channel":"busy","data":1}}\n'
                    '{"id":4,"unsubscribe":{"channel":"busy"}}', [3, 4])
        assert sorted(r["id"] for r in replies) == [3, 4], replies
        assert pushes == [], pushes
        with pytest.raises(asyncio.TimeoutError):
            late = await asyncio.wait_for(reader.recv(), 0.5)
            print("late:", late)
        # Subscribed again, the channel's pushes flow as before.
        await subscribe(reader, "busy", 5)
        await command(reader, '{"id":6,"publish":{"channel":"busy","data":2}}')
        push = json.loads(await asyncio.wait_for(reader.recv(), 5))
        assert push["push"]["pub"]["data"] == 2, push
        await reader.close()
    hh.run(main())


def test_by_default_clients_cannot_speak_on_channels(start_herald):
    """Centrifugo's defaults: without a channel token or a namespace that
    allows it, a client subscribes to nothing and publishes nothing; /ws
    clients chat on the seed channel as before."""
    srv = start_herald(options={"allow-anonymous": "true", "token-hmac-secret": SECRET})

    async def main():
        for token in (None, make_token({"sub": "42"})):
            ws, _ = await connected(srv, token)
            assert (await subscribe(ws, "news", 2))["error"]["code"] == 103
            reply = await command(ws, '{"publish":{"channel":"news","data":1},"id":3}')
            assert reply[0]["error"]["code"] == 103
            reply = await command(ws, '{"publish":{"channel":"broadcast","data":1},"id":4}')
            assert reply[0]["error"]["code"] == 103
            await ws.close()
        # A channel token from the backend lets its user in.
        ws, _ = await connected(srv, make_token({"sub": "42"}))
        channel_token = make_token({"sub": "42", "channel": "news"})
        reply = await command(ws, json.dumps(
            {"subscribe": {"channel": "news", "token": channel_token}, "id": 5}))
        assert reply[0] == {"id": 5, "subscribe": {}}, reply
        await ws.close()
        # The tutorial's /ws clients are not concerned.
        a = await websockets.connect(srv.ws_url)
        b = await websockets.connect(srv.ws_url)
        await a.send('{"message":"hi"}')
        assert json.loads(await asyncio.wait_for(b.recv(), 5)) == {"message": "hi"}
        await a.close()
        await b.close()
    hh.run(main())
