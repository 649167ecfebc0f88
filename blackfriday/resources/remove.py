"""Remove every resource of a stack, and find any that remain.

Only the exact names a prefix derives are touched: `--prefix blackfriday` never removes a
`blackfriday-dev` stack that lives beside it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from blackfriday.functions import FUNCTION_SPECS
from blackfriday.names import StackNames
from blackfriday.resources import awslambda, cloudwatch, dynamodb, iam, s3, sns, sqs, stepfunctions
from blackfriday.resources.stack import table_names, topic_arns


SETTLE_POLLS = 18  # x SETTLE_DELAY_SECONDS: SQS lists a deleted queue for up to 60 s; other lists lag briefly too
SETTLE_DELAY_SECONDS = 5.0
UNDELETABLE_SUBSCRIPTIONS = ("PendingConfirmation", "Deleted")


def _queue_names(names: StackNames) -> list[str]:
    return [names.shipping_queue, names.shipping_dlq, names.analytics_queue, names.analytics_dlq, names.notifications_queue]


def _role_names(names: StackNames) -> list[str]:
    return [names.function_role(item.short_name) for item in FUNCTION_SPECS] + [names.state_machine_role]


def _alarm_names(names: StackNames) -> list[str]:
    return [alarm["AlarmName"] for alarm in cloudwatch.alarm_specs(names)]


def remove_stack(gateway, names: StackNames, report: Callable[[str], None] = lambda resource: None) -> list[str]:
    """Delete users before what they use; each not-found counts as done. Returns what was deleted."""
    deleted: list[str] = []

    def done(resource: str) -> None:
        deleted.append(resource)
        report(resource)

    cloudwatch_client = gateway.client("cloudwatch")
    for alarm in cloudwatch.delete_alarms(cloudwatch_client, _alarm_names(names)):
        done(f"alarm {alarm}")
    if cloudwatch.delete_dashboard(cloudwatch_client, names.dashboard):
        done(f"dashboard {names.dashboard}")
    if stepfunctions.delete_state_machine(gateway.client("stepfunctions"), names.state_machine_arn):
        done(f"state machine {names.state_machine}")
    lambda_client, logs_client = gateway.client("lambda"), gateway.client("logs")
    for function in FUNCTION_SPECS:
        if awslambda.delete_function(lambda_client, names.function(function.short_name)):
            done(f"lambda function {names.function(function.short_name)}")
        if awslambda.delete_log_group(logs_client, names.log_group(function.short_name)):
            done(f"log group {names.log_group(function.short_name)}")
    iam_client = gateway.client("iam")
    for role in _role_names(names):
        if iam.delete_role(iam_client, role):
            done(f"iam role {role} and its policies")
    objects = s3.empty_and_delete_bucket(gateway.client("s3"), names.bucket)
    if objects is not None:
        done(f"s3 bucket {names.bucket} ({objects} object versions)")
    sns_client = gateway.client("sns")
    for topic_arn in topic_arns(names).values():
        for resource in sns.delete_topic(sns_client, topic_arn):
            done(resource)
    sqs_client = gateway.client("sqs")
    for queue in _queue_names(names):
        if sqs.delete_queue(sqs_client, queue):
            done(f"sqs queue {queue}")
    dynamodb_client = gateway.client("dynamodb")
    for table in table_names(names).values():
        if dynamodb.delete_table(dynamodb_client, table):
            done(f"dynamodb table {table}")
    return deleted


def _listed(client, operation: str, items_key: str, name_of: Callable[[dict], str], **arguments) -> list[str]:
    return [
        name_of(item)
        for page in client.get_paginator(operation).paginate(**arguments)
        for item in page.get(items_key, [])
    ]


def remaining_resources(gateway, names: StackNames) -> list[str]:
    """Every resource of the stack that the services' list calls still show."""
    topics = set(topic_arns(names).values())
    queue_arns = {names.queue_arn(queue) for queue in _queue_names(names)}
    functions = {names.function(item.short_name) for item in FUNCTION_SPECS}
    log_groups = {names.log_group(item.short_name) for item in FUNCTION_SPECS}
    roles, alarms, tables = set(_role_names(names)), set(_alarm_names(names)), set(table_names(names).values())
    queues = set(_queue_names(names))
    found = [f"s3 bucket {name}" for name in _listed(gateway.client("s3"), "list_buckets", "Buckets", lambda item: item["Name"]) if name == names.bucket]
    sns_client = gateway.client("sns")
    found += [f"sns topic {arn}" for arn in _listed(sns_client, "list_topics", "Topics", lambda item: item["TopicArn"]) if arn in topics]
    found += [
        f"sns subscription {item['SubscriptionArn']}"
        for page in sns_client.get_paginator("list_subscriptions").paginate()
        for item in page["Subscriptions"]
        # an unconfirmed e-mail subscription is no resource one can delete: it expires with its topic
        if (item["TopicArn"] in topics or item["Endpoint"] in queue_arns) and item["SubscriptionArn"] not in UNDELETABLE_SUBSCRIPTIONS
    ]
    queue_urls = _listed(gateway.client("sqs"), "list_queues", "QueueUrls", lambda url: url, QueueNamePrefix=names.prefix)
    found += [f"sqs queue {url}" for url in queue_urls if url.rsplit("/", 1)[1] in queues]
    found += [f"dynamodb table {name}" for name in _listed(gateway.client("dynamodb"), "list_tables", "TableNames", lambda name: name) if name in tables]
    found += [
        f"lambda function {name}"
        for name in _listed(gateway.client("lambda"), "list_functions", "Functions", lambda item: item["FunctionName"])
        if name in functions
    ]
    found += [
        f"log group {name}"
        for name in _listed(gateway.client("logs"), "describe_log_groups", "logGroups", lambda item: item["logGroupName"], logGroupNamePrefix=f"/aws/lambda/{names.prefix}-")
        if name in log_groups
    ]  # fmt: skip
    found += [f"iam role {name}" for name in _listed(gateway.client("iam"), "list_roles", "Roles", lambda item: item["RoleName"]) if name in roles]
    found += [
        f"state machine {item['name']}"
        for page in gateway.client("stepfunctions").get_paginator("list_state_machines").paginate()
        for item in page["stateMachines"]
        if item["stateMachineArn"] == names.state_machine_arn
    ]
    cloudwatch_client = gateway.client("cloudwatch")
    found += [
        f"alarm {name}"
        for name in _listed(cloudwatch_client, "describe_alarms", "MetricAlarms", lambda item: item["AlarmName"], AlarmNamePrefix=f"{names.prefix}-")
        if name in alarms
    ]  # fmt: skip
    found += [
        f"dashboard {name}"
        for name in _listed(cloudwatch_client, "list_dashboards", "DashboardEntries", lambda item: item["DashboardName"], DashboardNamePrefix=names.prefix)
        if name == names.dashboard
    ]  # fmt: skip
    return found


def remaining_after_settling(gateway, names: StackNames) -> list[str]:
    """remaining_resources, asked again (bounded) while eventually consistent list calls still show deleted things."""
    remaining = remaining_resources(gateway, names)
    for _ in range(SETTLE_POLLS):
        if not remaining:
            break
        time.sleep(SETTLE_DELAY_SECONDS)
        remaining = remaining_resources(gateway, names)
    return remaining
