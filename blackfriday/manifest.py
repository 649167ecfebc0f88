"""The stack declared once: every resource as data (kind, name from the prefix, configuration, dependencies).

Setup walks STACK in dependency order, teardown in the reverse order; the remaining-check, describe_stack,
the Lambda environments, the ASL placeholders and the IAM grants all derive from it. A resource's `key` is
how everything else refers to it: `${topic:order_events}` in the ASL file, `Grant(..., "table:orders")` in
functions.py, `dead_letter_queue="queue:shipping_dlq"` here. Adding a queue with its DLQ is one
`*work_queue(...)` line; a function is one FunctionSpec in functions.py; a new kind of resource is a class
here plus its operations in resources/kinds.py (as RestApi, the order API's front door, was added).
"""

from __future__ import annotations

import graphlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import ClassVar, TypeVar

from blackfriday.api.paths import ROUTE_PATHS
from blackfriday.domain import (
    CATALOGUE,
    DEFAULT_APPROVAL_THRESHOLD_CENTS,
    DEFAULT_APPROVAL_TIMEOUT_SECONDS,
    ORDERS_PREFIX,
    Product,
)
from blackfriday.functions import FUNCTION_SPECS, ORDERS_API_FUNCTION, FunctionSpec
from blackfriday.names import StackNames

# Settings the design fixes for every stack.
# The consumer starts a workflow and waits for its outcome before deleting the message: a minute covers
# that, and a crashed worker's message is back for another worker within a minute.
WORK_QUEUE_VISIBILITY_SECONDS = 60
MAX_RECEIVE_COUNT = 3
DLQ_RETENTION_SECONDS = 14 * 24 * 3600  # the maximum: time to inspect and redrive a poison message
LOG_RETENTION_DAYS = 30
ALERTS_TOPIC = "topic:critical_alerts"
OLDEST_MESSAGE_LIMIT_SECONDS = 300  # five minutes behind on a spike means the consumers need scaling out
# On the default catalogue about a quarter of a spike's orders fail for business reasons (doorbusters sold out,
# declined cards, invalid orders); half of them, ten minutes running, is a fault (e.g. payments or stock broken).
FAILURE_RATE_LIMIT_PERCENT = 50
FAILURE_RATE_PERIOD_SECONDS = 300
FAILURE_RATE_PERIODS = 2
FAILURE_RATE_MINIMUM_ORDERS = 20  # a rate over fewer orders is noise
# A function whose dependency fails some calls in normal running (FunctionSpec.normal_error_percent) alarms at five
# times that rate, ten minutes running, over at least 20 invocations a period.
ERROR_RATE_FACTOR = 5
ERROR_RATE_PERIOD_SECONDS = 300
ERROR_RATE_PERIODS = 2
ERROR_RATE_MINIMUM_INVOCATIONS = 20
ORDER_SUFFIX = ".json"


@dataclass(frozen=True, kw_only=True)
class Resource:
    """One resource of the stack. `kind` is how setup and teardown name it to the user."""

    kind: ClassVar[str]
    key: str

    def name(self, names: StackNames) -> str:
        raise NotImplementedError

    def arn(self, names: StackNames) -> str:
        raise NotImplementedError(f"{self.kind} {self.key} has no ARN known from its name")

    def reference(self, names: StackNames) -> str:
        """What `${key}` in the ASL and an environment variable naming this resource stand for."""
        return self.arn(names)

    def depends_on(self, manifest: Manifest) -> tuple[str, ...]:
        """Keys of the resources that must exist first (this one names them)."""
        return ()


@dataclass(frozen=True, kw_only=True)
class Bucket(Resource):
    kind: ClassVar[str] = "s3 bucket"
    environment: str | None = None  # the variable that carries its name into Lambdas

    def name(self, names: StackNames) -> str:
        return names.bucket

    def arn(self, names: StackNames) -> str:
        return names.bucket_arn

    def reference(self, names: StackNames) -> str:
        return names.bucket


@dataclass(frozen=True, kw_only=True)
class Topic(Resource):
    kind: ClassVar[str] = "sns topic"
    thing: str
    environment: str | None = None  # the variable that carries its ARN into Lambdas
    publishing_bucket: str | None = None  # the key of the only bucket (of this account) that may publish

    def name(self, names: StackNames) -> str:
        return names.name(self.thing)

    def arn(self, names: StackNames) -> str:
        return names.topic_arn(self.name(names))


@dataclass(frozen=True, kw_only=True)
class Queue(Resource):
    kind: ClassVar[str] = "sqs queue"
    thing: str
    dead_letter_queue: str | None = None  # key of the queue that receives what fails MAX_RECEIVE_COUNT times
    senders: tuple[str, ...] = ()  # keys of the only topics allowed to send
    max_receive_count: int = MAX_RECEIVE_COUNT
    visibility_timeout: int | None = None
    retention_seconds: int | None = None

    def name(self, names: StackNames) -> str:
        return names.name(self.thing)

    def arn(self, names: StackNames) -> str:
        return names.queue_arn(self.name(names))

    def depends_on(self, manifest: Manifest) -> tuple[str, ...]:
        return tuple(filter(None, (self.dead_letter_queue, *self.senders)))


@dataclass(frozen=True, kw_only=True)
class Subscription(Resource):
    kind: ClassVar[str] = "sns subscription"
    topic: str
    queue: str
    raw_delivery: bool

    def name(self, names: StackNames) -> str:
        raise NotImplementedError("a subscription is named by its ends: Manifest.name_of")

    def depends_on(self, manifest: Manifest) -> tuple[str, ...]:
        return self.topic, self.queue


@dataclass(frozen=True, kw_only=True)
class EmailSubscription(Resource):
    """An address told of every message on a topic (on AWS, once the person confirms the e-mail)."""

    kind: ClassVar[str] = "sns subscription"
    raw_delivery: ClassVar[None] = None  # not applicable to e-mail
    topic: str
    address: str

    def depends_on(self, manifest: Manifest) -> tuple[str, ...]:
        return (self.topic,)


@dataclass(frozen=True, kw_only=True)
class BucketNotification(Resource):
    kind: ClassVar[str] = "s3 notification"
    bucket: str
    topic: str
    prefix: str
    suffix: str

    def depends_on(self, manifest: Manifest) -> tuple[str, ...]:
        # Last of the event path: S3 checks that the topic policy lets it publish, and the first events find the queues subscribed.
        subscribed = tuple(item.key for item in manifest.of(Subscription) if item.topic == self.topic)
        return self.bucket, self.topic, *subscribed


@dataclass(frozen=True, kw_only=True)
class Table(Resource):
    kind: ClassVar[str] = "dynamodb table"
    thing: str
    keys: tuple[tuple[str, str], ...]  # (attribute, HASH|RANGE), every key a string
    environment: str | None = None  # the variable that carries its name into Lambdas

    def name(self, names: StackNames) -> str:
        return names.name(self.thing)

    def arn(self, names: StackNames) -> str:
        return names.table_arn(self.name(names))

    def reference(self, names: StackNames) -> str:
        return self.name(names)


@dataclass(frozen=True, kw_only=True)
class InventorySeed(Resource):
    kind: ClassVar[str] = "inventory seed"
    table: str
    catalogue: tuple[Product, ...]

    def name(self, names: StackNames) -> str:
        return f"{len(self.catalogue)} SKUs"

    def depends_on(self, manifest: Manifest) -> tuple[str, ...]:
        return (self.table,)


@dataclass(frozen=True, kw_only=True)
class LogGroup(Resource):
    kind: ClassVar[str] = "log group"
    function: str  # the function's short name
    retention_days: int = LOG_RETENTION_DAYS

    def name(self, names: StackNames) -> str:
        return names.log_group(self.function)

    def arn(self, names: StackNames) -> str:
        return names.arn("logs", f"log-group:{self.name(names)}:*")


@dataclass(frozen=True, kw_only=True)
class Role(Resource):
    """A role only `service` acting for this account may assume, allowed exactly what the resource `grants_for` uses."""

    kind: ClassVar[str] = "iam role"
    thing: str
    service: str
    grants_for: str  # key of the function or state machine whose needs make the role's only policy
    description: str
    trusted_source: str | None = None  # key of the one resource the service may assume it for (aws:SourceArn)

    def name(self, names: StackNames) -> str:
        return names.name(self.thing)

    def arn(self, names: StackNames) -> str:
        return names.role_arn(self.name(names))


@dataclass(frozen=True, kw_only=True)
class Function(Resource):
    kind: ClassVar[str] = "lambda function"
    spec: FunctionSpec
    role: str
    log_group: str

    def name(self, names: StackNames) -> str:
        return names.function(self.spec.short_name)

    def arn(self, names: StackNames) -> str:
        return names.function_arn(self.spec.short_name)

    def depends_on(self, manifest: Manifest) -> tuple[str, ...]:
        # the log group first, so Lambda does not create one that keeps logs forever
        return self.role, self.log_group


@dataclass(frozen=True, kw_only=True)
class StateMachine(Resource):
    kind: ClassVar[str] = "state machine"
    thing: str
    role: str
    environment: str | None = None  # the variable that carries its ARN into Lambdas

    def name(self, names: StackNames) -> str:
        return names.name(self.thing)

    def arn(self, names: StackNames) -> str:
        return names.arn("states", f"stateMachine:{self.name(names)}")

    def executions_arn(self, names: StackNames) -> str:
        return names.arn("states", f"execution:{self.name(names)}:*")

    def depends_on(self, manifest: Manifest) -> tuple[str, ...]:
        # the ASL may name any function of the stack
        return self.role, *(item.key for item in manifest.of(Function))


@dataclass(frozen=True, kw_only=True)
class RestApi(Resource):
    """A REST API whose every path takes ANY, proxied to one function, on a throttled stage; found by its name.

    Its ARN and URL hold the id AWS gives it, so nothing refers to it by `${key}`: describe_stack gives its URL.
    """

    kind: ClassVar[str] = "rest api"
    thing: str
    function: str  # key of the function every route is proxied to (its resource policy admits this API's stage)
    paths: tuple[str, ...]
    description: str

    def name(self, names: StackNames) -> str:
        return names.name(self.thing)

    def depends_on(self, manifest: Manifest) -> tuple[str, ...]:
        return (self.function,)


@dataclass(frozen=True, kw_only=True)
class Alarm(Resource):
    """A fault alarm: it fires when its metric is over `threshold` for `periods` periods in a row, and tells `alerts`."""

    kind: ClassVar[str] = "alarm"
    thing: str
    description: str
    threshold: float
    periods: int = 1
    alerts: str = ALERTS_TOPIC  # key of the topic every alarm notifies, firing and back to OK

    def name(self, names: StackNames) -> str:
        return names.alarm(self.thing)

    def depends_on(self, manifest: Manifest) -> tuple[str, ...]:
        return (self.alerts,)


@dataclass(frozen=True, kw_only=True)
class ResourceAlarm(Alarm):
    """On one metric of one resource (`subject`); `description` may say {subject}."""

    namespace: str
    metric: str
    dimension: str  # the metric's dimension naming the subject: its name, or its ARN when the dimension ends in "Arn"
    subject: str
    statistic: str

    def depends_on(self, manifest: Manifest) -> tuple[str, ...]:
        return self.subject, self.alerts


@dataclass(frozen=True, kw_only=True)
class FailureRateAlarm(Alarm):
    """On the share of orders that ended FAILED (the business metrics the Lambdas emit), counted per `period_seconds`
    once at least `minimum_orders` ended in the period."""

    period_seconds: int
    minimum_orders: int


@dataclass(frozen=True, kw_only=True)
class ErrorRateAlarm(Alarm):
    """On the share of a function's (`subject`) invocations that ended in an error, per `period_seconds`, once it ran
    at least `minimum_invocations` times in the period; `description` may say {subject}."""

    subject: str
    period_seconds: int
    minimum_invocations: int

    def depends_on(self, manifest: Manifest) -> tuple[str, ...]:
        return self.subject, self.alerts


@dataclass(frozen=True, kw_only=True)
class Dashboard(Resource):
    """Orders completed and failed (by reason), then waiting messages, dead letters, oldest ages, executions and Lambda
    errors of every such resource of the stack."""

    kind: ClassVar[str] = "dashboard"
    thing: str

    def name(self, names: StackNames) -> str:
        return names.name(self.thing)

    def depends_on(self, manifest: Manifest) -> tuple[str, ...]:
        # what it shows, so it comes last and a resource added to the manifest joins it in the same run
        return tuple(item.key for item in manifest.resources if isinstance(item, (Queue, Function, StateMachine)))


R = TypeVar("R", bound=Resource)


@dataclass(frozen=True)
class ApprovalSettings:
    """When a person must approve an order, and how long the workflow waits (setup_infra.py options).

    They reach the workflow as ReserveInventory's environment (it answers needsApproval and the wait), so a
    change shows in the plan as an update of that function."""

    threshold_cents: int = DEFAULT_APPROVAL_THRESHOLD_CENTS
    timeout_seconds: int = DEFAULT_APPROVAL_TIMEOUT_SECONDS

    def environment(self) -> dict[str, str]:
        return {"APPROVAL_THRESHOLD_CENTS": str(self.threshold_cents), "APPROVAL_TIMEOUT_SECONDS": str(self.timeout_seconds)}


class Manifest:
    """The resources of a stack, checked (unique keys, known references, no cycle) and in dependency order,
    and the settings its functions read from their environment."""

    def __init__(self, resources: Iterable[Resource], approval: ApprovalSettings = ApprovalSettings()):
        self.resources = tuple(resources)
        self.approval = approval
        self.ordered = self.resources  # until sorted below: dependencies may look resources up by kind
        self._by_key: dict[str, Resource] = {}
        for resource in self.resources:
            if resource.key in self._by_key:
                raise ValueError(f"the manifest declares {resource.key!r} twice")
            self._by_key[resource.key] = resource
        for resource in self.resources:
            unknown = [key for key in resource.depends_on(self) if key not in self._by_key]
            if unknown:
                raise ValueError(f"{resource.key} depends on {', '.join(unknown)}, which the manifest does not declare")
        self.ordered = self._dependency_order()

    def _dependency_order(self) -> tuple[Resource, ...]:
        """Every resource after what it depends on; otherwise in the order declared."""
        sorter = graphlib.TopologicalSorter({resource.key: resource.depends_on(self) for resource in self.resources})
        try:
            sorter.prepare()
        except graphlib.CycleError as error:
            raise ValueError(f"the manifest's dependencies form a cycle: {' -> '.join(error.args[1])}") from None
        position = {resource.key: index for index, resource in enumerate(self.resources)}
        ordered: list[Resource] = []
        ready: list[str] = []
        while sorter.is_active():
            ready = sorted([*ready, *sorter.get_ready()], key=position.__getitem__)
            key = ready.pop(0)
            ordered.append(self._by_key[key])
            sorter.done(key)
        return tuple(ordered)

    def __iter__(self) -> Iterator[Resource]:
        return iter(self.ordered)

    def __getitem__(self, key: str) -> Resource:
        return self._by_key[key]

    def of(self, kind: type[R]) -> list[R]:
        """Every resource of a kind, in dependency order."""
        return [resource for resource in self.ordered if isinstance(resource, kind)]

    def plus(self, *resources: Resource) -> Manifest:
        return Manifest((*self.resources, *resources), self.approval)

    def with_approval(self, approval: ApprovalSettings) -> Manifest:
        return Manifest(self.resources, approval)

    def name_of(self, resource: Resource, names: StackNames) -> str:
        """The name setup and teardown show: a resource's own name, or what it connects."""
        if isinstance(resource, Subscription):
            return f"{self[resource.topic].name(names)} -> {self[resource.queue].name(names)}"
        if isinstance(resource, EmailSubscription):
            return f"{self[resource.topic].name(names)} -> {resource.address}"
        if isinstance(resource, BucketNotification):
            return f"{self[resource.bucket].name(names)} {resource.prefix}*{resource.suffix} -> {self[resource.topic].name(names)}"
        return resource.name(names)

    def label(self, resource: Resource, names: StackNames) -> str:
        return f"{resource.kind} {self.name_of(resource, names)}"

    def placeholder_values(self, names: StackNames) -> dict[str, str]:
        """What each `${key}` of an ASL file stands for: every resource that has a reference, and `${partition}`
        (a service integration is written `arn:${partition}:states:::sns:publish`)."""
        values = {"partition": names.partition}
        for resource in self.resources:
            try:
                values[resource.key] = resource.reference(names)
            except NotImplementedError:
                continue
        return values

    def environment_values(self, names: StackNames) -> dict[str, str]:
        """Every environment variable a resource declares, with the name or ARN it carries into Lambdas, and the settings."""
        return {
            **{resource.environment: resource.reference(names) for resource in self.resources if getattr(resource, "environment", None)},
            **self.approval.environment(),
        }

    def grant_arn(self, grant, names: StackNames) -> str:
        if grant.unscoped:
            return "*"
        if grant.executions:
            return self[grant.resource].executions_arn(names)
        return self[grant.resource].arn(names) + grant.path

    def dimension_value(self, alarm: ResourceAlarm, names: StackNames) -> str:
        subject = self[alarm.subject]
        return subject.arn(names) if alarm.dimension.endswith("Arn") else subject.name(names)


def work_queue(key: str, thing: str, dlq_thing: str, topic: str) -> tuple[Resource, ...]:
    """A queue fed by `topic` (raw delivery) whose poison messages go to its DLQ after three receives, with its alarms."""
    dlq = Queue(key=f"queue:{key}_dlq", thing=dlq_thing, retention_seconds=DLQ_RETENTION_SECONDS)
    queue = Queue(
        key=f"queue:{key}",
        thing=thing,
        dead_letter_queue=dlq.key,
        senders=(topic,),
        visibility_timeout=WORK_QUEUE_VISIBILITY_SECONDS,
    )
    return (
        dlq,
        queue,
        Subscription(key=f"subscription:{key}", topic=topic, queue=queue.key, raw_delivery=True),
        ResourceAlarm(key=f"alarm:dlq_{key}", thing=f"dlq-{key}", description="A message reached {subject}: an order event failed 3 times",
                      namespace="AWS/SQS", metric="ApproximateNumberOfMessagesVisible", dimension="QueueName", subject=dlq.key,
                      statistic="Maximum", threshold=0),
        ResourceAlarm(key=f"alarm:age_{key}", thing=f"age-{key}", description=f"The oldest message in {{subject}} waits over {OLDEST_MESSAGE_LIMIT_SECONDS} s",
                      namespace="AWS/SQS", metric="ApproximateAgeOfOldestMessage", dimension="QueueName", subject=queue.key,
                      statistic="Maximum", threshold=OLDEST_MESSAGE_LIMIT_SECONDS),
    )  # fmt: skip


def lambda_function(spec: FunctionSpec) -> tuple[Resource, ...]:
    """A function with its own log group and its own least-privilege role."""
    function_key = f"function:{spec.short_name}"
    log_group = LogGroup(key=f"log_group:{spec.short_name}", function=spec.short_name)
    role = Role(
        key=f"role:{spec.short_name}",
        thing=f"{spec.short_name.replace('_', '-')}-role",
        service="lambda.amazonaws.com",
        grants_for=function_key,
        description=spec.description,
    )
    function = Function(key=function_key, spec=spec, role=role.key, log_group=log_group.key)
    return log_group, role, function, errors_alarm(spec, function_key)


def errors_alarm(spec: FunctionSpec, function_key: str) -> Alarm:
    """Its errors are faults: a business rejection is the function's result, not an error (blackfriday.telemetry).

    Each one fires the alarm, unless a dependency fails some calls in normal running: then only an error rate far
    above that normal one does (a retried gateway timeout is not worth waking anyone up for; a broken gateway is).
    """
    key, thing = f"alarm:errors_{spec.short_name}", f"errors-{spec.short_name.replace('_', '-')}"
    if spec.normal_error_percent is None:
        return ResourceAlarm(
            key=key, thing=thing, description="{subject} failed: an error other than a business rejection (see its log group)",
            namespace="AWS/Lambda", metric="Errors", dimension="FunctionName", subject=function_key, statistic="Sum", threshold=0,
        )  # fmt: skip
    threshold = ERROR_RATE_FACTOR * spec.normal_error_percent
    return ErrorRateAlarm(
        key=key, thing=thing, subject=function_key, threshold=threshold, periods=ERROR_RATE_PERIODS,
        period_seconds=ERROR_RATE_PERIOD_SECONDS, minimum_invocations=ERROR_RATE_MINIMUM_INVOCATIONS,
        description=f"{{subject}} failed on over {threshold:g}% of its invocations in each of {ERROR_RATE_PERIODS} periods of "
                    f"{ERROR_RATE_PERIOD_SECONDS // 60} minutes (about {spec.normal_error_percent:g}% is normal, each retried)",
    )  # fmt: skip


def stack_manifest(functions: Iterable[FunctionSpec] = FUNCTION_SPECS, catalogue: tuple[Product, ...] = CATALOGUE) -> Manifest:
    return Manifest(
        (
            Bucket(key="bucket", environment="BUCKET"),
            Topic(key="topic:new_orders", thing="NewOrderEvents", publishing_bucket="bucket"),
            Topic(key="topic:order_events", thing="OrderEvents", environment="ORDER_EVENTS_TOPIC_ARN"),
            Topic(key="topic:order_errors", thing="OrderErrors", environment="ORDER_ERRORS_TOPIC_ARN"),
            Topic(key="topic:approvals", thing="Approvals", environment="APPROVALS_TOPIC_ARN"),
            Topic(key=ALERTS_TOPIC, thing="CriticalAlerts"),  # every alarm's action; --notify-email subscribes to it
            *work_queue("shipping", "ShippingQueue", "ShippingDLQ", "topic:new_orders"),
            *work_queue("analytics", "AnalyticsQueue", "AnalyticsDLQ", "topic:new_orders"),
            Queue(key="queue:notifications", thing="NotificationsQueue", senders=("topic:order_events", "topic:order_errors")),
            # Not raw: the SNS envelope's TopicArn tells a confirmation from a failure notice.
            Subscription(key="subscription:order_events", topic="topic:order_events", queue="queue:notifications", raw_delivery=False),
            Subscription(key="subscription:order_errors", topic="topic:order_errors", queue="queue:notifications", raw_delivery=False),
            BucketNotification(key="notification:new_orders", bucket="bucket", topic="topic:new_orders", prefix=ORDERS_PREFIX, suffix=ORDER_SUFFIX),
            Table(key="table:inventory", thing="Inventory", keys=(("sku", "HASH"),), environment="INVENTORY_TABLE"),
            Table(key="table:orders", thing="Orders", keys=(("orderId", "HASH"),), environment="ORDERS_TABLE"),
            Table(key="table:analytics", thing="SkuDemand", keys=(("pk", "HASH"), ("sk", "RANGE"))),
            InventorySeed(key="seed:inventory", table="table:inventory", catalogue=catalogue),
            *(resource for spec in functions for resource in lambda_function(spec)),
            Role(key="role:workflow", thing="workflow-role", service="states.amazonaws.com", grants_for="state_machine",
                 description="Runs the order processing workflow", trusted_source="state_machine"),
            StateMachine(key="state_machine", thing="OrderProcessingWorkflow", role="role:workflow", environment="STATE_MACHINE_ARN"),
            # Not ExecutionsFailed: an order that fails for a business reason ends its execution in a Fail state.
            *(ResourceAlarm(key=f"alarm:workflow_{outcome.lower()}", thing=f"workflow-{outcome.lower()}", description=f"An execution of {{subject}} {what}",
                            namespace="AWS/States", metric=f"Executions{outcome}", dimension="StateMachineArn", subject="state_machine",
                            statistic="Sum", threshold=0)
              for outcome, what in (("TimedOut", "timed out"), ("Aborted", "was aborted (stopped)"))),
            FailureRateAlarm(key="alarm:failure_rate", thing="failure-rate", threshold=FAILURE_RATE_LIMIT_PERCENT, periods=FAILURE_RATE_PERIODS,
                             period_seconds=FAILURE_RATE_PERIOD_SECONDS, minimum_orders=FAILURE_RATE_MINIMUM_ORDERS,
                             description=f"Over {FAILURE_RATE_LIMIT_PERCENT}% of orders failed in each of {FAILURE_RATE_PERIODS} periods of "
                                         f"{FAILURE_RATE_PERIOD_SECONDS // 60} minutes (about a quarter is normal on Black Friday)"),
            *lambda_function(ORDERS_API_FUNCTION),
            RestApi(key="rest_api", thing="OrdersApi", function=f"function:{ORDERS_API_FUNCTION.short_name}", paths=ROUTE_PATHS,
                    description="Black Friday order API and storefront"),
            Dashboard(key="dashboard", thing="pipeline"),
        )
    )  # fmt: skip


STACK = stack_manifest()


def environment_values(names: StackNames) -> dict[str, str]:
    """The environment variables of the stack's Lambdas (the handlers in lambdas/ read these)."""
    return STACK.environment_values(names)
