"""Create or converge the whole stack, in dependency order; every step reports its action.

Each step is idempotent, so a run interrupted anywhere (Ctrl-C) leaves a stack the next run completes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from blackfriday.domain import CATALOGUE
from blackfriday.errors import RunFailure
from blackfriday.functions import FUNCTION_SPECS, FunctionSpec, environment_values
from blackfriday.names import StackNames
from blackfriday.resources import awslambda, cloudwatch, dynamodb, iam, s3, sns, sqs, stepfunctions
from blackfriday.resources.base import Action, Change
from blackfriday.target import Target

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Sources:
    """Where the deployed code comes from: handlers, the ASL file, and the root holding the `blackfriday` package."""

    root: Path
    lambdas_dir: Path
    asl_path: Path

    @classmethod
    def project(cls) -> Sources:
        return cls(PROJECT_ROOT, PROJECT_ROOT / "lambdas", PROJECT_ROOT / "statemachine" / "order_processing.asl.json")

    def handler(self, short_name: str) -> Path:
        path = self.lambdas_dir / f"{short_name}.py"
        if not path.is_file():
            raise RunFailure(f"the handler of Lambda {short_name} is missing: expected {path}")
        return path


@dataclass(frozen=True)
class Plan:
    """Everything computed from local files, before any AWS call: a broken file stops the run untouched."""

    zips: dict[str, bytes]  # short name -> deployment package
    definition: str
    workflow_policy: dict


def prepare(names: StackNames, sources: Sources) -> Plan:
    zips = {
        function.short_name: awslambda.build_zip(awslambda.package_files(sources.handler(function.short_name), sources.root))
        for function in FUNCTION_SPECS
    }
    function_arns = {function.short_name: names.function_arn(function.short_name) for function in FUNCTION_SPECS}
    if not sources.asl_path.is_file():
        raise RunFailure(f"the workflow definition is missing: expected {sources.asl_path}")
    definition = stepfunctions.render_definition(sources.asl_path, stepfunctions.placeholder_values(names, function_arns))
    return Plan(zips, definition, stepfunctions.workflow_policy(names, definition))


def speaks_tls(target: Target) -> bool:
    """A TLS-only bucket policy on a plain-HTTP endpoint (the local emulator) would deny every request."""
    return target.endpoint_url is None or target.endpoint_url.startswith("https://")


def _function_config(names: StackNames, function: FunctionSpec, role_arn: str, zip_bytes: bytes) -> awslambda.FunctionConfig:
    values = environment_values(names)
    return awslambda.FunctionConfig(
        name=names.function(function.short_name),
        role_arn=role_arn,
        handler=f"{function.short_name}.handler",
        description=function.description,
        timeout=function.timeout_seconds,
        memory_mb=function.memory_mb,
        environment={variable: values[variable] for variable in function.environment},
        zip_bytes=zip_bytes,
    )


def deploy(
    gateway,
    names: StackNames,
    sources: Sources | None = None,
    notify_email: str | None = None,
    report: Callable[[Change], None] = lambda change: None,
) -> list[Change]:
    """Converge every resource; returns (and reports as it goes) each resource's action."""
    plan = prepare(names, sources or Sources.project())
    changes: list[Change] = []

    def record(kind: str, name: str, action: Action) -> None:
        change = Change(kind, name, action)
        changes.append(change)
        report(change)

    # Topics first: the bucket notification and the queue policies name them.
    sns_client = gateway.client("sns")
    new_orders_arn = names.topic_arn(names.new_orders_topic)
    record("sns topic", names.new_orders_topic, sns.ensure_topic(sns_client, new_orders_arn, sns.new_orders_topic_policy(names)))
    for topic in (names.order_events_topic, names.order_errors_topic):
        record("sns topic", topic, sns.ensure_topic(sns_client, names.topic_arn(topic)))

    s3_client = gateway.client("s3")
    record("s3 bucket", names.bucket, s3.ensure_bucket(s3_client, names, tls_only=speaks_tls(gateway.target)))

    # Each DLQ before its queue (the redrive policy names it), each queue before its subscription.
    sqs_client = gateway.client("sqs")
    for queue, dlq in ((names.shipping_queue, names.shipping_dlq), (names.analytics_queue, names.analytics_dlq)):
        record("sqs queue", dlq, sqs.ensure_queue(sqs_client, dlq, sqs.dead_letter_attributes())[0])
        record("sqs queue", queue, sqs.ensure_queue(sqs_client, queue, sqs.fan_out_attributes(names, queue, dlq))[0])
        action = sns.ensure_subscription(sns_client, new_orders_arn, "sqs", names.queue_arn(queue), raw_delivery=True)
        record("sns subscription", f"{names.new_orders_topic} -> {queue}", action)
    notifications = names.notifications_queue
    record("sqs queue", notifications, sqs.ensure_queue(sqs_client, notifications, sqs.notifications_attributes(names))[0])
    for topic in (names.order_events_topic, names.order_errors_topic):
        # Not raw: the SNS envelope's TopicArn tells a confirmation from a failure notice.
        action = sns.ensure_subscription(sns_client, names.topic_arn(topic), "sqs", names.queue_arn(notifications), raw_delivery=False)
        record("sns subscription", f"{topic} -> {notifications}", action)

    # Last of the event path: S3 checks that the topic policy lets it publish, and the first events find the queues subscribed.
    record("s3 notification", f"{names.bucket} orders/*.json -> {names.new_orders_topic}", s3.ensure_bucket_notification(s3_client, names))

    dynamodb_client = gateway.client("dynamodb")
    for table in dynamodb.table_specs(names):
        record("dynamodb table", table.name, dynamodb.ensure_table(dynamodb_client, table))
    record("inventory seed", f"{len(CATALOGUE)} SKUs", dynamodb.seed_inventory(dynamodb_client, names.inventory_table, CATALOGUE))

    iam_client = gateway.client("iam")
    logs_client = gateway.client("logs")
    lambda_client = gateway.client("lambda")
    for function in FUNCTION_SPECS:
        log_group = names.log_group(function.short_name)
        record("log group", log_group, awslambda.ensure_log_group(logs_client, log_group))
        role_name = names.function_role(function.short_name)
        action, role_arn = iam.ensure_role(iam_client, role_name, "lambda.amazonaws.com", iam.function_policy(names, function), function.description)
        record("iam role", role_name, action)
        config = _function_config(names, function, role_arn, plan.zips[function.short_name])
        record("lambda function", config.name, awslambda.ensure_function(lambda_client, config))

    action, workflow_role_arn = iam.ensure_role(
        iam_client, names.state_machine_role, "states.amazonaws.com", plan.workflow_policy, f"Runs {names.state_machine}"
    )
    record("iam role", names.state_machine_role, action)
    sfn_client = gateway.client("stepfunctions")
    record("state machine", names.state_machine, stepfunctions.ensure_state_machine(sfn_client, names, plan.definition, workflow_role_arn))

    cloudwatch_client = gateway.client("cloudwatch")
    for alarm in cloudwatch.alarm_specs(names):
        record("alarm", alarm["AlarmName"], cloudwatch.ensure_alarm(cloudwatch_client, alarm))
    record("dashboard", names.dashboard, cloudwatch.ensure_dashboard(cloudwatch_client, names))

    if notify_email:
        action = sns.ensure_subscription(sns_client, names.topic_arn(names.order_errors_topic), "email", notify_email)
        record("sns subscription", f"{names.order_errors_topic} -> {notify_email}", action)
    return changes
