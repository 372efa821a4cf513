"""The local runtime: the template's API, authorizer, tables, queues and state machines in one process."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import boto3
from botocore.config import Config

from patron.applications.model import Application
from patron.applications.repository import DynamoApplicationRepository
from patron.applications.service import ApplicationService
from patron.errors import NotFoundError
from patron.logs import send_lines_to
from patron_local.apigateway import ApiGateway, HttpRequest, HttpResponse, RateLimits
from patron_local.dynamodb_local import PROJECT_ROOT, DynamoDBLocal, ensure_tables, local_aws_environment
from patron_local.functions import FunctionRegistry
from patron_local.iam import DynamoDBPolicyEnforcer
from patron_local.logstore import LogStore
from patron_local.template import ACCOUNT, REGION, PhysicalResources, Template

DEFAULT_TEMPLATE = PROJECT_ROOT / "template.yaml"
_LIMITS_CACHE_SECONDS = 1.0


@dataclass
class RuntimeOptions:
    template_path: Path = DEFAULT_TEMPLATE
    # None keeps everything in memory; a folder keeps DynamoDB Local's data between restarts.
    data_dir: Path | None = None
    # An already running DynamoDB Local (the test suite shares one); None starts one.
    dynamodb_endpoint: str | None = None
    parameter_overrides: dict[str, str] = field(default_factory=dict)
    table_prefix: str = "patron-local-"
    # Where the S3 endpoint (s3gateway) listens; presigned URLs point there. Port 0: a free one.
    s3_host: str = "127.0.0.1"
    s3_port: int = 0
    # Where log lines and metric documents are also appended, for `patron logs` / `patron health` in another
    # process (`make run`: .patron/logs.jsonl); None keeps them in memory only (`runtime.logs`).
    log_file: Path | None = None


def reset_process_caches() -> None:
    """Forget settings, clients and services built for an earlier runtime in this process: the DynamoDB clients and
    every function's composition root (patron.wiring), which builds again from this runtime's environment."""
    from patron.dynamo import client
    from patron.wiring import forget_roots

    client.dynamodb_client.cache_clear()
    client.bulk_dynamodb_client.cache_clear()
    forget_roots()


class LocalRuntime:
    def __init__(self, options: RuntimeOptions | None = None):
        self.options = options or RuntimeOptions()
        self.template = Template.load(self.options.template_path)
        parameters = self.template.parameter_defaults()
        parameters.update(self.options.parameter_overrides)
        self.resources = PhysicalResources(parameters=parameters, region=REGION, account_id=ACCOUNT)
        self.registry = FunctionRegistry(self.template.functions())
        self.dynamodb: DynamoDBLocal | None = None
        self.dynamodb_endpoint = ""
        self._dynamodb_client: Any = None
        self.table_names: dict[str, str] = {}
        self.environment: dict[str, str] = {}
        self._moto: Any = None
        self._queues: Any = None
        self.workflows: Any = None
        self.events: Any = None
        self._s3: Any = None
        self._moto_s3: Any = None
        self._eventbridge_buckets: set[str] = set()
        self._saved_environment: dict[str, str | None] = {}
        self._gateway: ApiGateway | None = None
        self._iam: DynamoDBPolicyEnforcer | None = None
        self._limits_cache: dict[int, tuple[float, RateLimits | None, str]] = {}
        self._limits_lock = threading.Lock()
        # What the functions log and the metric documents they write (stdout on AWS).
        self.logs = LogStore(file=self.options.log_file)

    # -- lifecycle -----------------------------------------------------------------------------------------

    def start(self) -> LocalRuntime:
        send_lines_to(self.logs.append)
        # CodeUri is relative to the template, as in SAM: handlers import from the template's folder.
        template_dir = str(self.options.template_path.resolve().parent)
        if template_dir not in sys.path:
            sys.path.insert(0, template_dir)
        os.environ.update(local_aws_environment())
        if self.options.dynamodb_endpoint:
            self.dynamodb_endpoint = self.options.dynamodb_endpoint
        else:
            self.dynamodb = DynamoDBLocal(data_dir=self.options.data_dir)
            self.dynamodb_endpoint = self.dynamodb.start()
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = self.dynamodb_endpoint
        self.table_names = ensure_tables(self.dynamodb_client(), self.template, self.options.table_prefix)
        for logical_id, name in self.table_names.items():
            self.resources.refs[logical_id] = name
            self.resources.attributes[(logical_id, "Arn")] = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
        for logical_id in self.registry.functions:
            arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{logical_id}"
            self.resources.refs[logical_id] = logical_id
            self.resources.attributes[(logical_id, "Arn")] = arn
        self._start_async_services()
        self._apply_function_environment()
        self._iam = DynamoDBPolicyEnforcer(
            self.template,
            self.resources,
            {name: self.resources.attributes[(logical_id, "Arn")] for logical_id, name in self.table_names.items()},
        )
        self._iam.install()
        reset_process_caches()
        self._gateway = ApiGateway(
            self.template,
            self.registry,
            stage=self.template.stage_name(self.resources.parameters),
            limits=self._rate_limits,
        )
        if self._queues is not None:
            self._queues.start()
        return self

    def stop(self) -> None:
        if self._iam is not None:
            self._iam.uninstall()
        if self._s3 is not None:
            self._s3.stop()
        if self.events is not None:
            self.events.stop()
        if self._queues is not None:
            self._queues.stop()
        if self._moto is not None:
            self._moto.stop()
        if self.dynamodb is not None:
            self.dynamodb.stop()
        send_lines_to(None)
        self.logs.close()
        # Endpoints this runtime set go back to what they were (another runtime in the process may own them).
        for name, value in self._saved_environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_environment = {}

    def __enter__(self) -> LocalRuntime:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _start_async_services(self) -> None:
        has_queues = bool(self.template.resources_of("AWS::SQS::Queue"))
        has_workflows = bool(self.template.resources_of("AWS::Serverless::StateMachine"))
        buckets = self.template.resources_of("AWS::S3::Bucket")
        if not (has_queues or has_workflows or buckets):
            return
        from patron_local.eventbridge import EventBusRuntime
        from patron_local.moto_services import MotoServices
        from patron_local.queues import QueueRuntime
        from patron_local.s3gateway import S3Gateway
        from patron_local.workflows import WorkflowRuntime

        self._moto = MotoServices(self.registry)
        endpoint = self._moto.start()
        for service in ("SQS", "SFN", "STEPFUNCTIONS"):
            self._set_environment(f"AWS_ENDPOINT_URL_{service}", endpoint)
        self._moto_s3 = self._moto.client("s3")
        for logical_id, resource in buckets.items():
            # moto is shared by the process: a name per runtime keeps two runtimes' buckets apart.
            name = f"{self.options.table_prefix}{logical_id}".lower().replace("_", "-")[:63]
            self._moto_s3.create_bucket(Bucket=name)
            self.resources.refs[logical_id] = name
            self.resources.attributes[(logical_id, "Arn")] = f"arn:aws:s3:::{name}"
            notifications = (resource.get("Properties") or {}).get("NotificationConfiguration") or {}
            if (notifications.get("EventBridgeConfiguration") or {}).get("EventBridgeEnabled") in (True, "true"):
                self._eventbridge_buckets.add(name)
        self._queues = QueueRuntime(self.template, self.resources, self.registry, self._moto.client("sqs"))
        self._queues.provision()
        self.workflows = WorkflowRuntime(self.template, self.resources, self._moto.client("stepfunctions"))
        self.workflows.provision()
        self.events = EventBusRuntime(
            self.template, self.resources, self.registry, self._moto.client("sqs"), self._queue_url
        )
        if buckets:
            # S3 through the gateway: presigned URLs are checked as S3 checks them, new objects announced.
            credentials = local_aws_environment()
            self._s3 = S3Gateway(
                endpoint,
                {credentials["AWS_ACCESS_KEY_ID"]: credentials["AWS_SECRET_ACCESS_KEY"]},
                self._object_created,
                host=self.options.s3_host,
                port=self.options.s3_port,
            )
            self._set_environment("AWS_ENDPOINT_URL_S3", self._s3.start())

    def _set_environment(self, name: str, value: str) -> None:
        self._saved_environment.setdefault(name, os.environ.get(name))
        os.environ[name] = value

    def _queue_url(self, arn: str) -> str | None:
        queues = self._queues.queues if self._queues is not None else {}
        return next((queue.url for queue in queues.values() if queue.arn == arn), None)

    def _object_created(self, bucket: str, key: str, reason: str, source_ip: str) -> None:
        """S3 sends Object Created to EventBridge for a bucket that has EventBridge enabled, as on AWS."""
        if bucket in self._eventbridge_buckets and self.events is not None:
            self.events.put_event(self.object_created_event(bucket, key, reason, source_ip))

    def object_created_event(
        self, bucket: str, key: str, reason: str = "PutObject", source_ip: str = "127.0.0.1"
    ) -> dict[str, Any]:
        """The EventBridge event S3 sends for an object now in `bucket` (tests use it to deliver one again)."""
        head = self._moto_s3.head_object(Bucket=bucket, Key=key)
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Object Created",
            "source": "aws.s3",
            "account": ACCOUNT,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": REGION,
            "resources": [f"arn:aws:s3:::{bucket}"],
            "detail": {
                "version": "0",
                "bucket": {"name": bucket},
                "object": {
                    "key": key,
                    "size": int(head["ContentLength"]),
                    "etag": str(head.get("ETag", "")).strip('"'),
                    "sequencer": f"{time.time_ns():020X}",
                },
                "request-id": uuid.uuid4().hex[:16].upper(),
                "requester": ACCOUNT,
                "source-ip-address": source_ip,
                "reason": reason,
            },
        }

    @property
    def s3_endpoint(self) -> str:
        """The S3 endpoint clients reach (presigned URLs point at it)."""
        assert self._s3 is not None, "this template has no buckets"
        return str(self._s3.endpoint_url)

    def _apply_function_environment(self) -> None:
        """Lambda gives each function its own variables; in one process they must agree, and do here."""
        merged: dict[str, str] = {}
        for function in self.registry.functions.values():
            for name, value in function.environment.items():
                resolved = str(self.resources.resolve(value))
                if name in merged and merged[name] != resolved:
                    raise ValueError(f"functions disagree on {name}; the local runtime needs one value per name")
                merged[name] = resolved
        self.environment = merged
        os.environ.update(merged)

    @property
    def gateway(self) -> ApiGateway:
        assert self._gateway is not None, "start() the runtime first"
        return self._gateway

    # -- clients and services --------------------------------------------------------------------------------

    def dynamodb_client(self) -> Any:
        if self._dynamodb_client is None:
            self._dynamodb_client = boto3.client("dynamodb", endpoint_url=self.dynamodb_endpoint, region_name=REGION)
        return self._dynamodb_client

    def aws_client(self, service: str) -> Any:
        """A client of moto's SQS, S3 or Step Functions, as the handlers see them (S3 through the gateway, so an
        object put with it is announced as on AWS)."""
        assert self._moto is not None, "this template has no queues or state machines"
        if service == "s3" and self._s3 is not None:
            return boto3.session.Session().client(
                "s3",
                endpoint_url=self._s3.endpoint_url,
                region_name=REGION,
                aws_access_key_id="local",
                aws_secret_access_key="local",  # noqa: S106 - the local runtime's own credentials
                config=Config(s3={"addressing_style": "path"}),
            )
        return self._moto.client(service)

    def applications(self) -> ApplicationService:
        return ApplicationService(DynamoApplicationRepository(self.dynamodb_client(), self.table_names["ConfigTable"]))

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """True once no event is being delivered and the queues are drained (events may fill queues: first)."""
        deadline = time.monotonic() + timeout
        if self.events is not None and not self.events.wait_idle(timeout):
            return False
        return True if self._queues is None else bool(self._queues.wait_idle(max(0.0, deadline - time.monotonic())))

    # -- usage plans -----------------------------------------------------------------------------------------

    def _rate_limits(self, usage_key: str, authorizer_context: dict[str, Any]) -> RateLimits | None:
        """The usage plan behind a key: the application's own limits, read from the config table."""
        try:
            application_id = int(authorizer_context["applicationId"])
        except (KeyError, ValueError):
            return None
        now = time.monotonic()
        with self._limits_lock:
            cached = self._limits_cache.get(application_id)
        if cached is None or cached[0] <= now:
            try:
                application: Application | None = self.applications().get_application(application_id)
            except NotFoundError:
                application = None
            limits = RateLimits(application.rate_limit.rate, application.rate_limit.burst) if application else None
            cached = (now + _LIMITS_CACHE_SECONDS, limits, application.usage_key if application else "")
            with self._limits_lock:
                self._limits_cache[application_id] = cached
        _, limits, expected_key = cached
        return limits if expected_key == usage_key else None

    # -- requests --------------------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | list[tuple[str, str]] | None = None,
        body: Any = None,
        query: dict[str, str] | None = None,
    ) -> HttpResponse:
        """One HTTP request through API Gateway's behaviour, in-process (no port)."""
        if isinstance(body, bytes):
            raw = body
        elif isinstance(body, str):
            raw = body.encode("utf-8")
        elif body is None:
            raw = b""
        else:
            raw = json.dumps(body).encode("utf-8")
        header_pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
        if raw and not any(name.lower() == "content-type" for name, _ in header_pairs):
            header_pairs.append(("Content-Type", "application/json"))
        path, _, query_string = path.partition("?")
        pairs = parse_qsl(query_string, keep_blank_values=True) + list((query or {}).items())
        return self.gateway.handle(
            HttpRequest(
                method=method,
                path=path,
                query=[(str(k), str(v)) for k, v in pairs],
                headers=header_pairs,
                body=raw,
            )
        )
