"""Helpers shared by Herald's integration tests.

Starts the real `herald` binary on port 0, reads the port from its
`herald: listening on 127.0.0.1:PORT` line, and speaks HTTP and WebSocket to
it over loopback: through Debian's python3-websockets for well-behaved
clients, and through raw sockets (`RawWebSocket`, `http_raw`) for everything a
library would normalise or refuse to send (traversal targets, invalid UTF-8,
clients that never read or never answer pings).
"""

import base64
import hashlib
import asyncio
import os
import re
import signal
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
import time

import tls_certs

# 127.0.0.1, or the same loopback address in IPv6 form (a socket bound to
# ::ffff:127.0.0.1 sees IPv4 peers as IPv4-mapped addresses).
LISTEN_RE = re.compile(r"^herald: listening on (?:::ffff:)?127\.0\.0\.1:(\d+)\s*$")
CONFIG_ERROR_PREFIX = "herald: config: "

# Channel options that open every channel to every client, anonymous ones
# included: subscribe, publish as a subscriber, presence, history and
# recovery. Herald's defaults are Centrifugo's (all off); tests of features
# other than permissions start from these, as a chat deployment would.
OPEN_CHANNELS = {
    "allow-subscribe-for-client": "true", "allow-subscribe-for-anonymous": "true",
    "allow-publish-for-subscriber": "true", "allow-publish-for-anonymous": "true",
    "allow-presence-for-subscriber": "true", "allow-presence-for-anonymous": "true",
    "allow-history-for-subscriber": "true", "allow-history-for-anonymous": "true",
    "allow-recovery": "true",
}
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

SECRET_MARKER = "TOP-SECRET-7f3a9c-do-not-serve"

# HERALD_TEST_TLS=1 runs a suite again over TLS: every server the pool
# starts gets the throwaway PKI's certificate, and every client the harness
# makes (raw sockets, websockets, Node children) trusts its root.
TLS = os.environ.get("HERALD_TEST_TLS") == "1"
_pki = None


def shared_pki():
    """The process's throwaway PKI (tls_certs.ThrowawayPki), made on first use."""
    global _pki
    if _pki is None:
        _pki = tls_certs.ThrowawayPki(tempfile.mkdtemp(prefix="herald-pki-"))
    return _pki


def tls_options():
    """The server options of the TLS rerun ({} otherwise)."""
    if not TLS:
        return {}
    return {"tls-cert": shared_pki().cert, "tls-key": shared_pki().key}


def client_tls_context(ca=None):
    """Verifies the server against the throwaway root. A server that closes
    without close_notify (TCP FIN after a WebSocket close, a refused
    handshake) reads as end of stream, as it does on a plain socket."""
    context = ssl.create_default_context(cafile=ca or shared_pki().ca)
    context.options |= ssl.OP_IGNORE_UNEXPECTED_EOF
    return context


def secure(sock, enabled=None):
    """`sock` (connected) wrapped in TLS when the suite runs over TLS (or
    when `enabled`)."""
    if not (TLS if enabled is None else enabled):
        return sock
    return client_tls_context().wrap_socket(sock, server_hostname="localhost")


def tcp_connect(port, timeout=5.0):
    """A connection to 127.0.0.1:`port`, over TLS in the TLS rerun."""
    return secure(socket.create_connection(("127.0.0.1", port), timeout=timeout))


def http_connection(port, timeout=5.0):
    """http.client's connection to 127.0.0.1:`port` (HTTPS in the TLS rerun)."""
    import http.client
    if TLS:
        return http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout,
                                           context=client_tls_context())
    return http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)


if TLS:
    # Clients that make their own contexts (websockets, Node's tls) trust
    # the throwaway root through these.
    os.environ["SSL_CERT_FILE"] = shared_pki().ca
    os.environ["NODE_EXTRA_CA_CERTS"] = shared_pki().ca



def source_dir():
    return os.environ.get("HERALD_SOURCE_DIR") or os.path.abspath(
        os.path.join(os.path.dirname(__file__), "..", ".."))


def binary_path():
    path = os.environ.get("HERALD_BINARY")
    if not path:
        path = os.path.join(source_dir(), "build", "apps", "herald", "herald")
    return os.path.abspath(path)


def child_env(extra=None):
    """The environment for a herald child: ours without any HERALD_* variable
    (ctest sets HERALD_BINARY and HERALD_SOURCE_DIR for this process; they are
    not settings), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}
    if extra:
        env.update(extra)
    return env


def run_herald(args, env=None, cwd=None, timeout=15):
    """Runs herald to completion (for --help, --check-config, bad configs...).
    Returns subprocess.CompletedProcess with text stdout/stderr."""
    return subprocess.run([binary_path()] + list(args), env=child_env(env), cwd=cwd,
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=timeout)


def describe_exit(code):
    if code is None:
        return "still running"
    if code < 0:
        try:
            return "killed by signal %s" % signal.Signals(-code).name
        except ValueError:
            return "killed by signal %d" % -code
    return "exit status %d" % code


class HeraldProcess:
    """One running herald server."""

    def __init__(self, args, env=None, cwd=None, log_dir=None, shutdown_timeout_s=3.0):
        self.args = list(args)
        self.env = env
        self.cwd = cwd
        self.shutdown_timeout_s = shutdown_timeout_s
        self.proc = None
        self.port = None
        self.stdout_lines = []
        self.expect_exit = False  # set by tests that stop the server themselves
        self._stdout_thread = None
        log_dir = log_dir or tempfile.mkdtemp(prefix="herald-log-")
        self.stderr_path = os.path.join(log_dir, "herald-%d.stderr" % id(self))

    # -- lifecycle ---------------------------------------------------------
    def start(self, timeout=10.0):
        self._stderr_file = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen([binary_path()] + self.args, env=child_env(self.env),
                                     cwd=self.cwd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=self._stderr_file,
                                     start_new_session=True)
        got_line = threading.Event()

        def pump():  # keep reading stdout so that the server never blocks on it
            for raw in self.proc.stdout:
                line = raw.decode("utf-8", "replace")
                self.stdout_lines.append(line)
                m = LISTEN_RE.match(line)
                if m and self.port is None:
                    self.port = int(m.group(1))
                    got_line.set()
            got_line.set()

        self._stdout_thread = threading.Thread(target=pump, daemon=True)
        self._stdout_thread.start()
        got_line.wait(timeout)
        if self.port is None:
            code = self.proc.poll()
            if code is None:
                self.kill()
            raise AssertionError(
                "herald did not print 'herald: listening on 127.0.0.1:PORT' within %.0fs "
                "(%s)\nargs: %s\nstdout: %r\nstderr: %s" %
                (timeout, describe_exit(code), self.args, "".join(self.stdout_lines),
                 self.stderr_text()))
        return self

    @property
    def pid(self):
        return self.proc.pid

    def poll(self):
        return self.proc.poll()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout):
        """Returns the exit code, or None if still running after `timeout`."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def stop(self):
        """SIGTERM and wait. Returns (exit code, problem or None)."""
        if self.proc is None:
            return None, None
        code = self.proc.poll()
        if code is not None:
            return code, None if code == 0 else "herald had already exited (%s)" % describe_exit(code)
        self.proc.send_signal(signal.SIGTERM)
        code = self.wait_exit(self.shutdown_timeout_s + 10)
        if code is None:
            self.kill()
            return self.proc.returncode, "herald did not exit within %.0fs of SIGTERM" % (
                self.shutdown_timeout_s + 10)
        if code != 0:
            return code, "herald exited with %s after SIGTERM" % describe_exit(code)
        return code, None

    def close_logs(self):
        try:
            self._stderr_file.close()
        except Exception:
            pass

    def stderr_text(self, limit=4000):
        try:
            with open(self.stderr_path, "rb") as f:
                data = f.read()
        except OSError:
            return ""
        text = data.decode("utf-8", "replace")
        return text if len(text) <= limit else "...\n" + text[-limit:]

    # -- observation -------------------------------------------------------
    def rss_kb(self):
        try:
            with open("/proc/%d/status" % self.proc.pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None

    @property
    def ws_url(self):
        return "%s://127.0.0.1:%d/ws" % ("wss" if TLS else "ws", self.port)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------
# HTTP over raw sockets
# ---------------------------------------------------------------------------

class HttpResponse:
    def __init__(self, status, reason, headers, body, raw):
        self.status = status
        self.reason = reason
        self.headers = headers  # dict: lower-case name -> value (last wins)
        self.header_list = []
        self.body = body
        self.raw = raw

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    def __repr__(self):
        return "<HttpResponse %s %r headers=%r body=%r>" % (
            self.status, self.reason, self.headers, self.body[:200])


def parse_response(raw):
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        raise AssertionError("no complete HTTP response header in %r" % raw[:500])
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3})(?: (.*))?$", lines[0])
    if not m:
        raise AssertionError("bad status line %r" % lines[0])
    headers = {}
    header_list = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
        header_list.append((name.strip(), value.strip()))
    r = HttpResponse(int(m.group(1)), m.group(2) or "", headers, body, raw)
    r.header_list = header_list
    return r


def recv_all(sock, timeout):
    """Reads until EOF, reset or `timeout` seconds of total time."""
    deadline = time.monotonic() + timeout
    chunks = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            data = sock.recv(65536)
        except socket.timeout:
            break
        except (ConnectionResetError, BrokenPipeError):
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks)


def http_raw(port, request, timeout=5.0):
    """Sends `request` (bytes, sent verbatim) and reads until the server
    closes the connection. Returns the parsed HttpResponse. Requests should
    carry `Connection: close`."""
    with tcp_connect(port, timeout=timeout) as s:
        try:
            s.sendall(request)
        except (ConnectionResetError, BrokenPipeError):
            pass
        raw = recv_all(s, timeout)
    return parse_response(raw)


def http_get(port, target, method="GET", headers=None, timeout=5.0, body=b""):
    """One request with a verbatim target (and `body`, whose Content-Length
    the caller sets) on a fresh connection."""
    lines = ["%s %s HTTP/1.1" % (method, target), "Host: 127.0.0.1:%d" % port,
             "Connection: close"]
    for k, v in (headers or {}).items():
        lines.append("%s: %s" % (k, v))
    req = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    return http_raw(port, req, timeout)


# ---------------------------------------------------------------------------
# WebSocket over a raw socket
# ---------------------------------------------------------------------------

class HandshakeRefused(Exception):
    def __init__(self, response):
        super().__init__("upgrade refused: HTTP %s" % response.status)
        self.response = response


class Frame:
    __slots__ = ("fin", "opcode", "payload", "rsv1")

    def __init__(self, fin, opcode, payload, rsv1=False):
        self.fin, self.opcode, self.payload = fin, opcode, payload
        self.rsv1 = rsv1  # permessage-deflate: the payload is compressed

    def close_code(self):
        if self.opcode != OP_CLOSE:
            return None
        if len(self.payload) < 2:
            return 1005
        return struct.unpack("!H", self.payload[:2])[0]

    def __repr__(self):
        return "<Frame fin=%s op=%#x len=%d %r>" % (self.fin, self.opcode, len(self.payload),
                                                    self.payload[:60])


def encode_frame(opcode, payload, fin=True, mask=True):
    header = bytearray([(0x80 if fin else 0) | opcode])
    n = len(payload)
    mbit = 0x80 if mask else 0
    if n < 126:
        header.append(mbit | n)
    elif n < 65536:
        header.append(mbit | 126)
        header += struct.pack("!H", n)
    else:
        header.append(mbit | 127)
        header += struct.pack("!Q", n)
    if not mask:
        return bytes(header) + payload
    key = os.urandom(4)
    header += key
    if n:
        data_int = int.from_bytes(payload, "little")
        key_int = int.from_bytes((key * (n // 4 + 1))[:n], "little")
        payload = (data_int ^ key_int).to_bytes(n, "little")
    return bytes(header) + payload


class RawWebSocket:
    """A WebSocket client on a blocking socket, doing everything by hand.

    It does not answer pings unless asked to (`read_frame(answer_pings=True)`),
    so it can play a dead client."""

    def __init__(self, port, path="/ws", headers=None, rcvbuf=None, timeout=10.0, key=None):
        self.port = port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        self.sock = secure(self.sock)
        self.buf = b""
        self.eof = False
        if key is None:
            key = base64.b64encode(os.urandom(16)).decode()
        lines = ["GET %s HTTP/1.1" % path, "Host: 127.0.0.1:%d" % port, "Upgrade: websocket",
                 "Connection: Upgrade", "Sec-WebSocket-Key: %s" % key,
                 "Sec-WebSocket-Version: 13"]
        for k, v in (headers or {}).items():
            lines.append("%s: %s" % (k, v))
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buf:
            if time.monotonic() > deadline:
                raise TimeoutError("no handshake response")
            data = self.sock.recv(65536)
            if not data:
                break
            self.buf += data
        head, sep, rest = self.buf.partition(b"\r\n\r\n")
        if not sep:
            self.sock.close()
            raise AssertionError("connection closed during handshake: %r" % self.buf)
        response = parse_response(head + b"\r\n\r\n")
        if response.status != 101:
            body = rest + recv_all(self.sock, 1.0)
            self.sock.close()
            response.body = body
            raise HandshakeRefused(response)
        self.response = response  # the 101, headers included
        expected = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        got = response.header("sec-websocket-accept")
        if got != expected:
            self.sock.close()
            raise AssertionError("bad Sec-WebSocket-Accept %r (expected %r)" % (got, expected))
        self.buf = rest

    def send_frame(self, opcode, payload, fin=True):
        self.sock.sendall(encode_frame(opcode, payload, fin=fin))

    def send_text(self, text):
        self.send_frame(OP_TEXT, text.encode("utf-8") if isinstance(text, str) else text)

    def send_close(self, code=1000, reason=b""):
        try:
            self.send_frame(OP_CLOSE, struct.pack("!H", code) + reason)
        except OSError:
            pass

    def _fill(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("timed out waiting for data")
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(max(65536, n - len(self.buf)))
            except ConnectionResetError:
                data = b""
            if not data:
                self.eof = True
                raise EOFError("connection closed by server")
            self.buf += data

    def read_frame(self, timeout=10.0, answer_pings=False):
        """Returns the next Frame. Raises EOFError when the TCP connection is
        closed (or reset) and TimeoutError after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            self._fill(2, deadline)
            b0, b1 = self.buf[0], self.buf[1]
            n = b1 & 0x7F
            pos = 2
            if n == 126:
                self._fill(4, deadline)
                n = struct.unpack("!H", self.buf[2:4])[0]
                pos = 4
            elif n == 127:
                self._fill(10, deadline)
                n = struct.unpack("!Q", self.buf[2:10])[0]
                pos = 10
            if b1 & 0x80:
                raise AssertionError("server sent a masked frame")
            self._fill(pos + n, deadline)
            frame = Frame(bool(b0 & 0x80), b0 & 0x0F, self.buf[pos:pos + n], bool(b0 & 0x40))
            self.buf = self.buf[pos + n:]
            if frame.opcode == OP_PING and answer_pings:
                try:
                    self.send_frame(OP_PONG, frame.payload)
                except OSError:
                    pass
                continue
            return frame

    def read_until_close(self, timeout=10.0, answer_pings=True):
        """Reads frames until a close frame or EOF.
        Returns (data frames, close frame or None). Raises TimeoutError."""
        deadline = time.monotonic() + timeout
        frames = []
        while True:
            try:
                f = self.read_frame(max(0.0, deadline - time.monotonic()), answer_pings)
            except EOFError:
                return frames, None
            if f.opcode == OP_CLOSE:
                return frames, f
            frames.append(f)

    def wait_closed(self, timeout=5.0):
        """After a close frame: true if the server ends the TCP connection."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                self.read_frame(max(0.0, deadline - time.monotonic()))
        except EOFError:
            return True
        except TimeoutError:
            return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def abort(self):
        """Drops the connection with a TCP RST, without a close frame."""
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close()


def make_static_tree(root):
    """Builds a static dir `root/static` plus things outside it that no
    request may read: `root/secret.txt`, `root/outside/secret.txt`, and
    symlinks to them from inside the static dir. Returns the static dir."""
    static = os.path.join(root, "static")
    os.makedirs(os.path.join(static, "sub"))
    os.makedirs(os.path.join(static, "empty"))
    os.makedirs(os.path.join(root, "outside"))
    files = {
        "index.html": "<!doctype html><title>herald test</title><p>root index</p>\n",
        "style.css": "body { color: #123456; }\n",
        "app.js": "console.log('herald test app');\n",
        "data.json": '{"ok": true}\n',
        "blob.xyzunknown": "opaque bytes\n",
        "noext": "no extension\n",
        "hello world.txt": "spaced name\n",
        "sub/index.html": "<!doctype html><p>sub index</p>\n",
        "sub/page.html": "<!doctype html><p>sub page</p>\n",
        "empty/readme.txt": "folder without index\n",
    }
    for name, content in files.items():
        with open(os.path.join(static, name), "w") as f:
            f.write(content)
    with open(os.path.join(static, "bin.dat"), "wb") as f:
        f.write(bytes(range(256)) * 40)
    for path in (os.path.join(root, "secret.txt"), os.path.join(root, "outside", "secret.txt")):
        with open(path, "w") as f:
            f.write(SECRET_MARKER + "\n")
    os.symlink(os.path.join(root, "secret.txt"), os.path.join(static, "leak.txt"))
    os.symlink("../secret.txt", os.path.join(static, "leak-relative.txt"))
    os.symlink(os.path.join(root, "outside"), os.path.join(static, "leakdir"))
    # a symlink that stays inside is fine to serve (or to refuse), but must not crash
    os.symlink("style.css", os.path.join(static, "inner-link.css"))
    return static


def run(coro, timeout=60):
    """Runs one test's coroutine with a hard time limit."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def connect(server, **kwargs):
    """A python3-websockets client on the server's /ws, with test defaults:
    no client pings, large frames allowed, bounded open and close."""
    import websockets
    kwargs.setdefault("ping_interval", None)
    kwargs.setdefault("max_size", 2 ** 24)
    kwargs.setdefault("close_timeout", 2)
    kwargs.setdefault("open_timeout", 10)
    return await websockets.connect(server.ws_url, **kwargs)
