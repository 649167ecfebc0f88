"""SQS queues: attributes (SSE, redrive to a DLQ, a policy admitting only our topics), create or converge in place."""

from __future__ import annotations

import json

from blackfriday.errors import error_code
from blackfriday.resources.base import Action, normalized, policy, retry_while

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


def queue_attributes(
    queue_arn: str,
    sender_arns: list[str],
    dead_letter_arn: str | None,
    max_receive_count: int,
    visibility_timeout: int | None,
    retention_seconds: int | None,
) -> dict[str, str]:
    """SSE always; a policy when topics send to it; a redrive policy when it has a DLQ; timeouts when given."""
    attributes = {"SqsManagedSseEnabled": "true"}
    if visibility_timeout is not None:
        attributes["VisibilityTimeout"] = str(visibility_timeout)
    if retention_seconds is not None:
        attributes["MessageRetentionPeriod"] = str(retention_seconds)
    if dead_letter_arn is not None:
        attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": max_receive_count})
    if sender_arns:
        attributes["Policy"] = json.dumps(queue_policy(queue_arn, sender_arns))
    return attributes


def current_attributes(sqs, url: str) -> dict[str, str]:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]


def dead_letter_target(attributes: dict[str, str]) -> str | None:
    """The ARN of the queue a queue's failed messages go to, if it has one."""
    redrive = attributes.get("RedrivePolicy")
    return json.loads(redrive)["deadLetterTargetArn"] if redrive else None


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


def ensure_queue(sqs, name: str, attributes: dict[str, str], *, sleep) -> tuple[Action, str]:
    """Create the queue, or converge an existing one's attributes in place (SetQueueAttributes)."""
    url = queue_url(sqs, name)
    if url is None:
        created = retry_while(
            lambda: sqs.create_queue(QueueName=name, Attributes=attributes),
            _recently_deleted,
            sleep=sleep,
            attempts=12,
            max_delay=15,
        )
        return Action.CREATED, created["QueueUrl"]
    changes = differing_attributes(current_attributes(sqs, url), attributes)
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
