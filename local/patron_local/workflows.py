"""The template's state machines in moto's Step Functions, which executes the real ASL (with `lambda:invoke`
tasks answered by the in-process handlers, see moto_services)."""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

from patron_local.moto_services import local_function_arn
from patron_local.template import PhysicalResources, Template

# boto3 ships no type information and only the DynamoDB stubs are installed: clients are untyped.
Client = Any

STATE_MACHINE_TYPE = "AWS::Serverless::StateMachine"
_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")
_EXECUTION_NAME_MAX = 80


class WorkflowRuntime:
    def __init__(self, template: Template, resources: PhysicalResources, sfn_client: Client):
        self.template = template
        self.resources = resources
        self.sfn = sfn_client
        self.state_machines: dict[str, str] = {}  # logical id -> ARN

    def provision(self) -> dict[str, str]:
        """Create every state machine; run after the queues and tables its substitutions may name."""
        # Substitutions usually name functions (`!GetAtt XFunction.Arn`); their local ARN is fixed.
        for function_id in self.template.functions():
            self.resources.refs.setdefault(function_id, function_id)
            self.resources.attributes.setdefault((function_id, "Arn"), local_function_arn(function_id))
        for logical_id, resource in self.template.resources_of(STATE_MACHINE_TYPE).items():
            properties = dict(resource.get("Properties", {}))
            name = str(self.resources.resolve(properties.get("Name", logical_id)))
            response = self.sfn.create_state_machine(
                name=name,
                definition=self.definition(logical_id),
                # Role and Policies only matter to IAM on AWS; moto wants some role ARN.
                roleArn=f"arn:aws:iam::{self.resources.account_id}:role/patron-local-{logical_id}",
                type=str(self.resources.resolve(properties.get("Type", "STANDARD"))).upper(),
            )
            arn = str(response["stateMachineArn"])
            self.state_machines[logical_id] = arn
            self.resources.refs[logical_id] = arn
            self.resources.attributes[(logical_id, "Arn")] = arn
            self.resources.attributes[(logical_id, "Name")] = name
        return dict(self.state_machines)

    def deprovision(self) -> None:
        """Delete the state machines this runtime created (others in the same moto are left alone)."""
        for logical_id, arn in self.state_machines.items():
            self.sfn.delete_state_machine(stateMachineArn=arn)
            self.resources.refs.pop(logical_id, None)
            for attribute in ("Arn", "Name"):
                self.resources.attributes.pop((logical_id, attribute), None)
        self.state_machines = {}

    def definition(self, logical_id: str) -> str:
        """The ASL as deployed: DefinitionUri (relative to the template) or inline Definition, substituted."""
        properties = dict(self.template.resources[logical_id].get("Properties", {}))
        if "DefinitionUri" in properties:
            uri = properties["DefinitionUri"]
            if not isinstance(uri, str):
                raise ValueError(f"{logical_id}: only a local DefinitionUri path can run locally")
            text = (self.template.path.parent / uri).read_text(encoding="utf-8")
        elif "Definition" in properties:
            text = json.dumps(self.resources.resolve(properties["Definition"]))
        else:
            raise ValueError(f"{logical_id} has neither DefinitionUri nor Definition")
        substitutions = {
            key: _substitution_text(self.resources.resolve(value))
            for key, value in (properties.get("DefinitionSubstitutions") or {}).items()
        }
        # Only mapped names are replaced, as CloudFormation does; anything else stays as written.
        text = _PLACEHOLDER.sub(lambda match: substitutions.get(match.group(1), match.group(0)), text)
        try:
            json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"{logical_id}: the substituted definition is not JSON: {error}") from None
        return text

    def start_execution(self, state_machine_logical_id: str, input: dict[str, Any], name: str | None = None) -> str:
        """Start an execution and return its ARN. moto names an unnamed execution `None` (and then collides),
        so there is always a unique name."""
        if name is None:
            name = f"{state_machine_logical_id[: _EXECUTION_NAME_MAX - 33]}-{uuid.uuid4().hex}"
        response = self.sfn.start_execution(
            stateMachineArn=self.state_machines[state_machine_logical_id], name=name, input=json.dumps(input)
        )
        return str(response["executionArn"])

    def wait_for(self, execution_arn: str, timeout: float) -> dict[str, Any]:
        """DescribeExecution once the execution has left RUNNING; TimeoutError if it does not within timeout."""
        deadline = time.monotonic() + timeout
        while True:
            description: dict[str, Any] = self.sfn.describe_execution(executionArn=execution_arn)
            if description["status"] != "RUNNING":
                description.pop("ResponseMetadata", None)
                return description
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{execution_arn} still RUNNING after {timeout} s")
            time.sleep(0.05)


def _substitution_text(value: Any) -> str:
    """How a substitution value reads inside the ASL text (booleans as JSON, not Python)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
