"""CloudWatch alarms (dead letters, backlog age, failed workflows) and the pipeline dashboard."""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from blackfriday.errors import error_code
from blackfriday.functions import FUNCTION_SPECS
from blackfriday.names import StackNames
from blackfriday.resources.base import Action

PERIOD_SECONDS = 60
OLDEST_MESSAGE_LIMIT_SECONDS = 300  # five minutes behind on a spike means the consumers need scaling out
COMPARED_FIELDS = (
    "AlarmDescription", "Namespace", "MetricName", "Statistic", "Period",
    "EvaluationPeriods", "Threshold", "ComparisonOperator", "TreatMissingData",
)  # fmt: skip


def _alarm(name: str, description: str, namespace: str, metric: str, dimension: tuple[str, str], statistic: str, threshold: float, periods: int = 1) -> dict:
    return {
        "AlarmName": name,
        "AlarmDescription": description,
        "Namespace": namespace,
        "MetricName": metric,
        "Dimensions": [{"Name": dimension[0], "Value": dimension[1]}],
        "Statistic": statistic,
        "Period": PERIOD_SECONDS,
        "EvaluationPeriods": periods,
        "Threshold": threshold,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching",
    }


def alarm_specs(names: StackNames) -> list[dict]:
    """PutMetricAlarm arguments of every alarm of the stack."""
    specs = []
    for what, queue, dlq in (("shipping", names.shipping_queue, names.shipping_dlq), ("analytics", names.analytics_queue, names.analytics_dlq)):
        specs.append(
            _alarm(names.alarm(f"dlq-{what}"), f"A message reached {dlq}: an order event failed 3 times", "AWS/SQS",
                   "ApproximateNumberOfMessagesVisible", ("QueueName", dlq), "Maximum", 0)
        )  # fmt: skip
        specs.append(
            _alarm(names.alarm(f"age-{what}"), f"The oldest message in {queue} waits over {OLDEST_MESSAGE_LIMIT_SECONDS} s",
                   "AWS/SQS", "ApproximateAgeOfOldestMessage", ("QueueName", queue), "Maximum", OLDEST_MESSAGE_LIMIT_SECONDS)
        )  # fmt: skip
    specs.append(
        _alarm(names.alarm("workflow-failed"), f"An execution of {names.state_machine} failed", "AWS/States",
               "ExecutionsFailed", ("StateMachineArn", names.state_machine_arn), "Sum", 0)
    )  # fmt: skip
    return specs


def _differs(current: dict, desired: dict) -> bool:
    if any(current.get(field) != desired[field] for field in COMPARED_FIELDS):
        return True
    return sorted((item["Name"], item["Value"]) for item in current.get("Dimensions", [])) != sorted(
        (item["Name"], item["Value"]) for item in desired["Dimensions"]
    )


def ensure_alarm(cloudwatch, spec: dict) -> Action:
    found = cloudwatch.describe_alarms(AlarmNames=[spec["AlarmName"]], AlarmTypes=["MetricAlarm"])["MetricAlarms"]
    if found and not _differs(found[0], spec):
        return Action.UNCHANGED
    cloudwatch.put_metric_alarm(**spec)
    return Action.UPDATED if found else Action.CREATED


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


def dashboard_body(names: StackNames) -> dict:
    def sqs(metric: str, queues: list[str]) -> list:
        return [["AWS/SQS", metric, "QueueName", queue] for queue in queues]

    def widget(title: str, metrics: list, stat: str, position: int) -> dict:
        return {
            "type": "metric",
            "x": (position % 2) * 12,
            "y": (position // 2) * 6,
            "width": 12,
            "height": 6,
            "properties": {"title": title, "region": names.region, "metrics": metrics, "stat": stat, "period": PERIOD_SECONDS, "view": "timeSeries"},
        }

    fan_out = [names.shipping_queue, names.analytics_queue]
    executions = [["AWS/States", metric, "StateMachineArn", names.state_machine_arn] for metric in ("ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed")]
    lambda_errors = [["AWS/Lambda", "Errors", "FunctionName", names.function(item.short_name)] for item in FUNCTION_SPECS]
    return {
        "widgets": [
            widget("Messages waiting", sqs("ApproximateNumberOfMessagesVisible", [*fan_out, names.notifications_queue]), "Maximum", 0),
            widget("Dead letters", sqs("ApproximateNumberOfMessagesVisible", [names.shipping_dlq, names.analytics_dlq]), "Maximum", 1),
            widget("Oldest message age (s)", sqs("ApproximateAgeOfOldestMessage", fan_out), "Maximum", 2),
            widget("Order workflow executions", executions, "Sum", 3),
            widget("Lambda errors", lambda_errors, "Sum", 4),
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


def ensure_dashboard(cloudwatch, names: StackNames) -> Action:
    body = dashboard_body(names)
    current = current_dashboard(cloudwatch, names.dashboard)
    if current == body:
        return Action.UNCHANGED
    cloudwatch.put_dashboard(DashboardName=names.dashboard, DashboardBody=json.dumps(body))
    return Action.CREATED if current is None else Action.UPDATED


def delete_dashboard(cloudwatch, name: str) -> bool:
    if current_dashboard(cloudwatch, name) is None:
        return False
    cloudwatch.delete_dashboards(DashboardNames=[name])
    return True
