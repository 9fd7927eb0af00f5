"""The chat page and the dashboard in a real browser: Debian's Chromium,
headless, driven by playwright-core (tests/browser/browser_tests.mjs) on
the real binary serving the shipped public/ folder.

- chat: two browser contexts exchange messages both ways on /ws and each
  shows both;
- dashboard: reached from the chat page's link, signs in, draws its six
  uPlot charts, and its table follows a chat opened meanwhile (a /ws
  connection, publications);
- dashboard-wrong-password: the page shows the refusal;
- all three again over https and wss, Chromium trusting the test CA.

Screenshots of what a user sees land in <build>/test-output/browser/, the
TLS run's in its tls/ (HERALD_TEST_OUTPUT_DIR overrides it). The driver takes the base URL and,
for https, a CA certificate (--ca-cert) or --ignore-https-errors, so that
an https/wss variant needs only a server with TLS and these arguments
(run_browser's ca_cert and ignore_https_errors).

`scripts/setup.sh` fetches public/vendor/ (the pages' libraries);
`scripts/setup.sh --test` installs chromium and runs npm ci in
tests/browser."""

import os
import shutil
import subprocess

import herald_harness as hh

BROWSER_DIR = os.path.join(hh.source_dir(), "tests", "browser")
PUBLIC_DIR = os.path.join(hh.source_dir(), "public")
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "browser-test-password"


def output_dir():
    configured = os.environ.get("HERALD_TEST_OUTPUT_DIR")
    if configured:
        return os.path.join(configured, "browser")
    # $HERALD_BINARY is <build>/apps/herald/herald.
    build = os.path.dirname(os.path.dirname(os.path.dirname(hh.binary_path())))
    return os.path.join(build, "test-output", "browser")


def check_prerequisites():
    assert shutil.which("node"), "node is missing: run scripts/setup.sh --test"
    assert os.access(CHROMIUM, os.X_OK), "%s is missing: run scripts/setup.sh --test" % CHROMIUM
    assert os.path.isdir(os.path.join(BROWSER_DIR, "node_modules", "playwright-core")), \
        "tests/browser/node_modules is missing: run scripts/setup.sh --test"
    for name in ("centrifuge.js", "uPlot.iife.min.js", "uPlot.min.css"):
        assert os.path.isfile(os.path.join(PUBLIC_DIR, "vendor", name)), \
            "public/vendor/%s is missing: run scripts/setup.sh" % name


def run_browser(base_url, scenarios, ca_cert=None, ignore_https_errors=False, out=None):
    """Runs the driver on `base_url`; returns its stdout, asserting that
    every scenario passed. Screenshots go to `out` (output_dir())."""
    args = ["node", os.path.join(BROWSER_DIR, "browser_tests.mjs"), "--base-url=" + base_url,
            "--out=" + (out or output_dir()), "--password=" + PASSWORD, "--chromium=" + CHROMIUM]
    if ca_cert:
        args.append("--ca-cert=" + ca_cert)
    if ignore_https_errors:
        args.append("--ignore-https-errors")
    result = subprocess.run(args + list(scenarios), capture_output=True, text=True,
                            timeout=240, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split() == [w for name in scenarios for w in ("ok", name)], \
        result.stdout + result.stderr
    return result.stdout


def start_site(start_herald):
    check_prerequisites()
    return start_herald(options={"dashboard": "true", "dashboard-password": PASSWORD},
                        static_dir=PUBLIC_DIR)


def test_chat_page_in_two_browsers(start_herald):
    srv = start_site(start_herald)
    run_browser("http://127.0.0.1:%d/" % srv.port, ["chat"])


def test_dashboard_in_the_browser(start_herald):
    srv = start_site(start_herald)
    run_browser("http://127.0.0.1:%d/" % srv.port, ["dashboard", "dashboard-wrong-password"])
    assert srv.alive()


def test_compression_in_the_browser(start_herald):
    """compression = true with every message compressed (no size
    threshold): Chromium's WebSocket negotiates permessage-deflate, and the
    chat and dashboard pages work through it."""
    check_prerequisites()
    srv = start_herald(options={"dashboard": "true", "dashboard-password": PASSWORD,
                                "compression": "true", "compression-min-bytes": "0"},
                       static_dir=PUBLIC_DIR)
    run_browser("http://127.0.0.1:%d/" % srv.port, ["compression", "dashboard"],
                out=os.path.join(output_dir(), "compression"))
    assert srv.alive()


def test_chat_and_dashboard_over_tls(start_herald):
    """The same pages over https and wss, Chromium trusting the test CA
    (no certificate errors ignored): what a browser meets on a TLS
    deployment."""
    check_prerequisites()
    pki = hh.shared_pki()
    srv = start_herald(options={"dashboard": "true", "dashboard-password": PASSWORD,
                                "tls-cert": pki.cert, "tls-key": pki.key},
                       static_dir=PUBLIC_DIR)
    # The certificate names localhost (and 127.0.0.1); the name is what a
    # browser checks.
    run_browser("https://localhost:%d/" % srv.port,
                ["chat", "dashboard", "dashboard-wrong-password"], ca_cert=pki.ca,
                out=os.path.join(output_dir(), "tls"))
    assert srv.alive()
