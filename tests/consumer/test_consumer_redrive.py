import json

import pytest
from botocore.exceptions import ClientError

from blackfriday.consumer.redrive import BY_HAND, MOVE_TASK, RedriveResult, move_by_hand, move_task, redrive
from blackfriday.errors import RunFailure


def fill_dlq(mock_stack, queue: str, bodies: list[str]) -> None:
    for body in bodies:
        mock_stack.sqs.send_message(
            QueueUrl=mock_stack.info.queues[queue].dlq_url,
            MessageBody=body,
            MessageAttributes={"origin": {"DataType": "String", "StringValue": "test"}},
        )


def receive_all(sqs, url: str) -> list[dict]:
    return sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get("Messages", [])


def test_moving_by_hand_returns_every_dlq_message_to_its_queue_with_its_attributes(mock_stack):
    # GIVEN three dead-lettered messages
    bodies = [json.dumps({"n": number}) for number in range(3)]
    fill_dlq(mock_stack, "shipping", bodies)
    queue = mock_stack.info.queues["shipping"]

    # WHEN they are moved back
    moved = move_by_hand(mock_stack.sqs, queue)

    # THEN the DLQ is empty and the queue holds the same bodies and attributes
    assert moved == 3
    assert mock_stack.depth(queue.dlq_url) == (0, 0)
    returned = receive_all(mock_stack.sqs, queue.url)
    assert sorted(message["Body"] for message in returned) == sorted(bodies)
    assert {message["MessageAttributes"]["origin"]["StringValue"] for message in returned} == {"test"}


def test_an_empty_dlq_moves_nothing(mock_stack):
    assert move_by_hand(mock_stack.sqs, mock_stack.info.queues["analytics"]) == 0


class Gateway:
    def __init__(self, sqs, target):
        self.sqs = sqs
        self.target = target

    def client(self, service):
        assert service == "sqs"
        return self.sqs


class WithoutMoveTasks:
    """A real (moto) SQS client on an endpoint that refuses message-move tasks."""

    def __init__(self, real):
        self.real = real

    def start_message_move_task(self, **kwargs):
        raise ClientError({"Error": {"Code": "UnsupportedOperation", "Message": "not here"}}, "StartMessageMoveTask")

    def __getattr__(self, name):
        return getattr(self.real, name)


def test_an_endpoint_without_move_tasks_gets_the_messages_moved_by_hand(mock_stack):
    fill_dlq(mock_stack, "analytics", ["a", "b"])
    gateway = Gateway(WithoutMoveTasks(mock_stack.sqs), mock_stack.gateway.target)

    result = redrive(gateway, "analytics", mock_stack.info.queues["analytics"])

    assert result == RedriveResult("analytics", 2, BY_HAND)
    assert result.to_json() == {"queue": "analytics", "moved": 2, "method": "receive-send-delete"}


class MoveTasks:
    """SQS's message-move task API, scripted: the task runs for one poll, then ends with `final`."""

    def __init__(self, final: dict):
        self.final = final
        self.started: list[dict] = []
        self.polls = 0

    def start_message_move_task(self, **kwargs):
        self.started.append(kwargs)
        return {"TaskHandle": "task-1"}

    def list_message_move_tasks(self, SourceArn, MaxResults):
        self.polls += 1
        task = {"TaskHandle": "task-1", "Status": "RUNNING"} if self.polls == 1 else {"TaskHandle": "task-1", **self.final}
        return {"Results": [{"TaskHandle": "an-older-task", "Status": "COMPLETED", "ApproximateNumberOfMessagesMoved": 99}, task]}


def test_where_the_service_has_move_tasks_one_moves_the_dlq_back(mock_stack):
    sqs = MoveTasks({"Status": "COMPLETED", "ApproximateNumberOfMessagesMoved": 4})
    queue = mock_stack.info.queues["shipping"]

    result = redrive(Gateway(sqs, mock_stack.gateway.target), "shipping", queue, sleep=lambda seconds: None)

    assert result == RedriveResult("shipping", 4, MOVE_TASK)
    assert sqs.started == [{"SourceArn": queue.dlq_arn, "DestinationArn": queue.arn}]


def test_a_failed_move_task_is_a_run_failure(mock_stack):
    queue = mock_stack.info.queues["shipping"]
    sqs = MoveTasks({"Status": "FAILED", "FailureReason": "AccessDenied"})

    with pytest.raises(RunFailure) as raised:
        move_task(sqs, queue, sleep=lambda seconds: None)

    assert str(raised.value) == f"message move task from {queue.dlq_arn} ended FAILED: AccessDenied"
