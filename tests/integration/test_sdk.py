"""The official centrifuge JavaScript SDK (5.x, on Node with ws) against the
real binary: anonymous and token connects, an expired token refreshed
through getToken, a bad signature refused with 3500, publish and subscribe
between two SDK clients, the seed channel shared with /ws, and recovery of
exactly the 50 publications missed while disconnected. The
scenarios live in tests/sdk/scenarios.mjs; `scripts/setup.sh --test` runs
npm ci there."""

import os
import shutil
import subprocess

import herald_harness as hh

SECRET = "sdk-secret"


def test_centrifuge_sdk_scenarios(start_herald):
    sdk_dir = os.path.join(hh.source_dir(), "tests", "sdk")
    assert shutil.which("node"), "node is missing: run scripts/setup.sh --test"
    assert os.path.isdir(os.path.join(sdk_dir, "node_modules", "centrifuge")), \
        "tests/sdk/node_modules is missing: run scripts/setup.sh --test"
    srv = start_herald(options={"allow-anonymous": "true", "token-hmac-secret": SECRET,
                                "history-size": "100", "history-ttl": "300s"})
    result = subprocess.run(["node", os.path.join(sdk_dir, "scenarios.mjs"), str(srv.port),
                             SECRET], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("ok ") == 4, result.stdout
