"""The local runtime over a real port: a threaded HTTP server in front of the in-process API Gateway.

Every answer is JSON, as API Gateway's are. A method no REST API has (TRACE, CONNECT, FOO) reaches the gateway like
any other and matches no route there; a URL or head past API Gateway's quotas is the gateway's refusal; a malformed
request line or headers, which never reaches a gateway, gets a stable code of its own here.
"""

from __future__ import annotations

import json
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from patron_local.apigateway import (
    API_GATEWAY_MAX_PAYLOAD,
    API_GATEWAY_METHODS,
    ApiGateway,
    HttpRequest,
    HttpResponse,
)

_READ_LIMIT = API_GATEWAY_MAX_PAYLOAD + 1
# API Gateway's quotas for a regional REST API: a URL of at most 10,240 characters, and the request line and header
# values together at most 10,240 bytes. Past them the gateway refuses with 414 or 431 here (docs/local-runtime.md:
# the status AWS uses past this quota is not documented).
MAX_REQUEST_HEAD_BYTES = 10_240
_OVER_QUOTA: dict[int, str] = {
    HTTPStatus.REQUEST_URI_TOO_LONG: "Request URI too long",
    HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE: "Request header fields too large",
}
# Connections the kernel queues before the server accepts them: the standard library's 5 reset or stall a burst of
# parallel clients (16 at once lost 2-9 of 160 connections). A shop's load test locally needs far more.
LISTEN_BACKLOG = 1024


class _Server(ThreadingHTTPServer):
    request_queue_size = LISTEN_BACKLOG
    daemon_threads = True


def _json(status: int, code: str, message: str) -> HttpResponse:
    body = json.dumps({"code": code, "message": message}).encode()
    return HttpResponse(status, [("Content-Type", "application/json")], body)


def _malformed(status: int) -> HttpResponse:
    """The standard library's refusal of a request line or headers it cannot parse, with a stable code (its own
    message is not echoed: it quotes the request)."""
    if status == HTTPStatus.HTTP_VERSION_NOT_SUPPORTED:
        return _json(status, "http_version_not_supported", "Only HTTP/1.0 and HTTP/1.1 are served.")
    return _json(status, "bad_request", "Malformed request line or headers.")


def serve(gateway: ApiGateway, host: str = "127.0.0.1", port: int = 3000) -> ThreadingHTTPServer:
    """Starts serving in a background thread; `shutdown()` the returned server to stop."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        head_read = False  # whether the request's line and headers were read whole

        def _read_body(self) -> bytes | None:
            """The body, or None when its framing is broken. Reads at most one byte past API Gateway's limit:
            enough to answer 413 without buffering more."""
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                return self._read_chunked()
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                return None
            if length < 0:
                return None
            body = self.rfile.read(min(length, _READ_LIMIT)) if length else b""
            if length > _READ_LIMIT:
                self.close_connection = True  # the rest is never read
            return body

        def _read_chunked(self) -> bytes | None:
            body = bytearray()
            while True:
                try:
                    size = int(self.rfile.readline(64).split(b";")[0].strip() or b"x", 16)
                except ValueError:
                    return None
                if size == 0:
                    self.rfile.readline(64)
                    return bytes(body)
                if len(body) + size > _READ_LIMIT:
                    self.close_connection = True
                    return bytes(body) + b"\0" * (_READ_LIMIT - len(body))
                body += self.rfile.read(size)
                self.rfile.readline(64)

        def _handle(self) -> None:
            body = self._read_body()
            if body is None:
                self.close_connection = True
                self._send(_json(400, "bad_request", "Malformed request framing."))
                return
            url = urlsplit(self.path)
            request = HttpRequest(
                method=self.command,
                path=url.path,
                query=parse_qsl(url.query, keep_blank_values=True),
                headers=[(name, value) for name, value in self.headers.items()],
                body=body,
                source_ip=self.client_address[0],
            )
            self._send(gateway.handle(request))

        def _send(self, response: HttpResponse) -> None:
            self.send_response(response.status)
            for name, value in response.headers:
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        def handle_one_request(self) -> None:
            self.head_read = False  # a keep-alive connection's next request: not read yet
            super().handle_one_request()

        def parse_request(self) -> bool:
            line: bytes = getattr(self, "raw_requestline", b"")  # set by handle_one_request (untyped)
            if len(line) > MAX_REQUEST_HEAD_BYTES:
                self.command, self.request_version, self.requestline = "", "", ""
                self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
                return False
            if not super().parse_request():
                return False
            self.head_read = True
            head = sum(len(name) + len(value) + 4 for name, value in self.headers.items())
            if len(line) + head > MAX_REQUEST_HEAD_BYTES:
                self._read_body()  # closing on unread bytes would reset the connection before the answer is read
                self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)
                return False
            if self.command not in API_GATEWAY_METHODS:
                # No do_ method would take it (the standard library's 501, in HTML): it goes to the gateway as any
                # request does, body read, and matches no route there.
                self._handle()
                return False
            return True

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            """The standard library's refusals in JSON: a size through the gateway (they are API Gateway's quotas),
            a malformed request line or headers with a stable code."""
            self.close_connection = True
            # Always a status line (the standard library writes none for what it took as HTTP/0.9), and the
            # rest of an unread head drained first: closing on unread bytes resets the connection, so the
            # client would never see the answer.
            if self.request_version in ("", "HTTP/0.9"):
                self.request_version = "HTTP/1.1"
            if not self.head_read:
                self._drain_head()
            if code in _OVER_QUOTA:
                self._send(gateway.refuse(code, _OVER_QUOTA[code]))
            else:
                self._send(_malformed(code))

        def _drain_head(self, limit: int = 1 << 20) -> None:
            """Reads what is left of the request's head (its line and headers), up to `limit` bytes."""
            self.connection.settimeout(1)
            try:
                read = 0
                while read < limit:
                    line = self.rfile.readline(65537)
                    read += len(line)
                    if line in (b"", b"\r\n", b"\n"):
                        return
            except OSError:
                return

        do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle

        def log_message(self, format: str, *args: object) -> None:
            return  # request lines may carry personal data in paths; the handlers log what matters

    server = _Server((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="patron-http", daemon=True).start()
    return server
