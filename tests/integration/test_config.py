"""Configuration: flags, HERALD_* variables, the INI file, their precedence,
--help/--version/--dump-config/--check-config, and bad values (docs/protocol.md)."""

import os
import re

import pytest

import herald_harness as hh

BAD_EXIT = 2


def parse_dump(text):
    """`key = value` lines of --dump-config -> dict (quotes stripped); keys of
    a [namespaces.chat] section become namespaces.chat.KEY."""
    values = {}
    section = ""
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(";") or line.startswith("#"):
            continue
        if line.startswith("["):
            assert line.endswith("]"), "unexpected --dump-config line %r" % line
            name = line[1:-1].strip()
            section = "" if name == "global" else name + "."
            continue
        assert "=" in line, "unexpected --dump-config line %r" % line
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        key = section + key.strip()
        assert key not in values, "--dump-config repeats %s" % key
        values[key] = value
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
    ("--engine=mongo", "engine"),
    ("--redis-address=127.0.0.1:6379,host:0", "redis-address"),
    ("--redis-address=::1:6379", "redis-address"),
    ("--redis-prefix=has space", "redis-prefix"),
    ("--redis-io-timeout=0s", "redis-io-timeout"),
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


def test_bad_redis_address_names_the_entry(herald_binary, workdir):
    r = hh.run_herald(["--check-config", "--engine=redis",
                       "--redis-address=[::1]:6379, redis-b:0"], cwd=workdir)
    assert_config_error(r, "redis-address")
    assert "'redis-b:0'" in r.stderr, r.stderr
    assert "config OK" not in r.stdout


def test_redis_engine_without_an_address_exits_2(herald_binary, workdir, tmp_path):
    static = hh.make_static_tree(str(tmp_path / "tree"))
    r = hh.run_herald(start_args(static), cwd=workdir,
                      env={"HERALD_ENGINE": "redis", "HERALD_REDIS_ADDRESS": ""})
    assert_config_error(r, "redis-address")
    path = write_ini(tmp_path / "redis.ini", "[global]\nengine = \"redis\"\nredis-address = []\n")
    r = hh.run_herald(["--check-config", "--config-file=" + path], cwd=workdir)
    assert_config_error(r, "redis-address")


def test_redis_settings_from_every_source_round_trip(herald_binary, workdir, tmp_path):
    path = write_ini(tmp_path / "redis.ini",
                     "[global]\nengine = \"redis\"\n"
                     "redis-address = [\"redis-a:6379\", \"[::1]:6380\"]\nredis-db = 2\n")
    env = {"HERALD_REDIS_PASSWORD": "pw, \"quoted\"", "HERALD_NODE_NAME": "node-1"}
    r = hh.run_herald(["--config-file=" + path, "--redis-prefix=staging:eu",
                       "--redis-io-timeout=1500ms", "--dump-config"], env=env, cwd=workdir)
    assert r.returncode == 0, r.stderr
    v = parse_dump(r.stdout)
    assert v["engine"] == "redis", v
    assert "redis-a:6379" in v["redis-address"] and "[::1]:6380" in v["redis-address"], v
    assert (v["redis-db"], v["redis-prefix"], v["node-name"]) == ("2", "staging:eu", "node-1"), v
    assert (v["redis-connect-timeout"], v["redis-io-timeout"]) == ("1s", "1500ms"), v
    assert v["redis-user"] == "", v
    dumped = write_ini(tmp_path / "dumped.ini", r.stdout)
    again = hh.run_herald(["--config-file=" + dumped, "--dump-config"], cwd=workdir)
    assert again.returncode == 0, again.stderr
    assert again.stdout == r.stdout


def test_missing_config_file_exits_2(herald_binary, workdir, tmp_path):
    r = hh.run_herald(["--config-file=" + str(tmp_path / "nope.ini")], cwd=workdir)
    assert r.returncode == BAD_EXIT, (r.returncode, r.stderr)
    assert r.stderr.startswith("herald: config"), r.stderr
    assert "listening" not in r.stdout


# --- channel options and namespaces -------------------------------------------

CHANNEL_KEYS = (
    "history-size", "history-ttl", "presence", "join-leave", "force-push-join-leave",
    "force-recovery", "allow-recovery", "force-positioning", "allow-positioning",
    "allow-subscribe-for-client", "allow-subscribe-for-anonymous",
    "allow-publish-for-subscriber", "allow-publish-for-client", "allow-publish-for-anonymous",
    "allow-presence-for-subscriber", "allow-presence-for-client", "allow-presence-for-anonymous",
    "allow-history-for-subscriber", "allow-history-for-client", "allow-history-for-anonymous",
    "allow-user-limited-channels")

# Herald's defaults: Centrifugo's, all off.
CHANNEL_DEFAULTS = dict({k: "false" for k in CHANNEL_KEYS}, **{
    "history-size": "0", "history-ttl": "0s"})

NAMESPACE_INI = """; channel defaults, then two namespaces
[global]
presence = true
join-leave = true

[namespaces.chat]
history-size = 10
history-ttl = 300s
join-leave = false
allow-publish-for-client = true

[namespaces.news-feed]
allow-publish-for-subscriber = false

[namespaces]
inline = { force-push-join-leave = true, allow-history-for-client = true }
"""


def test_help_lists_channel_options(herald_binary, workdir):
    r = hh.run_herald(["--help"], cwd=workdir)
    assert r.returncode == 0, r.stderr
    for key in CHANNEL_KEYS:
        assert "--%s=" % key in r.stdout, "--help does not mention %s:\n%s" % (key, r.stdout)
    assert "[namespaces.NAME]" in r.stdout, r.stdout


def test_dump_config_shows_channel_defaults(herald_binary, workdir):
    r = hh.run_herald(["--dump-config"], cwd=workdir)
    assert r.returncode == 0, r.stderr
    values = parse_dump(r.stdout)
    for key, value in CHANNEL_DEFAULTS.items():
        assert values.get(key) == value, (key, values.get(key), r.stdout)
    assert not [k for k in values if k.startswith("namespaces.")], r.stdout


def test_channel_defaults_from_flags_and_env(herald_binary, workdir):
    v = dump_workers(workdir, ["--history-size=10", "--history-ttl=1min"],
                     {"HERALD_PRESENCE": "true", "HERALD_HISTORY_SIZE": "99"})
    assert (v["history-size"], v["history-ttl"], v["presence"]) == ("10", "60s", "true"), v


def test_namespace_config_file(herald_binary, workdir, tmp_path):
    path = write_ini(tmp_path / "ns.ini", NAMESPACE_INI)
    check = hh.run_herald(["--config-file=" + path, "--check-config"], cwd=workdir)
    assert check.returncode == 0, check.stderr
    assert "herald: config OK" in check.stdout, check.stdout

    r = hh.run_herald(["--config-file=" + path, "--dump-config",
                       "--allow-history-for-anonymous=true"], cwd=workdir)
    assert r.returncode == 0, r.stderr
    v = parse_dump(r.stdout)
    assert (v["presence"], v["join-leave"]) == ("true", "true"), v
    chat = "namespaces.chat."
    # its own keys
    assert (v[chat + "history-size"], v[chat + "history-ttl"]) == ("10", "300s"), v
    assert v[chat + "join-leave"] == "false", v
    assert v[chat + "allow-publish-for-client"] == "true", v
    # inherited from the top level (the file's, and a later flag's)
    assert v[chat + "presence"] == "true", v
    assert v[chat + "allow-history-for-anonymous"] == "true", v
    assert v[chat + "allow-subscribe-for-client"] == "false", v
    feed = "namespaces.news-feed."
    assert v[feed + "allow-publish-for-subscriber"] == "false", v
    assert (v[feed + "presence"], v[feed + "join-leave"]) == ("true", "true"), v
    assert v[feed + "history-size"] == "0", v
    inline = "namespaces.inline."
    assert v[inline + "force-push-join-leave"] == "true", v
    assert v[inline + "allow-history-for-client"] == "true", v
    for ns in (chat, feed, inline):
        assert set(k[len(ns):] for k in v if k.startswith(ns)) == set(CHANNEL_KEYS), v
    assert v["allow-publish-for-client"] == "false", v


def test_namespace_dump_config_round_trips(herald_binary, workdir, tmp_path):
    path = write_ini(tmp_path / "ns.ini", NAMESPACE_INI)
    r = hh.run_herald(["--config-file=" + path, "--dump-config",
                       "--namespaces.flagged.history-size=5",
                       "--namespaces.flagged.history-ttl=2h"], cwd=workdir)
    assert r.returncode == 0, r.stderr
    first = parse_dump(r.stdout)
    assert first["namespaces.flagged.history-ttl"] == "7200s", first
    assert first["namespaces.flagged.presence"] == "true", first
    dumped = write_ini(tmp_path / "dumped.ini", r.stdout)
    check = hh.run_herald(["--config-file=" + dumped, "--check-config"], cwd=workdir)
    assert check.returncode == 0, "dumped config rejected: %s\n--- file ---\n%s" % (
        check.stderr, r.stdout)
    again = hh.run_herald(["--config-file=" + dumped, "--dump-config"], cwd=workdir)
    assert again.returncode == 0, again.stderr
    assert parse_dump(again.stdout) == first
    assert again.stdout == r.stdout


def test_empty_namespace_section_uses_the_defaults(herald_binary, workdir, tmp_path):
    path = write_ini(tmp_path / "empty.ini", "presence = true\n[namespaces.quiet]\n")
    v = dump_workers(workdir, ["--config-file=" + path])
    assert v["namespaces.quiet.presence"] == "true", v
    assert v["namespaces.quiet.allow-recovery"] == "false", v


@pytest.mark.parametrize("content,key", [
    ("[namespaces.chat]\nno-such-option = true\n", "namespaces.chat.no-such-option"),
    ("[namespaces.chat]\nport = 9000\n", "namespaces.chat.port"),
    ("[namespaces.chat]\npresence = 1\n", "namespaces.chat.presence"),
    ("[namespaces.chat]\nhistory-size = \"ten\"\n", "namespaces.chat.history-size"),
    ("[namespaces.chat]\nhistory-ttl = 1500ms\n", "namespaces.chat.history-ttl"),
    ("[namespaces.c]\npresence = true\n", "namespaces.c"),
    ("[namespaces.a.b]\npresence = true\n", "namespaces.a.b"),
    ("[namespaces]\nchat = 5\n", "namespaces.chat"),
    ("[namespaces.chat]\npresence = true\n[namespaces.chat]\njoin-leave = true\n",
     "namespaces.chat"),
    ("[namespaces.chat]\nhistory-size = 10\n", "namespaces.chat.history-ttl"),
    ("[namespaces.chat]\nhistory-ttl = 10s\n", "namespaces.chat.history-size"),
    ("history-size = 10\nhistory-ttl = 60s\n[namespaces.chat]\nhistory-size = 0\n",
     "namespaces.chat.history-size"),
    ("[namespaces.chat]\nforce-recovery = true\n", "namespaces.chat.force-recovery"),
    ("[namespaces.chat]\nforce-positioning = true\n", "namespaces.chat.force-positioning"),
    ("[global]\nhistory-size = 10\n[namespaces.chat]\npresence = true\n", "history-ttl"),
    ("[global]\nforce-recovery = true\n", "force-recovery"),
    ("[global]\npresence = \"yes\"\n", "presence"),
])
def test_bad_channel_option_in_file_exits_2(herald_binary, workdir, tmp_path, content, key):
    path = write_ini(tmp_path / "bad.ini", content)
    r = hh.run_herald(["--config-file=" + path, "--check-config"], cwd=workdir)
    assert_config_error(r, key)
    assert "config OK" not in r.stdout


@pytest.mark.parametrize("flag,key", [
    ("--history-size=lots", "history-size"),
    ("--history-ttl=soon", "history-ttl"),
    ("--history-size=10", "history-ttl"),
    ("--allow-publish-for-client=yes", "allow-publish-for-client"),
    ("--namespaces.chat.presence=maybe", "namespaces.chat.presence"),
    ("--namespaces.x.presence=true", "namespaces.x"),
    ("--namespaces.chat.workers=2", "namespaces.chat.workers"),
])
def test_bad_channel_option_flag_exits_2(herald_binary, workdir, flag, key):
    r = hh.run_herald(["--check-config", flag], cwd=workdir)
    assert_config_error(r, key)
