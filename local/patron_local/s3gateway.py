"""S3 as clients and handlers reach it locally: an HTTP endpoint in front of moto's S3 that checks presigned
URLs the way S3 does and announces each new object (S3's Object Created event) to the runtime.

moto stores the objects but does not check signatures, and its notifications do not reach EventBridge rules.
This endpoint (the handlers' AWS_ENDPOINT_URL_S3, so presigned URLs point at it too):

- verifies a presigned request (query-string SigV4) before moto sees it: an expired URL is 403 AccessDenied, a
  wrong signature 403 SignatureDoesNotMatch. Signed headers take part in the signature, so a PUT whose
  Content-Length (or Content-Type, If-None-Match) differs from the signed one is refused, as S3 refuses it;
- forwards every request to moto as it came (moto ignores signatures: header-signed SDK calls pass as they
  are, and presigned ones have been checked here);
- after a successful PutObject, CopyObject or CompleteMultipartUpload, calls `on_object_created(bucket, key,
  reason, source_ip)`; the runtime turns that into the EventBridge event of a bucket that sends them.

Path-style addressing only (the runtime's clients use it).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import logging
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, unquote, urlsplit
from xml.sax.saxutils import escape

LOGGER = logging.getLogger(__name__)

ObjectCreated = Callable[[str, str, str, str], None]

# Headers that belong to one connection, not to the request (RFC 9110 §7.6.1), and Host, which becomes moto's.
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "expect",
    "host",
}
_AUTH_QUERY = "x-amz-"  # presigned URLs' own parameters (X-Amz-Signature, ...)
_MAX_EXPIRES_S = 7 * 24 * 3600  # SigV4's ceiling


def _s3_error(status: int, code: str, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{escape(message)}</Message></Error>"
    ).encode()
    return status, [("Content-Type", "application/xml")], body


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def presigned_error(
    method: str,
    path: str,
    query: list[tuple[str, str]],
    headers: Mapping[str, str],
    secrets: Mapping[str, str],
    now: datetime,
) -> tuple[int, str, str] | None:
    """Why S3 would refuse this presigned (query-signed SigV4) request, as (status, code, message); None when it
    is valid or not presigned. `path` is the path as sent (still percent-encoded); `headers` keyed lower-case."""
    params = dict(query)
    if "X-Amz-Signature" not in params:
        return None
    try:
        algorithm = params["X-Amz-Algorithm"]
        access_key, scope_date, region, service, terminal = params["X-Amz-Credential"].split("/")
        signed_at = datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        expires = int(params["X-Amz-Expires"])
        signed_headers = params["X-Amz-SignedHeaders"]
    except (KeyError, ValueError):
        return 400, "AuthorizationQueryParametersError", "Query-string authentication requires X-Amz-* parameters."
    if algorithm != "AWS4-HMAC-SHA256" or not 1 <= expires <= _MAX_EXPIRES_S:
        return 400, "AuthorizationQueryParametersError", "Unsupported algorithm or expiry."
    secret = secrets.get(access_key)
    if secret is None:
        return 403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."
    if now > signed_at + timedelta(seconds=expires):
        return 403, "AccessDenied", "Request has expired"
    # The canonical request as SigV4 defines it (and botocore builds it for S3): the path as sent, the query
    # without the signature, each signed header's value with its whitespace folded, an unsigned payload.
    canonical_query = "&".join(
        f"{quote(name, safe='-_.~')}={quote(value, safe='-_.~')}"
        for name, value in sorted(query)
        if name != "X-Amz-Signature"
    )
    names = signed_headers.split(";")
    canonical_headers = "".join(f"{name}:{' '.join(headers.get(name, '').split())}\n" for name in names)
    canonical_request = "\n".join(
        [
            method,
            path,
            canonical_query,
            canonical_headers,
            signed_headers,
            params.get("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"),
        ]
    )
    scope = f"{scope_date}/{region}/{service}/{terminal}"
    string_to_sign = "\n".join(
        [algorithm, params["X-Amz-Date"], scope, hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()]
    )
    key = _hmac(f"AWS4{secret}".encode(), scope_date)
    for part in (region, service, terminal):
        key = _hmac(key, part)
    expected = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, params["X-Amz-Signature"]):
        return (
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.",
        )
    return None


def created_by(method: str, path: str, query: list[tuple[str, str]], headers: Mapping[str, str]) -> str | None:
    """The S3 operation that creates an object, as the Object Created event names it (`reason`), or None."""
    bucket, _, key = path.lstrip("/").partition("/")
    if not bucket or not key:
        return None
    subresources = {name for name, _ in query if not name.lower().startswith(_AUTH_QUERY) and name != "x-id"}
    if method == "PUT" and not subresources:
        return "CopyObject" if "x-amz-copy-source" in headers else "PutObject"
    if method == "POST" and subresources == {"uploadId"}:
        return "CompleteMultipartUpload"
    return None


class S3Gateway:
    """A threaded HTTP server on a free loopback port (or the one given), forwarding to moto's S3."""

    def __init__(
        self,
        moto_endpoint: str,
        secrets: Mapping[str, str],
        on_object_created: ObjectCreated,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        target = urlsplit(moto_endpoint)
        self._moto = (target.hostname or "127.0.0.1", target.port or 80)
        self._secrets = dict(secrets)
        self._on_object_created = on_object_created
        self._clock = clock
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> str:
        self._thread = threading.Thread(target=self._server.serve_forever, name="patron-s3", daemon=True)
        self._thread.start()
        return self.endpoint_url

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._server.server_close()

    # -- one request -------------------------------------------------------------------------------------

    def handle(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes, source_ip: str
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        url = urlsplit(target)
        query = parse_qsl(url.query, keep_blank_values=True)
        lowered = {name.lower(): value for name, value in headers}
        refused = presigned_error(method, url.path, query, lowered, self._secrets, self._clock())
        if refused is not None:
            return _s3_error(*refused)
        # As sent: moto reads a presigned request (its query names a signature) as an authenticated one.
        status, response_headers, response_body = self._forward(method, target, headers, body)
        reason = created_by(method, url.path, query, lowered) if 200 <= status < 300 else None
        if reason is not None:
            bucket, _, key = url.path.lstrip("/").partition("/")
            try:
                self._on_object_created(unquote(bucket), unquote(key), reason, source_ip)
            except Exception:
                LOGGER.exception("announcing a new object failed")
        return status, response_headers, response_body

    def _forward(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(*self._moto, timeout=60)
        try:
            connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            connection.putheader("Host", f"{self._moto[0]}:{self._moto[1]}")
            for name, value in headers:
                if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
                    connection.putheader(name, value)
            if body or method in ("PUT", "POST"):
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body or None)
            response = connection.getresponse()
            payload = response.read()
            kept = [(name, value) for name, value in response.getheaders() if name.lower() not in _HOP_BY_HOP]
            return response.status, kept, payload
        finally:
            connection.close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                    # S3 wants the length up front (its aws-chunked encoding still sends Content-Length).
                    self.close_connection = True
                    self._send(*_s3_error(411, "MissingContentLength", "You must provide the Content-Length header."))
                    return
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                except ValueError:
                    length = -1
                if length < 0:
                    self.close_connection = True
                    self._send(*_s3_error(400, "BadRequest", "Malformed Content-Length."))
                    return
                body = self.rfile.read(length) if length else b""
                if len(body) < length:
                    self.close_connection = True
                    self._send(*_s3_error(400, "IncompleteBody", "The request body is shorter than Content-Length."))
                    return
                headers = [(name, value) for name, value in self.headers.items()]
                self._send(*gateway.handle(self.command, self.path, headers, body, self.client_address[0]))

            def _send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
                # A HEAD answer has no body but tells the object's length: moto's header stands.
                length = str(len(body))
                if self.command == "HEAD":
                    length = next((v for n, v in headers if n.lower() == "content-length"), length)
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in ("content-length", "server", "date"):
                        self.send_header(name, value)
                self.send_header("Content-Length", length)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

            def log_message(self, format: str, *args: object) -> None:
                return  # object keys may name people; nothing is logged per request

        return Handler
