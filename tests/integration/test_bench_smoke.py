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


def run_bench(server, *args, path="/ws"):
    """Runs herald-bench against `server` with --json; returns (process, report)."""
    command = [bench_binary(), "--url", "ws://127.0.0.1:%d%s" % (server.port, path),
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
    server = start_herald(options={"allow-anonymous": "true"})
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
