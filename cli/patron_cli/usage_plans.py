"""API Gateway usage plans, one per application: how a deployed stack throttles each application."""

from __future__ import annotations

from typing import Any

from patron.applications.model import Application


def plan_name(application: Application) -> str:
    return f"patron-app-{application.id}"


class ApiGatewayUsagePlans:
    """Creates the application's usage-plan API key (its value is the one the authorizer names) and plan."""

    def __init__(self, client: Any, rest_api_id: str, stage: str):
        self._client = client
        self._api_stage = {"apiId": rest_api_id, "stage": stage}

    def register(self, application: Application) -> None:
        key = self._client.create_api_key(
            name=plan_name(application),
            value=application.usage_key,
            enabled=True,
            description="Patron application usage key (never given to clients)",
        )
        plan = self._client.create_usage_plan(
            name=plan_name(application),
            apiStages=[self._api_stage],
            throttle={"rateLimit": application.rate_limit.rate, "burstLimit": application.rate_limit.burst},
        )
        self._client.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")

    def update(self, application: Application) -> None:
        plan_id = self._find_plan(plan_name(application))
        self._client.update_usage_plan(
            usagePlanId=plan_id,
            patchOperations=[
                {"op": "replace", "path": "/throttle/rateLimit", "value": f"{application.rate_limit.rate:g}"},
                {"op": "replace", "path": "/throttle/burstLimit", "value": str(application.rate_limit.burst)},
            ],
        )

    def _find_plan(self, name: str) -> str:
        for page in self._client.get_paginator("get_usage_plans").paginate():
            for plan in page.get("items", []):
                if plan.get("name") == name:
                    return str(plan["id"])
        raise LookupError(f"usage plan {name} not found")
