"""Consents and subscriptions per channel: value, time and source; the latest decision stands whatever the
order of arrival; listed per application."""

from __future__ import annotations

import uuid


def put(runtime, tenant, customer, consents):
    return runtime.request("PUT", f"/v1/customers/{customer}", headers=tenant.headers, body={"consents": consents})


def test_consents_are_kept_per_channel_with_time_and_source(runtime, tenant):
    customer = f"c-{uuid.uuid4().hex[:8]}"
    first = put(
        runtime,
        tenant,
        customer,
        {
            "email": {"value": True, "time": "2024-05-01T10:00:00+02:00", "source": "checkout"},
            "sms": {"value": False},
        },
    )
    assert first.status == 200, first.body
    consents = first.json()["consents"]
    assert consents["email"] == {"value": True, "time": "2024-05-01T08:00:00.000Z", "source": "checkout"}
    assert consents["sms"]["value"] is False and consents["sms"]["time"].endswith("Z")
    later = put(
        runtime,
        tenant,
        customer,
        {"email": {"value": False, "time": "2024-06-01T00:00:00Z", "source": "unsubscribe-link"}},
    )
    assert later.json()["consents"]["email"]["value"] is False
    assert later.json()["consents"]["sms"] == consents["sms"]  # other channels untouched


def test_an_older_consent_arriving_late_does_not_overturn_a_newer_one(runtime, tenant):
    customer = f"c-{uuid.uuid4().hex[:8]}"
    put(runtime, tenant, customer, {"push": {"value": False, "time": "2024-06-01T00:00:00Z"}})
    stale = put(runtime, tenant, customer, {"push": {"value": True, "time": "2024-01-01T00:00:00Z"}})
    assert stale.status == 200
    assert stale.json()["consents"]["push"] == {"value": False, "time": "2024-06-01T00:00:00.000Z"}


def test_consent_channels_are_listed_per_application(runtime, tenant, other_tenant):
    put(runtime, tenant, f"c-{uuid.uuid4().hex[:8]}", {"whatsapp": {"value": True}})
    mine = runtime.request("GET", "/v1/consents", headers=tenant.headers).json()["data"]
    assert "whatsapp" in [row["channel"] for row in mine]
    theirs = runtime.request("GET", "/v1/consents", headers=other_tenant.headers).json()["data"]
    assert "whatsapp" not in [row["channel"] for row in theirs]
    assert runtime.request("GET", "/v1/attributes/consent", headers=tenant.headers).status == 400


def test_bad_consents_are_400_with_their_path(runtime, tenant):
    customer = f"c-{uuid.uuid4().hex[:8]}"
    cases = [
        ({"Email": {"value": True}}, "consents.Email"),
        ({"email": {"value": "yes"}}, "consents.email.value"),
        ({"email": {"value": True, "time": "soon"}}, "consents.email.time"),
        ({"email": {"value": True, "extra": 1}}, "consents.email.extra"),
        ({"email": {"value": True, "source": ""}}, "consents.email.source"),
    ]
    for consents, path in cases:
        response = put(runtime, tenant, customer, consents)
        assert response.status == 400, consents
        assert path in [error["path"] for error in response.json()["errors"]], (consents, response.json())
    assert runtime.request("GET", f"/v1/customers/{customer}", headers=tenant.headers).status == 404
