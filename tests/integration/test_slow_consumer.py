"""A client that stops reading is cut off with 1008 once its unsent bytes pass
client-queue-max-bytes; everyone else gets everything, and the server's
memory stays bounded (docs/protocol.md)."""

import asyncio
import json
import os
import time

import websockets

import herald_harness as hh

FAST_CLIENTS = 20
PAYLOAD = 60000                       # ~60 KB per message
MESSAGES = 24 * 1000 * 1000 // PAYLOAD  # 400 messages: 24 MB to every client
WINDOW = 256 * 1024 // PAYLOAD          # publisher at most ~256 KB ahead of the slowest fast reader
# The server's peak RSS during the flood (about 11 MB in a normal build). ASan
# keeps freed memory in quarantine (256 MB by default), so under a sanitizer
# (scripts/sanitize.sh sets HERALD_TEST_SLOWDOWN) RSS says nothing about what
# the server holds, and is not checked, as in test_abuse.py.
RSS_LIMIT_KB = 64 * 1024
CHECK_MEMORY = float(os.environ.get("HERALD_TEST_SLOWDOWN", "1")) == 1


def message_text(k):
    return "%06d:%s" % (k, chr(ord("a") + k % 26) * PAYLOAD)


def test_slow_consumer_cut_off_others_get_everything(start_herald):
    srv = start_herald(options={"max-message-bytes": 65536})  # default 1 MiB client queue
    expected = [json.dumps({"message": message_text(k)}, separators=(",", ":"))
                for k in range(MESSAGES)]
    rss_samples = []
    counts = [0] * FAST_CLIENTS
    problems = []

    async def main():
        # never reads until the end; a small receive buffer keeps the kernel
        # from soaking up what the server must hold or drop
        slow = await asyncio.to_thread(hh.RawWebSocket, srv.port, rcvbuf=16384)
        fast = [await websockets.connect(srv.ws_url, ping_interval=None, max_size=2 ** 20,
                                         close_timeout=2, open_timeout=10)
                for _ in range(FAST_CLIENTS)]
        publisher = fast[0]  # a /ws client receives its own messages too
        done = asyncio.Event()

        async def sample_rss():
            while not done.is_set():
                rss = srv.rss_kb()
                if rss is not None:
                    rss_samples.append(rss)
                await asyncio.sleep(0.1)

        async def reader(i):
            ws = fast[i]
            while counts[i] < MESSAGES:
                try:
                    text = await asyncio.wait_for(ws.recv(), 30)
                except Exception as e:  # closed or stalled: report which and where
                    problems.append("fast client %d stopped after %d messages: %r"
                                    % (i, counts[i], e))
                    raise
                if text != expected[counts[i]]:
                    problems.append("fast client %d: message %d wrong or out of order (%r...)"
                                    % (i, counts[i], text[:40]))
                    raise AssertionError(problems[-1])
                counts[i] += 1

        async def publish():
            for k in range(MESSAGES):
                while k - min(counts) >= WINDOW:
                    await asyncio.sleep(0.001)
                await publisher.send(json.dumps({"message": message_text(k)}))

        sampler = asyncio.create_task(sample_rss())
        started = time.monotonic()
        try:
            await asyncio.wait_for(
                asyncio.gather(publish(), *(reader(i) for i in range(FAST_CLIENTS))), 150)
        finally:
            done.set()
            await sampler
        elapsed = time.monotonic() - started

        # every fast client got every message in order (checked by the readers)
        assert counts == [MESSAGES] * FAST_CLIENTS, counts

        # the slow one was cut off: it gets what was already on its way, then
        # close 1008 (or the server dropped the TCP connection)
        try:
            frames, close = await asyncio.to_thread(slow.read_until_close, 20, True)
        except TimeoutError:
            raise AssertionError("the slow client is still connected and not being fed: "
                                 "it was never disconnected")
        finally:
            slow.close()
        got = [f.payload.decode() for f in frames if f.opcode == hh.OP_TEXT]
        assert len(got) < MESSAGES, "the slow client got all %d messages: never cut off" % len(got)
        assert got == expected[:len(got)], "the slow client's messages are not a clean prefix"
        if close is not None:
            assert close.close_code() == 1008, "slow client closed with %s, expected 1008" % (
                close.close_code())

        # the server still works
        check = await websockets.connect(srv.ws_url, ping_interval=None, open_timeout=10)
        await check.send('{"message": "after the flood"}')
        assert await asyncio.wait_for(check.recv(), 10) == '{"message":"after the flood"}'
        for ws in fast + [check]:
            await ws.close()
        return elapsed, len(got), close

    try:
        elapsed, slow_got, close = asyncio.run(main())
    finally:
        assert not problems, "\n".join(problems)
    peak = max(rss_samples) if rss_samples else None
    print("fan-out of %d x %d bytes to %d fast clients took %.1fs; slow client got %d "
          "messages then %s; peak RSS %s KiB" % (
              MESSAGES, PAYLOAD, FAST_CLIENTS, elapsed, slow_got,
              "close %d" % close.close_code() if close else "EOF", peak))
    assert peak is not None
    if CHECK_MEMORY:
        assert peak < RSS_LIMIT_KB, "server RSS reached %d KiB (limit %d)" % (peak, RSS_LIMIT_KB)
