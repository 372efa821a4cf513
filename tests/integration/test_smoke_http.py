"""One request over a real port, as `make run` serves it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from patron_local.dynamodb_local import free_port
from patron_local.server import serve


def test_the_runtime_serves_http_on_a_port(runtime, tenant):
    port = free_port()
    server = serve(runtime.gateway, port=port)
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v2/customer_profiles/smoke?runRuleEngine=false",
            data=json.dumps({"attributes": {"ok": True}, "responseContent": ["customerProfile"]}).encode(),
            headers={"Authorization": f"ApiKey-v1 {tenant.key}", "Content-Type": "application/json"},
            method="PUT",
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            assert response.status == 200
            assert response.headers["Content-Type"] == "application/json"
            assert json.load(response)["customerProfile"]["attributes"] == {"ok": True}
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/customer_profiles/smoke", timeout=10)
            raise AssertionError("expected an error status")
        except urllib.error.HTTPError as error:
            assert error.code == 404  # GET is not a method of this resource
    finally:
        server.shutdown()
        server.server_close()


def _raw(port: int, request: bytes) -> bytes:
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_broken_framing_is_400_and_chunked_bodies_are_read(runtime, tenant):
    port = free_port()
    server = serve(runtime.gateway, port=port)
    try:
        auth = f"Authorization: ApiKey-v1 {tenant.key}\r\n".encode()
        for length in (b"abc", b"-5"):
            answer = _raw(
                port,
                b"PUT /v2/customer_profiles/x HTTP/1.1\r\nHost: l\r\n"
                + auth
                + b"Content-Length: "
                + length
                + b"\r\n\r\n{}",
            )
            assert answer.startswith(b"HTTP/1.1 400"), answer[:80]
        body = b'{"attributes": {"chunked": true}, "responseContent": ["customerProfile"]}'
        chunked = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
        answer = _raw(
            port,
            b"PUT /v2/customer_profiles/chunky HTTP/1.1\r\nHost: l\r\n"
            + auth
            + b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            + chunked,
        )
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        assert b'"chunked":true' in answer
    finally:
        server.shutdown()
        server.server_close()
