import json
import threading

from botocore.exceptions import ClientError

from blackfriday.consumer.pool import Interrupted, PoolSettings, QueuePool
from blackfriday.consumer.stats import Pool, PoolStats
from blackfriday.consumer.visibility import VisibilityExtender
from blackfriday.domain import order_key


class RecordingHandler:
    """Records the orders it is given; returns `outcome` or raises `error`."""

    def __init__(self, outcome: str = "started", error: Exception | None = None):
        self.outcome = outcome
        self.error = error
        self.seen: list[tuple[str, str]] = []

    def handle(self, order, ref, stop):
        self.seen.append((order["orderId"], ref.key))
        if self.error is not None:
            raise self.error
        return self.outcome


class Harness:
    def __init__(self, mock_stack, handler, queue: str = "shipping"):
        self.stack = mock_stack
        self.queue = mock_stack.info.queues[queue]
        self.stop = threading.Event()
        self.fatal: list[str] = []
        self.pool = QueuePool(
            mock_stack.gateway,
            self.queue,
            PoolSettings(workers=1, wait_seconds=0, visibility_timeout=30),
            handler,
            VisibilityExtender(mock_stack.sqs),
            self.stop,
            self.fatal.append,
            PoolStats(Pool.SHIPPING),
        )

    @property
    def stats(self):
        return self.pool.stats

    def depth(self) -> tuple[int, int]:
        return self.stack.depth(self.queue.url)

    def dlq_depth(self) -> tuple[int, int]:
        return self.stack.depth(self.queue.dlq_url)


def test_an_order_event_is_handed_to_the_handler_then_deleted(mock_stack, orders):
    # GIVEN two order events on the queue
    harness = Harness(mock_stack, RecordingHandler("started"))
    for order in orders[:2]:
        mock_stack.send("shipping", mock_stack.upload(order))

    # WHEN a worker receives and handles a batch
    harness.pool.receive_and_handle()

    # THEN each order went to the handler with its key, and both messages are gone
    assert sorted(harness.pool.handler.seen) == sorted((order["orderId"], order_key(order["orderId"])) for order in orders[:2])
    assert harness.depth() == (0, 0)
    assert harness.stats.snapshot() == {"received": 2, "started": 2, "processed": 2}
    assert harness.stats.in_hand == 0


def test_the_s3_test_event_is_deleted_quietly(mock_stack):
    harness = Harness(mock_stack, RecordingHandler())
    mock_stack.send("shipping", json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b"}))

    harness.pool.receive_and_handle()

    assert harness.depth() == (0, 0)
    assert harness.stats.snapshot() == {"test_events": 1, "processed": 1}
    assert harness.pool.handler.seen == []


def test_garbage_is_an_error_and_reaches_the_dlq_after_three_quick_receives(mock_stack):
    # GIVEN a message that is no S3 event at all
    harness = Harness(mock_stack, RecordingHandler())
    mock_stack.send("shipping", "hello, I am not an event")

    # WHEN workers receive it three times
    for _ in range(3):
        harness.pool.receive_and_handle()
        # THEN each time it is counted as an error and made visible again at once (no visibility wait)
        assert harness.depth() == (1, 0)
    assert harness.stats.snapshot().get("errors", 0) == 3
    assert harness.stats.last_error.endswith(": message body is not JSON")

    # AND the next receive finds it moved to the DLQ (maxReceiveCount 3); the pool never crashed
    harness.pool.receive_and_handle()
    assert harness.depth() == (0, 0)
    assert harness.dlq_depth() == (1, 0)


def test_an_object_that_is_not_an_order_is_left_for_the_dlq(mock_stack):
    # GIVEN an event pointing at a poison object (not JSON)
    harness = Harness(mock_stack, RecordingHandler())
    mock_stack.send("shipping", mock_stack.upload(b"<<truncated>> {not json", key="orders/aa/poison.json"))

    # WHEN it is received four times
    for _ in range(4):
        harness.pool.receive_and_handle()

    # THEN it was never handed on, counted an error each time it came, and sits in the DLQ
    assert harness.pool.handler.seen == []
    assert harness.stats.snapshot().get("errors", 0) == 3
    assert harness.stats.last_error == (
        f"s3://{mock_stack.info.bucket}/orders/aa/poison.json is not JSON (left for {mock_stack.names.shipping_queue}'s DLQ)"
    )
    assert harness.dlq_depth() == (1, 0)


def test_a_transient_aws_error_leaves_the_message_for_its_visibility_timeout(mock_stack, orders):
    # GIVEN a handler whose AWS call fails with a server error
    error = ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "try later"}}, "StartExecution")
    harness = Harness(mock_stack, RecordingHandler(error=error))
    mock_stack.send("shipping", mock_stack.upload(orders[0]))

    # WHEN it is handled
    harness.pool.receive_and_handle()

    # THEN the message is neither deleted nor made visible: it returns after its visibility timeout
    assert harness.depth() == (0, 1)
    assert harness.stats.snapshot().get("errors", 0) == 1
    assert harness.stats.last_error == "StartExecution failed: ServiceUnavailable: try later"


def test_a_bug_in_a_handler_is_counted_and_does_not_stop_the_pool(mock_stack, orders):
    harness = Harness(mock_stack, RecordingHandler(error=KeyError("items")))
    mock_stack.send("shipping", mock_stack.upload(orders[0]))

    harness.pool.receive_and_handle()

    assert harness.depth() == (0, 1)
    assert harness.stats.snapshot().get("errors", 0) == 1
    assert harness.stats.last_error.startswith("KeyError handling message ")


def test_messages_received_after_a_stop_are_given_back_once_the_workers_have_stopped(mock_stack, orders):
    # GIVEN a stop was asked while the receives of the pool's workers were under way
    harness = Harness(mock_stack, RecordingHandler())
    for order in orders[:3]:
        mock_stack.send("shipping", mock_stack.upload(order))
    harness.stop.set()

    # WHEN one worker's batch comes back, then another worker's long poll returns
    harness.pool.receive_and_handle()
    harness.pool.receive_and_handle()

    # THEN no order was worked on, and the three stayed in flight: the second receive could not take them again
    assert harness.pool.handler.seen == []
    assert harness.depth() == (0, 3)
    assert harness.pool.extender.tracked == 3  # kept invisible meanwhile

    # WHEN every worker has stopped and the pool gives them back
    harness.pool.give_back_released()

    # THEN all three are visible at once, each received only that once (maxReceiveCount counts every receive)
    assert harness.depth() == (3, 0)
    assert harness.pool.extender.tracked == 0
    again = mock_stack.sqs.receive_message(QueueUrl=harness.queue.url, MaxNumberOfMessages=10, AttributeNames=["ApproximateReceiveCount"])
    assert [message["Attributes"]["ApproximateReceiveCount"] for message in again["Messages"]] == ["2", "2", "2"]


def test_work_interrupted_by_a_stop_is_given_back_once_the_workers_have_stopped(mock_stack, orders):
    # GIVEN a handler interrupted by a stop while it waited
    harness = Harness(mock_stack, RecordingHandler(error=Interrupted()))
    mock_stack.send("shipping", mock_stack.upload(orders[0]))

    # WHEN the worker handles its batch, then the pool gives back what it released
    harness.pool.receive_and_handle()
    in_flight = harness.depth()
    harness.pool.give_back_released()

    # THEN the message stayed in flight until then, visible after, and it counts as no error
    assert (in_flight, harness.depth()) == ((0, 1), (1, 0))
    assert harness.stats.snapshot().get("errors", 0) == 0


def test_a_queue_that_is_gone_is_fatal(mock_stack):
    # GIVEN the queue was deleted under the consumer
    harness = Harness(mock_stack, RecordingHandler())
    mock_stack.sqs.delete_queue(QueueUrl=harness.queue.url)

    # WHEN a worker runs
    harness.pool._work()

    # THEN it stops and reports the failure once, naming the queue
    assert len(harness.fatal) == 1
    assert harness.fatal[0].startswith(
        f"ReceiveMessage on {mock_stack.names.shipping_queue} failed: AWS.SimpleQueueService.NonExistentQueue"
    )
