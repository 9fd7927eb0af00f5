"""A throwaway PKI for the TLS tests, made with the `openssl` command at
test time: a root CA, an intermediate CA, and server certificates for
localhost and 127.0.0.1 signed by the intermediate, their chain in the same
file (as a real deployment's fullchain.pem). Clients trust the root only, so
a handshake that succeeds proves the chain was sent.

Also: a second server pair (for rotation), an expired certificate, a key
that belongs to no certificate here, and a file that is not PEM."""

import os
import subprocess

SERVER_EXTENSIONS = """\
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
"""
INTERMEDIATE_EXTENSIONS = """\
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
"""
# `openssl ca` is the only way OpenSSL 3.0's command line sets a validity
# period in the past (x509 -req takes -days only).
CA_CONFIG = """\
[ca]
default_ca = test_ca
[test_ca]
dir = {dir}
database = {dir}/index.txt
new_certs_dir = {dir}
serial = {dir}/serial
default_md = sha256
policy = anything
copy_extensions = none
x509_extensions = server_ext
[anything]
commonName = supplied
[server_ext]
""" + SERVER_EXTENSIONS


def _openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


def _new_key(name, cwd):
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-out", name, cwd=cwd)


class ThrowawayPki:
    def __init__(self, directory):
        self.dir = str(directory)
        os.makedirs(self.dir, exist_ok=True)
        d = self.dir
        with open(os.path.join(d, "server.ext"), "w") as f:
            f.write(SERVER_EXTENSIONS)
        with open(os.path.join(d, "intermediate.ext"), "w") as f:
            f.write(INTERMEDIATE_EXTENSIONS)
        _new_key("root.key", d)
        _openssl("req", "-x509", "-new", "-key", "root.key", "-days", "3", "-subj",
                 "/CN=Herald Test Root", "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", "root.pem", cwd=d)
        _new_key("intermediate.key", d)
        _openssl("req", "-new", "-key", "intermediate.key", "-subj",
                 "/CN=Herald Test Intermediate", "-out", "intermediate.csr", cwd=d)
        _openssl("x509", "-req", "-in", "intermediate.csr", "-CA", "root.pem", "-CAkey",
                 "root.key", "-CAcreateserial", "-days", "3", "-extfile", "intermediate.ext",
                 "-out", "intermediate.pem", cwd=d)
        self.ca = os.path.join(d, "root.pem")
        self.cert, self.key = self._server_pair("server")
        self.other_cert, self.other_key = self._server_pair("other")
        self.expired_cert, self.expired_key = self._expired_pair()
        _new_key("stray.key", d)
        self.stray_key = os.path.join(d, "stray.key")
        self.not_pem = os.path.join(d, "not-pem.txt")
        with open(self.not_pem, "w") as f:
            f.write("this is not a certificate\n")

    def _server_pair(self, name):
        d = self.dir
        _new_key(name + ".key", d)
        _openssl("req", "-new", "-key", name + ".key", "-subj", "/CN=localhost", "-out",
                 name + ".csr", cwd=d)
        _openssl("x509", "-req", "-in", name + ".csr", "-CA", "intermediate.pem", "-CAkey",
                 "intermediate.key", "-CAcreateserial", "-days", "2", "-extfile", "server.ext",
                 "-out", name + ".leaf.pem", cwd=d)
        chain = os.path.join(d, name + ".pem")
        with open(chain, "w") as out:
            for part in (name + ".leaf.pem", "intermediate.pem"):
                with open(os.path.join(d, part)) as f:
                    out.write(f.read())
        return chain, os.path.join(d, name + ".key")

    def _expired_pair(self):
        d = self.dir
        with open(os.path.join(d, "ca.cnf"), "w") as f:
            f.write(CA_CONFIG.format(dir=d))
        open(os.path.join(d, "index.txt"), "w").close()
        with open(os.path.join(d, "serial"), "w") as f:
            f.write("1000\n")
        _new_key("expired.key", d)
        _openssl("req", "-new", "-key", "expired.key", "-subj", "/CN=localhost", "-out",
                 "expired.csr", cwd=d)
        _openssl("ca", "-batch", "-config", "ca.cnf", "-cert", "intermediate.pem", "-keyfile",
                 "intermediate.key", "-startdate", "20200101000000Z", "-enddate",
                 "20200201000000Z", "-in", "expired.csr", "-out", "expired.pem", "-notext",
                 cwd=d)
        return os.path.join(d, "expired.pem"), os.path.join(d, "expired.key")

    def fingerprint(self, cert_path):
        """SHA-256 fingerprint of the first certificate in `cert_path`, as
        bytes (compare with SSLSocket.getpeercert(True) hashed)."""
        out = subprocess.run(["openssl", "x509", "-in", cert_path, "-outform", "DER"],
                             check=True, capture_output=True).stdout
        import hashlib
        return hashlib.sha256(out).digest()
