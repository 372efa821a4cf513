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
