"""Static files from static-dir (docs/protocol.md)."""

import email.utils
import os
import socket

import pytest

import herald_harness as hh

SECRET = hh.SECRET_MARKER.encode()


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("static-tree")
    return hh.make_static_tree(str(root))


@pytest.fixture(scope="module")
def server(module_start_herald, tree):
    return module_start_herald(static_dir=tree)


@pytest.fixture(autouse=True)
def still_alive(server):
    yield
    assert server.alive(), "herald died: %s\n%s" % (hh.describe_exit(server.poll()),
                                                    server.stderr_text())


def read_file(tree, name):
    with open(os.path.join(tree, name), "rb") as f:
        return f.read()


def assert_serves(server, target, tree, name, content_type_prefix):
    r = hh.http_get(server.port, target)
    assert r.status == 200, r
    expected = read_file(tree, name)
    assert r.body == expected, r
    assert r.header("content-length") == str(len(expected)), r.headers
    ctype = r.header("content-type", "")
    assert ctype.lower().startswith(content_type_prefix), (target, ctype)
    assert r.header("etag"), "no ETag for %s" % target
    assert r.header("last-modified"), "no Last-Modified for %s" % target
    assert email.utils.parsedate_to_datetime(r.header("last-modified")) is not None
    return r


def test_index_at_root(server, tree):
    r = assert_serves(server, "/", tree, "index.html", "text/html")
    assert r.header("content-type").lower().replace(" ", "") == "text/html;charset=utf-8"


def test_named_html(server, tree):
    r = assert_serves(server, "/index.html", tree, "index.html", "text/html")
    assert "charset=utf-8" in r.header("content-type").lower().replace(" ", "")


@pytest.mark.parametrize("name,ctype", [
    ("style.css", "text/css"),
    ("app.js", "text/javascript"),
    ("data.json", "application/json"),
    ("blob.xyzunknown", "application/octet-stream"),
    ("noext", "application/octet-stream"),
    ("bin.dat", "application/octet-stream"),
])
def test_content_types(server, tree, name, ctype):
    assert_serves(server, "/" + name, tree, name, ctype)


def test_folder_serves_its_index(server, tree):
    assert_serves(server, "/sub/", tree, "sub/index.html", "text/html")
    assert_serves(server, "/sub/page.html", tree, "sub/page.html", "text/html")


def test_folder_without_trailing_slash(server, tree):
    r = hh.http_get(server.port, "/sub")
    if r.status in (301, 302, 307, 308):
        assert r.header("location", "").endswith("/sub/"), r
    else:
        assert r.status == 200 and r.body == read_file(tree, "sub/index.html"), r


def test_folder_without_index_is_not_listed(server):
    r = hh.http_get(server.port, "/empty/")
    assert r.status in (403, 404), r
    assert b"readme.txt" not in r.body


def test_percent_decoding(server, tree):
    assert_serves(server, "/hello%20world.txt", tree, "hello world.txt", "text/plain")
    assert_serves(server, "/%73tyle.css", tree, "style.css", "text/css")


def test_query_string_ignored(server, tree):
    assert_serves(server, "/style.css?v=123&x=../../secret.txt", tree, "style.css", "text/css")
    assert_serves(server, "/?q=1", tree, "index.html", "text/html")


def test_missing_file_404(server):
    for target in ("/nope.html", "/sub/nope", "/nope/", "/index.html/extra"):
        r = hh.http_get(server.port, target)
        assert r.status == 404, (target, r)


def test_if_none_match_304(server):
    r = hh.http_get(server.port, "/style.css")
    etag = r.header("etag")
    assert etag
    r2 = hh.http_get(server.port, "/style.css", headers={"If-None-Match": etag})
    assert r2.status == 304, r2
    assert r2.body == b"", r2
    r3 = hh.http_get(server.port, "/style.css", headers={"If-None-Match": '"not-the-etag"'})
    assert r3.status == 200, r3
    # a list holding the tag matches too
    r4 = hh.http_get(server.port, "/style.css",
                     headers={"If-None-Match": '"other", %s' % etag})
    assert r4.status == 304, r4


def test_if_modified_since_304(server):
    r = hh.http_get(server.port, "/app.js")
    last_modified = r.header("last-modified")
    assert last_modified
    r2 = hh.http_get(server.port, "/app.js", headers={"If-Modified-Since": last_modified})
    assert r2.status == 304, r2
    assert r2.body == b""
    r3 = hh.http_get(server.port, "/app.js",
                     headers={"If-Modified-Since": "Mon, 01 Jan 1990 00:00:00 GMT"})
    assert r3.status == 200 and r3.body, r3


def test_etag_changes_with_content(server, tree):
    r1 = hh.http_get(server.port, "/sub/page.html")
    path = os.path.join(tree, "sub", "page.html")
    with open(path, "w") as f:
        f.write("<!doctype html><p>sub page, changed and longer</p>\n")
    st = os.stat(path)
    os.utime(path, (st.st_atime + 5, st.st_mtime + 5))
    r2 = hh.http_get(server.port, "/sub/page.html")
    assert r2.status == 200 and b"changed" in r2.body, r2
    assert r2.header("etag") != r1.header("etag")
    r3 = hh.http_get(server.port, "/sub/page.html", headers={"If-None-Match": r1.header("etag")})
    assert r3.status == 200, r3


def test_head_has_headers_and_no_body(server, tree):
    r = hh.http_get(server.port, "/style.css", method="HEAD")
    assert r.status == 200, r
    assert r.header("content-length") == str(len(read_file(tree, "style.css")))
    assert r.header("content-type", "").startswith("text/css")
    assert r.header("etag") and r.header("last-modified")
    assert r.body == b"", "HEAD must not send a body: %r" % r.body


def test_keep_alive_with_http_client(server, tree):
    conn = hh.http_connection(server.port, timeout=5)
    try:
        for name in ("index.html", "style.css", "app.js"):
            conn.request("GET", "/" + name)
            resp = conn.getresponse()
            assert resp.status == 200
            assert resp.read() == read_file(tree, name)
    finally:
        conn.close()


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_other_methods_405_with_allow(server, method):
    conn = hh.http_connection(server.port, timeout=5)
    try:
        conn.request(method, "/index.html", body=b"x=1",
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 405, (method, resp.status)
        allow = resp.getheader("Allow", "")
        methods = {m.strip().upper() for m in allow.split(",")}
        assert {"GET", "HEAD"} <= methods, "Allow: %r" % allow
    finally:
        conn.close()


TRAVERSAL_TARGETS = [
    "/../secret.txt",
    "/../../secret.txt",
    "/sub/../../secret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E/secret.txt",
    "/.%2e/secret.txt",
    "/%2e%2e%2fsecret.txt",
    "/..%2fsecret.txt",
    "/..%2Fsecret.txt",
    "/sub/..%2f..%2fsecret.txt",
    "/sub/%2e%2e/%2e%2e/secret.txt",
    "/%2fsecret.txt",
    "/..%5csecret.txt",
    "/%5c..%5csecret.txt",
    "/..\\secret.txt",
    "/sub\\..\\..\\secret.txt",
    "/%252e%252e/secret.txt",
    "/index.html%00.css",
    "/%00",
    "/secret.txt%00",
    "/leak.txt",
    "/leak-relative.txt",
    "/leakdir/secret.txt",
    "/leakdir/",
    "/outside/secret.txt",
    "/%2e%2e/outside/secret.txt",
    "/..",
    "/%2e%2e",
    "/./../secret.txt",
    "/sub/./../../outside/secret.txt",
    "/%",
    "/%zz",
]


@pytest.mark.parametrize("target", TRAVERSAL_TARGETS)
def test_no_escape_from_static_dir(server, target):
    r = hh.http_get(server.port, target)
    assert SECRET not in r.raw, "served a file outside static-dir for %r" % target
    assert r.status in (400, 404), (target, r)


def test_absolute_paths_do_not_escape(server, tree):
    root = os.path.dirname(tree)
    for target in ("/" + os.path.join(root, "secret.txt"), "//" + os.path.join(root, "secret.txt"),
                   "/%2f" + os.path.join(root, "secret.txt").lstrip("/")):
        r = hh.http_get(server.port, target)
        assert SECRET not in r.raw, target
        assert r.status in (400, 404), (target, r)


def test_inner_symlink_does_not_crash(server):
    r = hh.http_get(server.port, "/inner-link.css")
    assert r.status in (200, 403, 404), r


def test_oversized_headers_431(server):
    big = "a" * 10000
    r = hh.http_get(server.port, "/index.html", headers={"X-Big": big})
    assert r.status == 431, r
    many = {"X-Filler-%03d" % i: "b" * 100 for i in range(100)}  # ~11 KB in total
    r = hh.http_get(server.port, "/index.html", headers=many)
    assert r.status == 431, r
    # a request comfortably under 8 KiB is fine
    ok = {"X-Filler-%03d" % i: "c" * 100 for i in range(40)}  # ~4.5 KB
    r = hh.http_get(server.port, "/index.html", headers=ok)
    assert r.status == 200, r


def test_garbage_requests_do_not_stop_the_server(server, tree):
    junk = [
        b"\x00\x01\x02\x03\r\n\r\n",
        b"GET\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
        b"GET /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
        b"GET /index.html HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HELLO WORLD\r\n\r\n",
        b"GET /index.html HTTP/1.1\r\nBad Header Line\r\n\r\n",
        b"GET " + b"/a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    ]
    for req in junk:
        with hh.tcp_connect(server.port, timeout=5) as s:
            try:
                s.sendall(req)
            except OSError:
                pass
            data = hh.recv_all(s, 3.0)
        assert SECRET not in data
        if data:
            assert data.startswith(b"HTTP/1."), (req[:40], data[:200])
            status = int(data.split(b" ", 2)[1])
            assert 400 <= status < 500, (req[:40], data[:200])
    # a connection that opens and closes without a byte
    socket.create_connection(("127.0.0.1", server.port), timeout=5).close()
    assert_serves(server, "/", tree, "index.html", "text/html")


def test_still_serving_after_bad_requests(server, tree):
    assert_serves(server, "/", tree, "index.html", "text/html")
    assert hh.http_get(server.port, "/health").status == 200
