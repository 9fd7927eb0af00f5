"""permessage-deflate (compression = true, docs/protocol.md#compression):
negotiation with what real clients offer, publications compressed once and
the same bytes sent to every client that negotiated it, plain frames for
the others, clients' compressed messages inflated, and every bad compressed
input closed with its code while the server serves on."""

import asyncio
import json
import time
import zlib

import pytest
import websockets

import centrifugo_client as cc
import herald_harness as hh

MAX_MESSAGE = 8192
DEFLATE = "permessage-deflate"
ACCEPTED = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
OPTIONS = {**hh.OPEN_CHANNELS, "allow-anonymous": "true", "compression": "true",
           "compression-min-bytes": "256", "max-message-bytes": str(MAX_MESSAGE)}

OP_TEXT, OP_CONT, OP_PING = 0x1, 0x0, 0x9
RSV1 = 0x40


@pytest.fixture(scope="module")
def server(module_start_herald):
    return module_start_herald(options=OPTIONS)


pytestmark = pytest.mark.usefixtures("server_stays_alive")
run = hh.run


def big_message(size=3000):
    """A /ws message whose echo is well over compression-min-bytes."""
    text = " ".join("price-%d" % i for i in range(size // 8))
    return text[:size]


def deflate(data):
    """What a client's deflater sends: raw DEFLATE, flushed, tail removed."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    out = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


def inflate(payload):
    return zlib.decompressobj(-15).decompress(payload + b"\x00\x00\xff\xff")


def raw_client(srv, path="/ws", offer=DEFLATE):
    headers = {"Sec-WebSocket-Extensions": offer} if offer else {}
    return hh.RawWebSocket(srv.port, path=path, headers=headers)


def extensions_header(srv, offer, path="/ws"):
    """The Sec-WebSocket-Extensions of the 101 to an upgrade offering `offer`."""
    ws = raw_client(srv, path=path, offer=offer)
    ws.close()
    return ws.response.header("sec-websocket-extensions")


def assert_serves(srv):
    """A fresh compressing client still gets its large message back."""
    async def main():
        ws = await hh.connect(srv)
        text = big_message()
        await ws.send(json.dumps({"message": text}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"message": text}
        await ws.close()
    run(main())


# --- negotiation ------------------------------------------------------------------

@pytest.mark.parametrize("offer", [
    "permessage-deflate; client_max_window_bits",  # Chromium, Node's ws, Python's websockets
    "permessage-deflate",
    "x-webkit-deflate-frame, permessage-deflate; client_max_window_bits=12",
    "permessage-deflate; server_max_window_bits=10, permessage-deflate",  # the second offer
    'permessage-deflate; server_no_context_takeover; client_max_window_bits="15"',
])
def test_offers_accepted(server, offer):
    assert extensions_header(server, offer) == ACCEPTED


@pytest.mark.parametrize("offer", [
    "permessage-deflate; server_max_window_bits=10",
    "permessage-deflate; client_max_window_bits=7",
    "permessage-deflate; no_such_param",
    "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
    "x-webkit-deflate-frame",
])
def test_offers_declined_connection_stays_plain(server, offer):
    assert extensions_header(server, offer) is None
    ws = raw_client(server, offer=offer)
    text = big_message()
    ws.send_text(json.dumps({"message": text}))
    frame = ws.read_frame()
    assert not frame.rsv1 and json.loads(frame.payload) == {"message": text}
    ws.close()


def test_server_max_window_bits_15_is_named_back(server):
    """RFC 7692 7.1.2.1: accepting server_max_window_bits means naming it in
    the answer; websockets refuses the handshake otherwise."""
    from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
    assert extensions_header(server, "permessage-deflate; server_max_window_bits=15") == \
        ACCEPTED + "; server_max_window_bits=15"

    async def main():
        ws = await hh.connect(server, extensions=[
            ClientPerMessageDeflateFactory(server_max_window_bits=15)])
        assert ws.extensions, "not negotiated"
        text = big_message()
        await ws.send(json.dumps({"message": text}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"message": text}
        await ws.close()
    run(main())


def test_python_websockets_negotiates_and_round_trips(server):
    async def main():
        ws = await hh.connect(server)  # compression="deflate" is websockets' default
        assert [type(e).__name__ for e in ws.extensions] == ["PerMessageDeflate"]
        for size in (10, 300, 3000, MAX_MESSAGE - 20):
            text = big_message(size)
            await ws.send(json.dumps({"message": text}))  # compressed by websockets
            assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"message": text}
        await ws.close()
    run(main())


# --- compressed once, plain for the others -------------------------------------------

def test_same_compressed_bytes_to_every_compressing_client_plain_to_others(server):
    compressing = [raw_client(server) for _ in range(3)]
    plain = raw_client(server, offer=None)
    text = big_message()
    compressing[0].send_text(json.dumps({"message": text}))
    expected = json.dumps({"message": text}, separators=(",", ":")).encode()
    frames = [ws.read_frame() for ws in compressing]
    for frame in frames:
        assert frame.rsv1 and frame.fin and frame.opcode == OP_TEXT
        assert inflate(frame.payload) == expected
    assert len({frame.payload for frame in frames}) == 1  # the same bytes for all
    assert len(frames[0].payload) < len(expected) // 2
    frame = plain.read_frame()
    assert not frame.rsv1 and frame.payload == expected
    for ws in compressing + [plain]:
        ws.close()


def test_small_messages_go_uncompressed(server):
    ws = raw_client(server)
    ws.send_text('{"message":"short"}')
    frame = ws.read_frame()
    assert not frame.rsv1 and frame.payload == b'{"message":"short"}'
    ws.close()


def test_client_protocol_pushes_and_replies_compressed(server):
    """Centrifugo's protocol: a server API publication reaches a subscriber
    that negotiated the extension (Python websockets) and one that did not,
    and a raw client sees the push frame compressed (RSV1) and inflating to
    it."""
    async def main():
        zipped = await cc.Client.open(server)
        assert zipped.ws.extensions, "websockets did not negotiate permessage-deflate"
        plain = cc.Client(await websockets.connect(cc.url(server), compression=None))
        await plain.connect()
        for client in (zipped, plain):
            await client.subscribe("news")
        data = {"text": big_message(2000)}
        cc.api(server, "publish", {"channel": "news", "data": data})
        for client in (zipped, plain):
            push = await client.push()
            assert push["pub"]["data"] == data
        await zipped.ws.close()
        await plain.ws.close()
    run(main())
    ws = raw_client(server, path="/connection/websocket")
    ws.send_text(json.dumps({"id": 1, "connect": {}}))
    assert b'"connect"' in ws.read_frame().payload
    ws.send_text(json.dumps({"id": 2, "subscribe": {"channel": "news"}}))
    ws.read_frame()
    cc.api(server, "publish", {"channel": "news", "data": {"text": big_message(2000)}})
    frame = ws.read_frame()
    assert frame.rsv1 and b'"pub"' in inflate(frame.payload)
    ws.close()


def test_fragmented_compressed_message_with_ping_between(server):
    ws = raw_client(server)
    text = big_message()
    compressed = deflate(json.dumps({"message": text}).encode())
    half = len(compressed) // 2
    ws.send_frame(OP_TEXT | RSV1, compressed[:half], fin=False)
    ws.send_frame(OP_PING, b"between")
    ws.send_frame(OP_CONT, compressed[half:], fin=True)
    pong = ws.read_frame()
    assert pong.opcode == 0xA and pong.payload == b"between"
    frame = ws.read_frame()
    assert json.loads(inflate(frame.payload)) == {"message": text}
    ws.close()


# --- bad compressed input ------------------------------------------------------------

def close_code_after(srv, send):
    ws = raw_client(srv)
    send(ws)
    frames, close = ws.read_until_close(timeout=10)
    ws.close()
    assert close is not None, "no close frame; got %r" % frames
    return close.close_code()


def test_not_deflate_data_closes_1007(server):
    assert close_code_after(
        server, lambda ws: ws.send_frame(OP_TEXT | RSV1, b"\xff\xfe\xfd not deflate")) == 1007
    assert_serves(server)


def test_bomb_closes_1009_at_max_message_bytes(server):
    # 4 MiB of 'a' in about 4 KiB: gathered whole (under the compressed
    # bound), then inflating stops at max-message-bytes.
    bomb = deflate(b"a" * (4 << 20))
    assert len(bomb) < MAX_MESSAGE
    assert close_code_after(server, lambda ws: ws.send_frame(OP_TEXT | RSV1, bomb)) == 1009
    # 64 MiB of 'a' in about 64 KiB: past the compressed bound at its header.
    bomb = deflate(b"a" * (64 << 20))
    assert close_code_after(server, lambda ws: ws.send_frame(OP_TEXT | RSV1, bomb)) == 1009
    just_over = deflate(json.dumps({"message": "x" * MAX_MESSAGE}).encode())
    assert close_code_after(server, lambda ws: ws.send_frame(OP_TEXT | RSV1, just_over)) == 1009
    assert_serves(server)


def test_rsv1_on_a_continuation_closes_1002(server):
    compressed = deflate(json.dumps({"message": big_message()}).encode())

    def send(ws):
        ws.send_frame(OP_TEXT | RSV1, compressed[:10], fin=False)
        ws.send_frame(OP_CONT | RSV1, compressed[10:], fin=True)
    assert close_code_after(server, send) == 1002
    assert_serves(server)


def test_new_message_inside_a_compressed_one_closes_1002(server):
    compressed = deflate(json.dumps({"message": big_message()}).encode())

    def send(ws):
        ws.send_frame(OP_TEXT | RSV1, compressed[:10], fin=False)
        ws.send_frame(OP_TEXT, b'{"message":"x"}')
    assert close_code_after(server, send) == 1002
    assert_serves(server)


def test_compressed_invalid_utf8_closes_1007(server):
    assert close_code_after(
        server, lambda ws: ws.send_frame(OP_TEXT | RSV1, deflate(b'{"message":"\xff"}'))) == 1007
    assert_serves(server)


def test_compressed_frame_when_not_negotiated_closes_1002(server):
    ws = raw_client(server, offer=None)
    ws.send_frame(OP_TEXT | RSV1, deflate(b'{"message":"x"}'))
    frames, close = ws.read_until_close(timeout=10)
    ws.close()
    assert close is not None and close.close_code() == 1002
    assert_serves(server)


def test_metrics_count_compressed_connections(start_herald):
    srv = start_herald(options=OPTIONS)

    def gauge():
        body = hh.http_get(srv.port, "/metrics").body.decode()
        for line in body.splitlines():
            if line.startswith('herald_compressed_connections{protocol="ws"} '):
                return int(line.split()[-1])
        raise AssertionError("no herald_compressed_connections in /metrics")

    zipped = [raw_client(srv) for _ in range(2)]
    plain = raw_client(srv, offer=None)
    assert gauge() == 2
    zipped[0].send_close()
    zipped[0].read_until_close()
    zipped[0].close()
    deadline = time.monotonic() + 5
    while gauge() != 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert gauge() == 1
    for ws in zipped[1:] + [plain]:
        ws.close()


def test_compression_off_by_default_declines_every_offer(start_herald):
    srv = start_herald()
    assert extensions_header(srv, "permessage-deflate; client_max_window_bits") is None
    async def main():
        ws = await hh.connect(srv)
        assert ws.extensions == []
        await ws.send(json.dumps({"message": "plain"}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"message": "plain"}
        await ws.close()
    run(main())
