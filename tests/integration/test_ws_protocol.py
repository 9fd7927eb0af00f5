"""GET /ws: the tutorial's broadcast protocol, its error closes, and the
limits on the upgrade (docs/protocol.md)."""

import asyncio
import json
import socket
import time

import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatusCode

import herald_harness as hh

MAX_MESSAGE = 4096


@pytest.fixture(scope="module")
def server(module_start_herald):
    return module_start_herald(options={"max-message-bytes": MAX_MESSAGE})


pytestmark = pytest.mark.usefixtures("server_stays_alive")


run = hh.run

connect = hh.connect


async def recv_json(ws, timeout=5):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def expect_silence(ws, seconds):
    try:
        msg = await asyncio.wait_for(ws.recv(), seconds)
    except asyncio.TimeoutError:
        return
    raise AssertionError("unexpected message %r" % (msg,))


# --- broadcast ------------------------------------------------------------------

def test_echo_format(server):
    async def main():
        a = await connect(server)
        b = await connect(server)
        await a.send('{"message": "hi", "x": 1}')
        for ws in (a, b):
            assert await asyncio.wait_for(ws.recv(), 5) == '{"message":"hi"}'
        await a.send(json.dumps({"nested": {"message": 1}, "message": "only me", "list": [1, 2]}))
        for ws in (a, b):
            assert await asyncio.wait_for(ws.recv(), 5) == '{"message":"only me"}'
        await a.close()
        await b.close()
    run(main())


def test_four_clients_two_senders_all_messages_in_order(server):
    n = 100

    async def main():
        clients = [await connect(server) for _ in range(4)]

        async def sender(i):
            for k in range(n):
                await clients[i].send(json.dumps({"message": "s%d-%d" % (i, k), "x": k}))

        results = [[] for _ in clients]

        async def receiver(ws, got):
            while len(got) < 2 * n:
                got.append(await ws.recv())

        receivers = [asyncio.create_task(receiver(ws, got)) for ws, got in zip(clients, results)]
        await asyncio.gather(sender(0), sender(1))
        done, pending = await asyncio.wait(receivers, timeout=20)
        for t in done:
            t.result()
        assert not pending, "clients got %s of %d messages; last seen: %r" % (
            [len(g) for g in results], 2 * n, [g[-2:] for g in results])
        for idx, got in enumerate(results):
            per_sender = {0: [], 1: []}
            for text in got:
                assert text.startswith('{"message":"s'), text
                msg = json.loads(text)
                assert list(msg) == ["message"], text
                s, k = msg["message"][1:].split("-")
                per_sender[int(s)].append(int(k))
            for s in (0, 1):
                assert per_sender[s] == list(range(n)), (
                    "client %d: messages of sender %d missing or out of order" % (idx, s))
        # nothing more arrives
        await expect_silence(clients[2], 0.3)
        for ws in clients:
            await ws.close()
    run(main())


@pytest.mark.parametrize("text", [
    "h\u00e9llo w\u00f6rld \u2713 \U0001F680",
    'quote " backslash \\ slash / newline \n tab \t',
    "",
    "<script>alert(1)</script>",
    "\u0000 nul and \u001f control",
])
def test_message_text_round_trips(server, text):
    async def main():
        a = await connect(server)
        b = await connect(server)
        await a.send(json.dumps({"message": text}, ensure_ascii=False))
        for ws in (a, b):
            assert await recv_json(ws) == {"message": text}
        await a.close()
        await b.close()
    run(main())


def test_message_at_the_size_limit_is_accepted(server):
    prefix, suffix = '{"message":"', '"}'
    body = "m" * (MAX_MESSAGE - len(prefix) - len(suffix))
    frame = prefix + body + suffix
    assert len(frame.encode()) == MAX_MESSAGE

    async def main():
        a = await connect(server)
        await a.send(frame)
        assert await recv_json(a) == {"message": body}
        await a.close()
    run(main())


def test_fragmented_message_is_reassembled(server):
    async def main():
        bystander = await connect(server)
        raw = await asyncio.to_thread(hh.RawWebSocket, server.port)
        data = '{"message": "caf\u00e9 \u2713"}'.encode()
        cut = data.index("\u00e9".encode()) + 1  # split inside a multi-byte character
        raw.send_frame(hh.OP_TEXT, data[:cut], fin=False)
        raw.send_frame(hh.OP_CONT, data[cut:], fin=True)
        assert await recv_json(bystander) == {"message": "caf\u00e9 \u2713"}
        frame = await asyncio.to_thread(raw.read_frame, 5, True)
        assert frame.opcode == hh.OP_TEXT
        assert json.loads(frame.payload) == {"message": "caf\u00e9 \u2713"}
        raw.send_close()
        raw.close()
        await bystander.close()
    run(main())


def test_publication_right_after_handshake_reaches_the_new_client(server):
    """Nothing published while a subscriber is connected is lost to it.
    A client is connected once its 101 has arrived; a publication sent right
    then (no pause) must reach it, and the sender, on every try."""
    tries = 600

    async def main():
        old = await connect(server)
        for i in range(tries):
            new = await connect(server)
            await new.send('{"message": "new %d"}' % i)  # the new client publishes itself
            await old.send('{"message": "old %d"}' % i)  # and an old one does at once
            got = []
            try:
                while len(got) < 2:
                    got.append(await asyncio.wait_for(new.recv(), 1))
            except asyncio.TimeoutError:
                pass
            assert sorted(got) == sorted(['{"message":"new %d"}' % i, '{"message":"old %d"}' % i]), (
                "try %d of %d: a client that had just completed its handshake received %r "
                "(publications made right after the handshake were lost to it)" % (i + 1, tries, got))
            for _ in range(2):
                await asyncio.wait_for(old.recv(), 5)
            await new.close()
        await old.close()
    run(main(), timeout=120)


# --- bad input --------------------------------------------------------------------

def frames_for(kind, payload):
    if kind == "text":
        return [(hh.OP_TEXT, payload, True)]
    if kind == "binary":
        return [(hh.OP_BINARY, payload, True)]
    if kind == "fragments":
        half = len(payload) // 2
        return [(hh.OP_TEXT, payload[:half], False), (hh.OP_CONT, payload[half:], True)]
    raise ValueError(kind)


OVERSIZED = ('{"message":"' + "z" * (MAX_MESSAGE + 100) + '"}').encode()

BAD_INPUTS = [
    ("not-json", "text", b"hello", 1007),
    ("truncated-json", "text", b'{"message": "hi"', 1007),
    ("trailing-garbage", "text", b'{"message": "hi"} extra', 1007),
    ("empty-frame", "text", b"", 1007),
    ("array", "text", b'["message", "hi"]', 1007),
    ("string", "text", b'"hi"', 1007),
    ("number", "text", b"42", 1007),
    ("null", "text", b"null", 1007),
    ("empty-object", "text", b"{}", 1007),
    ("other-key", "text", b'{"msg": "hi"}', 1007),
    ("message-number", "text", b'{"message": 5}', 1007),
    ("message-null", "text", b'{"message": null}', 1007),
    ("message-bool", "text", b'{"message": true}', 1007),
    ("message-object", "text", b'{"message": {"a": "b"}}', 1007),
    ("message-array", "text", b'{"message": ["hi"]}', 1007),
    ("binary-json", "binary", b'{"message": "hi"}', 1003),
    ("binary-junk", "binary", b"\x00\x01\x02", 1003),
    ("invalid-utf8", "text", b"\xff\xfe\xfd", 1007),
    ("invalid-utf8-in-string", "text", b'{"message": "\xc3\x28"}', 1007),
    ("overlong-utf8", "text", b'{"message": "\xc0\xaf"}', 1007),
    ("utf16-surrogate", "text", b'{"message": "\xed\xa0\x80"}', 1007),
    ("oversized-frame", "text", OVERSIZED, 1009),
    ("oversized-fragmented", "fragments", OVERSIZED, 1009),
]


@pytest.mark.parametrize("name,kind,payload,code", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_closes_only_the_sender(server, name, kind, payload, code):
    async def main():
        bystander = await connect(server)
        raw = await asyncio.to_thread(hh.RawWebSocket, server.port)
        try:
            for op, data, fin in frames_for(kind, payload):
                try:
                    raw.send_frame(op, data, fin=fin)
                except OSError:
                    break  # the server may close while the frame is still going out
            frames, close = await asyncio.to_thread(raw.read_until_close, 10, True)
            assert frames == [], "the bad client got data frames: %r" % frames
            assert close is not None, "server dropped the connection without a close frame"
            assert close.close_code() == code, (
                "expected close %d for %s, got %s (%r)" % (code, name, close.close_code(),
                                                          close.payload))
            raw.send_close(code)
            assert await asyncio.to_thread(raw.wait_closed, 5), "TCP not closed after close"
        finally:
            raw.close()
        # nothing reached the bystander; the server still broadcasts
        await bystander.send('{"message": "after %s"}' % name)
        assert await recv_json(bystander) == {"message": "after %s" % name}
        await expect_silence(bystander, 0.2)
        await bystander.close()
    run(main())


def test_bad_input_from_websockets_client(server):
    """Same through the library: the client sees the close code as ConnectionClosed."""
    async def main():
        bad = await connect(server)
        good = await connect(server)
        await bad.send(b"\x01\x02")
        with pytest.raises(ConnectionClosed) as info:
            await asyncio.wait_for(bad.recv(), 5)
        assert info.value.code == 1003
        bad2 = await connect(server)
        await bad2.send("{not json")
        with pytest.raises(ConnectionClosed) as info:
            await asyncio.wait_for(bad2.recv(), 5)
        assert info.value.code == 1007
        await good.send('{"message": "still here"}')
        assert await recv_json(good) == {"message": "still here"}
        await good.close()
    run(main())


def test_abrupt_disconnects_do_not_disturb_others(server):
    async def main():
        steady = await connect(server)
        for i in range(20):
            raw = await asyncio.to_thread(hh.RawWebSocket, server.port)
            if i % 3 == 0:
                raw.send_frame(hh.OP_TEXT, b'{"message": "par', fin=False)  # half a message
            if i % 2:
                raw.abort()
            else:
                raw.close()
        await steady.send('{"message": "ok"}')
        assert await recv_json(steady) == {"message": "ok"}
        await steady.close()
    run(main())


# --- the upgrade ----------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/ws", "/connection/websocket"])
@pytest.mark.parametrize("key", ["abc", "", "dGhlIHNhbXBsZSBub25jZQ=", "dGhlIHNhbXBsZSBub25jZQAA",
                                 "dGhlIHNhbXBsZSBub25j*Q=="])
def test_a_key_that_is_not_base64_of_16_bytes_gets_400(server, path, key):
    with pytest.raises(hh.HandshakeRefused) as refused:
        hh.RawWebSocket(server.port, path, key=key)
    assert refused.value.response.status == 400, refused.value.response
    # The RFC's own example key is taken, and the server serves on.
    hh.RawWebSocket(server.port, path, key="dGhlIHNhbXBsZSBub25jZQ==").close()
    assert hh.http_get(server.port, "/health").status == 200


def test_plain_get_ws_is_426(server):
    r = hh.http_get(server.port, "/ws")
    assert r.status == 426, r
    r = hh.http_get(server.port, "/ws?x=1")
    assert r.status == 426, r

    async def main():
        ws = await connect(server)
        await ws.send('{"message": "after 426"}')
        assert await recv_json(ws) == {"message": "after 426"}
        await ws.close()
    run(main())


def test_max_connections_503(start_herald):
    srv = start_herald(options={"max-connections": 3})

    async def main():
        held = [await connect(srv) for _ in range(3)]
        with pytest.raises(InvalidStatusCode) as info:
            await connect(srv)
        assert info.value.status_code == 503
        try:
            await asyncio.to_thread(hh.RawWebSocket, srv.port)
            raise AssertionError("a 4th raw upgrade was accepted")
        except hh.HandshakeRefused as e:
            assert e.response.status == 503
        # plain HTTP is not a WebSocket connection
        assert (await asyncio.to_thread(hh.http_get, srv.port, "/health")).status == 200
        # the held ones still work
        await held[0].send('{"message": "full"}')
        for ws in held:
            assert await recv_json(ws) == {"message": "full"}
        # a slot frees when one leaves
        await held.pop().close()
        deadline = time.monotonic() + 5
        while True:
            try:
                held.append(await connect(srv))
                break
            except InvalidStatusCode as e:
                assert e.status_code == 503
                if time.monotonic() > deadline:
                    raise AssertionError("slot not freed 5 s after a close")
                await asyncio.sleep(0.1)
        for ws in held:
            await ws.close()
    run(main())


def test_allowed_origins_403(start_herald):
    srv = start_herald(options={"allowed-origins": "https://good.example.com,https://*.example.org"})

    async def main():
        for origin in ("https://good.example.com", "https://chat.example.org", None):
            ws = await connect(srv, origin=origin)
            await ws.send('{"message": "from %s"}' % origin)
            assert await recv_json(ws) == {"message": "from %s" % origin}
            await ws.close()
        for origin in ("https://evil.com", "http://good.example.com",
                       "https://good.example.com.evil.com", "null"):
            with pytest.raises(InvalidStatusCode) as info:
                await connect(srv, origin=origin)
            assert info.value.status_code == 403, origin
        ws = await connect(srv, origin="https://good.example.com")
        await ws.send('{"message": "still serving"}')
        assert await recv_json(ws) == {"message": "still serving"}
        await ws.close()
    run(main())


# --- timeouts -------------------------------------------------------------------------

@pytest.fixture
def timeout_server(start_herald):
    return start_herald(options={"idle-timeout": "2s", "handshake-timeout": "1s"})


def test_idle_client_that_never_pongs_is_closed(timeout_server):
    raw = hh.RawWebSocket(timeout_server.port)
    start = time.monotonic()
    seen = []
    try:
        while True:
            seen.append(raw.read_frame(timeout=10, answer_pings=False))
    except EOFError:
        pass
    except TimeoutError:
        raise AssertionError("dead client still connected 10 s after idle-timeout=2s; saw %r"
                             % seen)
    finally:
        raw.close()
    elapsed = time.monotonic() - start
    assert 1.5 <= elapsed <= 8, "closed after %.1fs with idle-timeout=2s" % elapsed
    assert all(f.opcode in (hh.OP_PING, hh.OP_CLOSE) for f in seen), seen


def test_live_client_survives_idle_timeout(timeout_server):
    async def main():
        ws = await connect(timeout_server)  # answers pings automatically
        await asyncio.sleep(4.5)
        await ws.send('{"message": "alive"}')
        assert await recv_json(ws) == {"message": "alive"}
        await ws.close()
    run(main())


def test_handshake_timeout(timeout_server):
    for partial in (b"", b"GET /ws HTTP/1.1\r\nHost: x\r\n"):
        with socket.create_connection(("127.0.0.1", timeout_server.port), timeout=10) as s:
            if partial:
                s.sendall(partial)
            start = time.monotonic()
            data = hh.recv_all(s, 8)
            elapsed = time.monotonic() - start
        assert elapsed < 6, "connection with %r held %.1fs (handshake-timeout=1s)" % (
            partial, elapsed)
        assert not data or data.startswith(b"HTTP/1.1 4"), data[:200]
    assert hh.http_get(timeout_server.port, "/health").status == 200
