"""The official centrifuge JavaScript SDK (5.x, on Node with ws) and
Centrifugo's API client cent.js (6.1.0) against the real binary.

tests/sdk/scenarios.mjs: anonymous and token connects, an expired token
refreshed through getToken, a bad signature refused with 3500, publish and
subscribe between two SDK clients, the seed channel shared with /ws, and
recovery of exactly the 50 publications missed while disconnected.

tests/sdk/api_scenarios.mjs: presence, presenceStats and join/leave events
between SDK clients; cent.js publish and broadcast reaching SDK subscribers
and a /ws client on the seed channel; cent.js unsubscribe and disconnect
reaching the SDK (2000, 3503); cent.js history, presence, channels, info
and history_remove agreeing with what the SDK clients did; a $ channel
refused with 103 without a token and let in through getToken; and an SDK
client that reconnects by itself to a restarted server and resubscribes with
recovered = false.

`scripts/setup.sh --test` runs npm ci in tests/sdk."""

import os
import shutil
import subprocess
import threading

import pytest

import herald_harness as hh

SECRET = "sdk-secret"
API_KEY = "sdk-api-key"
SDK_DIR = os.path.join(hh.source_dir(), "tests", "sdk")
FEATURES = {**hh.OPEN_CHANNELS, "allow-anonymous": "true", "token-hmac-secret": SECRET,
            "history-size": "100",
            "history-ttl": "300s", "presence": "true", "join-leave": "true",
            "api-key": API_KEY, "namespaces.srv.force-recovery": "true"}
API_SCENARIOS = ["presenceJoinLeave", "centPublish", "centUnsubscribeDisconnect",
                 "centQueries", "centPipeline", "privateChannel", "serverSideRecovery"]


def check_node_modules(*packages):
    assert shutil.which("node"), "node is missing: run scripts/setup.sh --test"
    for package in packages:
        assert os.path.isdir(os.path.join(SDK_DIR, "node_modules", package)), \
            "tests/sdk/node_modules/%s is missing: run scripts/setup.sh --test" % package


@pytest.mark.parametrize("compression", ["false", "true"])
def test_centrifuge_sdk_scenarios(start_herald, compression):
    """With compression = true, ws (which offers permessage-deflate by
    default) negotiates it on every connection the scenarios open."""
    check_node_modules("centrifuge", "ws")
    srv = start_herald(options={**hh.OPEN_CHANNELS, "allow-anonymous": "true",
                                "token-hmac-secret": SECRET, "history-size": "100",
                                "history-ttl": "300s", "compression": compression})
    result = subprocess.run(["node", os.path.join(SDK_DIR, "scenarios.mjs"), str(srv.port),
                             SECRET], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("ok ") == 4, result.stdout


def test_sdk_features_and_cent_js(start_herald):
    check_node_modules("centrifuge", "ws", "cent.js")
    srv = start_herald(options=FEATURES)
    result = subprocess.run(["node", os.path.join(SDK_DIR, "api_scenarios.mjs"), str(srv.port),
                             SECRET, API_KEY] + API_SCENARIOS,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split() == [w for name in API_SCENARIOS for w in ("ok", name)], \
        result.stdout + result.stderr
    assert srv.alive()


def test_compression_with_ws_sdk_and_cent_js(start_herald):
    """tests/sdk/compression_scenarios.mjs: ws negotiates permessage-deflate
    and round-trips messages up to 40 KB; the SDK publishes and receives
    large publications, cent.js publishes one; a client that declines the
    extension beside them gets plain frames."""
    check_node_modules("centrifuge", "ws", "cent.js")
    srv = start_herald(options={**FEATURES, "compression": "true"})
    scenarios = ["wsNegotiatesAndRoundTrips", "sdkLargePublications", "plainClientBeside"]
    result = subprocess.run(["node", os.path.join(SDK_DIR, "compression_scenarios.mjs"),
                             str(srv.port), SECRET, API_KEY], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split() == [w for name in scenarios for w in ("ok", name)], \
        result.stdout + result.stderr
    assert srv.alive()


def test_sdk_recovery_after_restart(start_herald):
    """The scenario prints `restart` once its subscription has a stream
    position; the server is then restarted on the same port, and the SDK
    must reconnect and resubscribe on its own."""
    check_node_modules("centrifuge", "ws", "cent.js")
    srv = start_herald(options=FEATURES)
    node = subprocess.Popen(["node", os.path.join(SDK_DIR, "api_scenarios.mjs"), str(srv.port),
                             SECRET, API_KEY, "restartRecovery"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killer = threading.Timer(60, node.kill)  # the scenario's own limit is 30 s
    killer.start()
    try:
        lines = []
        for line in node.stdout:
            lines.append(line)
            if line.strip() == "restart":
                code, problem = srv.stop()
                assert problem is None and code == 0, problem
                start_herald(options=dict(FEATURES, port=srv.port))
            elif line.startswith(("ok ", "FAILED ")):
                break
        rest, errors = node.communicate(timeout=30)
    finally:
        killer.cancel()
        if node.poll() is None:
            node.kill()
            node.wait(10)
    output = "".join(lines) + rest + errors
    assert node.returncode == 0, output
    assert [line.strip() for line in lines] == ["restart", "ok restartRecovery"], output
