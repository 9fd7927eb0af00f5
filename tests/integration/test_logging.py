"""Structured log lines on stderr (log-level, log-format; docs/protocol.md):
the start line with the version and the settings, secrets masked; the stop
line; warnings for refused upgrades, slow clients, refused API calls and
rejected tokens; and the rate limit that keeps a flood of bad input from
flooding the log (herald_log_lines_dropped_total)."""

import asyncio
import json
import re
import signal
import time

import websockets

import centrifugo_client as cc
import herald_harness as hh

TOKEN_SECRET = "tok-secret-5b1e77-never-logged"
API_KEY = "api-key-93c2d1-never-logged"
ALLOWED_ORIGIN = "https://good.example"

# The documented budget of one kind of line a client can cause: a burst of
# 20, then 10 a second.
BURST = 20
PER_SECOND = 10


def stderr_lines(srv):
    """The whole lines the server has written to stderr so far (a line
    being written as we read is left for the next look)."""
    with open(srv.stderr_path, "rb") as f:
        data = f.read()
    return data[:data.rfind(b"\n") + 1].decode("utf-8", "replace").splitlines()


def json_lines(srv):
    """Every stderr line, parsed; the test fails on one that is not JSON."""
    out = []
    for line in stderr_lines(srv):
        try:
            value = json.loads(line)
        except ValueError:
            raise AssertionError("not a JSON line: %r" % line)
        assert isinstance(value, dict), line
        out.append(value)
    return out


def wait_for_line(srv, predicate, timeout=10.0):
    """The first JSON line that `predicate` accepts, waiting for it to be
    written (the server writes it from another thread)."""
    deadline = time.monotonic() + timeout
    while True:
        for line in json_lines(srv):
            if predicate(line):
                return line
        if time.monotonic() > deadline:
            raise AssertionError("no such line in:\n%s" % "\n".join(stderr_lines(srv)))
        time.sleep(0.05)


def metric(port, name):
    for line in hh.http_get(port, "/metrics").body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError("no metric %s" % name)


def version():
    r = hh.run_herald(["--version"])
    assert r.returncode == 0, r.stderr
    return r.stdout.split()[-1]


def refused_origin(srv):
    try:
        hh.RawWebSocket(srv.port, headers={"Origin": "https://evil.example"}).close()
    except hh.HandshakeRefused as refused:
        assert refused.response.status == 403
        return
    raise AssertionError("an upgrade from a foreign origin was accepted")


def stop(srv):
    srv.send_signal(signal.SIGTERM)
    assert srv.wait_exit(srv.shutdown_timeout_s + 10) == 0, srv.stderr_text()


def test_bad_log_settings_exit_2_naming_the_key(tmp_path):
    (tmp_path / "public").mkdir()
    for args, env, key in ((["--log-level=verbose"], None, "log-level"),
                           ([], {"HERALD_LOG_FORMAT": "xml"}, "log-format")):
        r = hh.run_herald(args, env=env, cwd=str(tmp_path))
        assert r.returncode == 2, (r.returncode, r.stderr)
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        assert len(lines) == 1 and lines[0].startswith(hh.CONFIG_ERROR_PREFIX + key + ":"), lines


def test_start_line_carries_version_and_settings_with_secrets_masked(start_herald):
    srv = start_herald(options={"token-hmac-secret": TOKEN_SECRET, "api-key": API_KEY,
                                "max-connections": 77})
    text = "\n".join(stderr_lines(srv))
    start = [line for line in stderr_lines(srv) if " herald started " in line]
    assert len(start) == 1, text
    line = start[0]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO herald started ", line), line
    assert " version=%s " % version() in line, line
    assert " max-connections=77 " in line, line
    assert " token-hmac-secret=*** " in line, line
    assert " api-key=*** " in line, line
    assert ' redis-password="" ' in line, line  # not set: shown empty
    assert " log-level=info " in line and " log-format=text " in line, line
    assert TOKEN_SECRET not in text and API_KEY not in text, text


def test_json_lines_all_parse_and_mask_secrets(start_herald):
    srv = start_herald(options={"log-format": "json", "token-hmac-secret": TOKEN_SECRET,
                                "api-key": API_KEY, "allowed-origins": ALLOWED_ORIGIN})
    refused_origin(srv)
    wait_for_line(srv, lambda l: l["msg"] == "upgrade refused")
    stop(srv)
    lines = json_lines(srv)
    start = [l for l in lines if l["msg"] == "herald started"]
    assert len(start) == 1, lines
    assert start[0]["version"] == version()
    assert start[0]["token-hmac-secret"] == "***"
    assert start[0]["api-key"] == "***"
    assert start[0]["redis-password"] == ""
    assert start[0]["allowed-origins"] == '["%s"]' % ALLOWED_ORIGIN
    for line in lines:
        assert set(line) >= {"time", "level", "msg"}, line
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", line["time"]), line
        assert line["level"] in ("error", "warn", "info", "debug"), line
    raw = "\n".join(stderr_lines(srv))
    assert TOKEN_SECRET not in raw and API_KEY not in raw


def test_level_error_suppresses_info_and_warnings(start_herald):
    srv = start_herald(options={"log-level": "error", "log-format": "json",
                                "allowed-origins": ALLOWED_ORIGIN})
    refused_origin(srv)
    assert hh.http_get(srv.port, "/health").status == 200  # served after the refusal
    stop(srv)
    lines = json_lines(srv)
    assert [l for l in lines if l["level"] != "error"] == [], lines


def test_stop_line_on_sigterm_with_reason_and_uptime(start_herald):
    srv = start_herald(options={"log-format": "json"})
    stop(srv)
    stopped = [l for l in json_lines(srv) if l["msg"] == "herald stopped"]
    assert len(stopped) == 1, stderr_lines(srv)
    assert stopped[0]["level"] == "info"
    assert stopped[0]["reason"] == "SIGTERM"
    assert isinstance(stopped[0]["uptime_s"], (int, float)) and stopped[0]["uptime_s"] >= 0


def test_refused_origin_is_a_warning_with_its_cause(start_herald):
    srv = start_herald(options={"log-format": "json", "allowed-origins": ALLOWED_ORIGIN})
    refused_origin(srv)
    line = wait_for_line(srv, lambda l: l["msg"] == "upgrade refused")
    assert line["level"] == "warn"
    assert line["cause"] == "origin"
    assert line["status"] == 403
    assert line["origin"] == "https://evil.example"
    assert line["peer"] == "127.0.0.1"


def test_bad_api_key_is_a_warning(start_herald):
    srv = start_herald(options={"log-format": "json", "api-key": API_KEY})
    reply = cc.api_request(srv.port, "info", {}, headers={"X-API-Key": "wrong"})
    assert reply.status == 401
    line = wait_for_line(srv, lambda l: l["msg"] == "api request refused")
    assert line["level"] == "warn"
    assert line["status"] == 401
    assert line["cause"] == "wrong api key"
    assert line["peer"] == "127.0.0.1"
    assert API_KEY not in "\n".join(stderr_lines(srv))


def test_invalid_token_is_a_warning_with_its_reason(start_herald):
    srv = start_herald(options={"log-format": "json", "token-hmac-secret": TOKEN_SECRET})

    async def main():
        ws = await cc.open_client(srv)
        forged = cc.make_token({"sub": "mallory"}, secret="not-the-secret")
        await ws.send(json.dumps({"connect": {"token": forged}, "id": 1}))
        code, _ = await cc.closed_with(ws)
        assert code == 3500

    hh.run(main())
    line = wait_for_line(srv, lambda l: l["msg"] == "token rejected")
    assert line["level"] == "warn"
    assert line["command"] == "connect"
    assert line["reason"].startswith("invalid"), line
    assert line["peer"] == "127.0.0.1"


def test_slow_consumer_is_a_warning(start_herald):
    srv = start_herald(options={"log-format": "json", "max-message-bytes": 65536})
    payload = json.dumps({"message": "x" * 60000})

    def cut_off():
        return any(l["msg"] == "slow client disconnected" for l in json_lines(srv))

    async def main():
        # never reads; a small receive buffer keeps the kernel from holding
        # what the server must hold or drop
        slow = await asyncio.to_thread(hh.RawWebSocket, srv.port, rcvbuf=16384)
        publisher = await hh.connect(srv)

        async def drain():  # the publisher gets its own messages too
            try:
                while True:
                    await publisher.recv()
            except websockets.ConnectionClosed:
                pass

        reader = asyncio.create_task(drain())
        for _ in range(400):  # 24 MB, far past the 1 MiB queue and the socket buffers
            await publisher.send(payload)
            if cut_off():
                break
            await asyncio.sleep(0.005)
        await publisher.close()
        await reader
        slow.close()

    hh.run(main(), timeout=120)
    line = wait_for_line(srv, lambda l: l["msg"] == "slow client disconnected")
    assert line["level"] == "warn"
    assert line["protocol"] == "ws"
    assert line["peer"] == "127.0.0.1"
    assert line["client_queue_max_bytes"] == 1048576


def test_debug_lines_for_connects_and_disconnects(start_herald):
    srv = start_herald(options={"log-format": "json", "log-level": "debug"})

    async def main():
        ws = await hh.connect(srv)
        await ws.close(code=1000)

    hh.run(main())
    connected = wait_for_line(srv, lambda l: l["msg"] == "connected")
    assert connected["level"] == "debug"
    assert connected["protocol"] == "ws" and connected["peer"] == "127.0.0.1"
    gone = wait_for_line(srv, lambda l: l["msg"] == "disconnected")
    assert gone["protocol"] == "ws" and gone["peer"] == "127.0.0.1"
    assert gone["code"] == 1000


FLOOD = 10000
BATCH = 100


def test_a_flood_of_bad_tokens_makes_a_bounded_number_of_lines(start_herald):
    """10,000 subscribes with invalid channel tokens on one connection: each
    would be a warning; the log gets at most the burst and the rate."""
    srv = start_herald(options={"log-format": "json", "token-hmac-secret": TOKEN_SECRET,
                                "allow-anonymous": "true"})
    forged = cc.make_token({"sub": "", "channel": "x"}, secret="not-the-secret")

    async def main():
        ws = await cc.open_client(srv, max_size=2 ** 24)
        reply = await cc.command(ws, json.dumps({"connect": {}, "id": 1}))
        assert "connect" in reply[0], reply
        next_id = 2
        for first in range(0, FLOOD, BATCH):
            ids = list(range(next_id, next_id + BATCH))
            next_id += BATCH
            frame = "\n".join(
                json.dumps({"subscribe": {"channel": "flood-%d" % (first + i), "token": forged},
                            "id": command_id})
                for i, command_id in enumerate(ids))
            replies, _ = await cc.command_replies(ws, frame, ids)
            assert all("error" in r for r in replies), replies[:3]
        await ws.close()

    started = time.monotonic()
    hh.run(main(), timeout=120)
    # the last line the flood may still write is on its way: wait for the
    # metric, which is counted before any line is written
    dropped = metric(srv.port, "herald_log_lines_dropped_total")
    elapsed = time.monotonic() - started
    rejected = [l for l in json_lines(srv) if l["msg"] == "token rejected"]
    allowed = BURST + PER_SECOND * elapsed + 1
    print("%d subscribes with bad tokens in %.1fs: %d lines, %d dropped" % (
        FLOOD, elapsed, len(rejected), dropped))
    assert rejected, "no line at all for %d rejected tokens" % FLOOD
    assert len(rejected) <= allowed, "%d lines in %.1fs (at most %d allowed)" % (
        len(rejected), elapsed, allowed)
    assert dropped > 0
    assert len(rejected) + dropped == FLOOD, (len(rejected), dropped)
    assert all(l["reason"].startswith("invalid") for l in rejected)
    # a line after a gap says how many before it were dropped
    assert sum(l.get("dropped_before", 0) for l in rejected) <= dropped

    # the server still serves
    async def echo():
        ws = await hh.connect(srv)
        await ws.send('{"message": "after the flood"}')
        assert await asyncio.wait_for(ws.recv(), 10) == '{"message":"after the flood"}'
        await ws.close()

    hh.run(echo())
