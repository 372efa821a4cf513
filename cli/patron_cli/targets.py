"""Where the CLI acts: the local runtime's data, or a deployed stack found by its name."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3

from patron.applications.repository import DynamoApplicationRepository
from patron.applications.service import ApplicationService
from patron.catalog.repository import DynamoCatalogRepository
from patron.catalog.service import CatalogService
from patron.coupons.service import CouponService
from patron.coupons.wiring import coupon_service
from patron.item_catalogs.service import ItemCatalogService
from patron.item_catalogs.wiring import item_catalog_service
from patron.promotions.management import RulesetService
from patron.promotions.simulation import SimulationService
from patron.promotions.wiring import ruleset_service, simulation_service
from patron.settings import Tables
from patron_cli.calls import CallLog, DocumentCallLog
from patron_cli.insights import InsightsCallLog, existing_log_groups, function_log_groups
from patron_cli.usage_plans import ApiGatewayUsagePlans


class TargetError(RuntimeError):
    pass


@contextmanager
def local_tables() -> Iterator[tuple[Any, dict[str, str]]]:
    """The running local runtime's DynamoDB client and tables (logical id -> name); when none runs, DynamoDB Local
    is started on the same data folder."""
    from patron_local.dynamodb_local import DynamoDBLocal, ensure_tables, local_aws_environment, table_definitions
    from patron_local.runtime import DEFAULT_TEMPLATE, RuntimeOptions
    from patron_local.state import DATA_DIR, LocalState
    from patron_local.template import Template

    os.environ.update(local_aws_environment())
    template = Template.load(DEFAULT_TEMPLATE)
    state = LocalState.load()
    if state is not None:
        names = {logical_id: state.table(logical_id) for logical_id in table_definitions(template)}
        yield boto3.client("dynamodb", endpoint_url=state.dynamodb_endpoint), names
        return
    database = DynamoDBLocal(data_dir=Path(os.environ.get("PATRON_DATA_DIR", DATA_DIR)))
    endpoint = database.start()
    try:
        client = boto3.client("dynamodb", endpoint_url=endpoint)
        yield client, ensure_tables(client, template, RuntimeOptions().table_prefix)
    finally:
        database.stop()


@contextmanager
def local_config_table() -> Iterator[tuple[Any, str]]:
    """The local runtime's DynamoDB client and config table."""
    with local_tables() as (client, tables):
        yield client, tables["ConfigTable"]


@contextmanager
def local_service() -> Iterator[ApplicationService]:
    with local_config_table() as (client, table):
        yield ApplicationService(DynamoApplicationRepository(client, table))


@contextmanager
def local_rulesets() -> Iterator[RulesetService]:
    """The application's published rulesets, through the service the management API uses."""
    with local_config_table() as (client, table):
        yield ruleset_service(client, table)


@contextmanager
def local_simulations() -> Iterator[SimulationService]:
    """Simulations over the local runtime's sessions, through the service the management API uses."""
    with local_tables() as (client, tables):
        yield simulation_service(client, _tables(tables["ConfigTable"], tables["OrdersTable"], tables["ProfilesTable"]))


@contextmanager
def local_coupons() -> Iterator[CouponService]:
    """Coupons in the local runtime's ledgers table, through the service the management API uses."""
    with local_tables() as (client, tables):
        yield coupon_service(client, tables["ConfigTable"], tables["LedgersTable"])


@contextmanager
def local_catalogs() -> Iterator[ItemCatalogService]:
    """Cart item catalogs in the local runtime's config table, through the service the management API uses."""
    with local_tables() as (client, tables):
        yield _catalogs(client, tables["ConfigTable"])


@contextmanager
def stack_catalogs(stack_name: str, region: str | None) -> Iterator[ItemCatalogService]:
    session = boto3.session.Session(region_name=region)
    outputs = stack_outputs(session.client("cloudformation"), stack_name)
    try:
        config = outputs["ConfigTableName"]
    except KeyError as missing:
        raise TargetError(f"stack {stack_name} has no output {missing}; is it a Patron stack?") from None
    yield _catalogs(session.client("dynamodb"), config)


def _catalogs(client: Any, config: str) -> ItemCatalogService:
    return item_catalog_service(client, config, CatalogService(DynamoCatalogRepository(client, config)))


@contextmanager
def stack_coupons(stack_name: str, region: str | None) -> Iterator[CouponService]:
    session = boto3.session.Session(region_name=region)
    outputs = stack_outputs(session.client("cloudformation"), stack_name)
    try:
        config, ledgers = outputs["ConfigTableName"], outputs["LedgersTableName"]
    except KeyError as missing:
        raise TargetError(f"stack {stack_name} has no output {missing}; is it a Patron stack?") from None
    yield coupon_service(session.client("dynamodb"), config, ledgers)


def _tables(config: str, orders: str, profiles: str) -> Tables:
    return Tables(config_table_name=config, orders_table_name=orders, profiles_table_name=profiles)


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except Exception as error:  # botocore's ClientError for a missing stack or missing credentials
        raise TargetError(f"cannot read stack {stack_name}: {error}") from None
    return {output["OutputKey"]: output["OutputValue"] for output in stacks[0].get("Outputs", [])}


@contextmanager
def stack_service(stack_name: str, region: str | None) -> Iterator[ApplicationService]:
    """A deployed stack, with the operator's AWS credentials."""
    session = boto3.session.Session(region_name=region)
    outputs = stack_outputs(session.client("cloudformation"), stack_name)
    try:
        table, api_id, stage = outputs["ConfigTableName"], outputs["RestApiId"], outputs["StageName"]
    except KeyError as missing:
        raise TargetError(f"stack {stack_name} has no output {missing}; is it a Patron stack?") from None
    # ExpertSender's wire is an API of its own (stacks deployed before it have none).
    more = tuple(outputs[name] for name in ("ExpertSenderRestApiId",) if name in outputs)
    usage_plans = ApiGatewayUsagePlans(session.client("apigateway"), api_id, stage, more)
    yield ApplicationService(DynamoApplicationRepository(session.client("dynamodb"), table), usage_plans)


@contextmanager
def stack_rulesets(stack_name: str, region: str | None) -> Iterator[RulesetService]:
    session = boto3.session.Session(region_name=region)
    outputs = stack_outputs(session.client("cloudformation"), stack_name)
    if "ConfigTableName" not in outputs:
        raise TargetError(f"stack {stack_name} has no output ConfigTableName; is it a Patron stack?")
    yield ruleset_service(session.client("dynamodb"), outputs["ConfigTableName"])


@contextmanager
def stack_simulations(stack_name: str, region: str | None) -> Iterator[SimulationService]:
    session = boto3.session.Session(region_name=region)
    outputs = stack_outputs(session.client("cloudformation"), stack_name)
    try:
        tables = _tables(outputs["ConfigTableName"], outputs["OrdersTableName"], outputs["ProfilesTableName"])
    except KeyError as missing:
        raise TargetError(f"stack {stack_name} has no output {missing}; is it a Patron stack?") from None
    yield simulation_service(session.client("dynamodb"), tables)


@contextmanager
def local_call_log() -> Iterator[CallLog]:
    """The local runtime's log file (`make run` appends to it; it need not be running). No file: no calls."""
    from patron_local.logstore import log_file, read_log_file

    path = log_file()
    yield DocumentCallLog(lambda: read_log_file(path))


@contextmanager
def stack_call_log(stack_name: str, region: str | None) -> Iterator[CallLog]:
    """A deployed stack's functions' log groups, through CloudWatch Logs Insights."""
    session = boto3.session.Session(region_name=region)
    logs = session.client("logs")
    try:
        groups = function_log_groups(session.client("cloudformation"), stack_name)
    except Exception as error:  # botocore's ClientError for a missing stack or missing credentials
        raise TargetError(f"cannot read stack {stack_name}: {error}") from None
    yield InsightsCallLog(logs, existing_log_groups(logs, groups))
