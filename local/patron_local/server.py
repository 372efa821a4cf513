"""The local runtime over a real port: a threaded HTTP server in front of the in-process API Gateway."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from patron_local.apigateway import API_GATEWAY_MAX_PAYLOAD, ApiGateway, HttpRequest, HttpResponse

_READ_LIMIT = API_GATEWAY_MAX_PAYLOAD + 1


def serve(gateway: ApiGateway, host: str = "127.0.0.1", port: int = 3000) -> ThreadingHTTPServer:
    """Starts serving in a background thread; `shutdown()` the returned server to stop."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

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
                self._send(
                    HttpResponse(
                        400,
                        [("Content-Type", "application/json")],
                        b'{"code":"bad_request","message":"Malformed request framing."}',
                    )
                )
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

        do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle

        def log_message(self, format: str, *args: object) -> None:
            return  # request lines may carry personal data in paths; the handlers log what matters

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="patron-http", daemon=True).start()
    return server
