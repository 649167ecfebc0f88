"""CloudWatch alarms (dead letters, backlog age, failed workflows) and the pipeline dashboard."""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from blackfriday.errors import error_code
from blackfriday.resources.base import Action

PERIOD_SECONDS = 60
COMPARED_FIELDS = (
    "AlarmDescription", "Namespace", "MetricName", "Statistic", "Period",
    "EvaluationPeriods", "Threshold", "ComparisonOperator", "TreatMissingData",
)  # fmt: skip


def alarm_arguments(name: str, description: str, namespace: str, metric: str, dimension: tuple[str, str], statistic: str, threshold: float) -> dict:
    """PutMetricAlarm's arguments for a fault alarm: any datapoint over the threshold in one period."""
    return {
        "AlarmName": name,
        "AlarmDescription": description,
        "Namespace": namespace,
        "MetricName": metric,
        "Dimensions": [{"Name": dimension[0], "Value": dimension[1]}],
        "Statistic": statistic,
        "Period": PERIOD_SECONDS,
        "EvaluationPeriods": 1,
        "Threshold": threshold,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching",
    }


def find_alarm(cloudwatch, name: str) -> dict | None:
    found = cloudwatch.describe_alarms(AlarmNames=[name], AlarmTypes=["MetricAlarm"])["MetricAlarms"]
    return found[0] if found else None


def alarm_differences(current: dict, desired: dict) -> list[str]:
    """The alarm settings that differ, e.g. ["configuration: Threshold"]."""
    changed = [field for field in COMPARED_FIELDS if current.get(field) != desired[field]]
    if sorted((item["Name"], item["Value"]) for item in current.get("Dimensions", [])) != sorted(
        (item["Name"], item["Value"]) for item in desired["Dimensions"]
    ):
        changed.append("Dimensions")
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


def dashboard_body(region: str, work_queues: list[str], other_queues: list[str], dead_letter_queues: list[str], state_machine_arns: list[str], functions: list[str]) -> dict:
    """Waiting messages, dead letters, oldest message ages, workflow executions and Lambda errors."""
    def sqs(metric: str, queues: list[str]) -> list:
        return [["AWS/SQS", metric, "QueueName", queue] for queue in queues]

    def widget(title: str, metrics: list, stat: str, position: int) -> dict:
        return {
            "type": "metric",
            "x": (position % 2) * 12,
            "y": (position // 2) * 6,
            "width": 12,
            "height": 6,
            "properties": {"title": title, "region": region, "metrics": metrics, "stat": stat, "period": PERIOD_SECONDS, "view": "timeSeries"},
        }

    executions = [
        ["AWS/States", metric, "StateMachineArn", arn] for arn in state_machine_arns for metric in ("ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed")
    ]
    return {
        "widgets": [
            widget("Messages waiting", sqs("ApproximateNumberOfMessagesVisible", [*work_queues, *other_queues]), "Maximum", 0),
            widget("Dead letters", sqs("ApproximateNumberOfMessagesVisible", dead_letter_queues), "Maximum", 1),
            widget("Oldest message age (s)", sqs("ApproximateAgeOfOldestMessage", work_queues), "Maximum", 2),
            widget("Order workflow executions", executions, "Sum", 3),
            widget("Lambda errors", [["AWS/Lambda", "Errors", "FunctionName", name] for name in functions], "Sum", 4),
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
