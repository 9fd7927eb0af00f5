"""Helpers for tests of Centrifugo's client protocol (/connection/websocket,
docs/protocol.md) and server HTTP API (POST /api/<method>).

The plain functions (make_token, url, open_client, command, connected,
closed_with, subscribe) are the ones test_client_protocol.py grew, with the
same signatures. `Client` adds what tests with several clients and pushes
need: replies matched to their command by id, pushes queued apart from
them, server pings (`{}`) answered or kept, and a check that nothing more
arrives. `api()` makes one server API call over a raw socket.
"""

import asyncio
import base64
import hashlib
import hmac
import json
import time

import websockets

import herald_harness as hh

SECRET = "integration-secret"


def make_token(claims, secret=SECRET, alg="HS256"):
    """An HS256 JWT (connection or channel token) with `claims`."""
    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    header = b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    signature = b64(hmac.new(secret.encode(), f"{header}.{body}".encode(),
                             hashlib.sha256).digest())
    return f"{header}.{body}.{signature}"


def url(srv, path="/connection/websocket"):
    return "%s://127.0.0.1:%d%s" % ("wss" if hh.TLS else "ws", srv.port, path)


async def open_client(srv, **kwargs):
    kwargs.setdefault("ping_interval", None)
    kwargs.setdefault("close_timeout", 2)
    kwargs.setdefault("open_timeout", 10)
    return await websockets.connect(url(srv), **kwargs)


async def command(ws, text):
    """Sends `text` and returns the JSON lines of the next frame."""
    await ws.send(text)
    return [json.loads(line) for line in (await asyncio.wait_for(ws.recv(), 10)).split("\n")]


async def command_replies(ws, text, ids, timeout=10):
    """Sends `text` and returns the replies with `ids`, in the order they
    came, and any pushes that came with them. Replies the broadcaster gives
    (subscribe, publish, presence, history) may follow those the session
    gives at once (connect, unsubscribe, refresh): clients match them by id."""
    await ws.send(text)
    replies, pushes = [], []
    while {r.get("id") for r in replies} != set(ids):
        frame = await asyncio.wait_for(ws.recv(), timeout)
        for line in frame.split("\n"):
            message = json.loads(line)
            (replies if "id" in message else pushes).append(message)
    return replies, pushes


async def connected(srv, token=None):
    ws = await open_client(srv)
    params = {"name": "test"}
    if token:
        params["token"] = token
    reply = await command(ws, json.dumps({"connect": params, "id": 1}))
    assert "connect" in reply[0], reply
    return ws, reply[0]["connect"]


async def closed_with(ws):
    """Reads until the server closes; returns its (code, reason)."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), 10)
    except websockets.ConnectionClosed as closed:
        return closed.rcvd.code, closed.rcvd.reason


async def subscribe(ws, channel, command_id, **params):
    params["channel"] = channel
    reply = await command(ws, json.dumps({"subscribe": params, "id": command_id}))
    assert reply[0]["id"] == command_id, reply
    return reply[0]


class Closed(Exception):
    """The server closed the connection while a reply or push was awaited."""

    def __init__(self, code, reason):
        super().__init__("connection closed: %s %r" % (code, reason))
        self.code, self.reason = code, reason


class Client:
    """One client-protocol connection.

    `call()` sends a command and returns its reply (the whole JSON object,
    `id` included); pushes read meanwhile are queued for `push()`. Server
    pings (`{}`) are answered with `{}` when `answer_pings`, and counted in
    `pings`; they are never returned as pushes."""

    def __init__(self, ws, answer_pings=True):
        self.ws = ws
        self.answer_pings = answer_pings
        self.pings = 0
        self.pushes = []
        self.replies = {}
        self.next_id = 1
        self.result = None  # the connect reply's result
        self.closed = None  # (code, reason) once the server closed

    @classmethod
    async def open(cls, srv, token=None, answer_pings=True, **params):
        """Connects and sends `connect` (with `token` and `params`); the
        reply must be a connect result."""
        client = cls(await open_client(srv), answer_pings)
        reply = await client.connect(token, **params)
        assert "connect" in reply, reply
        client.result = reply["connect"]
        return client

    @property
    def client_id(self):
        return self.result["client"]

    async def connect(self, token=None, **params):
        if token is not None:
            params["token"] = token
        return await self.call("connect", params)

    async def send(self, text):
        await self.ws.send(text)

    async def _read(self, timeout):
        if self.closed:
            raise Closed(*self.closed)
        try:
            frame = await asyncio.wait_for(self.ws.recv(), timeout)
        except websockets.ConnectionClosed as closed:
            self.closed = (closed.rcvd.code, closed.rcvd.reason) if closed.rcvd else (1006, "")
            raise Closed(*self.closed)
        for line in frame.split("\n"):
            message = json.loads(line)
            if message == {}:
                self.pings += 1
                if self.answer_pings:
                    await self.ws.send("{}")
            elif "id" in message:
                self.replies[message["id"]] = message
            else:
                self.pushes.append(message)

    async def call(self, method, params=None, timeout=10):
        """Sends one command and waits for the reply with its id."""
        command_id = self.next_id
        self.next_id += 1
        await self.ws.send(json.dumps({method: params or {}, "id": command_id}))
        return await self.reply(command_id, timeout)

    async def reply(self, command_id, timeout=10):
        deadline = time.monotonic() + timeout
        while command_id not in self.replies:
            left = deadline - time.monotonic()
            if left <= 0:
                raise asyncio.TimeoutError("no reply to command %d" % command_id)
            await self._read(left)
        return self.replies.pop(command_id)

    async def ok(self, method, params=None):
        """call() that must succeed; returns the method's result."""
        reply = await self.call(method, params)
        assert method in reply, reply
        return reply[method]

    async def error(self, method, params=None):
        """call() that must fail; returns the error object."""
        reply = await self.call(method, params)
        assert "error" in reply, reply
        return reply["error"]

    async def subscribe(self, channel, **params):
        params["channel"] = channel
        return await self.ok("subscribe", params)

    async def publish(self, channel, data):
        return await self.ok("publish", {"channel": channel, "data": data})

    async def push(self, timeout=5):
        """The next push (`{"push":{..}}` without the outer object)."""
        deadline = time.monotonic() + timeout
        while not self.pushes:
            left = deadline - time.monotonic()
            if left <= 0:
                raise asyncio.TimeoutError("no push within %.1fs" % timeout)
            await self._read(left)
        return self.pushes.pop(0)["push"]

    async def pushes_until(self, predicate, timeout=5):
        """Pushes up to and including the first one `predicate` accepts."""
        seen = []
        while True:
            seen.append(await self.push(timeout))
            if predicate(seen[-1]):
                return seen

    async def no_push(self, seconds=0.3):
        """Asserts that no push arrives within `seconds` (a close counts)."""
        assert not self.pushes, self.pushes

        def check():
            assert not self.pushes, "unexpected push %r" % self.pushes
        await self.pump(seconds, after_each=check)

    async def pump(self, seconds, after_each=None):
        """Reads for `seconds`: queues pushes and answers pings, calling
        `after_each` after every message read."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                await self._read(left)
            except asyncio.TimeoutError:
                return
            if after_each:
                after_each()

    async def closed_with(self, timeout=10):
        """Reads (answering pings) until the server closes; its (code, reason)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise asyncio.TimeoutError("still open after %.1fs" % timeout)
            try:
                await self._read(left)
            except Closed as closed:
                return closed.code, closed.reason

    async def close(self):
        await self.ws.close()


async def eventually(produce, expected, timeout=5):
    """Awaits `produce()` until it returns `expected` (state that follows a
    close or an unsubscribe a moment later); returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = await produce()
        if value == expected or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.02)


async def clients(srv, count, token=None, **params):
    return [await Client.open(srv, token, **params) for _ in range(count)]


async def close_all(*items):
    for item in items:
        await item.close()


# ---------------------------------------------------------------------------
# Server API
# ---------------------------------------------------------------------------

class ApiReply:
    def __init__(self, response):
        self.status = response.status
        self.response = response
        self.body = response.body
        self.json = None
        if response.header("content-type", "").startswith("application/json") and \
                b"\n" not in response.body:  # the legacy /api answers a line per command
            self.json = json.loads(response.body)

    def header(self, name, default=None):
        return self.response.header(name, default)

    def __repr__(self):
        return "<ApiReply %s %r>" % (self.status, self.body[:300])


def api_request(port, method, body, headers=None, http_method="POST", path=None):
    """One request to /api/<method>; `body` is sent as JSON unless it is
    str or bytes. Returns an ApiReply."""
    if not isinstance(body, (str, bytes)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    lines = ["%s %s HTTP/1.1" % (http_method, path or "/api/" + method),
             "Host: 127.0.0.1:%d" % port, "Connection: close",
             "Content-Type: application/json", "Content-Length: %d" % len(body)]
    for k, v in (headers or {}).items():
        lines.append("%s: %s" % (k, v))
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    return ApiReply(hh.http_raw(port, request))


def api(srv, method, body=None, headers=None):
    """A server API call that must get HTTP 200 with JSON; returns the JSON."""
    reply = api_request(srv.port, method, {} if body is None else body, headers)
    assert reply.status == 200 and reply.json is not None, reply
    return reply.json


async def api_async(srv, method, body=None, headers=None):
    """api() off the event loop, for calls made while clients are open."""
    return await asyncio.get_running_loop().run_in_executor(
        None, lambda: api(srv, method, body, headers))
