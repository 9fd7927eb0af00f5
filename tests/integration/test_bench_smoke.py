"""Smoke tests for apps/herald-bench against the real server.

They check that the bench's figures add up (every publication reaches every
receiver, nothing fails), never how fast anything is: timings on a shared
2-core machine are not a test result.
"""

import json
import os
import subprocess

import pytest

import herald_harness as hh


def bench_binary():
    path = os.environ.get("HERALD_BENCH_BINARY") or os.path.join(
        hh.source_dir(), "build", "apps", "herald-bench", "herald-bench")
    path = os.path.abspath(path)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail("herald-bench not found at %s (set HERALD_BENCH_BINARY)" % path, pytrace=False)
    return path


def tls_server_options():
    """Options that make the server speak TLS, in the plain run as in the TLS rerun."""
    pki = hh.shared_pki()
    return {"tls-cert": pki.cert, "tls-key": pki.key}


def run_bench(server, *args, path="/ws", scheme="ws"):
    """Runs herald-bench against `server` with --json; returns (process, report)."""
    command = [bench_binary(), "--url", "%s://127.0.0.1:%d%s" % (scheme, server.port, path),
               "--server-pid", str(server.pid), "--json", "--quiet"] + list(args)
    proc = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=120)
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, "expected exactly one JSON line, got:\n%s\nstderr:\n%s" % (
        proc.stdout, proc.stderr)
    return proc, json.loads(lines[0])


def test_fixed_rate_run_delivers_every_publication_to_every_receiver(start_herald):
    server = start_herald()
    proc, report = run_bench(server, "--subscribers", "20", "--publishers", "2",
                             "--rate", "100", "--settle", "0.5", "--warmup", "0.3",
                             "--duration", "2", "--drain", "10", "--expect-no-loss")
    assert proc.returncode == 0, proc.stderr
    assert report["mode"] == "load"
    assert report["connections_ok"] == 22
    assert report["connections_failed"] == 0
    assert report["connections_closed"] == 0
    assert report["receivers"] == 22
    assert report["published_total"] > 0
    assert report["received_total"] == report["published_total"] * report["receivers"]
    assert report["lost"] == 0
    assert report["deliveries"] > 0
    assert report["latency_us"]["samples"] == report["deliveries"]
    assert report["foreign_publications"] == 0
    assert report["server_cpu_s"] is not None


def test_subscribers_reading_at_intervals_still_get_every_publication(start_herald):
    # Subscribers that stop watching their sockets between reads must come
    # back to them: a pause that never ends shows up as loss.
    server = start_herald()
    proc, report = run_bench(server, "--subscribers", "20", "--inflight", "8",
                             "--read-interval-us", "20000", "--settle", "0.3", "--warmup", "0.3",
                             "--duration", "1", "--drain", "10", "--expect-no-loss")
    assert proc.returncode == 0, proc.stderr
    assert report["read_interval_us"] == 20000
    assert report["connections_closed"] == 0
    assert report["published_total"] > 0
    assert report["received_total"] == report["published_total"] * report["receivers"]


def test_compressed_run_inflates_every_publication_and_reads_fewer_bytes(start_herald):
    """--compression against a Herald that compresses: every connection
    negotiates permessage-deflate and inflates every publication (a corrupt
    or misread one would close it, or count as loss). The ticker filler
    compresses about as real JSON does, so the bytes read per delivery fall
    well below the 2048 B of the message; the same run without --compression
    reads the whole frame (2048 B, the JSON envelope and the header)."""
    server = start_herald(options={"compression": "true"})
    args = ["--filler", "ticker", "--size", "2048", "--subscribers", "50", "--inflight", "8",
            "--settle", "0.3", "--warmup", "0.3", "--duration", "1", "--drain", "10",
            "--expect-no-loss"]
    proc, plain = run_bench(server, *args)
    assert proc.returncode == 0, proc.stderr
    assert plain["compression"] is False
    assert plain["received_bytes_per_delivery"] >= 2048
    proc, report = run_bench(server, "--compression", *args)
    assert proc.returncode == 0, proc.stderr
    assert report["compression"] is True
    assert report["filler"] == "ticker"
    assert report["connections_ok"] == 51
    assert report["connections_failed"] == 0
    assert report["connections_closed"] == 0
    assert report["ignored_frames"] == 0
    assert report["lost"] == 0
    assert report["received_total"] == report["published_total"] * report["receivers"]
    assert report["deliveries"] > 0
    assert report["received_bytes"] > 0
    assert report["received_bytes_per_delivery"] < 2048 / 2, report["received_bytes_per_delivery"]


def test_compression_against_a_server_without_it_fails_every_connection(start_herald):
    server = start_herald()
    proc, report = run_bench(server, "--compression", "--subscribers", "2", "--publishers", "1",
                             "--settle", "0.3", "--duration", "0.5")
    assert proc.returncode != 0
    assert report["compression"] is True
    assert report["connections_ok"] == 0
    assert report["connect_failures"] == {"server declined permessage-deflate": 3}, \
        report["connect_failures"]


def test_idle_run_holds_every_connection(start_herald):
    server = start_herald()
    proc, report = run_bench(server, "--idle", "--subscribers", "50", "--settle", "0.3",
                             "--duration", "1")
    assert proc.returncode == 0, proc.stderr
    assert report["mode"] == "idle"
    assert report["connections_ok"] == 50
    assert report["connections_failed"] == 0
    assert report["connections_closed"] == 0
    assert report["rss_per_connection_bytes"] is not None


def test_client_protocol_run_delivers_every_publication(start_herald):
    server = start_herald(options={**hh.OPEN_CHANNELS, "allow-anonymous": "true"})
    proc, report = run_bench(server, "--protocol", "centrifuge", "--subscribers", "20",
                             "--publishers", "2", "--rate", "100", "--settle", "0.5",
                             "--warmup", "0.3", "--duration", "2", "--drain", "10",
                             "--expect-no-loss", path="/connection/websocket")
    assert proc.returncode == 0, proc.stderr
    assert report["connections_ok"] == 22
    assert report["connections_failed"] == 0
    assert report["received_total"] == report["published_total"] * report["receivers"]
    assert report["lost"] == 0
    assert report["command_errors"] == {}


@pytest.mark.parametrize("protocol,path", [("ws", "/ws"),
                                           ("centrifuge", "/connection/websocket")])
def test_tls_run_verifies_the_server_and_delivers_every_publication(start_herald, protocol,
                                                                    path):
    server = start_herald(options={**hh.OPEN_CHANNELS, "allow-anonymous": "true",
                                   **tls_server_options()})
    proc, report = run_bench(server, "--protocol", protocol, "--tls-ca", hh.shared_pki().ca,
                             "--tls-server-name", "localhost", "--subscribers", "20",
                             "--publishers", "2", "--rate", "100", "--settle", "0.5",
                             "--warmup", "0.3", "--duration", "2", "--drain", "10",
                             "--expect-no-loss", path=path, scheme="wss")
    assert proc.returncode == 0, report["connect_failures"]
    assert report["tls"] is True and report["tls_verified"] is True
    assert report["connections_ok"] == 22
    assert report["connections_failed"] == 0
    assert report["received_total"] == report["published_total"] * report["receivers"]
    assert report["lost"] == 0


def test_tls_run_refuses_a_certificate_for_another_name(start_herald):
    server = start_herald(options=tls_server_options())
    proc, report = run_bench(server, "--tls-ca", hh.shared_pki().ca, "--tls-server-name",
                             "elsewhere.example", "--subscribers", "2", "--publishers", "1",
                             "--settle", "0.3", "--duration", "0.5", scheme="wss")
    assert proc.returncode != 0
    assert report["connections_ok"] == 0
    assert report["connect_failures"] == {"TLS handshake: hostname mismatch": 3}, \
        report["connect_failures"]


def test_channels_published_at_full_rate_at_once_lose_nothing(start_herald):
    """Four benches, each on its own channel at max rate against one server:
    the load under which write passes defer for reads and publications wait
    for the round being written (write_scheduler, round_ticket). That they
    batch is measured by bench/scaling.sh, not here; here every publication
    must still reach every receiver of its channel, in order (the bench
    counts a gap as loss), and nothing may be refused."""
    server = start_herald(options={**hh.OPEN_CHANNELS, "allow-anonymous": "true", "workers": 2})
    base = [bench_binary(), "--url", "ws://127.0.0.1:%d/connection/websocket" % server.port,
            "--protocol", "centrifuge", "--json", "--quiet", "--subscribers", "30",
            "--publishers", "1", "--rate", "0", "--settle", "0.5", "--warmup", "0.3",
            "--duration", "2", "--drain", "20", "--expect-no-loss"]
    benches = [subprocess.Popen(base + ["--channel", "load%d" % i], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for i in range(4)]
    for bench in benches:
        out, err = bench.communicate(timeout=120)
        assert bench.returncode == 0, err
        report = json.loads(out)
        assert report["connections_ok"] == 31
        assert report["connections_closed"] == 0
        assert report["published_total"] > 0
        assert report["received_total"] == report["published_total"] * report["receivers"]
        assert report["foreign_publications"] == 0
        assert report["command_errors"] == {}
    assert server.proc.poll() is None


def test_scaling_script_measures_each_worker_count(tmp_path):
    """bench/scaling.sh end to end on tiny numbers: it starts the server per
    worker count, runs its benches and writes one summary row per point."""
    herald = os.environ.get("HERALD_BINARY") or os.path.join(
        hh.source_dir(), "build", "apps", "herald", "herald")
    out = tmp_path / "scaling"
    cpu = str(min(os.sched_getaffinity(0)))  # one this process may use
    proc = subprocess.run(
        [os.path.join(hh.source_dir(), "bench", "scaling.sh"), "--workers", "1,2",
         "--channels", "2", "--subscribers", "10", "--duration", "0.5",
         "--server-cpus", cpu, "--bench-cpus", cpu, "--herald", os.path.abspath(herald),
         "--bench", bench_binary(), "--out", str(out)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        timeout=180)
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    # channels: 2 benches per worker count; fanout: 1.
    assert sorted((r["shape"], r["workers"]) for r in records) == [
        ("channels", 1), ("channels", 1), ("channels", 2), ("channels", 2),
        ("fanout", 1), ("fanout", 2)]
    assert all(r["lost"] == 0 and r["connections_failed"] == 0 for r in records)
    rows = [line for line in (out / "summary.md").read_text().splitlines()
            if line.startswith("| channels") or line.startswith("| fanout")]
    assert len(rows) == 4
