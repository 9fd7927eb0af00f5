"""GET /metrics: Prometheus text with the server's live figures (docs/protocol.md)."""

import asyncio
import os
import time

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

import herald_harness as hh


def scrape(port):
    r = hh.http_get(port, "/metrics")
    assert r.status == 200, r
    assert r.headers.get("content-type", "").startswith("text/plain; version=0.0.4"), r.headers
    values = {}
    for line in r.body.decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def cpu_seconds(pid):
    """The process's user and system CPU time from /proc/PID/stat (fields
    14 and 15, in clock ticks; the command name may hold spaces)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_metrics_count_connections_publications_deliveries_and_close_codes(start_herald):
    srv = start_herald()

    async def main():
        a = await hh.connect(srv)
        b = await hh.connect(srv)
        await a.send('{"message": "one"}')
        await a.send('{"message": "two"}')
        for ws in (a, b):
            for _ in range(2):
                await asyncio.wait_for(ws.recv(), 5)
        bad = await hh.connect(srv)
        await bad.send("not json")
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(bad.recv(), 5)
        await asyncio.sleep(0.2)
        # Scrape while a and b are still connected.
        return await asyncio.to_thread(scrape, srv.port)

    m = hh.run(main())
    assert m['herald_connections{protocol="ws"}'] == 2, m
    assert m['herald_connections_accepted_total{protocol="ws"}'] == 3, m
    assert m["herald_publications_total"] == 2, m
    assert m["herald_deliveries_total"] == 4, m
    # Sent back to back, the two may share a round; never more rounds than
    # publications.
    assert 1 <= m["herald_rounds_total"] <= 2, m
    assert m['herald_disconnects_total{code="1007"}'] == 1, m
    assert m["herald_channels"] == 1, m
    assert m["herald_received_bytes_total"] >= len('{"message": "one"}') * 2, m
    assert m["herald_sent_bytes_total"] >= len('{"message":"one"}') * 4, m
    assert m["process_resident_memory_bytes"] > 1_000_000, m

    # The server's CPU time, as the kernel counts it: have the server work
    # until it has spent some (a few ticks), then the figure must lie
    # between two readings of /proc taken around the scrape.
    deadline = time.monotonic() + 30
    while cpu_seconds(srv.pid) < 0.05 and time.monotonic() < deadline:
        for _ in range(20):
            scrape(srv.port)
    before = cpu_seconds(srv.pid)
    cpu = scrape(srv.port)["process_cpu_seconds_total"]
    after = cpu_seconds(srv.pid)
    assert before >= 0.05, before
    assert before - 1e-6 <= cpu <= after + 1e-6, (before, cpu, after)


def test_metrics_other_methods_get_405(start_herald):
    srv = start_herald()
    r = hh.http_get(srv.port, "/metrics", method="POST")
    assert r.status == 405 and "GET" in r.headers.get("allow", ""), r
    assert hh.http_get(srv.port, "/health").status == 200


def test_metrics_count_each_protocol_and_api_calls(start_herald):
    srv = start_herald(options={**hh.OPEN_CHANNELS, "allow-anonymous": "true"})

    async def main():
        seed = await hh.connect(srv)
        client = await websockets.connect(
            "ws://127.0.0.1:%d/connection/websocket" % srv.port, ping_interval=None)
        await client.send('{"id":1,"connect":{}}')
        assert "connect" in await asyncio.wait_for(client.recv(), 5)
        body = b'{"channel":"broadcast","data":{"message":"api"}}'
        r = await asyncio.to_thread(
            hh.http_get, srv.port, "/api/publish", "POST",
            {"Content-Length": str(len(body)), "Content-Type": "application/json"}, 5.0, body)
        assert r.status == 200, r
        assert await asyncio.wait_for(seed.recv(), 5) == '{"message":"api"}'
        m = await asyncio.to_thread(scrape, srv.port)
        await client.close(code=1000)
        await seed.close()
        return m

    m = hh.run(main())
    assert m['herald_connections{protocol="ws"}'] == 1, m
    assert m['herald_connections{protocol="centrifuge"}'] == 1, m
    assert m['herald_connections_accepted_total{protocol="centrifuge"}'] == 1, m
    assert m["herald_api_requests_total"] == 1, m
    assert m["herald_publications_total"] == 1, m
