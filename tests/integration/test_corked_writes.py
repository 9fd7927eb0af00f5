"""The session writes delivered frames itself, around Beast (corking), while
Beast writes its own control frames (pongs, the close frame) on the same
socket. These tests fill a client's socket so that writes stop halfway
through a frame, and check that every frame still arrives whole: a pong is
never spliced into a delivered frame, and a shutdown's close frame comes
after everything that was queued. That the writes did stop mid-frame when
the pong or the close frame was asked for is checked too, from the kernel's
counts of the bytes in flight (/proc/net/tcp): else they test nothing."""

import asyncio
import json
import signal
import time

import websockets

import herald_harness as hh

PAYLOAD = 30000
# 6 MB: more than the kernel buffers between server and client (some 3.6 MB
# with Linux's default tcp_wmem; the tests check that the writes stopped).
MESSAGES = 200


def message_text(k):
    return "%04d:%s" % (k, chr(ord("a") + k % 26) * PAYLOAD)


def flood(srv, count):
    async def main():
        publisher = await websockets.connect(srv.ws_url, ping_interval=None, max_size=2 ** 20)
        for k in range(count):
            await publisher.send(json.dumps({"message": message_text(k)}))
        received = 0
        while received < count:
            json.loads(await asyncio.wait_for(publisher.recv(), 30))
            received += 1
        await publisher.close()
    hh.run(main(), timeout=60)


def tcp_queues(local_port, remote_port):
    """(tx_queue, rx_queue) of the loopback TCP socket local_port ->
    remote_port: the bytes written to it and not yet acknowledged by the
    peer, and the bytes received on it and not yet read."""
    local, remote = "0100007F:%04X" % local_port, "0100007F:%04X" % remote_port
    with open("/proc/net/tcp") as f:
        for line in f:
            fields = line.split()
            if fields[1:3] == [local, remote]:
                tx, rx = fields[4].split(":")
                return int(tx, 16), int(rx, 16)
    raise AssertionError("no socket %s -> %s in /proc/net/tcp" % (local, remote))


def bytes_written(srv, raw):
    """How many bytes the server has written to `raw` since the handshake,
    while the client reads nothing: what the client took before (raw.buf),
    what waits in its receive queue and what the server's socket still
    holds. With no frame read yet, that is where the server's writes stand
    in the stream after the handshake (the offsets read_frame() notes)."""
    port = raw.sock.getsockname()[1]
    return len(raw.buf) + tcp_queues(port, srv.port)[1] + tcp_queues(srv.port, port)[0]


def settled_bytes_written(srv, raw):
    """bytes_written() once it stays the same for a while: the server has
    filled the socket and stopped (and the acknowledgements are in)."""
    deadline = time.monotonic() + 10
    last, same = None, 0
    while same < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
        now = bytes_written(srv, raw)
        same = same + 1 if now == last else 0
        last = now
    return last


def written_around(srv, raw, request):
    """Calls `request()`, which makes the server ask for a frame of its own
    on `raw` (a pong, the close frame) and returns `taken`, which tells
    once the server has taken the request in. Returns (low, high): the
    bytes the server had written to `raw` before the request and after."""
    low = settled_bytes_written(srv, raw)
    taken = request()
    deadline = time.monotonic() + 10
    while not taken():
        assert time.monotonic() < deadline, "the server did not take the request in"
        time.sleep(0.02)
    return low, settled_bytes_written(srv, raw)


def assert_mid_frame(frames, written, what):
    """The server had stopped inside a delivered frame, with bytes of it
    written and bytes to go, while `what` was asked for: `written` (low,
    high) lies strictly inside one text frame of `frames`."""
    low, high = written
    inside = [(start, end) for opcode, start, end in frames
              if opcode == hh.OP_TEXT and start < low and high < end]
    assert inside, ("the server's writes had not stopped mid-frame when %s was asked for: "
                    "it had written bytes %d to %d of the stream; frames %s" %
                    (what, low, high, [f for f in frames if f[1] <= high + 1][-3:]))
    return inside[0]


def wire_size(frame):
    """The bytes of an unmasked frame on the wire."""
    n = len(frame.payload)
    return n + (2 if n < 126 else 4 if n < 65536 else 10)


def read_messages(raw, count, frames, timeout=30):
    """Reads frames until `count` text frames arrived; returns them and the
    pongs seen in between, checking that each text frame is whole. Adds
    (opcode, start, end) of each frame, its offsets in the stream after the
    handshake, to `frames`."""
    texts, pongs = [], []
    while len(texts) < count:
        frame = read_frame(raw, frames, timeout)
        if frame.opcode == hh.OP_PONG:
            pongs.append(frame.payload)
            continue
        assert frame.opcode == hh.OP_TEXT and frame.fin, frame
        texts.append(json.loads(frame.payload.decode("utf-8"))["message"])
    return texts, pongs


def read_frame(raw, frames, timeout):
    """raw.read_frame(), noting the frame's (opcode, start, end) in `frames`."""
    frame = raw.read_frame(timeout=timeout)
    start = frames[-1][2] if frames else 0
    frames.append((frame.opcode, start, start + wire_size(frame)))
    return frame


def test_pongs_wait_for_a_frame_boundary(start_herald):
    srv = start_herald(options={"max-message-bytes": 65536,
                                "client-queue-max-bytes": 64 * 1024 * 1024})
    # A small receive buffer and no reading: the server's writes to this
    # client stop partway through a frame.
    raw = hh.RawWebSocket(srv.port, rcvbuf=16384)
    port = raw.sock.getsockname()[1]

    def ping(payload):
        raw.send_frame(hh.OP_PING, payload)
        # the server has read the ping once its socket holds no input
        return lambda: tcp_queues(srv.port, port)[1] == 0

    more = MESSAGES // 4
    try:
        # The whole flood: half of it (3 MB) may fit in the kernel buffers,
        # and the ping would find no frame partly written.
        flood(srv, MESSAGES)
        first = written_around(srv, raw, lambda: ping(b"first"))
        flood(srv, more)
        # Beast reads this one only once the first pong is out.
        raw.send_frame(hh.OP_PING, b"second")
        frames = []
        texts, pongs = read_messages(raw, MESSAGES + more, frames)
        assert texts == [message_text(k) for k in range(MESSAGES)] + \
            [message_text(k) for k in range(more)]
        if len(pongs) < 2:  # a pong may trail the last frame
            frame = read_frame(raw, frames, 5)
            assert frame.opcode == hh.OP_PONG, frame
            pongs.append(frame.payload)
        assert pongs == [b"first", b"second"]
        # The first ping came while a frame was partly written; its pong
        # followed that frame.
        _, end = assert_mid_frame(frames, first, "the first pong")
        pong_starts = [start for opcode, start, _ in frames if opcode == hh.OP_PONG]
        assert end <= pong_starts[0], (end, pong_starts)
    finally:
        raw.close()
    assert srv.alive()


def test_shutdown_close_frame_follows_everything_queued(start_herald):
    srv = start_herald(options={"max-message-bytes": 65536,
                                "client-queue-max-bytes": 64 * 1024 * 1024,
                                "shutdown-timeout": "20s"})
    raw = hh.RawWebSocket(srv.port, rcvbuf=16384)

    def sigterm():
        srv.send_signal(signal.SIGTERM)
        # draining (/health answers 503) begins before the sessions are told
        return lambda: hh.http_get(srv.port, "/health").status == 503

    try:
        flood(srv, MESSAGES)
        # SIGTERM while most of the flood still waits for this client.
        written = written_around(srv, raw, sigterm)
        frames = []
        texts, _ = read_messages(raw, MESSAGES, frames)
        assert texts == [message_text(k) for k in range(MESSAGES)]
        frame = read_frame(raw, frames, 10)
        assert frame.opcode == hh.OP_CLOSE and frame.close_code() == 1001, frame
        raw.send_close(1001)
        assert_mid_frame(frames, written, "the close frame")
    finally:
        raw.close()
    assert srv.wait_exit(25) == 0
