"""SQS queues (the Queue kind and its operations): attributes (SSE, redrive to a DLQ, a policy admitting only our topics),
create or converge in place."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import ClassVar

from blackfriday.errors import error_code
from blackfriday.manifest import Manifest, Resource
from blackfriday.names import StackNames
from blackfriday.resources.base import Action, CannotConverge, normalized, policy, retry_while
from blackfriday.resources.kinds import Context, Listing, Operations, operates_on, reported_deletion

JSON_ATTRIBUTES = ("Policy", "RedrivePolicy")


MAX_RECEIVE_COUNT = 3


@dataclass(frozen=True, kw_only=True)
class Queue(Resource):
    kind: ClassVar[str] = "sqs queue"
    thing: str
    dead_letter_queue: str | None = None  # key of the queue that receives what fails MAX_RECEIVE_COUNT times
    senders: tuple[str, ...] = ()  # keys of the only topics allowed to send
    max_receive_count: int = MAX_RECEIVE_COUNT
    visibility_timeout: int | None = None
    retention_seconds: int | None = None

    def name(self, names: StackNames) -> str:
        return names.name(self.thing)

    def arn(self, names: StackNames) -> str:
        return names.queue_arn(self.name(names))

    def depends_on(self, manifest: Manifest) -> tuple[str, ...]:
        return tuple(filter(None, (self.dead_letter_queue, *self.senders)))


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


@operates_on(Queue)
class QueueOperations(Operations):
    noun = "queue"
    listing = Listing("sqs", "list_queues", "QueueUrls", lambda url: url.rsplit("/", 1)[1], lambda names: {"QueueNamePrefix": names.prefix})

    @staticmethod
    def attributes(context: Context, queue: Queue) -> dict[str, str]:
        return queue_attributes(
            queue.arn(context.names),
            [context.arn(topic) for topic in queue.senders],
            context.arn(queue.dead_letter_queue) if queue.dead_letter_queue else None,
            queue.max_receive_count,
            queue.visibility_timeout,
            queue.retention_seconds,
        )

    def read(self, context, queue: Queue):
        return queue_url(context.client("sqs"), queue.name(context.names))

    def differences(self, context, queue, url):
        current = current_attributes(context.client("sqs"), url)
        target = dead_letter_target(current)
        ours = {item.arn(context.names) for item in context.manifest.of(Queue)}
        if target is not None and target not in ours:
            raise CannotConverge(
                f"sqs queue {queue.name(context.names)} sends its failed messages to {target}, which is not a queue of the stack "
                f"{context.names.prefix!r}: another stack may use this queue; choose another --prefix or remove it"
            )
        changed = differing_attributes(current, self.attributes(context, queue))
        return [f"attributes: {', '.join(changed)}"] if changed else []

    def apply(self, context, queue):
        return ensure_queue(context.client("sqs"), queue.name(context.names), self.attributes(context, queue), sleep=context.sleep)[0]

    def delete(self, context, queue):
        name = queue.name(context.names)
        return reported_deletion(queue, name, delete_queue(context.client("sqs"), name))
