"""Cart item catalogs through the local runtime: the management routes, every sync action with Talon.One's
errors, all-or-nothing syncs, and sessions priced and described from the catalog in their two round trips."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.integration.item_catalogs import add, create_catalog, management_headers, sync


def item(runtime: Any, tenant: Any, catalog_id: int, sku: str) -> Any:
    return runtime.request(
        "GET", f"/v1/management/catalogs/{catalog_id}/items/{sku}", headers=management_headers(runtime, tenant)
    )


def test_a_catalog_is_created_listed_read_and_deleted_by_management_keys(runtime, tenant):
    manage = management_headers(runtime, tenant)
    created = runtime.request(
        "POST", "/v1/management/catalogs", headers=manage, body={"name": "Shop", "description": "SKUs"}
    )
    assert created.status == 201, created.body
    body = created.json()
    assert (body["id"], body["version"], body["name"]) == (1, 1, "Shop")
    assert body["subscribedApplicationsIds"] == [tenant.application_id]
    again = runtime.request("POST", "/v1/management/catalogs", headers=manage, body={"name": "Second"})
    assert (again.status, again.json()["code"]) == (409, "catalog_exists")
    listed = runtime.request("GET", "/v1/management/catalogs", headers=manage).json()
    assert [c["id"] for c in listed["data"]] == [1]
    # An integration key reaches no management route, a management key no integration route.
    assert runtime.request("GET", "/v1/management/catalogs", headers=tenant.headers).status == 403
    assert runtime.request("PUT", "/v1/catalogs/1/sync", headers=manage, body={"actions": [add("A")]}).status == 403

    assert sync(runtime, tenant, 1, add("A", 10, attributes={"color": "red"})).status == 200
    assert runtime.request("DELETE", "/v1/management/catalogs/1", headers=manage).status == 204
    assert runtime.request("GET", "/v1/management/catalogs/1", headers=manage).status == 404
    assert sync(runtime, tenant, 1, add("B", 1)).status == 404
    # The next catalog is a new one: the deleted one's items are not in it.
    assert create_catalog(runtime, tenant) == 2
    assert item(runtime, tenant, 2, "A").status == 404
    assert sync(runtime, tenant, 2, add("A", 12)).status == 200
    assert item(runtime, tenant, 2, "A").json()["price"] == 12


def test_every_action_type_and_its_errors(runtime, tenant):
    catalog = create_catalog(runtime, tenant)
    first = sync(
        runtime,
        tenant,
        catalog,
        add("S-1", 10, attributes={"color": "red", "size": 40}, product={"name": "Shoe"}),
        add("S-2", 20, attributes={"color": "blue", "size": 42}),
        add("S-3", 30, attributes={"color": "red", "size": 44}),
    )
    assert first.status == 200, first.body
    assert first.json()["version"] == 2

    exists = sync(runtime, tenant, catalog, add("S-4", 1), add("S-1", 11))
    assert (exists.status, exists.json()["code"]) == (409, "catalog_item_exists")
    assert [e["source"]["pointer"] for e in exists.json()["errors"]] == ["/actions/1/payload/sku"]
    assert item(runtime, tenant, catalog, "S-4").status == 404  # nothing of a refused sync is written

    replaced = sync(runtime, tenant, catalog, add("S-1", None, attributes={"color": "green"}, replaceIfExists=True))
    assert replaced.status == 200
    s1 = item(runtime, tenant, catalog, "S-1").json()
    assert (s1["price"], s1["attributes"], s1.get("product")) == (10, {"color": "green"}, None)

    patch = {"type": "PATCH", "payload": {"sku": "NOPE", "price": 5}}
    missing = sync(runtime, tenant, catalog, patch)
    assert (missing.status, missing.json()["code"]) == (404, "catalog_item_not_found")
    created = sync(runtime, tenant, catalog, {"type": "PATCH", "payload": {"sku": "NOPE", "createIfNotExists": True}})
    assert created.status == 200
    patched = sync(
        runtime, tenant, catalog, {"type": "PATCH", "payload": {"sku": "S-2", "attributes": {"size": None, "fit": 1}}}
    )
    assert patched.status == 200
    assert item(runtime, tenant, catalog, "S-2").json()["attributes"] == {"color": "blue", "fit": 1}

    many = {
        "type": "PATCH_MANY",
        "payload": {"price": 99, "filters": [{"attr": "color", "op": "IN", "value": "red,blue"}]},
    }
    assert sync(runtime, tenant, catalog, many).status == 200
    assert [item(runtime, tenant, catalog, s).json()["price"] for s in ("S-1", "S-2", "S-3")] == [10, 99, 99]

    remove_many = {"type": "REMOVE_MANY", "payload": {"filters": [{"attr": "size", "op": "GE", "value": 44}]}}
    assert sync(runtime, tenant, catalog, remove_many).status == 200
    assert item(runtime, tenant, catalog, "S-3").status == 404
    assert item(runtime, tenant, catalog, "S-2").status == 200

    not_numeric = {"type": "REMOVE_MANY", "payload": {"filters": [{"attr": "size", "op": "LT", "value": "big"}]}}
    refused = sync(runtime, tenant, catalog, not_numeric)
    assert refused.status == 400
    assert refused.json()["errors"][0]["code"] == "filter_value_not_numeric"

    assert sync(runtime, tenant, catalog, {"type": "REMOVE", "payload": {"sku": "NOPE"}}).status == 200
    assert item(runtime, tenant, catalog, "NOPE").status == 404
    gone = sync(runtime, tenant, catalog, {"type": "REMOVE", "payload": {"sku": "NOPE"}})
    assert (gone.status, gone.json()["code"]) == (404, "catalog_item_not_found")


def test_one_type_per_request_no_duplicate_skus_and_at_most_1000_actions(runtime, tenant):
    catalog = create_catalog(runtime, tenant)
    mixed = sync(runtime, tenant, catalog, add("A", 1), {"type": "REMOVE", "payload": {"sku": "B"}})
    assert mixed.status == 400
    assert mixed.json()["errors"][0]["code"] == "mixed_action_types"
    twice = sync(runtime, tenant, catalog, add("A", 1), add("A", 2))
    assert twice.status == 400
    assert [(e["code"], e["source"]["pointer"]) for e in twice.json()["errors"]] == [
        ("duplicate_sku", "/actions/1/payload/sku")
    ]
    too_many = sync(runtime, tenant, catalog, *[add(f"X-{n}", 1) for n in range(1001)])
    assert too_many.status == 400
    assert (
        runtime.request(
            "GET", f"/v1/management/catalogs/{catalog}", headers=management_headers(runtime, tenant)
        ).json()["version"]
        == 1
    )


def test_a_stale_version_is_409_and_the_current_one_syncs(runtime, tenant):
    catalog = create_catalog(runtime, tenant)
    assert sync(runtime, tenant, catalog, add("A", 1), version=1).json()["version"] == 2
    stale = sync(runtime, tenant, catalog, add("B", 1), version=1)
    assert (stale.status, stale.json()["code"]) == (409, "catalog_version_mismatch")
    assert sync(runtime, tenant, catalog, add("B", 1), version=2).json()["version"] == 3


def test_item_attributes_of_another_type_than_the_applications_products_are_refused(runtime, tenant):
    catalog = create_catalog(runtime, tenant)
    assert sync(runtime, tenant, catalog, add("A", 1, attributes={"size": 40})).status == 200
    wrong = sync(runtime, tenant, catalog, add("B", 1, attributes={"size": "forty"}))
    assert wrong.status == 400
    assert wrong.json()["errors"][0]["path"] == "actions[0].payload.attributes.size"


def test_a_session_takes_the_catalogs_price_and_attributes_in_two_round_trips(runtime, tenant, meter):
    from tests.integration.rulesets import SETTINGS, publish

    catalog = create_catalog(runtime, tenant)
    publish(
        runtime,
        tenant.application_id,
        {
            "settings": SETTINGS,
            "campaigns": [
                {
                    "id": 1,
                    "name": "Red things",
                    "rules": [
                        {
                            "title": "red",
                            "condition": 'count(items, item.attributes.color == "red") >= 1',
                            "effects": [{"type": "setDiscount", "name": "red", "value": 5}],
                        }
                    ],
                }
            ],
        },
    )
    adjustment = {
        "type": "ADD_PRICE_ADJUSTMENT",
        "payload": {
            "sku": "RED-1",
            "adjustments": [
                {"priceType": "base", "price": 35, "referenceId": "sale-1", "effectiveFrom": "2020-01-01T00:00:00Z"},
                {"priceType": "members", "price": 30, "referenceId": "members-1"},
            ],
        },
    }
    assert sync(runtime, tenant, catalog, add("RED-1", 40, attributes={"color": "red"})).status == 200
    assert sync(runtime, tenant, catalog, adjustment).status == 200
    session = f"cat-{uuid.uuid4().hex[:8]}"
    cart = [{"sku": "RED-1", "quantity": 2}, {"sku": "UNKNOWN", "quantity": 1, "price": 7}]
    warm = {"customerSession": {"cartItems": cart}}  # the instance loads the live ruleset once
    assert (
        runtime.request("PUT", f"/v2/customer_sessions/{session}-warm", headers=tenant.headers, body=warm).status == 200
    )
    meter.reset()
    answer = runtime.request(
        "PUT",
        f"/v2/customer_sessions/{session}",
        headers=tenant.headers,
        body={"customerSession": {"cartItems": cart}, "responseContent": ["customerSession"]},
    )
    assert answer.status == 200, answer.body
    body = answer.json()
    prices = [i["price"] for i in body["customerSession"]["cartItems"]]
    assert prices == [35, 7]  # the base adjustment in effect; members prices are not applied
    assert body["customerSession"]["cartItemTotal"] == 77
    assert [e["effectType"] for e in body["effects"]] == ["setDiscount"]
    sessions_calls = [call for call in meter.calls if meter.function_of(call) == "SessionsFunction"]
    assert [call.operation for call in sessions_calls] == ["BatchGetItem", "PutItem"]
    # A price sent wins, and the session's own attributes win over the catalog's.
    sent = [{"sku": "RED-1", "quantity": 1, "price": 50, "attributes": {"color": "blue"}}]
    again = runtime.request(
        "PUT", f"/v2/customer_sessions/{session}", headers=tenant.headers, body={"customerSession": {"cartItems": sent}}
    ).json()
    assert again["effects"] == []


def test_hostile_syncs_are_precise_400s_and_write_nothing(runtime, tenant, meter):
    catalog = create_catalog(runtime, tenant)
    assert sync(runtime, tenant, catalog, add("KEEP", 1, attributes={"n": 1})).status == 200
    huge = "x" * 70_000
    cases: list[tuple[Any, str, str]] = [
        ({"actions": []}, "actions", "invalid_value"),
        ({"actions": [{"type": "UPSERT", "payload": {"sku": "A"}}]}, "actions[0].type", ""),
        ({"actions": [{"type": "ADD", "payload": {"sku": 12}}]}, "actions[0].payload.sku", ""),
        ({"actions": [{"type": "ADD", "payload": {"sku": ""}}]}, "actions[0].payload.sku", ""),
        ({"actions": [{"type": "ADD", "payload": {"sku": "A", "price": -1}}]}, "actions[0].payload.price", ""),
        ({"actions": [{"type": "ADD", "payload": {"sku": "A", "price": "12"}}]}, "actions[0].payload.price", ""),
        (
            {"actions": [{"type": "ADD", "payload": {"sku": "A", "attributes": []}}]},
            "actions[0].payload.attributes",
            "",
        ),
        ({"actions": [{"type": "ADD", "payload": {"sku": "A", "colour": "red"}}]}, "actions[0].payload.colour", ""),
        ({"actions": [{"type": "ADD", "payload": {"sku": "é" * 600}}]}, "actions[0].payload.sku", "sku_too_long"),
        (
            {"actions": [{"type": "ADD", "payload": {"sku": "A", "attributes": {"big": huge}}}]},
            "actions[0].payload",
            "catalog_item_too_large",
        ),
        (
            {"actions": [{"type": "ADD", "payload": {"sku": "A", "attributes": {"n": 1e200}}}]},
            "actions[0].payload.attributes.n",
            "",
        ),
        (
            {"actions": [{"type": "REMOVE_MANY", "payload": {"filters": [{"attr": "n", "op": "LIKE", "value": 1}]}}]},
            "actions[0].payload.filters[0].op",
            "",
        ),
        (
            {
                "actions": [
                    {
                        "type": "ADD_PRICE_ADJUSTMENT",
                        "payload": {
                            "sku": "KEEP",
                            "adjustments": [
                                {
                                    "priceType": "base",
                                    "price": 1,
                                    "referenceId": "r",
                                    "effectiveFrom": "2026-02-01T00:00:00Z",
                                    "effectiveUntil": "2026-01-01T00:00:00Z",
                                }
                            ],
                        },
                    }
                ]
            },
            "actions[0].payload.adjustments[0].effectiveUntil",
            "invalid_period",
        ),
        ({"actions": [add("A", 1)], "version": 0}, "version", ""),
    ]
    manage = management_headers(runtime, tenant)
    for body, path, code in cases:
        mark = meter.mark()
        response = runtime.request("PUT", f"/v1/catalogs/{catalog}/sync", headers=tenant.headers, body=body)
        assert response.status == 400, (path, response.status, response.body)
        errors = response.json()["errors"]
        assert path in [error["path"] for error in errors], (path, errors)
        if code:
            assert code in [error["code"] for error in errors], (code, errors)
        writes = [c for c in meter.since(mark) if c.operation in ("PutItem", "UpdateItem", "BatchWriteItem")]
        assert [c for c in writes if meter.function_of(c) == "ItemCatalogsFunction"] == [], path
    assert runtime.request("GET", f"/v1/management/catalogs/{catalog}", headers=manage).json()["version"] == 2
    for bad in ("abc", "0x1", "99999999999", "-1"):
        response = runtime.request(
            "PUT", f"/v1/catalogs/{bad}/sync", headers=tenant.headers, body={"actions": [add("A")]}
        )
        assert response.status == 404, (bad, response.status)
    not_json = runtime.request("PUT", f"/v1/catalogs/{catalog}/sync", headers=tenant.headers, body=b"{nope")
    assert not_json.status == 400


def test_an_idempotency_key_makes_a_retried_sync_answer_the_first_outcome(runtime, tenant):
    catalog = create_catalog(runtime, tenant)
    headers = {**tenant.headers, "Idempotency-Key": f"sync-{uuid.uuid4().hex}"}
    body = {"actions": [add("A", 1)]}
    first = runtime.request("PUT", f"/v1/catalogs/{catalog}/sync", headers=headers, body=body)
    again = runtime.request("PUT", f"/v1/catalogs/{catalog}/sync", headers=headers, body=body)
    assert (first.status, again.status) == (200, 200)
    assert first.json()["version"] == again.json()["version"] == 2  # not a 409: the first outcome, replayed


def test_make_run_gives_the_demo_application_catalog_1_empty_once(runtime, tenant):
    from patron_local.__main__ import create_demo_catalog

    catalog, created = create_demo_catalog(runtime, tenant.application_id)
    assert (catalog.id, catalog.version, created) == (1, 1, True)
    again, created_again = create_demo_catalog(runtime, tenant.application_id)
    assert (again.id, created_again) == (1, False)
    assert sync(runtime, tenant, 1, add("RUN-42", 60)).json()["version"] == 2  # a first sync works at once


def test_the_cli_creates_lists_shows_and_deletes_a_catalog(runtime, tenant, tmp_path, monkeypatch, capsys):
    from patron_cli.main import main
    from patron_local.state import LocalState

    path = tmp_path / "local.json"
    LocalState("http://unused", runtime.dynamodb_endpoint, runtime.table_names["ConfigTable"], 0).save(path)
    monkeypatch.setenv("PATRON_LOCAL_STATE", str(path))
    app = str(tenant.application_id)
    assert main(["catalogs", "create", app, "Shop", "--description", "all SKUs", "--json"]) == 0
    created = json.loads(capsys.readouterr().out)
    assert (created["id"], created["version"], created["subscribedApplicationsIds"]) == (1, 1, [tenant.application_id])
    assert main(["catalogs", "create", app, "Again"]) == 1
    assert "already has a cart item catalog" in capsys.readouterr().err
    assert main(["catalogs", "list", app]) == 0
    assert "Shop" in capsys.readouterr().out
    assert sync(runtime, tenant, 1, add("A", 1)).status == 200  # the integration API syncs what the CLI created
    assert main(["catalogs", "show", app, "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == 2
    assert main(["catalogs", "delete", app, "1"]) == 0
    assert main(["catalogs", "show", app, "1"]) == 1


def test_parallel_syncs_each_apply_whole_or_answer_409(runtime, tenant):
    from concurrent.futures import ThreadPoolExecutor

    catalog = create_catalog(runtime, tenant)
    batches = {writer: [add(f"W{writer}-{n}", writer) for n in range(150)] for writer in range(4)}
    with ThreadPoolExecutor(4) as pool:
        answers = dict(
            zip(batches, pool.map(lambda w: sync(runtime, tenant, catalog, *batches[w]), batches), strict=True)
        )
    statuses = {writer: answer.status for writer, answer in answers.items()}
    assert set(statuses.values()) <= {200, 409} and 200 in statuses.values(), statuses
    versions = sorted(answer.json()["version"] for answer in answers.values() if answer.status == 200)
    assert len(set(versions)) == len(versions)  # each committed sync made its own version
    for writer, answer in answers.items():
        if answer.status == 409:
            assert answer.json()["code"] == "catalog_sync_conflict"
        expected = 200 if answer.status == 200 else 404
        for sku in (f"W{writer}-0", f"W{writer}-149"):
            assert item(runtime, tenant, catalog, sku).status == expected, (writer, sku)


def test_a_sync_of_1000_items_may_pass_the_apis_usual_body_limit(runtime, tenant):
    """Talon.One's 1,000 items with their attributes pass the API's 256 KB: the sync route has its own limit
    (MaxCatalogSyncBytes, 4 MiB)."""
    catalog = create_catalog(runtime, tenant)
    description = "d" * 400
    actions = [add(f"BIG-{n:04d}", n, attributes={"description": description, "rank": n}) for n in range(1000)]
    body = {"actions": actions}
    assert len(json.dumps(body)) > 262_144
    answer = sync(runtime, tenant, catalog, *actions)
    assert answer.status == 200, answer.body[:300]
    assert item(runtime, tenant, catalog, "BIG-0999").json()["attributes"]["rank"] == 999
    padded = json.dumps({"actions": actions[:10]}).encode() + b" " * 4_200_000  # past 4 MiB
    too_big = runtime.request("PUT", f"/v1/catalogs/{catalog}/sync", headers=tenant.headers, body=padded)
    assert too_big.status == 413
    # The management routes keep the API's usual limit.
    manage = management_headers(runtime, tenant)
    large = json.dumps({"name": "n", "description": "x" * 300_000}).encode()
    assert runtime.request("POST", "/v1/management/catalogs", headers=manage, body=large).status == 413


def test_a_catalogs_items_are_listed_in_pages_as_sessions_see_them(runtime, tenant, other_tenant):
    manage = management_headers(runtime, tenant)
    first = create_catalog(runtime, tenant)
    assert sync(runtime, tenant, first, add("OLD", 1)).status == 200
    assert runtime.request("DELETE", f"/v1/management/catalogs/{first}", headers=manage).status == 204
    catalog = create_catalog(runtime, tenant)
    skus = [f"SKU-{n:02}" for n in range(7)]
    assert sync(runtime, tenant, catalog, *[add(sku, n) for n, sku in enumerate(skus)]).status == 200

    def page(**query: Any) -> Any:
        path = f"/v1/management/catalogs/{catalog}/items"
        return runtime.request("GET", path, headers=manage, query={k: str(v) for k, v in query.items()})

    seen, cursor, pages = [], None, 0
    while True:
        answer = page(limit=3, **({"cursor": cursor} if cursor else {}))
        assert answer.status == 200, answer.body
        body = answer.json()
        seen += [(one["sku"], one["price"]) for one in body["data"]]
        pages += 1
        if not body["hasMore"]:
            assert "nextCursor" not in body or body["nextCursor"] is None
            break
        cursor = body["nextCursor"]
    # The deleted catalog's item (stored under the same partition) is not this catalog's.
    assert seen == [(sku, n) for n, sku in enumerate(skus)] and pages == 3
    assert (page(limit=0).status, page(limit=1001).status) == (400, 400)
    forged = page(cursor="bm90LW91cnM")
    assert (forged.status, forged.json()["errors"][0]["path"]) == (400, "query.cursor")
    # Another application's management key: its own catalog is another (absent) one.
    other = runtime.request(
        "GET", f"/v1/management/catalogs/{catalog}/items", headers=management_headers(runtime, other_tenant)
    )
    assert other.status == 404
    assert runtime.request("GET", f"/v1/management/catalogs/{catalog}/items", headers=tenant.headers).status == 403


def test_an_application_without_a_catalog_pays_no_read_per_sku_and_sees_one_created_later(runtime, tenant, meter):
    """A read of a missing item costs as much as a found one: once an instance found the application without a
    live catalog, a session reads only the catalog item (1 RCU), not one item per SKU. A catalog created later is
    seen by the next update, which then reads the cart's SKUs in one more batch and prices from them."""
    cart = [{"sku": f"NC-{n}", "quantity": 1, "price": 10} for n in range(20)]

    def update(session: str, items: list[dict[str, Any]]) -> tuple[list[str], float, Any]:
        mark = meter.mark()
        body = {"customerSession": {"cartItems": items}, "responseContent": ["customerSession"]}
        answer = runtime.request("PUT", f"/v2/customer_sessions/{session}", headers=tenant.headers, body=body)
        assert answer.status == 200, answer.body
        calls = [call for call in meter.since(mark) if meter.function_of(call) == "SessionsFunction"]
        config = runtime.table_names["ConfigTable"]
        units = sum(charge.read_units for call in calls for charge in call.charges if charge.table == config)
        return [call.operation for call in calls], units, answer.json()

    base = f"nc-{uuid.uuid4().hex[:8]}"
    update(f"{base}-warm", cart)  # the instance learns there is no catalog
    operations, config_units, _ = update(f"{base}-1", cart)
    assert operations == ["BatchGetItem", "PutItem"]
    assert config_units <= 2  # the catalog item (and the live-ruleset pointer), not 20 SKUs

    catalog = create_catalog(runtime, tenant)
    assert sync(runtime, tenant, catalog, add("NC-3", 99, attributes={"color": "red"})).status == 200
    unpriced = [{"sku": "NC-3", "quantity": 1}]
    operations, _, body = update(f"{base}-2", unpriced)
    assert operations == ["BatchGetItem", "BatchGetItem", "PutItem"]  # the catalog found, then its items
    assert body["customerSession"]["cartItems"][0]["price"] == 99
    operations, _, body = update(f"{base}-3", unpriced)
    assert operations == ["BatchGetItem", "PutItem"]  # known now: the SKUs ride in the first read again
    assert body["customerSession"]["cartItems"][0]["price"] == 99
