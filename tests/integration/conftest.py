"""Fixtures for Herald's integration tests.

Every server is the real binary ($HERALD_BINARY) on 127.0.0.1, port 0. A
server that a test did not stop itself is stopped with SIGTERM at teardown,
and the test fails if it had crashed, exits non-zero or hangs.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import herald_harness as hh  # noqa: E402


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


class ServerPool:
    def __init__(self, log_dir, static_dir_factory):
        self.log_dir = log_dir
        self.static_dir_factory = static_dir_factory
        self.servers = []

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
        opts.update(options or {})
        args = ["--%s=%s" % (k, v) for k, v in opts.items() if v is not None]
        args += list(extra_args)
        proc = hh.HeraldProcess(args, env=env, cwd=cwd, log_dir=self.log_dir,
                                shutdown_timeout_s=_duration_seconds(opts.get("shutdown-timeout", "10s")))
        self.servers.append(proc)
        proc.start()
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
