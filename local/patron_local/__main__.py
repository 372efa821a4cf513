"""`python -m patron_local run` (what `make run` calls): Patron on http://127.0.0.1:3000 with a demo key.

Settings (environment):
  PATRON_PORT           port to listen on (default 3000)
  PATRON_HOST           interface to bind (default 127.0.0.1), for the API and the S3 endpoint
  PATRON_S3_PORT        port of the S3 endpoint that import upload URLs point at (default: a free one, printed)
  PATRON_IN_MEMORY=1    keep data in memory instead of .patron/data (lost on exit)
  PATRON_DEMO_API_KEY   a fixed demo key (a key printed by an earlier run, or any patron_<16>_<43> key)
  PATRON_DATA_DIR       where persisted data lives (default .patron/data/dynamodb)
  PATRON_LOCAL_STATE    where the running runtime tells the CLI how to reach it (default .patron/local.json)
                        and, next to it, logs.jsonl: what `patron logs` and `patron health` read
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from patron.applications.model import Application, Scope
from patron.coupons.batches import CouponTerms
from patron.coupons.service import CouponNotFoundError
from patron.coupons.wiring import coupon_service
from patron.errors import PatronError
from patron.item_catalogs.model import Catalog
from patron.promotions.management import Published
from patron.promotions.wiring import ruleset_service
from patron_cli.campaigns import checked_ruleset
from patron_local.dynamodb_local import PROJECT_ROOT
from patron_local.logstore import log_file
from patron_local.runtime import LocalRuntime, RuntimeOptions
from patron_local.server import serve
from patron_local.state import DATA_DIR, LocalState, state_file

DEMO_APPLICATION = "demo"
DEMO_KEY_LABEL = "demo key (make run)"
EXAMPLE_CAMPAIGNS = PROJECT_ROOT / "examples" / "campaigns"


def _demo_application(runtime: LocalRuntime) -> Application:
    service = runtime.applications()
    application = next((app for app in service.list_applications() if app.name == DEMO_APPLICATION), None)
    return application or service.create_application(DEMO_APPLICATION)


def _demo_key(runtime: LocalRuntime, application: Application) -> str:
    service = runtime.applications()
    fixed = os.environ.get("PATRON_DEMO_API_KEY", "").strip()
    if fixed:
        service.register_key(application.id, fixed, Scope.INTEGRATION, DEMO_KEY_LABEL)
        return fixed
    # A new key each start. Earlier demo keys keep working (a script may have saved one to pass back as
    # PATRON_DEMO_API_KEY); `patron keys list 1` shows them and `patron keys revoke` ends them.
    return service.create_key(application.id, Scope.INTEGRATION, DEMO_KEY_LABEL).secret


def publish_demo_campaigns(runtime: LocalRuntime, application_id: int, folder: Path = EXAMPLE_CAMPAIGNS) -> Published:
    """The example campaigns made live, as `patron campaigns publish` would; a start whose examples equal the live
    version publishes nothing (no new version per restart)."""
    service = ruleset_service(runtime.dynamodb_client(), runtime.table_names["ConfigTable"])
    ruleset = checked_ruleset(folder)
    return service.publish(application_id, ruleset, note="examples/campaigns", published_by="make run", if_changed=True)


# The demo codes of examples/campaigns/coupons.yaml: (code, campaign id, terms).
DEMO_COUPONS: list[tuple[str, int, CouponTerms]] = [
    ("WELCOME10", 9, CouponTerms(profile_limit=1)),
    *((f"SINGLE-USE-{n}", 10, CouponTerms(usage_limit=1)) for n in range(1, 6)),
]


def create_demo_coupons(runtime: LocalRuntime, application_id: int) -> list[tuple[str, bool]]:
    """The demo codes, each created unless it exists (a restart creates nothing); (code, created now) each."""
    service = coupon_service(
        runtime.dynamodb_client(), runtime.table_names["ConfigTable"], runtime.table_names["LedgersTable"]
    )
    made: list[tuple[str, bool]] = []
    for code, campaign_id, terms in DEMO_COUPONS:
        try:
            service.coupon(application_id, code)
            made.append((code, False))
        except CouponNotFoundError:
            service.create_coupon(application_id, campaign_id, code, terms)
            made.append((code, True))
    return made


def create_demo_catalog(runtime: LocalRuntime, application_id: int) -> tuple[Catalog, bool]:
    """The demo application's cart item catalog (1, empty), created unless it has one: (catalog, created now)."""
    from patron.catalog.repository import DynamoCatalogRepository
    from patron.catalog.service import CatalogService
    from patron.item_catalogs.wiring import item_catalog_service

    client, config = runtime.dynamodb_client(), runtime.table_names["ConfigTable"]
    service = item_catalog_service(client, config, CatalogService(DynamoCatalogRepository(client, config)))
    existing = service.catalogs(application_id)
    if existing:
        return existing[0], False
    return service.create(
        application_id, "Demo products", "make run's catalog: sync it with PUT /v1/catalogs/1/sync"
    ), True


def run() -> int:
    in_memory = os.environ.get("PATRON_IN_MEMORY", "") in ("1", "true", "yes")
    host = os.environ.get("PATRON_HOST", "127.0.0.1")
    port = int(os.environ.get("PATRON_PORT", "3000"))
    data_dir = Path(os.environ.get("PATRON_DATA_DIR", DATA_DIR))
    s3_port = int(os.environ.get("PATRON_S3_PORT", "0"))  # 0: a free port (printed below)
    runtime = LocalRuntime(
        RuntimeOptions(data_dir=None if in_memory else data_dir, s3_host=host, s3_port=s3_port, log_file=log_file())
    ).start()
    try:
        application = _demo_application(runtime)
        key = _demo_key(runtime, application)
        demo = publish_demo_campaigns(runtime, application.id)
        demo_coupons = create_demo_coupons(runtime, application.id)
        demo_catalog, _ = create_demo_catalog(runtime, application.id)
        server = serve(runtime.gateway, host=host, port=port)
    except (PatronError, OSError) as error:
        runtime.stop()
        print(f"patron: cannot start: {error}", file=sys.stderr)
        return 1
    base_url = f"http://{host}:{port}"
    LocalState(
        base_url, runtime.dynamodb_endpoint, runtime.table_names["ConfigTable"], os.getpid(), dict(runtime.table_names)
    ).save()
    storage = "in memory" if in_memory else f"in {data_dir}"
    print(f"Patron is running at {base_url} (data {storage})")
    print(f"S3 (import upload URLs) at {runtime.s3_endpoint}")
    print(f"Demo application key: {key}")
    state = "unchanged" if demo.unchanged else "published"
    print(f"Demo campaigns (examples/campaigns): version {demo.info.version} is live ({state})")
    created = sum(1 for _, new in demo_coupons if new)
    codes = ", ".join(code for code, _ in demo_coupons)
    print(
        f"Demo coupons ({created} created now): {codes}. WELCOME10: 10 % off, once per profile;"
        " SINGLE-USE-n: 5 % off, one use each"
    )
    catalog_id = demo_catalog.id
    print(f"Demo cart item catalog: {catalog_id} (version {demo_catalog.version}): PUT /v1/catalogs/{catalog_id}/sync")
    print(
        f"Try: curl -X PUT {base_url}/v2/customer_profiles/alice -H 'Authorization: ApiKey-v1 {key}' "
        '-H \'Content-Type: application/json\' -d \'{"attributes": {"tier": "gold"}}\''
    )
    print("Press Ctrl-C to stop.", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        runtime.stop()
        state_file().unlink(missing_ok=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m patron_local",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["run"])
    parser.parse_args(argv)
    return run()


if __name__ == "__main__":
    sys.exit(main())
