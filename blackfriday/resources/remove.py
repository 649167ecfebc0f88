"""Remove every resource of a stack, and find any that remain.

Only the exact names a prefix derives are touched: `--prefix blackfriday` never removes a
`blackfriday-dev` stack that lives beside it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple

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


class Listing(NamedTuple):
    """One paginated list call, and how to read a resource name from an item of its answer."""

    kind: str
    service: str
    operation: str
    items_key: str
    name_of: Callable
    arguments: dict


def _listings(names: StackNames) -> list[tuple[Listing, set[str]]]:
    """Each list call with the names in it that belong to the stack."""
    return [
        (Listing("s3 bucket", "s3", "list_buckets", "Buckets", lambda item: item["Name"], {}), {names.bucket}),
        (Listing("sns topic", "sns", "list_topics", "Topics", lambda item: item["TopicArn"].rsplit(":", 1)[1], {}),
         {names.new_orders_topic, names.order_events_topic, names.order_errors_topic}),
        (Listing("sqs queue", "sqs", "list_queues", "QueueUrls", lambda url: url.rsplit("/", 1)[1], {"QueueNamePrefix": names.prefix}),
         set(_queue_names(names))),
        (Listing("dynamodb table", "dynamodb", "list_tables", "TableNames", lambda name: name, {}), set(table_names(names).values())),
        (Listing("lambda function", "lambda", "list_functions", "Functions", lambda item: item["FunctionName"], {}),
         {names.function(item.short_name) for item in FUNCTION_SPECS}),
        (Listing("log group", "logs", "describe_log_groups", "logGroups", lambda item: item["logGroupName"], {"logGroupNamePrefix": f"/aws/lambda/{names.prefix}-"}),
         {names.log_group(item.short_name) for item in FUNCTION_SPECS}),
        (Listing("iam role", "iam", "list_roles", "Roles", lambda item: item["RoleName"], {}), set(_role_names(names))),
        (Listing("state machine", "stepfunctions", "list_state_machines", "stateMachines", lambda item: item["name"], {}), {names.state_machine}),
        (Listing("alarm", "cloudwatch", "describe_alarms", "MetricAlarms", lambda item: item["AlarmName"], {"AlarmNamePrefix": f"{names.prefix}-"}),
         set(_alarm_names(names))),
        (Listing("dashboard", "cloudwatch", "list_dashboards", "DashboardEntries", lambda item: item["DashboardName"], {"DashboardNamePrefix": names.prefix}),
         {names.dashboard}),
    ]  # fmt: skip


def remaining_resources(gateway, names: StackNames) -> list[str]:
    """Every resource of the stack that the services' list calls still show."""
    found = []
    for listing, owned in _listings(names):
        for page in gateway.client(listing.service).get_paginator(listing.operation).paginate(**listing.arguments):
            found += [f"{listing.kind} {name}" for name in map(listing.name_of, page.get(listing.items_key, [])) if name in owned]
    topics = set(topic_arns(names).values())
    queue_arns = {names.queue_arn(queue) for queue in _queue_names(names)}
    for page in gateway.client("sns").get_paginator("list_subscriptions").paginate():
        found += [
            f"sns subscription {item['SubscriptionArn']}"
            for item in page["Subscriptions"]
            # an unconfirmed e-mail subscription is no resource one can delete: it expires with its topic
            if (item["TopicArn"] in topics or item["Endpoint"] in queue_arns) and item["SubscriptionArn"] not in UNDELETABLE_SUBSCRIPTIONS
        ]
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
