"""The stack declared once: every resource of the Black Friday pipeline as data, and the settings the design fixes.

Adding a queue with its DLQ is one `*work_queue(...)` line; a function is one FunctionSpec in functions.py;
a new kind of resource is a dataclass with its operations in blackfriday/resources/<service>.py. The model
(Resource, Manifest) is blackfriday/manifest.py; setup and teardown (blackfriday/deployment/deploy.py,
remove.py) take any manifest and default to STACK.
"""

from __future__ import annotations

from collections.abc import Iterable

from blackfriday.api.paths import ROUTE_PATHS
from blackfriday.domain import CATALOGUE, ORDERS_PREFIX, Product
from blackfriday.functions import FUNCTION_SPECS, ORDERS_API_FUNCTION, FunctionSpec
from blackfriday.manifest import Manifest, Resource
from blackfriday.names import StackNames
from blackfriday.resources.apigateway import RestApi
from blackfriday.resources.awslambda import Function, LogGroup
from blackfriday.resources.cloudwatch import ALERTS_TOPIC, Alarm, Dashboard, ErrorRateAlarm, FailureRateAlarm, ResourceAlarm
from blackfriday.resources.dynamodb import InventorySeed, Table
from blackfriday.resources.iam import Role
from blackfriday.resources.s3 import Bucket, BucketNotification
from blackfriday.resources.sns import Subscription, Topic
from blackfriday.resources.sqs import Queue
from blackfriday.resources.stepfunctions import StateMachine

# Settings the design fixes for every stack.
# The consumer starts a workflow and waits for its outcome before deleting the message: a minute covers
# that, and a crashed worker's message is back for another worker within a minute.
WORK_QUEUE_VISIBILITY_SECONDS = 60
DLQ_RETENTION_SECONDS = 14 * 24 * 3600  # the maximum: time to inspect and redrive a poison message
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
        ResourceAlarm(key=f"alarm:age_{key}", thing=f"age-{key}",
                      description=f"The oldest message in {{subject}} waits over {OLDEST_MESSAGE_LIMIT_SECONDS} s",
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
            BucketNotification(key="notification:new_orders", bucket="bucket", topic="topic:new_orders", prefix=ORDERS_PREFIX,
                               suffix=ORDER_SUFFIX),
            Table(key="table:inventory", thing="Inventory", keys=(("sku", "HASH"),), environment="INVENTORY_TABLE"),
            Table(key="table:orders", thing="Orders", keys=(("orderId", "HASH"),), environment="ORDERS_TABLE"),
            Table(key="table:analytics", thing="SkuDemand", keys=(("pk", "HASH"), ("sk", "RANGE"))),
            InventorySeed(key="seed:inventory", table="table:inventory", catalogue=catalogue),
            *(resource for spec in functions for resource in lambda_function(spec)),
            Role(key="role:workflow", thing="workflow-role", service="states.amazonaws.com", grants_for="state_machine",
                 description="Runs the order processing workflow", trusted_source="state_machine"),
            StateMachine(key="state_machine", thing="OrderProcessingWorkflow", role="role:workflow", environment="STATE_MACHINE_ARN"),
            # Not ExecutionsFailed: an order that fails for a business reason ends its execution in a Fail state.
            *(ResourceAlarm(key=f"alarm:workflow_{outcome.lower()}", thing=f"workflow-{outcome.lower()}",
                            description=f"An execution of {{subject}} {what}", namespace="AWS/States", metric=f"Executions{outcome}",
                            dimension="StateMachineArn", subject="state_machine", statistic="Sum", threshold=0)
              for outcome, what in (("TimedOut", "timed out"), ("Aborted", "was aborted (stopped)"))),
            FailureRateAlarm(key="alarm:failure_rate", thing="failure-rate", threshold=FAILURE_RATE_LIMIT_PERCENT,
                             periods=FAILURE_RATE_PERIODS, period_seconds=FAILURE_RATE_PERIOD_SECONDS,
                             minimum_orders=FAILURE_RATE_MINIMUM_ORDERS,
                             description=f"Over {FAILURE_RATE_LIMIT_PERCENT}% of orders failed in each of {FAILURE_RATE_PERIODS} "
                                         f"periods of {FAILURE_RATE_PERIOD_SECONDS // 60} minutes "
                                         "(about a quarter is normal on Black Friday)"),
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
