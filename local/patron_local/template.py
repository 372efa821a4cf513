"""Reads `template.yaml` as the local runtime needs it: functions, API routes, authorizer, gateway responses,
tables, queues, event sources and state machines, with intrinsic functions resolved to local values."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# The account and region every local ARN and URL uses.
REGION = "us-east-1"
ACCOUNT = "123456789012"

_INTRINSICS = (
    "Ref",
    "GetAtt",
    "Sub",
    "Join",
    "Select",
    "Split",
    "If",
    "Equals",
    "Not",
    "And",
    "Or",
    "FindInMap",
    "GetAZs",
    "ImportValue",
    "Base64",
    "Cidr",
    "Condition",
)


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags (`!Ref X` -> {"Ref": "X"})."""


def _make_constructor(name: str) -> Any:
    key = name if name in ("Ref", "Condition") else f"Fn::{name}"

    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if name == "GetAtt":
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {key: value}

    return construct


for _name in _INTRINSICS:
    _CfnLoader.add_constructor(f"!{_name}", _make_constructor(_name))


def load_yaml(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    if not isinstance(document, dict):
        raise ValueError(f"{path} is not a template")
    return document


@dataclass(frozen=True)
class Route:
    function_id: str
    event_id: str
    method: str  # upper case, or ANY
    resource: str  # as API Gateway names it: /v2/customer_profiles/{integrationId}
    authorized: bool = True
    api_key_required: bool = True
    api: str = ""  # the logical id of the REST API that serves it


@dataclass(frozen=True)
class Function:
    logical_id: str
    code_uri: str
    handler: str
    memory_mb: int
    timeout_s: int
    environment: dict[str, Any]

    @property
    def module(self) -> str:
        """`functions/customer_profiles/` + `app.lambda_handler` -> functions.customer_profiles.app."""
        package = ".".join(part for part in Path(self.code_uri).parts if part not in (".", ""))
        module = self.handler.rsplit(".", 1)[0]
        return f"{package}.{module}" if package else module

    @property
    def attribute(self) -> str:
        return self.handler.rsplit(".", 1)[1]


@dataclass(frozen=True)
class GatewayResponse:
    status: int | None
    body: str | None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Template:
    path: Path
    document: dict[str, Any]

    @classmethod
    def load(cls, path: Path) -> Template:
        return cls(path=path, document=load_yaml(path))

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return dict(self.document.get("Resources", {}))

    @property
    def parameters(self) -> dict[str, dict[str, Any]]:
        return dict(self.document.get("Parameters", {}))

    def resources_of(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {name: res for name, res in self.resources.items() if res.get("Type") == resource_type}

    def globals_function(self) -> dict[str, Any]:
        return dict(self.document.get("Globals", {}).get("Function", {}))

    def function_properties(self, logical_id: str) -> dict[str, Any]:
        """A function's properties with Globals merged in (environment variables merge by name)."""
        merged = self.globals_function()
        properties = dict(self.resources[logical_id].get("Properties", {}))
        for key, value in properties.items():
            if key == "Environment":
                variables = dict(merged.get("Environment", {}).get("Variables", {}))
                variables.update(value.get("Variables", {}))
                merged["Environment"] = {"Variables": variables}
            else:
                merged[key] = value
        return merged

    def functions(self) -> dict[str, Function]:
        result = {}
        for logical_id in self.resources_of("AWS::Serverless::Function"):
            properties = self.function_properties(logical_id)
            result[logical_id] = Function(
                logical_id=logical_id,
                code_uri=str(properties["CodeUri"]),
                handler=str(properties["Handler"]),
                memory_mb=int(properties.get("MemorySize", 128)),
                timeout_s=int(properties.get("Timeout", 3)),
                environment=dict(properties.get("Environment", {}).get("Variables", {})),
            )
        return result

    def apis(self) -> dict[str, dict[str, Any]]:
        """Every REST API's properties, by logical id, in the template's order (the first is the main one)."""
        return {
            name: dict(res.get("Properties", {})) for name, res in self.resources_of("AWS::Serverless::Api").items()
        }

    def api(self, name: str | None = None) -> tuple[str, dict[str, Any]]:
        """A REST API (default: the template's first, the main one); a template without one (only queues and
        workflows) has an empty one."""
        apis = self.apis()
        if not apis:
            return "", {}
        name = name if name is not None else next(iter(apis))
        return name, apis[name]

    def routes(self) -> list[Route]:
        """The routes of every REST API."""
        apis = self.apis()
        routes = []
        for logical_id in self.resources_of("AWS::Serverless::Function"):
            events = self.function_properties(logical_id).get("Events", {}) or {}
            for event_id, event in events.items():
                if event.get("Type") != "Api":
                    continue
                properties = event.get("Properties", {})
                api_id = properties.get("RestApiId", {}).get("Ref")
                if api_id not in apis:
                    continue
                auth = apis[api_id].get("Auth", {})
                default_authorizer = auth.get("DefaultAuthorizer")
                default_key_required = bool(auth.get("ApiKeyRequired", False))
                route_auth = properties.get("Auth", {})
                authorizer = route_auth.get("Authorizer", default_authorizer)
                routes.append(
                    Route(
                        function_id=logical_id,
                        event_id=event_id,
                        method=str(properties["Method"]).upper(),
                        resource=str(properties["Path"]),
                        authorized=authorizer not in (None, "NONE"),
                        api_key_required=bool(route_auth.get("ApiKeyRequired", default_key_required)),
                        api=api_id,
                    )
                )
        return routes

    def authorizer_function(self) -> str | None:
        _, api = self.api()
        auth = api.get("Auth", {})
        name = auth.get("DefaultAuthorizer")
        if not name:
            return None
        arn = auth["Authorizers"][name]["FunctionArn"]
        return str(arn["Fn::GetAtt"][0])

    def gateway_responses(self, api_name: str | None = None) -> dict[str, GatewayResponse]:
        """The gateway responses of a REST API (default: the main one)."""
        _, api = self.api(api_name)
        responses = {}
        for kind, spec in (api.get("GatewayResponses") or {}).items():
            headers = {
                name: str(value).strip("'")
                for name, value in (spec.get("ResponseParameters", {}).get("Headers", {}) or {}).items()
            }
            templates = spec.get("ResponseTemplates") or {}
            responses[kind] = GatewayResponse(
                status=int(spec["StatusCode"]) if "StatusCode" in spec else None,
                body=templates.get("application/json"),
                headers=headers,
            )
        return responses

    def stage_name(self, parameters: dict[str, str]) -> str:
        _, api = self.api()
        stage = api.get("StageName", "Prod")
        if isinstance(stage, dict) and "Ref" in stage:
            return parameters[stage["Ref"]]
        return str(stage)

    def parameter_defaults(self) -> dict[str, str]:
        return {name: str(spec["Default"]) for name, spec in self.parameters.items() if "Default" in spec}


@dataclass
class PhysicalResources:
    """What each logical id resolves to locally: `Ref` and `Fn::GetAtt` values, filled in as resources exist."""

    parameters: dict[str, str]
    refs: dict[str, str] = field(default_factory=dict)
    attributes: dict[tuple[str, str], str] = field(default_factory=dict)
    region: str = REGION
    account_id: str = ACCOUNT

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Ref"}:
            return self._ref(str(value["Ref"]))
        if set(value) == {"Fn::GetAtt"}:
            logical_id, attribute = value["Fn::GetAtt"]
            try:
                return self.attributes[(logical_id, attribute)]
            except KeyError:
                raise KeyError(f"!GetAtt {logical_id}.{attribute} has no local value") from None
        if set(value) == {"Fn::Sub"}:
            return self._sub(value["Fn::Sub"])
        if set(value) == {"Fn::Join"}:
            separator, parts = value["Fn::Join"]
            return str(separator).join(str(self.resolve(part)) for part in parts)
        return {key: self.resolve(item) for key, item in value.items()}

    def _ref(self, name: str) -> str:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::StackName": "patron-local",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.refs:
            return self.refs[name]
        raise KeyError(f"!Ref {name} has no local value")

    def _sub(self, spec: Any) -> str:
        import re

        text, variables = (spec, {}) if isinstance(spec, str) else (spec[0], spec[1])

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(self.resolve(variables[name]))
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                return self.attributes[(logical_id, attribute)]
            return self._ref(name)

        return re.sub(r"\$\{([^}!]+)\}", replace, str(text))
