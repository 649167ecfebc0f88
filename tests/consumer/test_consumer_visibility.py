import time

from blackfriday.consumer.stats import Pool, PoolStats
from blackfriday.consumer.visibility import VisibilityExtender


def receive(mock_stack, url: str, count: int) -> tuple[list[str], float]:
    received_at = time.monotonic()
    messages = mock_stack.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=count, VisibilityTimeout=30)["Messages"]
    return [message["ReceiptHandle"] for message in messages], received_at


def test_messages_are_renewed_only_once_within_half_their_timeout_of_the_deadline(mock_stack):
    # GIVEN twelve messages in hand, received with a 30 s visibility timeout
    url = mock_stack.info.queues["shipping"].url
    for number in range(12):
        mock_stack.send("shipping", f"m{number}")
    stats = PoolStats(Pool.SHIPPING)
    extender = VisibilityExtender(mock_stack.sqs)
    extender.register_queue(url, 30, stats)
    handles, received_at = [], time.monotonic()
    while len(handles) < 12:
        batch, _ = receive(mock_stack, url, 10)
        handles += batch
    extender.track(url, handles, received_at)

    # WHEN 10 s have passed, nothing is due; at 16 s every message is (renewed in batches of ten)
    assert extender.extend_due(now=received_at + 10) == 0
    assert extender.extend_due(now=received_at + 16) == 12

    # THEN the renewed deadlines lie a full timeout ahead: nothing is due again soon after
    assert extender.extend_due(now=received_at + 17) == 0
    assert stats.snapshot().get("errors", 0) == 0
    assert mock_stack.depth(url) == (0, 12)


def test_messages_let_go_are_not_renewed(mock_stack):
    url = mock_stack.info.queues["analytics"].url
    mock_stack.send("analytics", "m")
    extender = VisibilityExtender(mock_stack.sqs)
    extender.register_queue(url, 30, PoolStats("analytics"))
    handles, received_at = receive(mock_stack, url, 1)
    extender.track(url, handles, received_at)

    extender.untrack(url, handles)

    assert extender.tracked == 0
    assert extender.extend_due(now=received_at + 29) == 0


def test_a_renewal_refused_for_a_message_still_held_is_an_error(mock_stack):
    # GIVEN a message whose receipt handle no longer works (deleted behind the worker's back)
    url = mock_stack.info.queues["shipping"].url
    mock_stack.send("shipping", "m")
    stats = PoolStats(Pool.SHIPPING)
    extender = VisibilityExtender(mock_stack.sqs)
    extender.register_queue(url, 30, stats)
    handles, received_at = receive(mock_stack, url, 1)
    extender.track(url, handles, received_at)
    mock_stack.sqs.delete_message(QueueUrl=url, ReceiptHandle=handles[0])

    # WHEN it is due for renewal
    renewed = extender.extend_due(now=received_at + 20)

    # THEN nothing was renewed and the failure is reported (the message may come back)
    assert renewed == 0
    assert stats.snapshot().get("errors", 0) == 1
    assert stats.last_error.startswith(f"ChangeMessageVisibility on {url} failed: ")


def test_the_tick_is_a_quarter_of_the_shortest_timeout_within_bounds(mock_stack):
    extender = VisibilityExtender(mock_stack.sqs)
    extender.register_queue("a", 60, PoolStats(Pool.SHIPPING))
    assert extender.tick_seconds == 5.0
    extender.register_queue("b", 8, PoolStats("analytics"))
    assert extender.tick_seconds == 2.0
    extender.register_queue("c", 1, PoolStats("analytics"))
    assert extender.tick_seconds == 0.25
