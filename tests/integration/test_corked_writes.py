"""The session writes delivered frames itself, around Beast (corking), while
Beast writes its own control frames (pongs, the close frame) on the same
socket. These tests fill a client's socket so that writes stop halfway
through a frame, and check that every frame still arrives whole: a pong is
never spliced into a delivered frame, and a shutdown's close frame comes
after everything that was queued."""

import asyncio
import json
import signal
import time

import websockets

import herald_harness as hh

PAYLOAD = 30000
MESSAGES = 200  # 6 MB: more than the kernel buffers between server and client


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


def read_messages(raw, count, timeout=30):
    """Reads frames until `count` text frames arrived; returns them and the
    pongs seen in between, checking that each text frame is whole."""
    texts, pongs = [], []
    while len(texts) < count:
        frame = raw.read_frame(timeout=timeout)
        if frame.opcode == hh.OP_PONG:
            pongs.append(frame.payload)
            continue
        assert frame.opcode == hh.OP_TEXT and frame.fin, frame
        texts.append(json.loads(frame.payload.decode("utf-8"))["message"])
    return texts, pongs


def test_pongs_wait_for_a_frame_boundary(start_herald):
    srv = start_herald(options={"max-message-bytes": 65536,
                                "client-queue-max-bytes": 64 * 1024 * 1024})
    # A small receive buffer and no reading: the server's writes to this
    # client stop partway through a frame.
    raw = hh.RawWebSocket(srv.port, rcvbuf=16384)
    try:
        flood(srv, MESSAGES // 2)
        raw.send_frame(hh.OP_PING, b"first")
        flood(srv, MESSAGES // 2)
        raw.send_frame(hh.OP_PING, b"second")
        time.sleep(0.2)
        texts, pongs = read_messages(raw, MESSAGES)
        assert texts == [message_text(k % (MESSAGES // 2)) for k in range(MESSAGES)]
        if len(pongs) < 2:  # a pong may trail the last frame
            frame = raw.read_frame(timeout=5)
            assert frame.opcode == hh.OP_PONG, frame
            pongs.append(frame.payload)
        assert pongs == [b"first", b"second"]
    finally:
        raw.close()
    assert srv.alive()


def test_shutdown_close_frame_follows_everything_queued(start_herald):
    srv = start_herald(options={"max-message-bytes": 65536,
                                "client-queue-max-bytes": 64 * 1024 * 1024,
                                "shutdown-timeout": "20s"})
    raw = hh.RawWebSocket(srv.port, rcvbuf=16384)
    try:
        flood(srv, MESSAGES)
        # SIGTERM while most of the flood still waits for this client.
        srv.send_signal(signal.SIGTERM)
        texts, _ = read_messages(raw, MESSAGES)
        assert texts == [message_text(k) for k in range(MESSAGES)]
        frame = raw.read_frame(timeout=10)
        assert frame.opcode == hh.OP_CLOSE and frame.close_code() == 1001, frame
        raw.send_close(1001)
    finally:
        raw.close()
    assert srv.wait_exit(25) == 0
