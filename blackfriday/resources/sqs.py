"""SQS queues: the fan-out queues with their DLQs, redrive and policies, and the notifications queue."""

from __future__ import annotations

import json

from blackfriday.errors import error_code
from blackfriday.names import StackNames
from blackfriday.resources.base import Action, normalized, policy, retry_while

# The consumer starts a workflow and waits for its outcome before deleting the message: a minute
# covers that, and a crashed worker's message is back for another worker within a minute.
VISIBILITY_TIMEOUT_SECONDS = 60
MAX_RECEIVE_COUNT = 3
DLQ_RETENTION_SECONDS = 14 * 24 * 3600  # the maximum: time to inspect and redrive a poison message
JSON_ATTRIBUTES = ("Policy", "RedrivePolicy")


def queue_policy(queue_arn: str, topic_arns: list[str]) -> dict:
    """Only the given topics may send to the queue."""
    source = topic_arns[0] if len(topic_arns) == 1 else sorted(topic_arns)
    return policy(
        {
            "Sid": "OnlyOurTopicsSend",
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": source}},
        }
    )


def dead_letter_attributes() -> dict[str, str]:
    return {"MessageRetentionPeriod": str(DLQ_RETENTION_SECONDS), "SqsManagedSseEnabled": "true"}


def fan_out_attributes(names: StackNames, queue_name: str, dlq_name: str) -> dict[str, str]:
    """A queue fed by NewOrderEvents whose poison messages move to its DLQ after three receives."""
    redrive = {"deadLetterTargetArn": names.queue_arn(dlq_name), "maxReceiveCount": MAX_RECEIVE_COUNT}
    topic_arn = names.topic_arn(names.new_orders_topic)
    return {
        "VisibilityTimeout": str(VISIBILITY_TIMEOUT_SECONDS),
        "RedrivePolicy": json.dumps(redrive),
        "Policy": json.dumps(queue_policy(names.queue_arn(queue_name), [topic_arn])),
        "SqsManagedSseEnabled": "true",
    }


def notifications_attributes(names: StackNames) -> dict[str, str]:
    topics = [names.topic_arn(names.order_events_topic), names.topic_arn(names.order_errors_topic)]
    return {
        "Policy": json.dumps(queue_policy(names.queue_arn(names.notifications_queue), topics)),
        "SqsManagedSseEnabled": "true",
    }


def queue_url(sqs, name: str) -> str | None:
    try:
        return sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist:
        return None


def _comparable(attribute: str, value) -> object:
    if attribute in JSON_ATTRIBUTES:
        document = json.loads(value) if value else None
        if attribute == "RedrivePolicy" and document:
            document["maxReceiveCount"] = int(document["maxReceiveCount"])  # AWS returns a number, some emulators text
        return normalized(document)
    return str(value).lower()


def differing_attributes(current: dict[str, str], desired: dict[str, str]) -> dict[str, str]:
    return {
        attribute: value
        for attribute, value in desired.items()
        if _comparable(attribute, current.get(attribute, "")) != _comparable(attribute, value)
    }


def _recently_deleted(error) -> bool:
    # AWS refuses a queue name for 60 s after DeleteQueue (teardown then setup).
    return error_code(error).endswith("QueueDeletedRecently")


def ensure_queue(sqs, name: str, attributes: dict[str, str]) -> tuple[Action, str]:
    """Create the queue, or converge an existing one's attributes in place (SetQueueAttributes)."""
    url = queue_url(sqs, name)
    if url is None:
        created = retry_while(
            lambda: sqs.create_queue(QueueName=name, Attributes=attributes),
            _recently_deleted,
            attempts=12,
            max_delay=15,
        )
        return Action.CREATED, created["QueueUrl"]
    current = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    changes = differing_attributes(current, attributes)
    if changes:
        sqs.set_queue_attributes(QueueUrl=url, Attributes=changes)
        return Action.UPDATED, url
    return Action.UNCHANGED, url


def delete_queue(sqs, name: str) -> bool:
    """True when the queue existed and is deleted."""
    url = queue_url(sqs, name)
    if url is None:
        return False
    try:
        sqs.delete_queue(QueueUrl=url)
    except sqs.exceptions.QueueDoesNotExist:
        return False
    return True
