"""Configuration: flags, HERALD_* variables, the INI file, their precedence,
--help/--version/--dump-config/--check-config, and bad values (SPEC 3)."""

import os
import re

import pytest

import herald_harness as hh

BAD_EXIT = 2


def parse_dump(text):
    """`key = value` lines of --dump-config -> dict (quotes stripped)."""
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(";") or line.startswith("#") or line.startswith("["):
            continue
        assert "=" in line, "unexpected --dump-config line %r" % line
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        values[key.strip()] = value
    return values


def write_ini(path, text):
    with open(path, "w") as f:
        f.write(text)
    return str(path)


@pytest.fixture
def workdir(tmp_path):
    """A cwd with an empty `public` folder, so the default static-dir is valid."""
    (tmp_path / "public").mkdir()
    return str(tmp_path)


def assert_config_error(result, key):
    assert result.returncode == BAD_EXIT, (
        "expected exit status 2 for a bad %r, got %d\nstdout: %r\nstderr: %r" %
        (key, result.returncode, result.stdout, result.stderr))
    lines = [l for l in result.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, "expected exactly one stderr line, got %r" % result.stderr
    assert lines[0].startswith(hh.CONFIG_ERROR_PREFIX + key + ":"), (
        "stderr line should start with %r: %r" % (hh.CONFIG_ERROR_PREFIX + key + ":", lines[0]))
    assert "listening" not in result.stdout, "a bad config must not bind: %r" % result.stdout


# --- informational flags ----------------------------------------------------

def test_help_prints_usage_and_exits_0(herald_binary, workdir):
    r = hh.run_herald(["--help"], cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert "--port" in r.stdout or "port" in r.stdout, r.stdout
    for key in ("static-dir", "max-message-bytes", "client-queue-max-bytes", "allowed-origins"):
        assert key in r.stdout, "--help does not mention %s:\n%s" % (key, r.stdout)


def test_version_prints_version_and_exits_0(herald_binary, workdir):
    r = hh.run_herald(["--version"], cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert re.search(r"\d+\.\d+", r.stdout), r.stdout


def test_dump_config_shows_defaults(herald_binary, workdir):
    r = hh.run_herald(["--dump-config"], cwd=workdir)
    assert r.returncode == 0, r.stderr
    values = parse_dump(r.stdout)
    assert values.get("port") == "8000", values
    assert values.get("address") == "0.0.0.0", values
    assert values.get("static-dir") == "public", values
    assert values.get("workers") == "0", values
    assert values.get("seed-channel") == "broadcast", values
    assert values.get("max-message-bytes") == "65536", values
    assert values.get("client-queue-max-bytes") == "1048576", values
    for key in ("allowed-origins", "max-connections", "ping-interval", "pong-timeout",
                "handshake-timeout", "shutdown-timeout"):
        assert key in values, "--dump-config lacks %s:\n%s" % (key, r.stdout)


def test_dump_config_round_trips(herald_binary, workdir, tmp_path):
    static = hh.make_static_tree(str(tmp_path / "tree"))
    args = ["--port=0", "--address=127.0.0.1", "--static-dir=" + static, "--workers=3",
            "--max-message-bytes=4096", "--client-queue-max-bytes=200000",
            "--max-connections=17", "--allowed-origins=https://a.example.com,https://*.b.org",
            "--idle-timeout=2500ms", "--handshake-timeout=1s", "--shutdown-timeout=5s",
            "--seed-channel=chat room"]
    r = hh.run_herald(args + ["--dump-config"], cwd=workdir)
    assert r.returncode == 0, r.stderr
    first = parse_dump(r.stdout)
    assert first["workers"] == "3" and first["max-connections"] == "17", first
    assert first["static-dir"] == static, first
    assert "https://a.example.com" in first["allowed-origins"], first
    assert "https://*.b.org" in first["allowed-origins"], first
    path = write_ini(tmp_path / "dumped.ini", r.stdout)

    check = hh.run_herald(["--config-file=" + path, "--check-config"], cwd=workdir)
    assert check.returncode == 0, "dumped config rejected: %s\n--- file ---\n%s" % (
        check.stderr, r.stdout)
    again = hh.run_herald(["--config-file=" + path, "--dump-config"], cwd=workdir)
    assert again.returncode == 0, again.stderr
    assert parse_dump(again.stdout) == first


def test_dumped_config_starts_a_server(start_herald, herald_binary, workdir, tmp_path):
    static = hh.make_static_tree(str(tmp_path / "tree"))
    r = hh.run_herald(["--port=0", "--address=127.0.0.1", "--static-dir=" + static,
                       "--workers=2", "--shutdown-timeout=3s", "--dump-config"], cwd=workdir)
    assert r.returncode == 0, r.stderr
    path = write_ini(tmp_path / "dumped.ini", r.stdout)
    server = start_herald(options={"port": None, "address": None, "static-dir": None,
                                   "workers": None, "shutdown-timeout": None},
                          extra_args=["--config-file=" + path], cwd=workdir)
    resp = hh.http_get(server.port, "/index.html")
    assert resp.status == 200 and b"root index" in resp.body, resp


# --- --check-config -----------------------------------------------------------

def test_check_config_ok(herald_binary, workdir, tmp_path):
    static = hh.make_static_tree(str(tmp_path / "tree"))
    r = hh.run_herald(["--check-config", "--static-dir=" + static, "--port=0"], cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert "herald: config OK" in r.stdout, r.stdout
    assert "listening" not in r.stdout


def test_check_config_reports_every_bad_key(herald_binary, workdir):
    r = hh.run_herald(["--check-config", "--port=70000", "--workers=many"], cwd=workdir)
    assert r.returncode == BAD_EXIT, (r.returncode, r.stdout, r.stderr)
    assert hh.CONFIG_ERROR_PREFIX + "port:" in r.stderr, r.stderr
    assert hh.CONFIG_ERROR_PREFIX + "workers:" in r.stderr, r.stderr
    assert "config OK" not in r.stdout


def test_check_config_bad_file_value(herald_binary, workdir, tmp_path):
    path = write_ini(tmp_path / "bad.ini", "[global]\nmax-message-bytes=\"lots\"\n")
    r = hh.run_herald(["--check-config", "--config-file=" + path], cwd=workdir)
    assert_config_error(r, "max-message-bytes")


def test_shipped_config_is_valid_and_documents_every_key(herald_binary, workdir):
    shipped = os.path.join(hh.source_dir(), "config", "herald.ini")
    assert os.path.isfile(shipped), "config/herald.ini is missing"
    r = hh.run_herald(["--check-config", "--config-file=" + shipped], cwd=workdir)
    assert r.returncode == 0, r.stderr
    with_file = hh.run_herald(["--dump-config", "--config-file=" + shipped], cwd=workdir)
    defaults = hh.run_herald(["--dump-config"], cwd=workdir)
    assert with_file.returncode == 0 and defaults.returncode == 0
    assert parse_dump(with_file.stdout) == parse_dump(defaults.stdout), (
        "config/herald.ini should hold the built-in defaults")
    with open(shipped) as f:
        text = f.read()
    for key in parse_dump(defaults.stdout):
        assert re.search(r"(^|\n)\s*;?\s*%s\s*=" % re.escape(key), text), (
            "config/herald.ini does not document %s" % key)


# --- sources and precedence ---------------------------------------------------

def dump_workers(workdir, args=(), env=None):
    r = hh.run_herald(list(args) + ["--dump-config"], env=env, cwd=workdir)
    assert r.returncode == 0, r.stderr
    return parse_dump(r.stdout)


def test_precedence_flags_env_file_defaults(herald_binary, workdir, tmp_path):
    path = write_ini(tmp_path / "f.ini",
                     "; test file\n[global]\nworkers=3\nseed-channel=\"from-file\"\n"
                     "max-connections=11\n")
    file_arg = ["--config-file=" + path]
    env = {"HERALD_WORKERS": "5", "HERALD_SEED_CHANNEL": "from-env"}

    assert dump_workers(workdir)["workers"] == "0"
    v = dump_workers(workdir, file_arg)
    assert (v["workers"], v["seed-channel"], v["max-connections"]) == ("3", "from-file", "11")
    v = dump_workers(workdir, file_arg, env)
    assert (v["workers"], v["seed-channel"], v["max-connections"]) == ("5", "from-env", "11")
    v = dump_workers(workdir, file_arg + ["--workers=7", "--seed-channel=from-flag"], env)
    assert (v["workers"], v["seed-channel"], v["max-connections"]) == ("7", "from-flag", "11")
    # env alone, no file
    v = dump_workers(workdir, [], {"HERALD_MAX_MESSAGE_BYTES": "1234"})
    assert v["max-message-bytes"] == "1234"


def test_ini_without_section_and_with_comments(herald_binary, workdir, tmp_path):
    path = write_ini(tmp_path / "plain.ini",
                     "; a comment\nworkers=4\n; another comment\n"
                     "idle-timeout=25s\nhandshake-timeout=500ms\n")
    r = hh.run_herald(["--config-file=" + path, "--dump-config"], cwd=workdir)
    assert r.returncode == 0, r.stderr
    v = parse_dump(r.stdout)
    assert v["workers"] == "4", v
    assert v["idle-timeout"] in ("25s", "25000ms"), v
    assert v["handshake-timeout"] in ("500ms", "0.5s"), v


def test_precedence_in_a_running_server(start_herald, tmp_path):
    """static-dir from the file, overridden by HERALD_STATIC_DIR, overridden by the flag:
    the served index.html tells which one won."""
    dirs = {}
    for name in ("file", "env", "flag"):
        d = tmp_path / ("static-" + name)
        d.mkdir()
        (d / "index.html").write_text("index from %s\n" % name)
        dirs[name] = str(d)
    path = write_ini(tmp_path / "p.ini",
                     '[global]\nport=0\naddress="127.0.0.1"\nstatic-dir="%s"\n' % dirs["file"])
    base = {"port": None, "address": None, "static-dir": None}

    s1 = start_herald(options=base, extra_args=["--config-file=" + path])
    assert hh.http_get(s1.port, "/").body.strip() == b"index from file"
    s2 = start_herald(options=base, extra_args=["--config-file=" + path],
                      env={"HERALD_STATIC_DIR": dirs["env"]})
    assert hh.http_get(s2.port, "/").body.strip() == b"index from env"
    s3 = start_herald(options=dict(base, **{"static-dir": dirs["flag"]}),
                      extra_args=["--config-file=" + path],
                      env={"HERALD_STATIC_DIR": dirs["env"]})
    assert hh.http_get(s3.port, "/").body.strip() == b"index from flag"


# --- bad values -----------------------------------------------------------------

def start_args(static):
    return ["--port=0", "--address=127.0.0.1", "--static-dir=" + static]


@pytest.mark.parametrize("flag,key", [
    ("--no-such-key=1", "no-such-key"),
    ("--workers=abc", "workers"),
    ("--port=abc", "port"),
    ("--port=70000", "port"),
    ("--port=-1", "port"),
    ("--max-message-bytes=12x", "max-message-bytes"),
    ("--idle-timeout=soon", "idle-timeout"),
    ("--allowed-origins=ftp//x", "allowed-origins"),
    ("--address=not-an-address", "address"),
])
def test_bad_flag_exits_2(herald_binary, workdir, tmp_path, flag, key):
    static = hh.make_static_tree(str(tmp_path / "tree"))
    r = hh.run_herald(start_args(static) + [flag], cwd=workdir)
    assert_config_error(r, key)


def test_missing_static_dir_exits_2(herald_binary, workdir, tmp_path):
    r = hh.run_herald(["--port=0", "--address=127.0.0.1",
                       "--static-dir=" + str(tmp_path / "does-not-exist")], cwd=workdir)
    assert_config_error(r, "static-dir")


def test_static_dir_that_is_a_file_exits_2(herald_binary, workdir, tmp_path):
    f = tmp_path / "a-file"
    f.write_text("x")
    r = hh.run_herald(["--port=0", "--address=127.0.0.1", "--static-dir=" + str(f)], cwd=workdir)
    assert_config_error(r, "static-dir")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any folder")
def test_unreadable_static_dir_exits_2(herald_binary, workdir, tmp_path):
    d = tmp_path / "locked"
    d.mkdir()
    d.chmod(0)
    try:
        r = hh.run_herald(["--port=0", "--address=127.0.0.1", "--static-dir=" + str(d)],
                          cwd=workdir)
    finally:
        d.chmod(0o755)
    assert_config_error(r, "static-dir")


def test_bad_env_value_exits_2(herald_binary, workdir, tmp_path):
    static = hh.make_static_tree(str(tmp_path / "tree"))
    r = hh.run_herald(start_args(static), env={"HERALD_PORT": "70000"}, cwd=workdir)
    assert_config_error(r, "port")


@pytest.mark.parametrize("content,key", [
    ("[global]\nno-such-key=1\n", "no-such-key"),
    ("[global]\nworkers=\"two\"\n", "workers"),
    ("port=70000\n", "port"),
    ("[global]\nallowed-origins=[\"ftp//x\"]\n", "allowed-origins"),
])
def test_bad_file_value_exits_2(herald_binary, workdir, tmp_path, content, key):
    static = hh.make_static_tree(str(tmp_path / "tree"))
    path = write_ini(tmp_path / "bad.ini", content)
    r = hh.run_herald(["--config-file=" + path] + start_args(static)[2:], cwd=workdir)
    assert_config_error(r, key)


def test_missing_config_file_exits_2(herald_binary, workdir, tmp_path):
    r = hh.run_herald(["--config-file=" + str(tmp_path / "nope.ini")], cwd=workdir)
    assert r.returncode == BAD_EXIT, (r.returncode, r.stderr)
    assert r.stderr.startswith("herald: config"), r.stderr
    assert "listening" not in r.stdout
