"""API Gateway usage plans, one per application: how a deployed stack throttles each application."""

from __future__ import annotations

from typing import Any

from patron.applications.model import Application


class ApiGatewayUsagePlans:
    """Creates the application's usage-plan API key (its value is the one the authorizer names) and plan.

    Names carry the REST API id, so two stacks in one account (staging, prod) never touch each other's plans.
    Each step first looks for what an interrupted earlier run left, so running a command again completes it.
    One plan covers every REST API of the stack (the main one and ExpertSender's wire: `more_api_ids`), so one key
    is throttled the same on each; registering again attaches an API a plan made before it existed lacks.
    """

    def __init__(self, client: Any, rest_api_id: str, stage: str, more_api_ids: tuple[str, ...] = ()):
        self._client = client
        self._rest_api_id = rest_api_id
        self._api_stages = [{"apiId": api_id, "stage": stage} for api_id in (rest_api_id, *more_api_ids)]

    def plan_name(self, application: Application) -> str:
        return f"patron-{self._rest_api_id}-app-{application.id}"

    def register(self, application: Application) -> None:
        name = self.plan_name(application)
        key_id = (
            self._find("get_api_keys", name)
            or self._client.create_api_key(
                name=name,
                value=application.usage_key,
                enabled=True,
                description="Patron application usage key (never given to clients)",
            )["id"]
        )
        plan_id = (
            self._find("get_usage_plans", name)
            or self._client.create_usage_plan(
                name=name,
                apiStages=self._api_stages,
                throttle={"rateLimit": application.rate_limit.rate, "burstLimit": application.rate_limit.burst},
            )["id"]
        )
        self._attach_missing_stages(plan_id)
        attached = self._client.get_usage_plan_keys(usagePlanId=plan_id).get("items", [])
        if not any(item.get("id") == key_id for item in attached):
            self._client.create_usage_plan_key(usagePlanId=plan_id, keyId=key_id, keyType="API_KEY")

    def update(self, application: Application) -> None:
        plan_id = self._find("get_usage_plans", self.plan_name(application))
        if plan_id is None:
            raise LookupError(f"usage plan {self.plan_name(application)} not found")
        self._attach_missing_stages(plan_id)
        self._client.update_usage_plan(
            usagePlanId=plan_id,
            patchOperations=[
                {"op": "replace", "path": "/throttle/rateLimit", "value": f"{application.rate_limit.rate:g}"},
                {"op": "replace", "path": "/throttle/burstLimit", "value": str(application.rate_limit.burst)},
            ],
        )

    def _attach_missing_stages(self, plan_id: str) -> None:
        attached = {
            (s["apiId"], s["stage"]) for s in self._client.get_usage_plan(usagePlanId=plan_id).get("apiStages", [])
        }
        missing = [s for s in self._api_stages if (s["apiId"], s["stage"]) not in attached]
        if missing:
            self._client.update_usage_plan(
                usagePlanId=plan_id,
                patchOperations=[
                    {"op": "add", "path": "/apiStages", "value": f"{s['apiId']}:{s['stage']}"} for s in missing
                ],
            )

    def _find(self, operation: str, name: str) -> str | None:
        for page in self._client.get_paginator(operation).paginate():
            for item in page.get("items", []):
                if item.get("name") == name:
                    return str(item["id"])
        return None
