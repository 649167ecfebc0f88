"""How each kind of resource of the manifest is read, compared, applied, deleted and found again.

Every kind has one Operations object. `read` and `differences` make read-only calls (Describe, Get, List,
Head): they are the plan. `apply` converges one resource through its module's ensure_* function,
`delete` removes it (not-found is done) and `remaining` lists what of a kind still exists. A new kind
of resource (as RestApi) is a class in blackfriday/manifest.py plus one Operations subclass here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from botocore.exceptions import ClientError

from blackfriday.errors import error_code
from blackfriday.manifest import (
    Alarm,
    Bucket,
    BucketNotification,
    Dashboard,
    EmailSubscription,
    ErrorRateAlarm,
    FailureRateAlarm,
    Function,
    InventorySeed,
    LogGroup,
    Manifest,
    Queue,
    Resource,
    ResourceAlarm,
    RestApi,
    Role,
    StateMachine,
    Subscription,
    Table,
    Topic,
)
from blackfriday.names import StackNames
from blackfriday.resources import apigateway, awslambda, cloudwatch, dynamodb, iam, s3, sns, sqs, stepfunctions
from blackfriday.resources.base import Action, CannotConverge

ABSENT = None  # what `read` returns for a resource that does not exist


@dataclass(frozen=True)
class Artefacts:
    """What setup computes from local files before any AWS call: a broken file stops the run untouched."""

    zips: dict[str, bytes]  # function short name -> deployment package
    definition: str  # the rendered ASL
    policies: dict[str, dict]  # role key -> its only inline policy


@dataclass
class Context:
    """One stack on one target: what every operation needs."""

    gateway: object
    names: StackNames
    manifest: Manifest
    artefacts: Artefacts | None = None  # only setup has them
    tls_only: bool = True  # a TLS-only bucket policy (never on a plain-HTTP endpoint: it would deny every request)
    sleep: Callable[[float], None] = time.sleep  # every wait of a run (retries, deletes settling): tests pass their own

    def client(self, service: str):
        return self.gateway.client(service)

    def name(self, key: str) -> str:
        return self.manifest[key].name(self.names)

    def arn(self, key: str) -> str:
        return self.manifest[key].arn(self.names)

    def label(self, resource: Resource) -> str:
        return self.manifest.label(resource, self.names)


@dataclass(frozen=True)
class Listing:
    """One paginated list call, and how to read a resource name from an item of its answer."""

    service: str
    operation: str
    items_key: str
    name_of: Callable[[object], str]
    arguments: Callable[[StackNames], dict] = lambda names: {}


class Operations:
    noun: str | None = None  # how describe_stack names a missing one; None: describe_stack does not need it
    deletable = True  # False: it goes with the resource it belongs to
    listing: Listing | None = None

    def read(self, context: Context, resource) -> object | None:
        """The resource's current state (read-only), ABSENT when it does not exist."""
        raise NotImplementedError

    def differences(self, context: Context, resource, current) -> list[str]:
        """What apply would change on the existing resource (read-only); CannotConverge when it must not."""
        return []

    def apply(self, context: Context, resource) -> Action:
        raise NotImplementedError

    def delete(self, context: Context, resource) -> list[str]:
        """What was deleted (none when it did not exist or goes with its owner)."""
        return []

    def remaining(self, context: Context, resources: list) -> list[str]:
        if self.listing is None:
            return []
        owned = {resource.name(context.names) for resource in resources}
        kind = resources[0].kind
        pages = context.client(self.listing.service).get_paginator(self.listing.operation).paginate(**self.listing.arguments(context.names))
        return [f"{kind} {name}" for page in pages for name in map(self.listing.name_of, page.get(self.listing.items_key, [])) if name in owned]


def _deleted(resource: Resource, name: str, existed: bool) -> list[str]:
    return [f"{resource.kind} {name}"] if existed else []


class BucketOperations(Operations):
    noun = "bucket"
    listing = Listing("s3", "list_buckets", "Buckets", lambda item: item["Name"])

    def read(self, context, bucket: Bucket):
        return True if s3.bucket_exists(context.client("s3"), bucket.name(context.names)) else ABSENT

    def differences(self, context, bucket, current):
        return s3.bucket_differences(context.client("s3"), context.names, context.tls_only)

    def apply(self, context, bucket):
        return s3.ensure_bucket(context.client("s3"), context.names, tls_only=context.tls_only, sleep=context.sleep)

    def delete(self, context, bucket):
        objects = s3.empty_and_delete_bucket(context.client("s3"), bucket.name(context.names))
        return [] if objects is None else [f"{bucket.kind} {bucket.name(context.names)} ({objects} object versions)"]


class TopicOperations(Operations):
    noun = "topic"
    listing = Listing("sns", "list_topics", "Topics", lambda item: item["TopicArn"].rsplit(":", 1)[1])

    @staticmethod
    def policy(context: Context, topic: Topic) -> dict | None:
        if topic.publishing_bucket is None:
            return None
        return sns.bucket_publishes_policy(topic.arn(context.names), context.arn(topic.publishing_bucket), context.names.account)

    def read(self, context, topic: Topic):
        return sns.topic_attributes(context.client("sns"), topic.arn(context.names))

    def differences(self, context, topic, current):
        return sns.topic_differences(current, self.policy(context, topic))

    def apply(self, context, topic):
        return sns.ensure_topic(context.client("sns"), topic.arn(context.names), self.policy(context, topic))

    def delete(self, context, topic):
        # what is still subscribed (an e-mail address, another stack's queue) goes with the topic
        return sns.delete_topic(context.client("sns"), topic.arn(context.names))


class QueueOperations(Operations):
    noun = "queue"
    listing = Listing("sqs", "list_queues", "QueueUrls", lambda url: url.rsplit("/", 1)[1], lambda names: {"QueueNamePrefix": names.prefix})

    @staticmethod
    def attributes(context: Context, queue: Queue) -> dict[str, str]:
        return sqs.queue_attributes(
            queue.arn(context.names),
            [context.arn(topic) for topic in queue.senders],
            context.arn(queue.dead_letter_queue) if queue.dead_letter_queue else None,
            queue.max_receive_count,
            queue.visibility_timeout,
            queue.retention_seconds,
        )

    def read(self, context, queue: Queue):
        return sqs.queue_url(context.client("sqs"), queue.name(context.names))

    def differences(self, context, queue, url):
        current = sqs.current_attributes(context.client("sqs"), url)
        target = sqs.dead_letter_target(current)
        ours = {item.arn(context.names) for item in context.manifest.of(Queue)}
        if target is not None and target not in ours:
            raise CannotConverge(
                f"sqs queue {queue.name(context.names)} sends its failed messages to {target}, which is not a queue of the stack "
                f"{context.names.prefix!r}: another stack may use this queue; choose another --prefix or remove it"
            )
        changed = sqs.differing_attributes(current, self.attributes(context, queue))
        return [f"attributes: {', '.join(changed)}"] if changed else []

    def apply(self, context, queue):
        return sqs.ensure_queue(context.client("sqs"), queue.name(context.names), self.attributes(context, queue), sleep=context.sleep)[0]

    def delete(self, context, queue):
        name = queue.name(context.names)
        return _deleted(queue, name, sqs.delete_queue(context.client("sqs"), name))


class SubscriptionOperations(Operations):
    @staticmethod
    def ends(context: Context, subscription) -> tuple[str, str, str]:
        """(topic ARN, protocol, endpoint)"""
        if isinstance(subscription, EmailSubscription):
            return context.arn(subscription.topic), "email", subscription.address
        return context.arn(subscription.topic), "sqs", context.arn(subscription.queue)

    def read(self, context, subscription):
        return sns.find_subscription(context.client("sns"), *self.ends(context, subscription))

    def differences(self, context, subscription, current):
        return sns.subscription_differences(context.client("sns"), current, subscription.raw_delivery)

    def apply(self, context, subscription):
        return sns.ensure_subscription(context.client("sns"), *self.ends(context, subscription), raw_delivery=subscription.raw_delivery)

    def delete(self, context, subscription):
        return [context.label(subscription)] if sns.unsubscribe(context.client("sns"), *self.ends(context, subscription)) else []

    def remaining(self, context, resources):
        """Any confirmed subscription of the stack's topics or to its queues, declared or not."""
        topics = {item.arn(context.names) for item in context.manifest.of(Topic)}
        queues = {item.arn(context.names) for item in context.manifest.of(Queue)}
        return [
            f"sns subscription {item['SubscriptionArn']}"
            for page in context.client("sns").get_paginator("list_subscriptions").paginate()
            for item in page["Subscriptions"]
            # an unconfirmed e-mail subscription is no resource one can delete: it expires with its topic
            if (item["TopicArn"] in topics or item["Endpoint"] in queues) and item["SubscriptionArn"] not in sns.UNDELETABLE_SUBSCRIPTIONS
        ]


class BucketNotificationOperations(Operations):
    """Goes with its bucket."""

    deletable = False

    @staticmethod
    def configuration(context: Context, notification: BucketNotification) -> dict:
        return s3.notification_configuration(context.arn(notification.topic), notification.prefix, notification.suffix)

    def read(self, context, notification: BucketNotification):
        try:
            return s3.notification_differences(context.client("s3"), context.name(notification.bucket), self.configuration(context, notification))
        except ClientError as error:
            if error_code(error) == "NoSuchBucket":
                return ABSENT
            raise

    def differences(self, context, notification, current):
        return current

    def apply(self, context, notification):
        return s3.ensure_bucket_notification(
            context.client("s3"), context.name(notification.bucket), self.configuration(context, notification), sleep=context.sleep
        )


class TableOperations(Operations):
    noun = "table"
    listing = Listing("dynamodb", "list_tables", "TableNames", lambda name: name)

    def read(self, context, table: Table):
        return dynamodb.live_table(context.client("dynamodb"), table.name(context.names))

    def differences(self, context, table, current):
        return dynamodb.table_differences(current, table.name(context.names), table.keys)

    def apply(self, context, table):
        return dynamodb.ensure_table(context.client("dynamodb"), table.name(context.names), table.keys)

    def delete(self, context, table):
        name = table.name(context.names)
        return _deleted(table, name, dynamodb.delete_table(context.client("dynamodb"), name))


class InventorySeedOperations(Operations):
    """Goes with its table; an item already there is never reset (stock sold on a live stack stays sold)."""

    deletable = False

    def read(self, context, seed: InventorySeed):
        client = context.client("dynamodb")
        if dynamodb.live_table(client, context.name(seed.table)) is None:
            return ABSENT
        missing = dynamodb.missing_skus(client, context.name(seed.table), seed.catalogue)
        return ABSENT if len(missing) == len(seed.catalogue) else missing

    def differences(self, context, seed, missing):
        return [f"items: {len(missing)} SKUs missing"] if missing else []

    def apply(self, context, seed):
        return dynamodb.seed_inventory(context.client("dynamodb"), context.name(seed.table), seed.catalogue)


class LogGroupOperations(Operations):
    listing = Listing("logs", "describe_log_groups", "logGroups", lambda item: item["logGroupName"], lambda names: {"logGroupNamePrefix": f"/aws/lambda/{names.prefix}-"})

    def read(self, context, group: LogGroup):
        return awslambda.find_log_group(context.client("logs"), group.name(context.names))

    def differences(self, context, group, current):
        return awslambda.log_group_differences(current, group.retention_days)

    def apply(self, context, group):
        return awslambda.ensure_log_group(context.client("logs"), group.name(context.names), group.retention_days)

    def delete(self, context, group):
        name = group.name(context.names)
        return _deleted(group, name, awslambda.delete_log_group(context.client("logs"), name))


class RoleOperations(Operations):
    listing = Listing("iam", "list_roles", "Roles", lambda item: item["RoleName"])

    @staticmethod
    def trust(context: Context, role: Role) -> dict:
        source_arn = context.arn(role.trusted_source) if role.trusted_source else None
        return iam.trust_policy(role.service, context.names.account, source_arn)

    def read(self, context, role: Role):
        return iam.current_role(context.client("iam"), role.name(context.names))

    def differences(self, context, role, current):
        return iam.role_differences(context.client("iam"), current, self.trust(context, role), context.artefacts.policies[role.key])

    def apply(self, context, role):
        document = context.artefacts.policies[role.key]
        return iam.ensure_role(context.client("iam"), role.name(context.names), self.trust(context, role), document, role.description)[0]

    def delete(self, context, role):
        name = role.name(context.names)
        return [f"{role.kind} {name} and its policies"] if iam.delete_role(context.client("iam"), name) else []


class FunctionOperations(Operations):
    noun = "function"
    listing = Listing("lambda", "list_functions", "Functions", lambda item: item["FunctionName"])

    @staticmethod
    def config(context: Context, function: Function) -> awslambda.FunctionConfig:
        values = context.manifest.environment_values(context.names)
        return awslambda.FunctionConfig(
            name=function.name(context.names),
            role_arn=context.arn(function.role),
            handler=f"{function.spec.short_name}.handler",
            description=function.spec.description,
            timeout=function.spec.timeout_seconds,
            memory_mb=function.spec.memory_mb,
            environment={variable: values[variable] for variable in function.spec.environment},
            zip_bytes=context.artefacts.zips[function.spec.short_name],
        )

    def read(self, context, function: Function):
        return awslambda.current_function(context.client("lambda"), function.name(context.names))

    def differences(self, context, function, current):
        return awslambda.function_differences(current, self.config(context, function))

    def apply(self, context, function):
        return awslambda.ensure_function(context.client("lambda"), self.config(context, function), sleep=context.sleep)

    def delete(self, context, function):
        name = function.name(context.names)
        return _deleted(function, name, awslambda.delete_function(context.client("lambda"), name))


class StateMachineOperations(Operations):
    noun = "state machine"
    listing = Listing("stepfunctions", "list_state_machines", "stateMachines", lambda item: item["name"])

    def read(self, context, machine: StateMachine):
        return stepfunctions.describe_state_machine(context.client("stepfunctions"), machine.arn(context.names))

    def differences(self, context, machine, current):
        return stepfunctions.state_machine_differences(current, context.artefacts.definition, context.arn(machine.role))

    def apply(self, context, machine):
        names = context.names
        return stepfunctions.ensure_state_machine(
            context.client("stepfunctions"), machine.name(names), machine.arn(names), context.artefacts.definition, context.arn(machine.role),
            sleep=context.sleep,
        )

    def delete(self, context, machine):
        return _deleted(machine, machine.name(context.names), stepfunctions.delete_state_machine(context.client("stepfunctions"), machine.arn(context.names), sleep=context.sleep))


class RestApiOperations(Operations):
    noun = "rest api"
    listing = Listing("apigateway", "get_rest_apis", "items", lambda item: item["name"])

    @staticmethod
    def config(context: Context, api: RestApi) -> apigateway.RestApiConfig:
        names = context.names
        return apigateway.RestApiConfig(
            name=api.name(names),
            function_arn=context.arn(api.function),
            paths=api.paths,
            region=names.region,
            account=names.account,
            description=api.description,
        )

    def read(self, context, api: RestApi):
        return apigateway.read_rest_api(context.client("apigateway"), context.client("lambda"), self.config(context, api))

    def differences(self, context, api, current):
        return apigateway.rest_api_differences(current, self.config(context, api))

    def apply(self, context, api):
        return apigateway.ensure_rest_api(context.client("apigateway"), context.client("lambda"), self.config(context, api), sleep=context.sleep)[0]

    def delete(self, context, api):
        name = api.name(context.names)
        return _deleted(api, name, apigateway.delete_rest_api(context.client("apigateway"), name, sleep=context.sleep))


class AlarmOperations(Operations):
    listing = Listing("cloudwatch", "describe_alarms", "MetricAlarms", lambda item: item["AlarmName"], lambda names: {"AlarmNamePrefix": f"{names.prefix}-"})

    @staticmethod
    def arguments(context: Context, alarm: Alarm) -> dict:
        names = context.names
        if isinstance(alarm, FailureRateAlarm):
            metric = cloudwatch.failure_rate_metrics(alarm.period_seconds, alarm.minimum_orders)
            description = alarm.description
        elif isinstance(alarm, ErrorRateAlarm):
            metric = cloudwatch.error_rate_metrics(context.name(alarm.subject), alarm.period_seconds, alarm.minimum_invocations)
            description = alarm.description.format(subject=context.name(alarm.subject))
        else:
            dimension = (alarm.dimension, context.manifest.dimension_value(alarm, names))
            metric = cloudwatch.resource_metric(alarm.namespace, alarm.metric, dimension, alarm.statistic)
            description = alarm.description.format(subject=context.name(alarm.subject))
        return cloudwatch.alarm_arguments(alarm.name(names), description, metric, alarm.threshold, alarm.periods, context.arn(alarm.alerts))

    def read(self, context, alarm: Alarm):
        return cloudwatch.find_alarm(context.client("cloudwatch"), alarm.name(context.names))

    def differences(self, context, alarm, current):
        return cloudwatch.alarm_differences(current, self.arguments(context, alarm))

    def apply(self, context, alarm):
        return cloudwatch.ensure_alarm(context.client("cloudwatch"), self.arguments(context, alarm))

    def delete(self, context, alarm):
        name = alarm.name(context.names)
        return _deleted(alarm, name, bool(cloudwatch.delete_alarms(context.client("cloudwatch"), [name])))


class DashboardOperations(Operations):
    listing = Listing("cloudwatch", "list_dashboards", "DashboardEntries", lambda item: item["DashboardName"], lambda names: {"DashboardNamePrefix": names.prefix})

    @staticmethod
    def body(context: Context) -> dict:
        manifest, names = context.manifest, context.names
        queues = manifest.of(Queue)
        dead_letter_keys = {queue.dead_letter_queue for queue in queues if queue.dead_letter_queue}
        return cloudwatch.dashboard_body(
            names.region,
            work_queues=[queue.name(names) for queue in queues if queue.dead_letter_queue],
            other_queues=[queue.name(names) for queue in queues if not queue.dead_letter_queue and queue.key not in dead_letter_keys],
            dead_letter_queues=[queue.name(names) for queue in queues if queue.key in dead_letter_keys],
            state_machine_arns=[machine.arn(names) for machine in manifest.of(StateMachine)],
            functions=[function.name(names) for function in manifest.of(Function)],
        )

    def read(self, context, dashboard: Dashboard):
        return cloudwatch.current_dashboard(context.client("cloudwatch"), dashboard.name(context.names))

    def differences(self, context, dashboard, current):
        return [] if current == self.body(context) else ["configuration"]

    def apply(self, context, dashboard):
        return cloudwatch.ensure_dashboard(context.client("cloudwatch"), dashboard.name(context.names), self.body(context))

    def delete(self, context, dashboard):
        name = dashboard.name(context.names)
        return _deleted(dashboard, name, cloudwatch.delete_dashboard(context.client("cloudwatch"), name))


_SUBSCRIPTIONS = SubscriptionOperations()
_ALARMS = AlarmOperations()
OPERATIONS: dict[type[Resource], Operations] = {
    Bucket: BucketOperations(),
    Topic: TopicOperations(),
    Queue: QueueOperations(),
    Subscription: _SUBSCRIPTIONS,
    EmailSubscription: _SUBSCRIPTIONS,
    BucketNotification: BucketNotificationOperations(),
    Table: TableOperations(),
    InventorySeed: InventorySeedOperations(),
    LogGroup: LogGroupOperations(),
    Role: RoleOperations(),
    Function: FunctionOperations(),
    StateMachine: StateMachineOperations(),
    RestApi: RestApiOperations(),
    ResourceAlarm: _ALARMS,
    FailureRateAlarm: _ALARMS,
    ErrorRateAlarm: _ALARMS,
    Dashboard: DashboardOperations(),
}


def operations(resource: Resource) -> Operations:
    return OPERATIONS[type(resource)]
