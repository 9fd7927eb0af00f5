"""GET /metrics: Prometheus text with the server's live figures (SPEC 2.4)."""

import asyncio


import pytest
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
    assert m['herald_disconnects_total{code="1007"}'] == 1, m
    assert m["herald_channels"] == 1, m
    assert m["herald_received_bytes_total"] >= len('{"message": "one"}') * 2, m
    assert m["herald_sent_bytes_total"] >= len('{"message":"one"}') * 4, m
    assert m["process_resident_memory_bytes"] > 1_000_000, m
    assert m["process_cpu_seconds_total"] >= 0, m


def test_metrics_other_methods_get_405(start_herald):
    srv = start_herald()
    r = hh.http_get(srv.port, "/metrics", method="POST")
    assert r.status == 405 and "GET" in r.headers.get("allow", ""), r
    assert hh.http_get(srv.port, "/health").status == 200
