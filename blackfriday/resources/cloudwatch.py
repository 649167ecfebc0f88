"""CloudWatch alarms on faults (each notifying the CriticalAlerts topic), and the pipeline dashboard: the kinds, their
operations, the calls."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import ClassVar

from botocore.exceptions import ClientError

from blackfriday.errors import error_code
from blackfriday.manifest import Manifest, Resource
from blackfriday.names import StackNames
from blackfriday.observability import METRICS_NAMESPACE, ORDERS_COMPLETED, ORDERS_FAILED, REASON_DIMENSION, SERVICE_DIMENSION, SERVICE_NAME
from blackfriday.resources.awslambda import Function
from blackfriday.resources.base import Action
from blackfriday.resources.kinds import Context, Listing, Operations, operates_on, reported_deletion
from blackfriday.resources.sqs import Queue
from blackfriday.resources.stepfunctions import StateMachine

PERIOD_SECONDS = 60
UNCOMPARED_FIELDS = ("AlarmName",)  # how the alarm is found


ALERTS_TOPIC = "topic:critical_alerts"  # the key of the topic every alarm notifies unless it names another


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

    def dimension_value(self, manifest: Manifest, names: StackNames) -> str:
        subject = manifest[self.subject]
        return subject.arn(names) if self.dimension.endswith("Arn") else subject.name(names)


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


def resource_metric(namespace: str, metric: str, dimension: tuple[str, str], statistic: str, period: int = PERIOD_SECONDS) -> dict:
    """PutMetricAlarm's metric fields for one metric of one resource."""
    return {
        "Namespace": namespace,
        "MetricName": metric,
        "Dimensions": [{"Name": dimension[0], "Value": dimension[1]}],
        "Statistic": statistic,
        "Period": period,
    }


def _metric_query(query_id: str, namespace: str, metric: str, dimension: tuple[str, str], period: int) -> dict:
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {"Namespace": namespace, "MetricName": metric, "Dimensions": [{"Name": dimension[0], "Value": dimension[1]}]},
            "Period": period,
            "Stat": "Sum",
        },
        "ReturnData": False,
    }


def _percentage(query_id: str, part: str, whole: str, minimum: int, label: str) -> dict:
    """100 * part / whole in a period, 0 when `whole` is under `minimum` (a rate over so few is noise)."""
    return {
        "Id": query_id,
        "Expression": f"IF({whole} >= {minimum}, 100 * FILL({part}, 0) / {whole}, 0)",
        "Label": label,
        "ReturnData": True,
    }


def failure_rate_metrics(period: int, minimum_orders: int) -> dict:
    """PutMetricAlarm's metric math: the percentage of orders that ended FAILED in a period, 0 below `minimum_orders`.

    FILL: a period where every order failed has no OrdersCompleted datapoint at all, and must still count.
    """
    service = (SERVICE_DIMENSION, SERVICE_NAME)
    return {
        "Metrics": [
            _metric_query("completed", METRICS_NAMESPACE, ORDERS_COMPLETED, service, period),
            _metric_query("failed", METRICS_NAMESPACE, ORDERS_FAILED, service, period),
            {"Id": "orders", "Expression": "FILL(completed, 0) + FILL(failed, 0)", "Label": "Orders ended", "ReturnData": False},
            _percentage("failure_rate", "failed", "orders", minimum_orders, "Failed orders (%)"),
        ]
    }


def error_rate_metrics(function_name: str, period: int, minimum_invocations: int) -> dict:
    """PutMetricAlarm's metric math: the percentage of a function's invocations that ended in an error in a period,
    0 below `minimum_invocations` (a period without errors has no Errors datapoint: FILL)."""
    function = ("FunctionName", function_name)
    return {
        "Metrics": [
            _metric_query("invocations", "AWS/Lambda", "Invocations", function, period),
            _metric_query("errors", "AWS/Lambda", "Errors", function, period),
            _percentage("error_rate", "errors", "invocations", minimum_invocations, "Invocations that failed (%)"),
        ]
    }


def alarm_arguments(name: str, description: str, metric: dict, threshold: float, periods: int, action_arn: str) -> dict:
    """PutMetricAlarm's arguments for a fault alarm: over the threshold in `periods` periods in a row, `action_arn` told
    when it fires and when it is back to OK; no data is no fault."""
    return {
        "AlarmName": name,
        "AlarmDescription": description,
        **metric,
        "EvaluationPeriods": periods,
        "DatapointsToAlarm": periods,
        "Threshold": threshold,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching",
        "ActionsEnabled": True,
        "AlarmActions": [action_arn],
        "OKActions": [action_arn],
    }


def find_alarm(cloudwatch, name: str) -> dict | None:
    found = cloudwatch.describe_alarms(AlarmNames=[name], AlarmTypes=["MetricAlarm"])["MetricAlarms"]
    return found[0] if found else None


def _comparable(field: str, value):
    return sorted((item["Name"], item["Value"]) for item in value) if field == "Dimensions" else value


def alarm_differences(current: dict, desired: dict) -> list[str]:
    """The alarm settings that differ, e.g. ["configuration: Threshold"]."""
    changed = [
        field
        for field in desired
        if field not in UNCOMPARED_FIELDS and _comparable(field, current.get(field, [])) != _comparable(field, desired[field])
    ]
    return [f"configuration: {', '.join(changed)}"] if changed else []


def ensure_alarm(cloudwatch, spec: dict) -> Action:
    current = find_alarm(cloudwatch, spec["AlarmName"])
    if current is not None and not alarm_differences(current, spec):
        return Action.UNCHANGED
    cloudwatch.put_metric_alarm(**spec)
    return Action.UPDATED if current else Action.CREATED


def delete_alarms(cloudwatch, alarm_names: list[str]) -> list[str]:
    """Delete those that exist; returns their names."""
    existing = [
        alarm["AlarmName"]
        for page in cloudwatch.get_paginator("describe_alarms").paginate(AlarmNames=alarm_names, AlarmTypes=["MetricAlarm"])
        for alarm in page["MetricAlarms"]
    ]
    if existing:
        cloudwatch.delete_alarms(AlarmNames=existing)
    return existing


def dashboard_body(
    region: str,
    work_queues: list[str],
    other_queues: list[str],
    dead_letter_queues: list[str],
    state_machine_arns: list[str],
    functions: list[str],
) -> dict:
    """Orders completed and failed (by reason), waiting messages, dead letters, oldest message ages, workflow executions and
    Lambda errors."""

    def sqs(metric: str, queues: list[str]) -> list:
        return [["AWS/SQS", metric, "QueueName", queue] for queue in queues]

    def widget(title: str, metrics: list, stat: str, position: int) -> dict:
        return {
            "type": "metric",
            "x": (position % 2) * 12,
            "y": (position // 2) * 6,
            "width": 12,
            "height": 6,
            "properties": {
                "title": title,
                "region": region,
                "metrics": metrics,
                "stat": stat,
                "period": PERIOD_SECONDS,
                "view": "timeSeries",
            },
        }

    outcomes = [[METRICS_NAMESPACE, metric, SERVICE_DIMENSION, SERVICE_NAME] for metric in (ORDERS_COMPLETED, ORDERS_FAILED)]
    # every reason that occurred, without listing them: the search finds each Reason's series
    by_reason = [
        [
            {
                "id": "reasons",
                "expression": (
                    f"SEARCH('{{{METRICS_NAMESPACE},{REASON_DIMENSION},{SERVICE_DIMENSION}}} "
                    f"MetricName=\"{ORDERS_FAILED}\"', 'Sum', {PERIOD_SECONDS})"
                ),
            }
        ]
    ]
    executions = [
        ["AWS/States", metric, "StateMachineArn", arn]
        for arn in state_machine_arns
        for metric in ("ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted")
    ]
    return {
        "widgets": [
            widget("Orders completed and failed", outcomes, "Sum", 0),
            widget("Failed orders by reason", by_reason, "Sum", 1),
            widget("Messages waiting", sqs("ApproximateNumberOfMessagesVisible", [*work_queues, *other_queues]), "Maximum", 2),
            widget("Dead letters", sqs("ApproximateNumberOfMessagesVisible", dead_letter_queues), "Maximum", 3),
            widget("Oldest message age (s)", sqs("ApproximateAgeOfOldestMessage", work_queues), "Maximum", 4),
            widget("Order workflow executions", executions, "Sum", 5),
            widget("Lambda errors", [["AWS/Lambda", "Errors", "FunctionName", name] for name in functions], "Sum", 6),
        ]
    }


def current_dashboard(cloudwatch, name: str) -> dict | None:
    try:
        return json.loads(cloudwatch.get_dashboard(DashboardName=name)["DashboardBody"])
    except ClientError as error:
        # botocore models two exceptions with this code (DashboardNotFoundError, ResourceNotFound): match the code
        if error_code(error) == "ResourceNotFound":
            return None
        raise


def ensure_dashboard(cloudwatch, name: str, body: dict) -> Action:
    current = current_dashboard(cloudwatch, name)
    if current == body:
        return Action.UNCHANGED
    cloudwatch.put_dashboard(DashboardName=name, DashboardBody=json.dumps(body))
    return Action.CREATED if current is None else Action.UPDATED


def delete_dashboard(cloudwatch, name: str) -> bool:
    if current_dashboard(cloudwatch, name) is None:
        return False
    cloudwatch.delete_dashboards(DashboardNames=[name])
    return True


@operates_on(ResourceAlarm, FailureRateAlarm, ErrorRateAlarm)
class AlarmOperations(Operations):
    listing = Listing(
        "cloudwatch",
        "describe_alarms",
        "MetricAlarms",
        lambda item: item["AlarmName"],
        lambda names: {"AlarmNamePrefix": f"{names.prefix}-"},
    )

    @staticmethod
    def arguments(context: Context, alarm: Alarm) -> dict:
        names = context.names
        if isinstance(alarm, FailureRateAlarm):
            metric = failure_rate_metrics(alarm.period_seconds, alarm.minimum_orders)
            description = alarm.description
        elif isinstance(alarm, ErrorRateAlarm):
            metric = error_rate_metrics(context.name(alarm.subject), alarm.period_seconds, alarm.minimum_invocations)
            description = alarm.description.format(subject=context.name(alarm.subject))
        else:
            dimension = (alarm.dimension, alarm.dimension_value(context.manifest, names))
            metric = resource_metric(alarm.namespace, alarm.metric, dimension, alarm.statistic)
            description = alarm.description.format(subject=context.name(alarm.subject))
        return alarm_arguments(alarm.name(names), description, metric, alarm.threshold, alarm.periods, context.arn(alarm.alerts))

    def read(self, context, alarm: Alarm):
        return find_alarm(context.client("cloudwatch"), alarm.name(context.names))

    def differences(self, context, alarm, current):
        return alarm_differences(current, self.arguments(context, alarm))

    def apply(self, context, alarm):
        return ensure_alarm(context.client("cloudwatch"), self.arguments(context, alarm))

    def delete(self, context, alarm):
        name = alarm.name(context.names)
        return reported_deletion(alarm, name, bool(delete_alarms(context.client("cloudwatch"), [name])))


@operates_on(Dashboard)
class DashboardOperations(Operations):
    listing = Listing(
        "cloudwatch",
        "list_dashboards",
        "DashboardEntries",
        lambda item: item["DashboardName"],
        lambda names: {"DashboardNamePrefix": names.prefix},
    )

    @staticmethod
    def body(context: Context) -> dict:
        manifest, names = context.manifest, context.names
        queues = manifest.of(Queue)
        dead_letter_keys = {queue.dead_letter_queue for queue in queues if queue.dead_letter_queue}
        return dashboard_body(
            names.region,
            work_queues=[queue.name(names) for queue in queues if queue.dead_letter_queue],
            other_queues=[queue.name(names) for queue in queues if not queue.dead_letter_queue and queue.key not in dead_letter_keys],
            dead_letter_queues=[queue.name(names) for queue in queues if queue.key in dead_letter_keys],
            state_machine_arns=[machine.arn(names) for machine in manifest.of(StateMachine)],
            functions=[function.name(names) for function in manifest.of(Function)],
        )

    def read(self, context, dashboard: Dashboard):
        return current_dashboard(context.client("cloudwatch"), dashboard.name(context.names))

    def differences(self, context, dashboard, current):
        return [] if current == self.body(context) else ["configuration"]

    def apply(self, context, dashboard):
        return ensure_dashboard(context.client("cloudwatch"), dashboard.name(context.names), self.body(context))

    def delete(self, context, dashboard):
        name = dashboard.name(context.names)
        return reported_deletion(dashboard, name, delete_dashboard(context.client("cloudwatch"), name))
