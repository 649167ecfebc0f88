"""The alarms: on faults only, each telling CriticalAlerts; business outcomes on the dashboard (moto.mock_aws)."""

from __future__ import annotations

import json

import pytest

from blackfriday.deployment.deploy import deploy
from blackfriday.functions import FUNCTION_SPECS, ORDERS_API_FUNCTION
from tests.resources.helpers import ACCOUNT

EVERY_FUNCTION = (*FUNCTION_SPECS, ORDERS_API_FUNCTION)  # the workflow's and the order API's

ALERTS = f"arn:aws:sns:us-east-1:{ACCOUNT}:bftest-CriticalAlerts"
MACHINE = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:bftest-OrderProcessingWorkflow"
FIELDS = (
    "AlarmDescription", "Namespace", "MetricName", "Dimensions", "Statistic", "Period", "EvaluationPeriods", "DatapointsToAlarm",
    "Threshold", "ComparisonOperator", "TreatMissingData", "ActionsEnabled", "AlarmActions", "OKActions", "Metrics",
)  # fmt: skip


def fault_alarm(description: str, namespace: str, metric: str, dimension: str, value: str, statistic: str, threshold: float) -> dict:
    """What describe_alarms shows of an alarm on one metric of one resource: any datapoint over the threshold in a minute."""
    return {
        "AlarmDescription": description, "Namespace": namespace, "MetricName": metric, "Dimensions": [{"Name": dimension, "Value": value}],
        "Statistic": statistic, "Period": 60, "EvaluationPeriods": 1, "DatapointsToAlarm": 1, "Threshold": threshold,
        "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching", "ActionsEnabled": True,
        "AlarmActions": [ALERTS], "OKActions": [ALERTS], "Metrics": [],
    }  # fmt: skip


def summed(query_id: str, namespace: str, metric: str, dimension: str, value: str) -> dict:
    """A metric query of a metric-math alarm: the metric's sum per five minutes."""
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {"Namespace": namespace, "MetricName": metric, "Dimensions": [{"Name": dimension, "Value": value}]},
            "Period": 300,
            "Stat": "Sum",
        },
        "ReturnData": False,
    }


def business_metric(query_id: str, metric: str) -> dict:
    return summed(query_id, "BlackFriday/Orders", metric, "service", "order-processing")


def rate_alarm(description: str, threshold: float, metrics: list[dict]) -> dict:
    """What describe_alarms shows of a metric-math alarm: over the threshold in two five-minute periods running."""
    return {
        "AlarmDescription": description, "Namespace": None, "MetricName": None, "Dimensions": [], "Statistic": None, "Period": None,
        "EvaluationPeriods": 2, "DatapointsToAlarm": 2, "Threshold": threshold, "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching", "ActionsEnabled": True, "AlarmActions": [ALERTS], "OKActions": [ALERTS], "Metrics": metrics,
    }  # fmt: skip


@pytest.fixture
def alarms(gateway, names, fixture_sources) -> dict[str, dict]:
    deploy(gateway, names, fixture_sources.sources)
    pages = gateway.client("cloudwatch").get_paginator("describe_alarms").paginate(AlarmNamePrefix="bftest-")
    return {alarm["AlarmName"]: {field: alarm.get(field) for field in FIELDS} for page in pages for alarm in page["MetricAlarms"]}


def test_every_alarm_is_on_a_fault_and_tells_critical_alerts(alarms):
    # GIVEN a deployed stack WHEN its alarms are read
    # THEN there is one per DLQ, per work queue's oldest message, per function's errors, for timed-out and aborted executions,
    # and for the failure rate: exactly these, each notifying CriticalAlerts when it fires and when it is back to OK
    expected = {
        "bftest-alarm-dlq-shipping": fault_alarm(
            "A message reached bftest-ShippingDLQ: an order event failed 3 times",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            "QueueName",
            "bftest-ShippingDLQ",
            "Maximum",
            0,
        ),
        "bftest-alarm-dlq-analytics": fault_alarm(
            "A message reached bftest-AnalyticsDLQ: an order event failed 3 times",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            "QueueName",
            "bftest-AnalyticsDLQ",
            "Maximum",
            0,
        ),
        "bftest-alarm-age-shipping": fault_alarm(
            "The oldest message in bftest-ShippingQueue waits over 300 s",
            "AWS/SQS",
            "ApproximateAgeOfOldestMessage",
            "QueueName",
            "bftest-ShippingQueue",
            "Maximum",
            300,
        ),
        "bftest-alarm-age-analytics": fault_alarm(
            "The oldest message in bftest-AnalyticsQueue waits over 300 s",
            "AWS/SQS",
            "ApproximateAgeOfOldestMessage",
            "QueueName",
            "bftest-AnalyticsQueue",
            "Maximum",
            300,
        ),
        "bftest-alarm-workflow-timedout": fault_alarm(
            "An execution of bftest-OrderProcessingWorkflow timed out",
            "AWS/States",
            "ExecutionsTimedOut",
            "StateMachineArn",
            MACHINE,
            "Sum",
            0,
        ),
        "bftest-alarm-workflow-aborted": fault_alarm(
            "An execution of bftest-OrderProcessingWorkflow was aborted (stopped)",
            "AWS/States",
            "ExecutionsAborted",
            "StateMachineArn",
            MACHINE,
            "Sum",
            0,
        ),
        "bftest-alarm-failure-rate": rate_alarm(
            "Over 50% of orders failed in each of 2 periods of 5 minutes (about a quarter is normal on Black Friday)",
            50.0,
            [
                business_metric("completed", "OrdersCompleted"),
                business_metric("failed", "OrdersFailed"),
                {"Id": "orders", "Expression": "FILL(completed, 0) + FILL(failed, 0)", "Label": "Orders ended", "ReturnData": False},
                {
                    "Id": "failure_rate",
                    "Expression": "IF(orders >= 20, 100 * FILL(failed, 0) / orders, 0)",
                    "Label": "Failed orders (%)",
                    "ReturnData": True,
                },
            ],
        ),
        # the gateway times out on about 4% of payments in normal running, each retried: only five times that rate is a fault
        "bftest-alarm-errors-process-payment": rate_alarm(
            "bftest-process-payment failed on over 20% of its invocations in each of 2 periods of 5 minutes "
            "(about 4% is normal, each retried)",
            20.0,
            [
                summed("invocations", "AWS/Lambda", "Invocations", "FunctionName", "bftest-process-payment"),
                summed("errors", "AWS/Lambda", "Errors", "FunctionName", "bftest-process-payment"),
                {
                    "Id": "error_rate",
                    "Expression": "IF(invocations >= 20, 100 * FILL(errors, 0) / invocations, 0)",
                    "Label": "Invocations that failed (%)",
                    "ReturnData": True,
                },
            ],
        ),
    }
    for spec in EVERY_FUNCTION:
        if spec.short_name == "process_payment":
            continue
        function = f"bftest-{spec.short_name.replace('_', '-')}"
        expected[f"bftest-alarm-errors-{spec.short_name.replace('_', '-')}"] = fault_alarm(
            f"{function} failed: an error other than a business rejection (see its log group)",
            "AWS/Lambda",
            "Errors",
            "FunctionName",
            function,
            "Sum",
            0,
        )
    assert alarms == expected
    # AND none counts a business outcome: no alarm on ExecutionsFailed (a rejected order ends its execution in a Fail state)
    assert not any(alarm["MetricName"] == "ExecutionsFailed" for alarm in alarms.values())


def test_the_dashboard_shows_orders_completed_and_failed_by_reason(gateway, names, fixture_sources):
    # GIVEN a deployed stack WHEN its dashboard is read
    deploy(gateway, names, fixture_sources.sources)
    body = json.loads(gateway.client("cloudwatch").get_dashboard(DashboardName="bftest-pipeline")["DashboardBody"])
    widgets = {widget["properties"]["title"]: widget["properties"] for widget in body["widgets"]}

    # THEN its first row is the business metrics: completed and failed, and failed per reason (every Reason the Lambdas emit)
    assert [widget["properties"]["title"] for widget in body["widgets"][:2]] == ["Orders completed and failed", "Failed orders by reason"]
    assert widgets["Orders completed and failed"]["metrics"] == [
        ["BlackFriday/Orders", "OrdersCompleted", "service", "order-processing"],
        ["BlackFriday/Orders", "OrdersFailed", "service", "order-processing"],
    ]
    assert widgets["Failed orders by reason"]["metrics"] == [
        [{"id": "reasons", "expression": "SEARCH('{BlackFriday/Orders,Reason,service} MetricName=\"OrdersFailed\"', 'Sum', 60)"}]
    ]
    # AND the executions it shows include the timed-out and aborted ones the alarms watch
    assert [metric[1] for metric in widgets["Order workflow executions"]["metrics"]] == [
        "ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted",
    ]  # fmt: skip


def test_log_groups_keep_thirty_days(gateway, names, fixture_sources):
    deploy(gateway, names, fixture_sources.sources)
    groups = gateway.client("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/bftest-")["logGroups"]
    assert {group["logGroupName"]: group["retentionInDays"] for group in groups} == {
        f"/aws/lambda/bftest-{spec.short_name.replace('_', '-')}": 30 for spec in EVERY_FUNCTION
    }


def test_a_changed_alarm_action_is_converged(gateway, names, fixture_sources):
    # GIVEN a deployed stack whose DLQ alarm was told to notify someone else by hand
    deploy(gateway, names, fixture_sources.sources)
    cloudwatch = gateway.client("cloudwatch")
    alarm = cloudwatch.describe_alarms(AlarmNames=["bftest-alarm-dlq-shipping"])["MetricAlarms"][0]
    kept = ("AlarmName", "AlarmDescription", "Namespace", "MetricName", "Dimensions", "Statistic", "Period", "EvaluationPeriods",
            "DatapointsToAlarm", "Threshold", "ComparisonOperator", "TreatMissingData", "OKActions")  # fmt: skip
    cloudwatch.put_metric_alarm(**{field: alarm[field] for field in kept}, AlarmActions=[f"arn:aws:sns:us-east-1:{ACCOUNT}:elsewhere"])

    # WHEN the stack is deployed again THEN only that alarm is updated, and it notifies CriticalAlerts again
    changes = [change for change in deploy(gateway, names, fixture_sources.sources) if change.action.value != "unchanged"]
    assert [(change.resource, change.differences) for change in changes] == [
        ("alarm bftest-alarm-dlq-shipping", ("configuration: AlarmActions",))
    ]
    assert cloudwatch.describe_alarms(AlarmNames=["bftest-alarm-dlq-shipping"])["MetricAlarms"][0]["AlarmActions"] == [ALERTS]
