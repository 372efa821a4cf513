"""`patron catalogs ...`: an application's cart item catalog created, listed, shown and deleted through the service
the management API uses (docs/item-catalogs.md). Its items are synced by the shop's PIM through the integration
API (`PUT /v1/catalogs/{catalogId}/sync`)."""

from __future__ import annotations

import argparse
from typing import Any

from patron.http.wire import to_builtins
from patron.item_catalogs import wire
from patron.item_catalogs.model import Catalog
from patron.item_catalogs.service import ItemCatalogService
from patron_cli.output import table


def _view(catalog: Catalog, application_id: int) -> dict[str, Any]:
    answer: dict[str, Any] = to_builtins(wire.catalog_response(catalog, application_id, 0))
    answer.pop("accountId", None)
    answer.pop("createdBy", None)
    return answer


def _lines(catalogs: list[dict[str, Any]]) -> str:
    return table(catalogs, ["id", "name", "version", "modified"]) if catalogs else "No cart item catalog."


def create(service: ItemCatalogService, args: argparse.Namespace) -> tuple[Any, str]:
    catalog = _view(service.create(args.application_id, args.name, args.description), args.application_id)
    return catalog, f"Catalog {catalog['id']} created: sync it with PUT /v1/catalogs/{catalog['id']}/sync"


def list_catalogs(service: ItemCatalogService, args: argparse.Namespace) -> tuple[Any, str]:
    catalogs = [_view(catalog, args.application_id) for catalog in service.catalogs(args.application_id)]
    return catalogs, _lines(catalogs)


def show(service: ItemCatalogService, args: argparse.Namespace) -> tuple[Any, str]:
    catalog = _view(service.get(args.application_id, args.catalog_id), args.application_id)
    return catalog, _lines([catalog])


def delete(service: ItemCatalogService, args: argparse.Namespace) -> tuple[Any, str]:
    service.delete(args.application_id, args.catalog_id)
    return {"deleted": args.catalog_id}, f"Catalog {args.catalog_id} deleted."


def add_commands(groups: Any, common: argparse.ArgumentParser) -> None:
    catalogs = groups.add_parser("catalogs", help="cart item catalogs: create, list, show, delete")
    actions = catalogs.add_subparsers(dest="action", required=True)
    made = actions.add_parser("create", parents=[common], help="the application's catalog (one per application)")
    made.add_argument("application_id", type=int)
    made.add_argument("name")
    made.add_argument("--description", default="")
    made.set_defaults(command=create)
    listed = actions.add_parser("list", parents=[common], help="the application's catalog, if it has one")
    listed.add_argument("application_id", type=int)
    listed.set_defaults(command=list_catalogs)
    for name, command, text in (("show", show, "one catalog"), ("delete", delete, "delete a catalog and its items")):
        parser = actions.add_parser(name, parents=[common], help=text)
        parser.add_argument("application_id", type=int)
        parser.add_argument("catalog_id", type=int)
        parser.set_defaults(command=command)
