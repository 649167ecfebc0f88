"""Find a deployed stack by its names (no state file): what producer and consumer start from."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from botocore.exceptions import ClientError

from blackfriday.errors import StackNotReady, error_code
from blackfriday.functions import FUNCTION_SPECS
from blackfriday.names import StackNames


@dataclass(frozen=True)
class QueueInfo:
    url: str
    arn: str
    dlq_url: str | None = None
    dlq_arn: str | None = None


@dataclass(frozen=True)
class StackInfo:
    bucket: str
    topics: dict[str, str]  # new_orders, order_events, order_errors -> topic ARN
    queues: dict[str, QueueInfo]  # shipping, analytics
    notifications: QueueInfo
    tables: dict[str, str]  # inventory, orders, analytics -> table name
    functions: dict[str, str]  # short name -> function ARN
    state_machine_arn: str

    def to_json(self) -> dict:
        return asdict(self)


def topic_arns(names: StackNames) -> dict[str, str]:
    return {
        "new_orders": names.topic_arn(names.new_orders_topic),
        "order_events": names.topic_arn(names.order_events_topic),
        "order_errors": names.topic_arn(names.order_errors_topic),
    }


def table_names(names: StackNames) -> dict[str, str]:
    return {"inventory": names.inventory_table, "orders": names.orders_table, "analytics": names.analytics_table}


def _not_ready(names: StackNames, what: str) -> StackNotReady:
    return StackNotReady(
        f"the stack with prefix {names.prefix!r} is not deployed ({what} is missing): run `python setup_infra.py` first"
    )


def _queue(sqs, names: StackNames, queue_name: str, dlq_name: str | None = None) -> QueueInfo:
    def url_of(name: str) -> str:
        try:
            return sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except sqs.exceptions.QueueDoesNotExist:
            raise _not_ready(names, f"queue {name}") from None

    url = url_of(queue_name)
    if dlq_name is None:
        return QueueInfo(url, names.queue_arn(queue_name))
    return QueueInfo(url, names.queue_arn(queue_name), url_of(dlq_name), names.queue_arn(dlq_name))


def describe_stack(gateway, names: StackNames) -> StackInfo:
    """The deployed stack's addresses; StackNotReady naming the first missing piece otherwise."""
    s3 = gateway.client("s3")
    try:
        s3.head_bucket(Bucket=names.bucket)
    except ClientError as error:
        if error_code(error) in ("404", "NoSuchBucket", "NotFound"):
            raise _not_ready(names, f"bucket {names.bucket}") from None
        raise
    sns = gateway.client("sns")
    topics = topic_arns(names)
    for arn in topics.values():
        try:
            sns.get_topic_attributes(TopicArn=arn)
        except sns.exceptions.NotFoundException:
            raise _not_ready(names, f"topic {arn}") from None
    sqs = gateway.client("sqs")
    queues = {
        "shipping": _queue(sqs, names, names.shipping_queue, names.shipping_dlq),
        "analytics": _queue(sqs, names, names.analytics_queue, names.analytics_dlq),
    }
    notifications = _queue(sqs, names, names.notifications_queue)
    dynamodb = gateway.client("dynamodb")
    tables = table_names(names)
    for table in tables.values():
        try:
            dynamodb.describe_table(TableName=table)
        except dynamodb.exceptions.ResourceNotFoundException:
            raise _not_ready(names, f"table {table}") from None
    lambda_client = gateway.client("lambda")
    functions = {}
    for function in FUNCTION_SPECS:
        try:
            configuration = lambda_client.get_function_configuration(FunctionName=names.function(function.short_name))
        except lambda_client.exceptions.ResourceNotFoundException:
            raise _not_ready(names, f"function {names.function(function.short_name)}") from None
        functions[function.short_name] = configuration["FunctionArn"]
    stepfunctions = gateway.client("stepfunctions")
    try:
        stepfunctions.describe_state_machine(stateMachineArn=names.state_machine_arn)
    except stepfunctions.exceptions.StateMachineDoesNotExist:
        raise _not_ready(names, f"state machine {names.state_machine}") from None
    return StackInfo(
        bucket=names.bucket,
        topics=topics,
        queues=queues,
        notifications=notifications,
        tables=tables,
        functions=functions,
        state_machine_arn=names.state_machine_arn,
    )
