"""Limits at the edge, before a request reaches anything shared: the API key
from the headers, the API's own body limit, the cap on HTTP connections, and
the per-address connection count and rate (docs/protocol.md)."""

import socket
import time

import pytest

import herald_harness as hh

API_KEY = "edge-key"


def metric(port, name):
    for line in hh.http_get(port, "/metrics").body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError("no metric %s" % name)


def refused(port, cause):
    return metric(port, 'herald_refused_total{cause="%s"}' % cause)


def wait_until(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def read_response_head(sock, timeout):
    """The status line and headers the server sends, within `timeout`."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return hh.parse_response(data)


def test_the_api_key_is_checked_before_the_body_is_read(start_herald):
    srv = start_herald(options={"api-key": API_KEY})
    # A keyless caller announces a large body and sends none of it: it is
    # answered from its headers, at once, not after the handshake timeout.
    with socket.create_connection(("127.0.0.1", srv.port)) as sock:
        sock.sendall(b"POST /api/publish HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 400000\r\n\r\n")
        started = time.monotonic()
        response = read_response_head(sock, timeout=5)
        assert response.status == 401, response
        assert time.monotonic() - started < 5
    # Methods other than POST are refused from the header too.
    assert hh.http_get(srv.port, "/api/info").status == 405
    assert refused(srv.port, "api_key") >= 2
    # A caller with the key is served.
    body = b'{"channel":"c","data":1}'
    r = hh.http_get(srv.port, "/api/publish", method="POST", body=body,
                    headers={"X-API-Key": API_KEY, "Content-Length": str(len(body))})
    assert r.status == 200, r


def test_the_api_has_its_own_body_limit(start_herald):
    srv = start_herald(options={"api-max-body-bytes": "2048", "max-message-bytes": "65536"})
    data = '"' + "x" * 3000 + '"'
    body = ('{"channel":"c","data":%s}' % data).encode()
    r = hh.http_get(srv.port, "/api/publish", method="POST", body=body,
                    headers={"Content-Length": str(len(body))})
    assert r.status == 413, r
    body = b'{"channel":"c","data":"small"}'
    r = hh.http_get(srv.port, "/api/publish", method="POST", body=body,
                    headers={"Content-Length": str(len(body))})
    assert r.status == 200, r


def test_http_connections_beyond_the_cap_are_answered_and_closed(start_herald):
    srv = start_herald(options={"max-http-connections": "3"})
    assert wait_until(lambda: metric(srv.port, "herald_http_connections") <= 1)
    idle = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(3)]
    try:
        # Once the server has taken the three in, a fourth is refused.
        assert wait_until(lambda: _one_more_is_refused(srv.port))
    finally:
        for sock in idle:
            sock.close()
    # Once the idle ones are gone, requests are served again.
    assert wait_until(lambda: _status_or_none(srv.port) == 200)
    assert refused(srv.port, "http_connections") >= 1


def _one_more_is_refused(port):
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        response = read_response_head(sock, timeout=5)
        return response.status == 503


def _status_or_none(port):
    try:
        return hh.http_get(port, "/health", timeout=2).status
    except (OSError, ValueError, AssertionError):
        return None


def test_websocket_connections_per_address_are_capped(start_herald):
    srv = start_herald(options={"max-connections-per-ip": "2"})
    first = hh.RawWebSocket(srv.port)
    second = hh.RawWebSocket(srv.port)
    with pytest.raises(hh.HandshakeRefused) as third:
        hh.RawWebSocket(srv.port)
    assert third.value.response.status == 503, third.value.response
    assert refused(srv.port, "connections_per_ip") == 1
    first.close()
    # The address's count drops when the server sees the connection end.
    assert wait_until(lambda: _upgrade_status(srv.port) == 101)
    second.close()


def _upgrade_status(port):
    try:
        hh.RawWebSocket(port).close()
        return 101
    except hh.HandshakeRefused as refused_upgrade:
        return refused_upgrade.response.status


def test_upgrades_per_second_per_address_are_limited(start_herald):
    srv = start_herald(options={"connection-rate-per-ip": "2"})
    started = time.monotonic()
    statuses = [_upgrade_status(srv.port) for _ in range(10)]
    elapsed = time.monotonic() - started
    admitted = statuses.count(101)
    assert set(statuses) <= {101, 429}, statuses
    # A burst of 2, then 2 a second: whatever the machine's speed.
    assert 2 <= admitted <= 2 + int(elapsed * 2) + 1, (statuses, elapsed)
    assert 429 in statuses, statuses
    assert refused(srv.port, "rate_per_ip") == statuses.count(429)
    assert hh.http_get(srv.port, "/health").status == 200
