"""A partner's receiver: a real HTTP server on 127.0.0.1 (a free port, in a thread) that records
every request and can be told to fail the first N of them, or to redirect."""
from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from rest_framework.test import APIClient

from partnerships.models import PartnerAPIKey
from tests.factories import council
from tests.performance.conftest import approver, count_indicator, forum_admin, officer, period  # noqa: F401 (fixtures)
from webhooks import services
from webhooks.models import Event


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)

    def signature_valid(self, secret: str) -> bool:
        """How a partner checks a delivery: the HMAC of "<timestamp>.<body>" with its secret."""
        expected = hmac.new(secret.encode(), self.headers["X-KentForum-Timestamp"].encode() + b"." + self.body,
                            hashlib.sha256).hexdigest()
        return hmac.compare_digest(f"sha256={expected}", self.headers["X-KentForum-Signature"])


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    fail_first: int = 0  # answer 500 to this many requests first
    status: int = 200  # then this
    location: str = ""  # with a 3xx status: where to
    delay: float = 0.0  # seconds to think before recording the request and answering it

    def handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                time.sleep(receiver.delay)
                receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
                if receiver.fail_first > 0:
                    receiver.fail_first -= 1
                    code = 500
                else:
                    code = receiver.status
                self.send_response(code)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def do_GET(self):  # a followed redirect would arrive here
                receiver.requests.append(Received(self.path, dict(self.headers.items()), b""))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        return Handler


def serve(box: Receiver, scheme: str = "http", host: str = "127.0.0.1", tls: ssl.SSLContext | None = None):
    server = ThreadingHTTPServer(("127.0.0.1", 0), box.handler())
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    box.url = f"{scheme}://{host}:{server.server_address[1]}/hooks/kentforum"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


@pytest.fixture
def receiver():
    box = Receiver(url="")
    server = serve(box)
    yield box
    server.shutdown()
    server.server_close()


@pytest.fixture
def tls_receiver(tmp_path):
    """The receiver over HTTPS at https://localhost:<port>, with a certificate for localhost made
    here (so trusted by no one until a test says so); yields the receiver and the certificate."""
    if shutil.which("openssl") is None:
        pytest.skip("needs openssl to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
        check=True, capture_output=True,
    )
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    box = Receiver(url="")
    server = serve(box, "https", "localhost", tls)
    yield box, str(cert)
    server.shutdown()
    server.server_close()


@pytest.fixture
def ashford_key(db):
    """Ashford Borough Council's read key (the raw key, and the stored one)."""
    key, raw = PartnerAPIKey.objects.create_key(name="Ashford systems", partner=council(), scope="read")
    return key, raw


@pytest.fixture
def dover_key(db):
    key, raw = PartnerAPIKey.objects.create_key(name="Dover systems", partner=council("Dover District Council"),
                                                scope="submit")
    return key, raw


def key_client(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


@pytest.fixture
def endpoint(receiver, ashford_key):
    """Ashford's endpoint for every event, at the receiver."""
    return services.endpoint_create(partner=council(), url=receiver.url, events=list(Event.values),
                                    created_by_key=ashford_key[0])
