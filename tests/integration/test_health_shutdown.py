"""GET /health, and shutdown on SIGTERM/SIGINT (docs/protocol.md)."""

import asyncio
import http.client
import json
import signal
import socket
import time
import warnings

import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatusCode

import herald_harness as hh


run = hh.run

connect = hh.connect


def probe_health(port, timeout=2.0):
    """Status of GET /health on a new connection, or a word for why none came."""
    try:
        r = hh.http_get(port, "/health", timeout=timeout)
        return r.status
    except ConnectionRefusedError:
        return "refused"
    except (ConnectionResetError, BrokenPipeError):
        return "reset"
    except (AssertionError, socket.timeout, OSError):
        return "no-response"


def test_health_200_empty_object(start_herald):
    srv = start_herald()
    r = hh.http_get(srv.port, "/health")
    assert r.status == 200, r
    assert r.body.strip() == b"{}", r
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    conn.request("GET", "/health?probe=1")
    resp = conn.getresponse()
    assert resp.status == 200 and json.loads(resp.read()) == {}
    conn.request("HEAD", "/health")
    resp = conn.getresponse()
    assert resp.status == 200
    resp.read()
    conn.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_closes_ws_clients_with_1001_and_exits_0(start_herald, sig):
    srv = start_herald(options={"shutdown-timeout": "3s"})
    srv.expect_exit = True

    async def main():
        clients = [await connect(srv) for _ in range(3)]
        await clients[0].send('{"message": "before"}')
        for ws in clients:
            assert await asyncio.wait_for(ws.recv(), 5) == '{"message":"before"}'
        srv.send_signal(sig)
        for ws in clients:
            with pytest.raises(ConnectionClosed) as info:
                await asyncio.wait_for(ws.recv(), 6)
            assert info.value.code == 1001, "close code %s, expected 1001" % info.value.code
    started = time.monotonic()
    run(main())
    code = srv.wait_exit(3 + 5)
    assert code == 0, "after %s: %s\n%s" % (sig.name, hh.describe_exit(code), srv.stderr_text())
    assert time.monotonic() - started < 3 + 8


def test_sigterm_without_clients_exits_promptly(start_herald):
    srv = start_herald(options={"shutdown-timeout": "5s"})
    srv.expect_exit = True
    assert hh.http_get(srv.port, "/health").status == 200
    start = time.monotonic()
    srv.send_signal(signal.SIGTERM)
    code = srv.wait_exit(5 + 5)
    assert code == 0, hh.describe_exit(code) + "\n" + srv.stderr_text()
    assert time.monotonic() - start < 5 + 1, "idle server took %.1fs to stop" % (
        time.monotonic() - start)


def test_queued_frames_are_flushed_before_1001(start_herald):
    """A client that was not reading when SIGTERM came still gets every frame
    queued for it, then close 1001."""
    srv = start_herald(options={"shutdown-timeout": "5s"})
    srv.expect_exit = True
    count, size = 100, 4000

    async def main():
        lagging = await asyncio.to_thread(hh.RawWebSocket, srv.port, rcvbuf=8192)
        pub = await connect(srv)
        for k in range(count):
            await pub.send(json.dumps({"message": "%04d:%s" % (k, "q" * size)}))
        for k in range(count):
            msg = json.loads(await asyncio.wait_for(pub.recv(), 10))
            assert msg["message"].startswith("%04d:" % k)
        srv.send_signal(signal.SIGTERM)
        frames, close = await asyncio.to_thread(lagging.read_until_close, 10, True)
        lagging.send_close(1001)
        lagging.close()
        got = [json.loads(f.payload)["message"][:4] for f in frames]
        assert got == ["%04d" % k for k in range(count)], (
            "lagging client got %d of %d frames before the close" % (len(got), count))
        assert close is not None, "no close frame after the queued frames"
        assert close.close_code() == 1001, close.close_code()
        with pytest.raises(ConnectionClosed) as info:
            await asyncio.wait_for(pub.recv(), 6)
        assert info.value.code == 1001
    run(main())
    code = srv.wait_exit(5 + 5)
    assert code == 0, hh.describe_exit(code) + "\n" + srv.stderr_text()


def test_health_503_and_no_new_work_during_shutdown(start_herald):
    """A client that never reads nor answers the close keeps shutdown busy for
    up to shutdown-timeout; meanwhile /health must not say 200, and nothing
    new gets in. The process still exits 0 in time."""
    shutdown_timeout = 4
    srv = start_herald(options={"shutdown-timeout": "%ds" % shutdown_timeout})
    srv.expect_exit = True
    observations = []

    async def main():
        dead = await asyncio.to_thread(hh.RawWebSocket, srv.port, rcvbuf=4096)
        reader = await connect(srv)
        keep_alive = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=3)
        keep_alive.request("GET", "/health")
        resp = keep_alive.getresponse()
        assert resp.status == 200
        resp.read()
        # give the dead client something queued
        for k in range(20):
            await reader.send(json.dumps({"message": "%02d:%s" % (k, "d" * 20000)}))
        for k in range(20):
            await asyncio.wait_for(reader.recv(), 10)

        signalled = time.monotonic()
        srv.send_signal(signal.SIGTERM)
        with pytest.raises(ConnectionClosed) as info:
            await asyncio.wait_for(reader.recv(), shutdown_timeout + 2)
        assert info.value.code == 1001
        in_shutdown = time.monotonic()

        # the keep-alive connection opened before the signal
        def keep_alive_probe():
            try:
                keep_alive.request("GET", "/health")
                r = keep_alive.getresponse()
                r.read()
                return r.status
            except (http.client.HTTPException, OSError):
                return "closed"
            finally:
                keep_alive.close()
        observations.append(("keep-alive", await asyncio.to_thread(keep_alive_probe)))

        # new connections while the dead client holds shutdown open
        upgrade = None
        while srv.alive() and time.monotonic() - signalled < shutdown_timeout - 0.5:
            observations.append(("new", await asyncio.to_thread(probe_health, srv.port, 1.0)))
            if upgrade is None:
                try:
                    ws = await connect(srv, open_timeout=2)
                    upgrade = "accepted"
                    await ws.close()
                except InvalidStatusCode as e:
                    upgrade = e.status_code
                except (OSError, asyncio.TimeoutError, websockets.exceptions.WebSocketException):
                    upgrade = "refused"
            await asyncio.sleep(0.1)
        dead.close()
        assert upgrade != "accepted", "a WebSocket upgrade was accepted during shutdown"
        assert upgrade in (None, 503, "refused"), upgrade
        return in_shutdown - signalled

    run(main())
    code = srv.wait_exit(shutdown_timeout + 5)
    assert code == 0, hh.describe_exit(code) + "\n" + srv.stderr_text()
    print("observations:", observations)
    statuses = [s for _, s in observations]
    assert 200 not in statuses, "GET /health said 200 during shutdown: %r" % observations
    bad = [s for s in statuses if isinstance(s, int) and s != 503]
    assert not bad, "unexpected /health answers during shutdown: %r" % observations
    if 503 not in statuses:
        warnings.warn("503 not observable: the server stopped answering HTTP at once (%r)"
                      % observations)


def test_sigterm_with_a_dead_client_still_exits_in_time(start_herald):
    shutdown_timeout = 2
    srv = start_herald(options={"shutdown-timeout": "%ds" % shutdown_timeout})
    srv.expect_exit = True
    dead = hh.RawWebSocket(srv.port, rcvbuf=4096)
    try:
        start = time.monotonic()
        srv.send_signal(signal.SIGTERM)
        code = srv.wait_exit(shutdown_timeout + 5)
        elapsed = time.monotonic() - start
    finally:
        dead.close()
    assert code == 0, "%s after %.1fs\n%s" % (hh.describe_exit(code), elapsed, srv.stderr_text())


def test_head_responses_carry_no_body_so_keep_alive_stays_in_step(start_herald):
    # A HEAD answer states the GET's Content-Length but sends no body; a body
    # would be read as the start of the next response on the connection.
    srv = start_herald()
    for target in ("/health", "/ws", "/missing.txt"):
        with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as sock:
            sock.sendall(("HEAD %s HTTP/1.1\r\nHost: x\r\n\r\n"
                          "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                          % target).encode())
            raw = hh.recv_all(sock, 5)
        head, _, rest = raw.partition(b"\r\n\r\n")
        assert b"Content-Length: " in head, head
        assert rest.startswith(b"HTTP/1.1 200 OK"), (target, raw[:300])
        assert rest.endswith(b"\r\n\r\n{}"), (target, rest[-100:])


def test_sigterm_under_steady_traffic_still_closes_with_1001_promptly(start_herald):
    # Publications that keep arriving during shutdown must not hold off the
    # close until shutdown-timeout: what was queued is flushed, then 1001.
    srv = start_herald(options={"shutdown-timeout": "20s"})
    srv.expect_exit = True

    async def main():
        publisher = await connect(srv)
        readers = [await connect(srv) for _ in range(3)]
        stop = asyncio.Event()

        async def publish_forever():
            i = 0
            try:
                while not stop.is_set():
                    await publisher.send('{"message": "tick %d"}' % i)
                    i += 1
                    await asyncio.sleep(0.001)
            except ConnectionClosed:
                pass

        task = asyncio.create_task(publish_forever())
        await asyncio.sleep(0.5)
        started = time.monotonic()
        srv.send_signal(signal.SIGTERM)
        for ws in readers:
            with pytest.raises(ConnectionClosed) as info:
                while True:
                    await asyncio.wait_for(ws.recv(), 10)
            assert info.value.code == 1001, info.value
        elapsed = time.monotonic() - started
        stop.set()
        await task
        return elapsed

    elapsed = run(main())
    assert elapsed < 5, "1001 took %.1f s under traffic (shutdown-timeout is 20 s)" % elapsed
    code = srv.wait_exit(10)
    assert code == 0, hh.describe_exit(code) + "\n" + srv.stderr_text()


@pytest.mark.parametrize("target", ["/ws", "/health", "/metrics"])
def test_endpoints_answer_other_methods_with_405_and_allow(start_herald, target):
    srv = start_herald()
    for method in ("POST", "PUT", "DELETE"):
        r = hh.http_get(srv.port, target, method=method)
        assert r.status == 405, (target, method, r)
        assert r.headers.get("allow") == "GET, HEAD", (target, method, r.headers)
    assert hh.http_get(srv.port, "/health").status == 200


def test_request_body_over_64k_gets_413_and_server_keeps_serving(start_herald):
    srv = start_herald()
    body = b"x" * (64 * 1024 + 1)
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as sock:
        sock.sendall(b"POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                     % len(body) + body)
        raw = hh.recv_all(sock, 5)
    assert raw.startswith(b"HTTP/1.1 413 "), raw[:200]
    assert hh.http_get(srv.port, "/health").status == 200
