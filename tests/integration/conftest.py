"""Fixtures for Herald's integration tests.

Every server is the real binary ($HERALD_BINARY) on 127.0.0.1, port 0. A
server that a test did not stop itself is stopped with SIGTERM at teardown,
and the test fails if it had crashed, exits non-zero or hangs.

With HERALD_TEST_ENGINE=redis, every server a test starts without an
`engine` option of its own runs on the Redis engine: each ServerPool starts
one redis-server (when its first server starts) and gives every herald it
starts that Redis and a prefix of its own, so that servers never share
channels (as separate memory-engine servers do not).
"""

import itertools
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import herald_harness as hh  # noqa: E402
import redis_server as rs  # noqa: E402

TEST_ENGINE = os.environ.get("HERALD_TEST_ENGINE", "memory")
_prefixes = itertools.count(1)


def _duration_seconds(text):
    text = str(text)
    for unit, factor in (("ms", 0.001), ("min", 60.0), ("s", 1.0), ("h", 3600.0)):
        if text.endswith(unit):
            try:
                return float(text[: -len(unit)]) * factor
            except ValueError:
                return 10.0
    try:
        return float(text) / 1000.0
    except ValueError:
        return 10.0


def _wait_engine_up(proc, timeout=10.0):
    """Herald listens before its Redis connections are up (it serves
    without them, answering 100 to what needs them): waits until /metrics
    says herald_engine_up 1, as a deployment's readiness check would. Gives
    up quietly (the test then shows what is wrong) if the server exits or
    never gets there."""
    deadline = time.monotonic() + timeout
    while proc.alive() and time.monotonic() < deadline:
        try:
            body = hh.http_get(proc.port, "/metrics", timeout=2).body
        except (OSError, AssertionError):
            body = b""
        if b"\nherald_engine_up 1\n" in body:
            return
        time.sleep(0.02)


class ServerPool:
    def __init__(self, log_dir, static_dir_factory):
        self.log_dir = log_dir
        self.static_dir_factory = static_dir_factory
        self.servers = []
        self.redis = None  # the pool's Redis with HERALD_TEST_ENGINE=redis

    def _engine_options(self, options):
        """With HERALD_TEST_ENGINE=redis, the options that put a server
        which names no engine itself on the pool's Redis."""
        if TEST_ENGINE == "memory" or "engine" in (options or {}):
            return {}
        assert TEST_ENGINE == "redis", "HERALD_TEST_ENGINE must be memory or redis, not %r" % (
            TEST_ENGINE)
        if self.redis is None:
            self.redis = rs.RedisServer(os.path.join(self.log_dir, "redis")).start()
        return {"engine": "redis", "redis-address": self.redis.address,
                "redis-prefix": "t%d-%d" % (os.getpid(), next(_prefixes))}

    def start(self, options=None, extra_args=(), env=None, cwd=None, static_dir=None):
        """Starts herald with the harness defaults, overridden by `options`
        (key -> value, passed as --key=value; value None drops the default)."""
        opts = {
            "port": 0,
            "address": "127.0.0.1",
            "static-dir": static_dir or self.static_dir_factory(),
            "workers": 2,
            "shutdown-timeout": "3s",
        }
        engine = self._engine_options(options)
        opts.update(engine)
        opts.update(hh.tls_options())
        opts.update(options or {})
        args = ["--%s=%s" % (k, v) for k, v in opts.items() if v is not None]
        args += list(extra_args)
        proc = hh.HeraldProcess(args, env=env, cwd=cwd, log_dir=self.log_dir,
                                shutdown_timeout_s=_duration_seconds(opts.get("shutdown-timeout", "10s")))
        self.servers.append(proc)
        proc.start()
        if engine:
            _wait_engine_up(proc)
        return proc

    def finish(self):
        problems = []
        for proc in self.servers:
            if proc.proc is None:
                continue
            if proc.expect_exit:
                proc.kill()
            else:
                code, problem = proc.stop()
                if problem:
                    problems.append("%s\nargs: %s\nstderr:\n%s" % (problem, proc.args,
                                                                   proc.stderr_text()))
            proc.close_logs()
        self.servers = []
        if self.redis is not None:
            self.redis.stop()
            self.redis = None
        if problems:
            pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture(scope="session")
def herald_binary():
    path = hh.binary_path()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail("herald binary not found at %s (set HERALD_BINARY)" % path, pytrace=False)
    return path


@pytest.fixture
def static_dir(tmp_path):
    return hh.make_static_tree(str(tmp_path))


def _server_pool(base):
    """A ServerPool whose servers each get a fresh static tree under `base`."""
    counter = [0]

    def make_static():
        counter[0] += 1
        root = base / ("tree%d" % counter[0])
        root.mkdir()
        return hh.make_static_tree(str(root))

    return ServerPool(str(base), make_static)


@pytest.fixture
def start_herald(herald_binary, tmp_path):
    """Factory: start_herald(options={...}, env=..., static_dir=...) -> HeraldProcess."""
    pool = _server_pool(tmp_path)
    yield pool.start
    pool.finish()


@pytest.fixture(scope="module")
def module_start_herald(herald_binary, tmp_path_factory):
    """Like start_herald, for servers shared by the tests of one module."""
    pool = _server_pool(tmp_path_factory.mktemp("module"))
    yield pool.start
    pool.finish()


@pytest.fixture
def server_stays_alive(request):
    """For modules whose tests share a module-scoped `server`: after each
    test, fails it if that server died (a crash must not hide behind the
    next test's connection error). Use with
    `pytestmark = pytest.mark.usefixtures("server_stays_alive")`."""
    yield
    if "server" in request.fixturenames:
        srv = request.getfixturevalue("server")
        assert srv.alive(), "herald died: %s\n%s" % (hh.describe_exit(srv.poll()),
                                                     srv.stderr_text())


@pytest.fixture
def redis_factory(tmp_path):
    """Factory: redis_factory() -> a started RedisServer on a port of its own
    (call it twice for two shards); all are killed at teardown."""
    pool = rs.RedisPool(tmp_path / "redis")
    yield pool.start
    pool.finish()


@pytest.fixture
def redis_server(redis_factory):
    """One started RedisServer for the test."""
    return redis_factory()
