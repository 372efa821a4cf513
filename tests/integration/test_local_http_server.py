"""The local runtime's HTTP server, as a shop's integration tests meet it: parallel clients, odd methods, long
request lines and headers, malformed requests and odd path escapes, each answered as API Gateway would, in JSON."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from patron_local.server import _Server, serve

# A SYN the kernel dropped (listen queue full) is sent again after 1 s: a connection that takes longer than this
# was not taken when it came, whatever the machine's load (the handshake needs no server thread).
CONNECT_DEADLINE_S = 0.9


@pytest.fixture(scope="module")
def port(runtime) -> Iterator[int]:
    server = serve(runtime.gateway, port=0)
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def read_answer(connection: socket.socket) -> tuple[int, dict[str, str], bytes]:
    response = http.client.HTTPResponse(connection)
    response.begin()
    return response.status, dict(response.getheaders()), response.read()  # read() fails on a short body


def raw(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Sends bytes as they are (no client library tidies them) and reads the one answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        return read_answer(connection)


def assert_json(headers: dict[str, str], body: bytes) -> dict[str, str]:
    assert headers["Content-Type"] == "application/json"
    answer: dict[str, str] = json.loads(body)
    return answer


def test_64_parallel_clients_are_all_taken_at_once_and_answered_whole(port):
    clients, connections_each = 64, 5
    start = threading.Barrier(clients)
    failures: list[str] = []
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()

    def client() -> None:
        start.wait()  # every first connection opens at once: the listen queue takes the burst
        for _ in range(connections_each):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=CONNECT_DEADLINE_S) as connection:
                    connection.settimeout(30)  # a busy machine may answer slowly; it must answer
                    connection.sendall(b"GET /v1/no_such_route HTTP/1.1\r\nHost: local\r\nConnection: close\r\n\r\n")
                    status, headers, body = read_answer(connection)
                with lock:
                    answers.append((status, assert_json(headers, body)["code"]))
            except (OSError, http.client.HTTPException) as error:
                with lock:
                    failures.append(type(error).__name__)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert failures == []  # none reset, refused or left waiting for a retried SYN
    assert answers == [(404, "route_not_found")] * (clients * connections_each)


def test_64_connections_opened_before_the_server_accepts_any_all_complete():
    """The kernel completes a connection only while the listen queue has room: with the standard library's 5,
    the sixth client onwards hangs in connect."""
    server = _Server(("127.0.0.1", 0), BaseHTTPRequestHandler)  # listening, not accepting yet
    address = ("127.0.0.1", server.server_address[1])
    clients: list[socket.socket] = []
    try:
        for _ in range(64):
            clients.append(socket.create_connection(address, timeout=CONNECT_DEADLINE_S))
    finally:
        for client in clients:
            client.close()
        server.server_close()


@pytest.mark.parametrize(
    "request_line",
    [
        "TRACE /v1/customers/x HTTP/1.1",
        "CONNECT example.com:443 HTTP/1.1",
        "FOO /v1/customers/x HTTP/1.1",
        "PROPFIND /v1/customers/x HTTP/1.1",
        "DELETE /v2/customer_profiles/x HTTP/1.1",  # a method this resource does not define
    ],
)
def test_a_method_no_route_has_is_the_gateways_missing_authentication_token(port, request_line):
    status, headers, body = raw(port, f"{request_line}\r\nHost: local\r\n\r\n".encode())
    assert status == 404  # the template's MISSING_AUTHENTICATION_TOKEN
    assert assert_json(headers, body)["code"] == "route_not_found"


def test_an_unknown_methods_body_is_read_and_the_connection_kept(port):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(b"FOO /v1/customers/x HTTP/1.1\r\nHost: local\r\nContent-Length: 5\r\n\r\nhello")
        first = read_answer(connection)
        connection.sendall(b"GET /v1/no_such_route HTTP/1.1\r\nHost: local\r\n\r\n")
        second = read_answer(connection)
    assert first[0] == second[0] == 404
    assert assert_json(first[1], first[2])["code"] == assert_json(second[1], second[2])["code"] == "route_not_found"


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (f"GET /v1/{'a' * 11_000} HTTP/1.1\r\nHost: local\r\n\r\n".encode(), 414),  # past the 10,240 quota
        (f"GET /v1/{'a' * 70_000} HTTP/1.1\r\nHost: local\r\n\r\n".encode(), 414),  # past the library's 64 KB
        (f"GET /v1/x HTTP/1.1\r\nHost: local\r\nX-Big: {'b' * 11_000}\r\n\r\n".encode(), 431),
        (f"GET /v1/x HTTP/1.1\r\nX-Big: {'b' * 70_000}\r\n\r\n".encode(), 431),  # one header line past 64 KB
        (b"GET /v1/x HTTP/1.1\r\n" + b"X-A: b\r\n" * 101 + b"\r\n", 431),  # the library's 100 headers
        # An authorized method's ARN past 1,600 bytes, refused before the authorizer (so without a key).
        (f"GET /v1/customers/{'c' * 1_600} HTTP/1.1\r\nHost: local\r\n\r\n".encode(), 414),
    ],
)
def test_a_request_past_api_gateways_quotas_is_the_gateways_refusal(port, request_bytes, status):
    answered, headers, body = raw(port, request_bytes)
    assert answered == status
    assert assert_json(headers, body)["code"] == "bad_request"  # the template's DEFAULT_4XX, for every 4XX


def test_an_oversized_request_line_after_a_good_request_on_one_connection_is_answered(port):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(b"GET /v1/no_such_route HTTP/1.1\r\nHost: local\r\n\r\n")
        assert read_answer(connection)[0] == 404
        connection.sendall(f"GET /v1/{'a' * 70_000} HTTP/1.1\r\nHost: local\r\n\r\n".encode())
        status, headers, body = read_answer(connection)
    assert status == 414 and assert_json(headers, body)["code"] == "bad_request"


@pytest.mark.parametrize(
    ("request_bytes", "status", "code"),
    [
        (b"GET /v1/x HTTP/9.9\r\n\r\n", 505, "http_version_not_supported"),
        (b"GET /v1/x HTTP/1.x\r\n\r\n", 400, "bad_request"),
        (b"GET /v1/x HTTP/1.1 extra\r\n\r\n", 400, "bad_request"),
        (b"NONSENSE\r\n\r\n", 400, "bad_request"),
        (b"POST /v1/x HTTP/1.1\r\nContent-Length: ten\r\n\r\n", 400, "bad_request"),
    ],
)
def test_a_malformed_request_answers_json_with_a_stable_code(port, request_bytes, status, code):
    answered, headers, body = raw(port, request_bytes)
    assert answered == status
    answer = assert_json(headers, body)
    assert answer["code"] == code and answer["message"]
    assert b"<" not in body  # the standard library's HTML page, quoting the request, is gone


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
