"""A throwaway Redis for the Redis engine's tests.

Starts Debian's /usr/bin/redis-server on a free loopback port (never 6379),
without persistence, in a directory of the test's own, and waits until it
answers PING over a raw socket. `stop()` kills it (SIGKILL by default: a
Redis that is lost, not shut down), `restart()` starts it again on the same
port, with an empty data set (nothing is saved).
"""

import os
import shutil
import signal
import socket
import subprocess
import time

REDIS_SERVER = "/usr/bin/redis-server"
PING = b"*1\r\n$4\r\nPING\r\n"


def redis_server_binary():
    """The redis-server binary; an AssertionError (a failed test, never a
    skip) when it is missing."""
    path = REDIS_SERVER if os.access(REDIS_SERVER, os.X_OK) else shutil.which("redis-server")
    assert path, ("redis-server is missing (%s): run scripts/setup.sh --test" % REDIS_SERVER)
    return path


def free_port():
    """A free loopback port, never Redis's default 6379."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port != 6379:
            return port


def ping(port, timeout=0.5):
    """True if a Redis on `port` answers PING with +PONG."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(PING)
            data = b""
            while b"\r\n" not in data:
                chunk = s.recv(64)
                if not chunk:
                    break
                data += chunk
            return data.startswith(b"+PONG\r\n")
    except OSError:
        return False


def command(port, *args, timeout=2.0):
    """Sends one command (RESP array of bulk strings) and returns the raw
    reply bytes read within `timeout` (enough for the short replies tests
    look at, e.g. DBSIZE or KEYS)."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        arg = arg.encode() if isinstance(arg, str) else arg
        parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(b"".join(parts))
        s.settimeout(0.3)
        data = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                if data:
                    break
                continue
            if not chunk:
                break
            data += chunk
        return data


class RedisServer:
    """One redis-server child on 127.0.0.1:`port`."""

    def __init__(self, work_dir, port=None):
        self.binary = redis_server_binary()
        self.work_dir = str(work_dir)
        os.makedirs(self.work_dir, exist_ok=True)
        self.port = port
        self.proc = None
        self.starts = 0
        self._log = None

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def _spawn(self, port):
        self.starts += 1
        log_path = os.path.join(self.work_dir, "redis-%d-%d.log" % (port, self.starts))
        self._log = open(log_path, "wb")
        self.log_path = log_path
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.work_dir, "--daemonize", "no"],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True)

    def _wait_ready(self, port, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            if ping(port):
                return True
            time.sleep(0.02)
        return False

    def start(self, timeout=10.0):
        """Starts on `self.port` (a fresh free port the first time, tried
        again on another if it was taken meanwhile)."""
        fixed = self.port is not None
        for _ in range(1 if fixed else 5):
            port = self.port if fixed else free_port()
            self._spawn(port)
            if self._wait_ready(port, timeout):
                self.port = port
                return self
            self._reap()
        raise AssertionError("redis-server did not answer PING on port %s within %.0fs:\n%s" %
                             (port, timeout, self.log_text()))

    def _reap(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.proc is not None:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        if self._log:
            self._log.close()
            self._log = None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGKILL, timeout=10.0):
        """Stops it with `sig` (SIGKILL: lost; SIGTERM: shut down) and waits
        until the process is gone and the port no longer answers."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._reap()
        self.proc = None

    def restart(self, timeout=10.0):
        """Starts it again on the same port (after stop(), or stops it first)."""
        self.stop()
        # The port was just ours; a socket in TIME_WAIT does not keep
        # redis-server (SO_REUSEADDR) from binding it again.
        return self.start(timeout)

    def ping(self):
        return ping(self.port)

    def command(self, *args, timeout=2.0):
        return command(self.port, *args, timeout=timeout)

    def log_text(self, limit=4000):
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except (OSError, AttributeError):
            return ""
        return text if len(text) <= limit else "...\n" + text[-limit:]


class RedisPool:
    """Redis servers a test (or a module, or a ServerPool) started; all of
    them are stopped by `finish()`."""

    def __init__(self, base_dir):
        self.base_dir = str(base_dir)
        self.servers = []

    def start(self):
        server = RedisServer(os.path.join(self.base_dir, "redis%d" % len(self.servers)))
        self.servers.append(server)
        return server.start()

    def finish(self):
        for server in self.servers:
            server.stop(signal.SIGKILL)
        self.servers = []
