"""Smoke tests for apps/herald-bench against the real server.

They check that the bench's figures add up (every publication reaches every
receiver, nothing fails), never how fast anything is: timings on a shared
2-core machine are not a test result.
"""

import json
import os
import subprocess
import time

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
    # Its user-space part is a part of it (both in clock ticks: may be 0).
    user = report["server_user_cpu_us_per_delivery"]
    assert user is not None and 0 <= user <= report["server_cpu_us_per_delivery"]


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


def test_threaded_run_counts_every_thread_s_subscribers(start_herald):
    """--threads 3 at max rate: the lead thread publishes, all three hold
    subscribers. Every receiver of every thread is counted, the publisher's
    window keeps moving (its own copies come back to the lead), and every
    thread's deliveries reach the figures and the latency samples."""
    server = start_herald()
    proc, report = run_bench(server, "--subscribers", "31", "--threads", "3", "--inflight", "8",
                             "--settle", "0.3", "--warmup", "0.3", "--duration", "1",
                             "--drain", "10", "--expect-no-loss")
    assert proc.returncode == 0, proc.stderr
    assert report["threads"] == 3
    assert report["connections_ok"] == 32
    assert report["receivers"] == 32
    assert report["published_total"] > 0
    assert report["received_total"] == report["published_total"] * report["receivers"]
    assert report["expected_total"] == report["received_total"]
    assert report["deliveries"] > 0
    assert report["latency_us"]["samples"] == report["deliveries"]
    assert report["received_bytes"] > 0
    assert report["foreign_publications"] == 0


def test_threaded_run_on_channels_expects_each_channel_s_receivers(start_herald):
    """With a channel per publisher, each thread's subscribers are spread over
    the channels: expected deliveries are each channel's publications times
    its receivers on every thread, and a publication on another connection's
    channel would show as foreign."""
    server = start_herald(options={**hh.OPEN_CHANNELS, "allow-anonymous": "true"})
    proc, report = run_bench(server, "--protocol", "centrifuge", "--channel-per-publisher",
                             "--subscribers", "25", "--publishers", "3", "--threads", "2",
                             "--rate", "150", "--read-interval-us", "5000", "--settle", "0.5",
                             "--warmup", "0.3", "--duration", "1", "--drain", "10",
                             "--expect-no-loss", path="/connection/websocket")
    assert proc.returncode == 0, proc.stderr
    assert report["threads"] == 2
    assert report["connections_ok"] == 28
    assert report["receivers"] == 28
    assert report["published_total"] > 0
    assert report["received_total"] == report["expected_total"]
    assert report["lost"] == 0
    assert report["foreign_publications"] == 0
    assert report["command_errors"] == {}


def test_threaded_idle_run_holds_every_connection_without_spinning(start_herald):
    """Four threads hold 50 idle connections for a second. The followers
    wait for their sockets (and look at the lead's phase once a
    millisecond): a follower that polled without waiting would spend the
    whole second on CPU, three seconds for three of them, where waiting
    costs a few hundredths."""
    server = start_herald()
    proc, report = run_bench(server, "--idle", "--subscribers", "50", "--threads", "4",
                             "--settle", "0.3", "--duration", "1")
    assert proc.returncode == 0, proc.stderr
    assert report["threads"] == 4
    assert report["connections_ok"] == 50
    assert report["connections_closed"] == 0
    assert report["rss_per_connection_bytes"] is not None
    assert report["bench_cpu_s"] < 0.5, report["bench_cpu_s"]


def test_threads_beyond_the_subscribers_are_not_started(start_herald):
    server = start_herald()
    proc, report = run_bench(server, "--subscribers", "2", "--threads", "8", "--rate", "50",
                             "--settle", "0.2", "--warmup", "0.2", "--duration", "0.5",
                             "--drain", "10", "--expect-no-loss")
    assert proc.returncode == 0, proc.stderr
    assert report["threads"] == 2
    assert report["connections_ok"] == 3
    assert report["received_total"] == report["published_total"] * 3


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


def test_extra_channels_subscribe_every_connection_to_each(start_herald):
    """--extra-channels 3 on the client protocol: while the idle run holds its
    connections the server counts four subscriptions on each (its channel
    and three more) over four channels, and no subscribe was refused."""
    server = start_herald(options={**hh.OPEN_CHANNELS, "allow-anonymous": "true"})
    command = [bench_binary(), "--url",
               "ws://127.0.0.1:%d/connection/websocket" % server.port, "--protocol",
               "centrifuge", "--extra-channels", "3", "--idle", "--subscribers", "30",
               "--threads", "2", "--settle", "0.3", "--duration", "3", "--json", "--quiet"]
    bench = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    seen = {}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and seen.get("herald_subscriptions") != 120:
        for line in hh.http_get(server.port, "/metrics").body.decode().splitlines():
            name, _, value = line.partition(" ")
            if name in ("herald_subscriptions", "herald_channels"):
                seen[name] = float(value)
        time.sleep(0.1)
    out, err = bench.communicate(timeout=60)
    assert bench.returncode == 0, err
    assert seen == {"herald_subscriptions": 120, "herald_channels": 4}
    report = json.loads(out)
    assert report["connections_ok"] == 30
    assert report["command_errors"] == {}


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


@pytest.mark.parametrize("flags", [["--extra-channels", "2"], ["--threads", "0"]])
def test_bad_thread_and_channel_flags_are_usage_errors(flags):
    # --extra-channels is the client protocol's; a run needs a thread.
    proc = subprocess.run([bench_binary(), "--url", "ws://127.0.0.1:9/ws"] + flags,
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=30)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert ("--extra-channels" in proc.stderr) or ("--threads" in proc.stderr), proc.stderr


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
         "--fanout-threads", "2", "--server-cpus", cpu, "--bench-cpus", cpu,
         "--herald", os.path.abspath(herald),
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
    assert [r["threads"] for r in records if r["shape"] == "fanout"] == [2, 2]
    rows = [line for line in (out / "summary.md").read_text().splitlines()
            if line.startswith("| channels") or line.startswith("| fanout")]
    assert len(rows) == 4


def test_idle_memory_script_measures_each_point(tmp_path):
    """bench/idle-memory.sh end to end on tiny numbers (Herald only: without
    UWS_BROADCAST it measures no peer): one fresh server and one idle run
    per point, and a summary row for each."""
    herald = os.environ.get("HERALD_BINARY") or os.path.join(
        hh.source_dir(), "build", "apps", "herald", "herald")
    out = tmp_path / "idle-memory"
    env = {k: v for k, v in os.environ.items() if k != "UWS_BROADCAST"}
    cpu = str(min(os.sched_getaffinity(0)))  # one this process may use
    proc = subprocess.run(
        [os.path.join(hh.source_dir(), "bench", "idle-memory.sh"), "--connections", "10,20",
         "--channel-connections", "10", "--extra-channels", "0,2", "--server-cpu", cpu,
         "--bench-cpu", cpu,
         "--herald", os.path.abspath(herald), "--bench", bench_binary(), "--out", str(out)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        timeout=180, env=env)
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert sorted((r["shape"], r["server"], r["subscribers"], r["extra_channels"])
                  for r in records) == [
        ("channels", "herald", 10, 0), ("channels", "herald", 10, 2),
        ("connections", "herald", 10, 0), ("connections", "herald", 20, 0)]
    assert all(r["connections_ok"] == r["subscribers"] and r["command_errors"] == {}
               for r in records)
    assert all(r["rss_per_connection_bytes"] is not None for r in records)
    rows = [line for line in (out / "summary.md").read_text().splitlines()
            if line.startswith("| channels") or line.startswith("| connections")]
    assert len(rows) == 4
