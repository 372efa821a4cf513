"""Each function's IAM policy, enforced locally on its DynamoDB calls.

On AWS a function that calls an action its role lacks gets AccessDeniedException; in one process all functions
share one client, so without this a missing permission would only show after deploying. The runtime knows which
function is running (`functions.CURRENT_FUNCTION`) and checks each DynamoDB call against that function's
`Policies` statements from the template. Calls made outside any function (the runtime's own, tests') pass.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError

from patron_local.functions import CURRENT_FUNCTION
from patron_local.template import ACCOUNT, REGION, PhysicalResources, Template

# Every table of the template keys its items by a string partition key named PK.
_PARTITION_KEY = "PK"
_LEADING_KEYS = "dynamodb:LeadingKeys"


@dataclass(frozen=True)
class Grant:
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    # `ForAllValues:StringLike: dynamodb:LeadingKeys` patterns: the partition keys the grant reaches (None: any).
    leading_keys: tuple[str, ...] | None = None

    def reaches(self, action: str, resource: str) -> bool:
        return any(fnmatch.fnmatchcase(action, a) for a in self.actions) and any(
            fnmatch.fnmatchcase(resource, r) for r in self.resources
        )

    def allows_key(self, partition_key: str | None) -> bool:
        if self.leading_keys is None:
            return True
        # IAM's wildcards are * and ?, which fnmatch reads the same way (our patterns use no [ ]).
        return partition_key is not None and any(
            fnmatch.fnmatchcase(partition_key, pattern) for pattern in self.leading_keys
        )


def _leading_keys(statement: dict[str, Any]) -> tuple[str, ...] | None:
    condition = statement.get("Condition") or {}
    for operator, tests in condition.items():
        if operator in ("ForAllValues:StringLike", "ForAllValues:StringEquals") and _LEADING_KEYS in tests:
            return tuple(str(pattern) for pattern in _as_list(tests[_LEADING_KEYS]))
    return None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def function_grants(template: Template, resources: PhysicalResources) -> dict[str, list[Grant]]:
    grants: dict[str, list[Grant]] = {}
    for logical_id in template.resources_of("AWS::Serverless::Function"):
        policies = template.function_properties(logical_id).get("Policies", []) or []
        grants[logical_id] = [
            Grant(
                actions=tuple(str(a) for a in _as_list(statement.get("Action", []))),
                resources=tuple(str(resources.resolve(r)) for r in _as_list(statement.get("Resource", []))),
                leading_keys=_leading_keys(statement),
            )
            for policy in policies
            if isinstance(policy, dict)
            for statement in _as_list(policy.get("Statement", []))
            if statement.get("Effect") == "Allow"
        ]
    return grants


# A transaction is authorised item by item, by the action each item performs (as IAM evaluates it).
_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


def _partition_key(body: dict[str, Any]) -> str | None:
    """The partition key a request body reaches: its Key or Item, or a Query's `PK = :value`."""
    for holder in ("Key", "Item"):
        if isinstance(body.get(holder), dict) and _PARTITION_KEY in body[holder]:
            return str(body[holder][_PARTITION_KEY].get("S"))
    condition = str(body.get("KeyConditionExpression", ""))
    match = re.search(rf"\b{_PARTITION_KEY}\s*=\s*(:\w+)", condition)
    if match:
        value = (body.get("ExpressionAttributeValues") or {}).get(match.group(1), {})
        return str(value.get("S")) if "S" in value else None
    return None


_PARTIQL = re.compile(r'\s*(INSERT|UPDATE|DELETE|SELECT)\b.*?\b(?:INTO|FROM)?\s*"([^"]+)"', re.IGNORECASE | re.DOTALL)


def _requests(operation: str, params: dict[str, Any]) -> list[tuple[str, str, list[str | None]]]:
    """(action, table, partition keys) a call needs permission for, each authorised as a whole. A transaction is
    authorised item by item; a batch once per table, with every partition key of its items in LeadingKeys, so
    one statement must allow them all (`ForAllValues`): two statements that each allow some keys do not."""
    if operation in ("TransactWriteItems", "TransactGetItems"):
        return [
            (f"dynamodb:{_TRANSACT_ACTIONS[kind]}", str(body["TableName"]), [_partition_key(body)])
            for item in params.get("TransactItems", [])
            for kind, body in item.items()
        ]
    if operation in ("BatchGetItem", "BatchWriteItem"):
        found = []
        for table, requests in params.get("RequestItems", {}).items():
            bodies = requests.get("Keys", []) if isinstance(requests, dict) else requests
            keys = [
                _partition_key(next(iter(request.values())) if operation == "BatchWriteItem" else {"Key": request})
                for request in bodies
            ]
            found.append((f"dynamodb:{operation}", str(table), keys))
        return found
    if operation == "BatchExecuteStatement":
        # IAM checks each PartiQL statement as its own action on its table (PartiQLInsert, PartiQLSelect...).
        found = []
        for statement in params.get("Statements", []):
            match = _PARTIQL.match(str(statement.get("Statement", "")))
            verb, table = (match.group(1).capitalize(), match.group(2)) if match else ("Unknown", "")
            found.append((f"dynamodb:PartiQL{verb}", table, [_inserted_key(verb, statement)]))
        return found
    if "TableName" in params:
        return [(f"dynamodb:{operation}", str(params["TableName"]), [_partition_key(params)])]
    return []


_INSERTED_NAME = re.compile(r"'((?:[^']|'')*)'\s*:\s*\?")


def _inserted_key(verb: str, statement: dict[str, Any]) -> str | None:
    """The partition key an INSERT with parameters writes (`VALUE {'PK': ?, ...}`), as IAM's LeadingKeys sees it;
    None for other statements (a grant with LeadingKeys then refuses them)."""
    if verb != "Insert":
        return None
    names = [name.replace("''", "'") for name in _INSERTED_NAME.findall(str(statement.get("Statement", "")))]
    parameters = statement.get("Parameters") or []
    if _PARTITION_KEY not in names or names.index(_PARTITION_KEY) >= len(parameters):
        return None
    value = parameters[names.index(_PARTITION_KEY)]
    return str(value.get("S")) if isinstance(value, dict) and "S" in value else None


class DynamoDBPolicyEnforcer:
    def __init__(self, template: Template, resources: PhysicalResources, table_arns: dict[str, str]):
        self._grants = function_grants(template, resources)
        self._table_arns = table_arns  # table name -> ARN
        self._unique_id = f"patron-local-iam-{id(self)}"
        # (function, action, resource) -> the function's grants reaching them: a batch asks the same of each
        # of its items, and only the partition key differs between them.
        self._reaching: dict[tuple[str, str, str], list[Grant]] = {}

    def install(self) -> None:
        # Registered on boto3's default session: every DynamoDB client the handlers build inherits it.
        # before-parameter-build sees the call's API parameters (TableName, IndexName, ...), as IAM does.
        boto3._get_default_session().events.register(  # boto3 exposes no public accessor
            "before-parameter-build.dynamodb.*", self._check, unique_id=self._unique_id
        )

    def uninstall(self) -> None:
        boto3._get_default_session().events.unregister("before-parameter-build.dynamodb.*", unique_id=self._unique_id)

    def _check(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        function = CURRENT_FUNCTION.get()
        if function is None or function not in self._grants:
            return
        operation = str(model.name)
        for action, table, partition_keys in _requests(operation, params):
            arn = self._table_arns.get(table, f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}")
            if params.get("IndexName"):
                arn = f"{arn}/index/{params['IndexName']}"
            reaching = self._reaching.get((function, action, arn))
            if reaching is None:
                reaching = [grant for grant in self._grants[function] if grant.reaches(action, arn)]
                self._reaching[(function, action, arn)] = reaching
            if not any(all(grant.allows_key(key) for key in partition_keys) for grant in reaching):
                # As AWS words it, without the key (it may name a person).
                message = f"{function} is not authorized to perform: {action} on resource: {arn}"
                raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": message}}, operation)
