"""--redrive: move a DLQ's messages back to the queue it serves, and say how many.

SQS's own message-move task does it where the endpoint has one (AWS, LocalStack). The project's
emulator (moto) does not implement it, so there, or when an endpoint refuses the call, messages are
moved by hand: receive from the DLQ, send to the queue, delete from the DLQ, ten at a time. Only
as many messages as the DLQ held at the start are moved, so a poison message that a running
consumer sends straight back to the DLQ cannot keep the move going forever.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from botocore.exceptions import ClientError

from blackfriday.consumer.monitor import queue_depth
from blackfriday.consumer.visibility import SQS_BATCH
from blackfriday.deployment.stack import QueueInfo
from blackfriday.emulator import lifecycle
from blackfriday.errors import RunFailure, UsageProblem, error_code
from blackfriday.target import Target

MOVE_TASK = "message-move-task"
BY_HAND = "receive-send-delete"
TASK_POLL_SECONDS = 1.0
TASK_DONE = ("COMPLETED", "FAILED", "CANCELLED")
HAND_MOVE_VISIBILITY_SECONDS = 30
# What an endpoint without message-move tasks answers (moto answers a bare 500).
UNSUPPORTED_CODES = frozenset({"UnsupportedOperation", "InvalidAction", "NotImplemented", "UnknownOperationException", "500", "501"})


@dataclass(frozen=True)
class RedriveResult:
    queue: str
    moved: int
    method: str

    def to_json(self) -> dict:
        return {"queue": self.queue, "moved": self.moved, "method": self.method}


def endpoint_has_move_tasks(target: Target) -> bool:
    """False for the project's own emulator (moto has no message-move task); worth trying elsewhere."""
    if target.is_aws:
        return True
    try:
        return lifecycle.probe(target.endpoint_url) is None
    except UsageProblem:  # something else answers: another emulator, perhaps one with move tasks
        return True


def redrive(gateway, queue_name: str, queue: QueueInfo, sleep: Callable[[float], None] = time.sleep) -> RedriveResult:
    sqs = gateway.client("sqs")
    if endpoint_has_move_tasks(gateway.target):
        try:
            return RedriveResult(queue_name, move_task(sqs, queue, sleep), MOVE_TASK)
        except ClientError as error:
            if error_code(error) not in UNSUPPORTED_CODES:
                raise
    return RedriveResult(queue_name, move_by_hand(sqs, queue), BY_HAND)


def move_task(sqs, queue: QueueInfo, sleep: Callable[[float], None]) -> int:
    handle = sqs.start_message_move_task(SourceArn=queue.dlq_arn, DestinationArn=queue.arn)["TaskHandle"]
    while True:
        tasks = sqs.list_message_move_tasks(SourceArn=queue.dlq_arn, MaxResults=10)["Results"]
        task = next((task for task in tasks if task.get("TaskHandle") == handle), None)
        if task is not None and task["Status"] in TASK_DONE:
            if task["Status"] != "COMPLETED":
                raise RunFailure(f"message move task from {queue.dlq_arn} ended {task['Status']}: {task.get('FailureReason', '')}")
            return int(task.get("ApproximateNumberOfMessagesMoved", 0))
        sleep(TASK_POLL_SECONDS)


def move_by_hand(sqs, queue: QueueInfo) -> int:
    to_move = queue_depth(sqs, queue).dlq
    moved = 0
    while moved < to_move:
        messages = sqs.receive_message(
            QueueUrl=queue.dlq_url,
            MaxNumberOfMessages=min(SQS_BATCH, to_move - moved),
            WaitTimeSeconds=1,
            VisibilityTimeout=HAND_MOVE_VISIBILITY_SECONDS,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            break
        entries = []
        for index, message in enumerate(messages):
            entry = {"Id": str(index), "MessageBody": message["Body"]}
            if message.get("MessageAttributes"):
                entry["MessageAttributes"] = message["MessageAttributes"]
            entries.append(entry)
        sent = sqs.send_message_batch(QueueUrl=queue.url, Entries=entries)
        # Delete only what reached the queue; what did not stays in the DLQ (visible again after the timeout).
        sent_handles = [messages[int(success["Id"])]["ReceiptHandle"] for success in sent.get("Successful", [])]
        if sent_handles:
            sqs.delete_message_batch(
                QueueUrl=queue.dlq_url,
                Entries=[{"Id": str(index), "ReceiptHandle": handle} for index, handle in enumerate(sent_handles)],
            )
        moved += len(sent_handles)
        if sent.get("Failed"):
            failure = sent["Failed"][0]
            raise RunFailure(
                f"SendMessageBatch on {queue.arn} failed for {len(sent['Failed'])} message(s): "
                f"{failure.get('Code')}: {failure.get('Message', '')} ({moved} moved)"
            )
    return moved
