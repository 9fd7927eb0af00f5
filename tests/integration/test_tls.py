"""TLS: what only a TLS listener has. (The protocol, static-file, server
API and SDK suites run again over TLS as "integration (tls): ..." ctest
entries; see tests/CMakeLists.txt.)

A throwaway PKI is made with the `openssl` command for the module
(tls_certs.py): clients trust its root only, and the server's certificate
file holds the leaf and the intermediate, so every handshake here also shows
that a chain in tls-cert is sent.

- Every endpoint over TLS: /health, /metrics, a static file and the server
  API with curl; /ws and /connection/websocket with python3-websockets;
  TLS 1.3 by default, TLS 1.2 with an AEAD suite, and ALPN http/1.1.
- Refused: TLS 1.1, TLS 1.2 without forward secrecy.
- Config: a missing file, a file that is not PEM, a key that is not the
  certificate's, one file without the other, tls-port clashes: exit 2
  naming the key, nothing bound; --check-config catches the mismatch; an
  expired certificate starts with a warning.
- tls-port: plain on `port`, TLS on tls-port, one channel space.
- Bad input on the TLS port: plain HTTP, garbage, a half handshake, a
  client that stalls: each connection is dropped (the stalled one within
  handshake-timeout), counted in herald_refused_total{cause="tls_handshake"},
  and a WebSocket client that was talking all along notices nothing.
- Many frames at once over TLS (the corked write path feeding OpenSSL)
  arrive whole and in order, a slow TLS client is cut with 1008.
- SIGHUP rotates the certificate for new handshakes while an open
  connection goes on; a bad new file is logged and the old pair kept.
"""

import asyncio
import hashlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time

import pytest
import websockets

import herald_harness as hh
import tls_certs


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return tls_certs.ThrowawayPki(tmp_path_factory.mktemp("pki"))


def tls_options(pki, **extra):
    return {"tls-cert": pki.cert, "tls-key": pki.key, **extra}


def context(pki):
    return hh.client_tls_context(pki.ca)


def curl(pki, url, *args):
    return subprocess.run(["curl", "-sS", "--cacert", pki.ca, "-w", "\n%{http_code}"] +
                          list(args) + [url], capture_output=True, text=True, timeout=20)


def body_and_status(result):
    body, _, status = result.stdout.rpartition("\n")
    return body, int(status or 0)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def peer_fingerprint(port, pki):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context(pki).wrap_socket(raw, server_hostname="localhost") as s:
            return hashlib.sha256(s.getpeercert(True)).digest()


def metric(port, pki, name):
    text, status = body_and_status(curl(pki, "https://127.0.0.1:%d/metrics" % port))
    assert status == 200
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError("no %s in /metrics" % name)


def ws_exchange(port, pki, path="/ws"):
    """Two clients on /ws: one message each way."""
    async def main():
        url = "wss://127.0.0.1:%d%s" % (port, path)
        async with websockets.connect(url, ssl=context(pki)) as a, \
                websockets.connect(url, ssl=context(pki)) as b:
            await a.send(json.dumps({"message": "from a"}))
            assert json.loads(await b.recv()) == {"message": "from a"}
            assert json.loads(await a.recv()) == {"message": "from a"}
            await b.send(json.dumps({"message": "from b"}))
            assert json.loads(await a.recv()) == {"message": "from b"}
    run(main())


@pytest.fixture(scope="module")
def tls_server(module_start_herald, pki):
    return module_start_herald(options=tls_options(
        pki, **hh.OPEN_CHANNELS, **{"allow-anonymous": "true", "handshake-timeout": "1s",
                                    "client-queue-max-bytes": str(16 << 20)}))


def test_every_endpoint_speaks_https(tls_server, pki):
    base = "https://127.0.0.1:%d" % tls_server.port
    body, status = body_and_status(curl(pki, base + "/health"))
    assert (status, body) == (200, "{}")
    body, status = body_and_status(curl(pki, base + "/metrics"))
    assert status == 200 and "herald_connections" in body
    body, status = body_and_status(curl(pki, base + "/index.html"))
    assert status == 200 and body
    body, status = body_and_status(curl(
        pki, base + "/api/publish", "-H", "Content-Type: application/json",
        "--data", json.dumps({"channel": "news", "data": {"x": 1}})))
    assert status == 200 and json.loads(body) == {"result": {}}, body
    # curl offers h2 and http/1.1: the server picks http/1.1.
    verbose = curl(pki, base + "/health", "-v", "--http2")
    assert "ALPN: server accepted http/1.1" in verbose.stderr, verbose.stderr


def test_websocket_endpoints_over_tls(tls_server, pki):
    ws_exchange(tls_server.port, pki)

    async def client_protocol():
        url = "wss://127.0.0.1:%d/connection/websocket" % tls_server.port
        async with websockets.connect(url, ssl=context(pki)) as ws:
            await ws.send(json.dumps({"id": 1, "connect": {}}))
            reply = json.loads(await ws.recv())
            assert reply["id"] == 1 and "client" in reply["connect"], reply
            await ws.send(json.dumps({"id": 2, "subscribe": {"channel": "chat"}}))
            assert json.loads(await ws.recv()) == {"id": 2, "subscribe": {}}
            await ws.send(json.dumps({"id": 3, "publish": {"channel": "chat",
                                                           "data": {"t": 1}}}))
            got = [json.loads(await ws.recv()) for _ in range(2)]
            assert {"id": 3, "publish": {}} in got, got
            assert any(m.get("push", {}).get("pub", {}).get("data") == {"t": 1}
                       for m in got), got
    run(client_protocol())


def test_protocol_versions_and_ciphers(tls_server, pki):
    def handshake(**settings):
        ctx = context(pki)
        for key, value in settings.items():
            if key == "ciphers":
                ctx.set_ciphers(value)
            else:
                setattr(ctx, key, value)
        with socket.create_connection(("127.0.0.1", tls_server.port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                return s.version(), s.cipher()[0]

    version, _ = handshake()
    assert version == "TLSv1.3"
    version, cipher = handshake(maximum_version=ssl.TLSVersion.TLSv1_2)
    assert version == "TLSv1.2" and ("GCM" in cipher or "CHACHA20" in cipher), cipher
    # Without forward secrecy (RSA key exchange, CBC): refused.
    with pytest.raises(ssl.SSLError):
        handshake(maximum_version=ssl.TLSVersion.TLSv1_2, ciphers="AES128-SHA:AES256-SHA")
    # TLS 1.1 and older: refused (OpenSSL's client may refuse to offer it at
    # its default security level; either way no session).
    with pytest.raises(ssl.SSLError):
        handshake(minimum_version=ssl.TLSVersion.TLSv1,
                  maximum_version=ssl.TLSVersion.TLSv1_1, ciphers="ALL:@SECLEVEL=0")
    ws_exchange(tls_server.port, pki)


def test_bad_input_on_the_tls_port_touches_nobody_else(tls_server, pki):
    port = tls_server.port
    before = metric(port, pki, 'herald_refused_total{cause="tls_handshake"}')

    async def main():
        url = "wss://127.0.0.1:%d/ws" % port
        async with websockets.connect(url, ssl=context(pki)) as talker:
            # Plain HTTP to the TLS port: dropped, no answer.
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                assert b"HTTP" not in hh.recv_all(s, 5)
            # Garbage bytes.
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(b"\x00garbage" + os.urandom(512))
                assert b"HTTP" not in hh.recv_all(s, 5)
            # Half a handshake (a ClientHello's first bytes), then a stall,
            # and a client that connects and sends nothing: both dropped
            # within handshake-timeout (1s here; 8s allowed).
            stalled = []
            for first_bytes in (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", b""):
                s = socket.create_connection(("127.0.0.1", port), timeout=10)
                if first_bytes:
                    s.sendall(first_bytes)
                stalled.append(s)
            await talker.send(json.dumps({"message": "still here"}))
            assert json.loads(await talker.recv()) == {"message": "still here"}
            for s in stalled:
                start = time.monotonic()
                data = hh.recv_all(s, 8)
                assert time.monotonic() - start < 8, "a stalled handshake was not dropped"
                assert b"HTTP" not in data
                s.close()
            await talker.send(json.dumps({"message": "and now"}))
            assert json.loads(await talker.recv()) == {"message": "and now"}
    run(main())
    after = metric(port, pki, 'herald_refused_total{cause="tls_handshake"}')
    assert after >= before + 4, (before, after)
    assert tls_server.alive()
    # Each is a warning naming the cause and OpenSSL's reason.
    log = tls_server.stderr_text(limit=1 << 30)
    assert "TLS handshake failed cause=tls_handshake" in log, log
    assert "wrong version number" in log or "http request" in log, log


def test_a_flood_of_bad_handshakes_logs_a_bounded_number_of_lines(start_herald, pki):
    srv = start_herald(options=tls_options(pki))
    for _ in range(300):
        with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
            s.sendall(b"GET / HTTP/1.1\r\n\r\n")
            hh.recv_all(s, 5)
    assert metric(srv.port, pki, 'herald_refused_total{cause="tls_handshake"}') == 300
    lines = srv.stderr_text(limit=1 << 30).count("TLS handshake failed")
    # A burst of 20, then 10 a second: the flood takes a few seconds at most.
    assert 1 <= lines <= 100, lines
    assert metric(srv.port, pki, "herald_log_lines_dropped_total") >= 300 - lines


def test_many_frames_at_once_arrive_whole_and_in_order(tls_server, pki):
    """Frames of every size from 1 byte to 40 KiB, sent back to back: the
    corked writes gather them into TLS writes of up to 64 KiB, cut into
    records; each arrives whole, in order."""
    async def main():
        url = "wss://127.0.0.1:%d/ws" % tls_server.port
        async with websockets.connect(url, ssl=context(pki), max_size=None) as a, \
                websockets.connect(url, ssl=context(pki), max_size=None) as b:
            sizes = [1 + (i * 977) % 40000 for i in range(300)]

            async def send_all():
                for i, size in enumerate(sizes):
                    await a.send(json.dumps({"message": "%d:" % i + "x" * size}))

            async def receive_all(ws):
                for i, size in enumerate(sizes):
                    text = json.loads(await ws.recv())["message"]
                    assert text == "%d:" % i + "x" * size, (i, len(text))

            await asyncio.gather(send_all(), receive_all(a), receive_all(b))
    run(main())


def test_a_slow_tls_client_is_cut_with_1008(start_herald, pki):
    """A TLS client that never reads: its queue (64 KiB here) overflows and
    it is closed as slow, while a reading client gets everything."""
    tls_server = start_herald(options=tls_options(pki, **{"client-queue-max-bytes": "65536"}))
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.settimeout(10)
    raw.connect(("127.0.0.1", tls_server.port))
    raw = context(pki).wrap_socket(raw, server_hostname="localhost")
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    raw.sendall(("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % key).encode())
    assert b" 101 " in raw.recv(4096)

    async def main():
        url = "wss://127.0.0.1:%d/ws" % tls_server.port
        async with websockets.connect(url, ssl=context(pki)) as fast:
            payload = "y" * 16000
            for i in range(1000):  # 16 MB: more than the kernel's buffers hold
                await fast.send(json.dumps({"message": payload}))
                await fast.recv()
    run(main())
    slow_count = metric(tls_server.port, pki, 'herald_slow_disconnects_total{protocol="ws"}')
    assert slow_count >= 1
    raw.close()


def test_an_idle_timeout_during_a_stalled_tls_write_ends_only_that_client(start_herald, pki):
    """A TLS client that stops reading while deliveries are queued for it
    (a TLS write stuck in flight) and sends nothing: idle-timeout ends it.
    The session goes while its write is still pending; the write's
    completion must find its stream alive (the sanitizer build checks)."""
    srv = start_herald(options=tls_options(pki, **{"idle-timeout": "2s",
                                                   "client-queue-max-bytes": str(64 << 20)}))
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.settimeout(10)
    raw.connect(("127.0.0.1", srv.port))
    raw = context(pki).wrap_socket(raw, server_hostname="localhost")
    raw.sendall(("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                 "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    assert b" 101 " in raw.recv(4096)

    async def main():
        url = "wss://127.0.0.1:%d/ws" % srv.port
        async with websockets.connect(url, ssl=context(pki)) as talker:
            payload = "z" * 16000
            for _ in range(500):  # 8 MB: more than both sockets' buffers hold
                await talker.send(json.dumps({"message": payload}))
                await talker.recv()
            # The talker keeps talking so that only the stalled one is idle.
            deadline = time.monotonic() + 15
            while metric(srv.port, pki, 'herald_connections{protocol="ws"}') > 1:
                assert time.monotonic() < deadline, "the stalled client was not ended"
                await talker.send(json.dumps({"message": "tick"}))
                assert json.loads(await talker.recv()) == {"message": "tick"}
                await asyncio.sleep(0.2)
            await talker.send(json.dumps({"message": "after"}))
            assert json.loads(await talker.recv()) == {"message": "after"}
    run(main())
    raw.close()
    assert srv.alive()


def test_tls_port_next_to_a_plain_port(start_herald, pki):
    tls_port = hh.free_port()
    srv = start_herald(options=tls_options(pki, **{"tls-port": tls_port}))
    assert hh.http_get(srv.port, "/health").status == 200  # plain
    body, status = body_and_status(curl(pki, "https://127.0.0.1:%d/health" % tls_port))
    assert status == 200
    assert any(line.startswith("herald: TLS on 127.0.0.1:%d" % tls_port)
               for line in srv.stdout_lines), srv.stdout_lines

    async def main():  # one channel space: plain /ws reaches wss /ws
        async with websockets.connect("ws://127.0.0.1:%d/ws" % srv.port) as plain, \
                websockets.connect("wss://127.0.0.1:%d/ws" % tls_port,
                                   ssl=context(pki)) as secure:
            await plain.send(json.dumps({"message": "across"}))
            assert json.loads(await secure.recv()) == {"message": "across"}
    run(main())


@pytest.mark.parametrize("case", ["missing-cert", "not-pem", "key-mismatch", "cert-only",
                                  "key-only", "tls-port-clash", "tls-port-without-cert"])
def test_bad_tls_config_exits_2_naming_the_key(pki, tmp_path, static_dir, case):
    options = {
        "missing-cert": ({"tls-cert": str(tmp_path / "nope.pem"), "tls-key": pki.key},
                         "tls-cert"),
        "not-pem": ({"tls-cert": pki.not_pem, "tls-key": pki.key}, "tls-cert"),
        "key-mismatch": ({"tls-cert": pki.cert, "tls-key": pki.stray_key}, "tls-key"),
        "cert-only": ({"tls-cert": pki.cert}, "tls-key"),
        "key-only": ({"tls-key": pki.key}, "tls-cert"),
        "tls-port-clash": ({"tls-cert": pki.cert, "tls-key": pki.key, "port": "18443",
                            "tls-port": "18443"}, "tls-port"),
        "tls-port-without-cert": ({"tls-port": "18443"}, "tls-port"),
    }
    settings, key = options[case]
    args = ["--address=127.0.0.1", "--port=0", "--static-dir=%s" % static_dir]
    args += ["--%s=%s" % item for item in settings.items()]
    result = hh.run_herald(args)
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert ("herald: config: %s:" % key) in result.stderr, result.stderr
    assert "listening" not in result.stdout
    check = hh.run_herald(args + ["--check-config"])
    assert check.returncode == 2 and ("herald: config: %s:" % key) in check.stderr


def test_expired_certificate_starts_with_a_warning(start_herald, pki):
    srv = start_herald(options={"tls-cert": pki.expired_cert, "tls-key": pki.expired_key})
    assert srv.alive()
    deadline = time.monotonic() + 5
    while "expired" not in srv.stderr_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "tls-cert" in srv.stderr_text() and "expired" in srv.stderr_text()
    with pytest.raises(ssl.SSLCertVerificationError):
        peer_fingerprint(srv.port, pki)


def test_sighup_rotates_the_certificate_without_dropping_connections(start_herald, pki,
                                                                     tmp_path):
    cert, key = str(tmp_path / "live.pem"), str(tmp_path / "live.key")
    shutil.copy(pki.cert, cert)
    shutil.copy(pki.key, key)
    srv = start_herald(options={"tls-cert": cert, "tls-key": key})
    assert peer_fingerprint(srv.port, pki) == pki.fingerprint(pki.cert)

    def wait_for(predicate, what):
        deadline = time.monotonic() + 10
        while not predicate():
            assert time.monotonic() < deadline, what
            time.sleep(0.05)

    async def main():
        url = "wss://127.0.0.1:%d/ws" % srv.port
        async with websockets.connect(url, ssl=context(pki)) as old:
            shutil.copy(pki.other_cert, cert)
            shutil.copy(pki.other_key, key)
            srv.send_signal(signal.SIGHUP)
            wait_for(lambda: "TLS certificate reloaded" in srv.stderr_text(), "no reload line")
            assert peer_fingerprint(srv.port, pki) == pki.fingerprint(pki.other_cert)
            # The connection made before goes on.
            await old.send(json.dumps({"message": "after rotation"}))
            assert json.loads(await old.recv()) == {"message": "after rotation"}
            # A bad new pair (the key of another certificate): logged, and the
            # pair in use stays.
            shutil.copy(pki.stray_key, key)
            srv.send_signal(signal.SIGHUP)
            wait_for(lambda: "not replaced" in srv.stderr_text(), "no error line")
            assert "key=tls-key" in srv.stderr_text(), srv.stderr_text()
            assert peer_fingerprint(srv.port, pki) == pki.fingerprint(pki.other_cert)
            await old.send(json.dumps({"message": "still"}))
            assert json.loads(await old.recv()) == {"message": "still"}
    run(main())
    assert srv.alive()
