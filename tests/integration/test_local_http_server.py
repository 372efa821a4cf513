"""The local runtime's HTTP server, as a shop's integration tests meet it: parallel clients, odd methods, long
request lines and headers, and odd path escapes, each answered as API Gateway would, in JSON."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import uuid
from collections.abc import Iterator

import pytest

from patron_local.dynamodb_local import free_port
from patron_local.server import serve


@pytest.fixture(scope="module")
def port(runtime) -> Iterator[int]:
    chosen = free_port()
    server = serve(runtime.gateway, port=chosen)
    yield chosen
    server.shutdown()
    server.server_close()


def raw(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Sends bytes as they are (no client library tidies them) and reads the one answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        response = http.client.HTTPResponse(connection)
        response.begin()
        return response.status, dict(response.getheaders()), response.read()


def test_64_parallel_clients_are_all_served_without_a_reset(port, tenant):
    clients, requests_each = 64, 5
    start = threading.Barrier(clients)
    failures: list[str] = []
    statuses: list[int] = []
    lock = threading.Lock()

    def client() -> None:
        start.wait()  # every connection opens at once: the listen backlog takes the burst
        for _ in range(requests_each):
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                connection.request("GET", f"/v1/customers/par-{uuid.uuid4().hex[:6]}", headers=tenant.headers)
                status = connection.getresponse().status
                connection.close()
                with lock:
                    statuses.append(status)
            except OSError as error:
                with lock:
                    failures.append(type(error).__name__)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert failures == []
    assert statuses == [404] * (clients * requests_each)  # every request answered, as the route answers


def test_64_connections_opened_before_the_server_accepts_any_all_complete():
    """The kernel completes a connection only while the listen queue has room: with the standard library's 5,
    the sixth client onwards hangs in connect (and a busy client library resets it)."""
    from http.server import BaseHTTPRequestHandler

    from patron_local.server import _Server

    server = _Server(("127.0.0.1", 0), BaseHTTPRequestHandler)  # listening, not accepting yet
    clients: list[socket.socket] = []
    try:
        for _ in range(64):
            clients.append(socket.create_connection(server.server_address[:2], timeout=2))
    finally:
        for client in clients:
            client.close()
        server.server_close()
    assert len(clients) == 64


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "FOO", "PROPFIND"])
def test_a_method_no_route_has_answers_the_gateways_json(port, method):
    status, headers, body = raw(port, f"{method} /v1/customers/x HTTP/1.1\r\nHost: local\r\n\r\n".encode())
    assert status == 404 and headers["Content-Type"] == "application/json"
    assert json.loads(body)["code"] == "route_not_found"


def test_a_request_line_or_headers_past_api_gateways_quota_answer_json(port):
    status, headers, body = raw(port, f"GET /v1/{'a' * 11_000} HTTP/1.1\r\nHost: local\r\n\r\n".encode())
    assert status == 414 and headers["Content-Type"] == "application/json"
    assert json.loads(body)["code"] == "request_uri_too_long"
    status, _, body = raw(port, f"GET /v1/{'a' * 70_000} HTTP/1.1\r\nHost: local\r\n\r\n".encode())
    assert status == 414 and json.loads(body)["code"] == "request_uri_too_long"
    status, _, body = raw(port, f"GET /v1/x HTTP/1.1\r\nHost: local\r\nX-Big: {'b' * 11_000}\r\n\r\n".encode())
    assert status == 431 and json.loads(body)["code"] == "request_header_fields_too_large"


def test_a_malformed_request_line_answers_json(port):
    status, headers, body = raw(port, b"GET /v1/x HTTP/9.9\r\n\r\n")
    assert status >= 400 and headers["Content-Type"] == "application/json"
    assert json.loads(body)["code"]


def test_path_ids_whose_escapes_are_not_utf8_are_refused_not_folded_together(port, tenant):
    headers = {**tenant.headers, "Content-Type": "application/json"}
    answers = []
    for escaped in ("%FE%FE", "%FF%FF", "%ED%A0%80"):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("PUT", f"/v2/customer_profiles/{escaped}", body=b'{"attributes": {}}', headers=headers)
        response = connection.getresponse()
        answers.append((response.status, json.loads(response.read())))
        connection.close()
    for status, body in answers:
        assert status == 400
        assert body["errors"][0]["path"] == "integrationId" and body["errors"][0]["code"] == "invalid_encoding"
