import json
import threading
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from blackfriday.consumer.messages import ObjectRef, UnreadableOrder
from blackfriday.consumer.pool import Interrupted
from blackfriday.consumer.shipping import ShippingHandler
from blackfriday.consumer.stats import LatencySample, Pool, PoolStats
from blackfriday.consumer.tracker import ExecutionTracker
from blackfriday.domain import order_key

UPLOADED_AT = datetime(2026, 11, 27, tzinfo=timezone.utc)


def ref_for(mock_stack, order: dict) -> ObjectRef:
    return ObjectRef(mock_stack.info.bucket, order_key(order["orderId"]), UPLOADED_AT)


class Shipping:
    def __init__(self, mock_stack, state_machine: str, max_inflight: int = 10, stepfunctions=None, awaiting: set[str] | None = None):
        self.stepfunctions = mock_stack.gateway.client("stepfunctions")
        self.stats = PoolStats(Pool.SHIPPING)
        self.latency = LatencySample()
        self.awaiting = awaiting if awaiting is not None else set()  # orderIds whose row is AWAITING_APPROVAL
        self.tracker = ExecutionTracker(
            self.stepfunctions, state_machine, max_inflight, self.latency, self.stats,
            awaiting_among=lambda order_ids: self.awaiting & set(order_ids),
        )  # fmt: skip
        self.handler = ShippingHandler(stepfunctions or self.stepfunctions, self.tracker, self.stats)

    def executions(self) -> list[dict]:
        return self.stepfunctions.list_executions(stateMachineArn=self.tracker.state_machine_arn)["executions"]

    def execution_arn(self, order_id: str) -> str:
        [arn] = [execution["executionArn"] for execution in self.executions() if execution["name"] == order_id]
        return arn


def test_an_order_starts_one_execution_named_after_it(mock_stack, state_machine, orders):
    # GIVEN an order read from the bucket
    shipping = Shipping(mock_stack, state_machine)
    ref = ref_for(mock_stack, orders[0])

    # WHEN it is handled
    outcome = shipping.handler.handle(orders[0], ref, threading.Event())

    # THEN one execution runs, named after the orderId, with the order and where it came from as input
    assert outcome == "started"
    [execution] = shipping.executions()
    assert execution["name"] == orders[0]["orderId"]
    described = shipping.stepfunctions.describe_execution(executionArn=execution["executionArn"])
    assert json.loads(described["input"]) == {"order": orders[0], "source": {"bucket": ref.bucket, "key": ref.key}}
    assert shipping.tracker.counts() == {"succeeded": 0, "failed": 0, "running": 1, "waiting": 0}


def test_a_duplicate_delivery_starts_nothing_while_the_first_execution_runs_or_after_it_closed(mock_stack, state_machine, orders):
    # GIVEN an order whose execution was started
    shipping = Shipping(mock_stack, state_machine)
    ref = ref_for(mock_stack, orders[0])
    shipping.handler.handle(orders[0], ref, threading.Event())

    # WHEN the same event comes again while it runs (Step Functions hands back the same execution)
    assert shipping.handler.handle(orders[0], ref, threading.Event()) == "duplicates"

    # AND again once it closed (Step Functions answers ExecutionAlreadyExists)
    shipping.stepfunctions.stop_execution(executionArn=shipping.executions()[0]["executionArn"])
    shipping.tracker.poll()
    assert shipping.handler.handle(orders[0], ref, threading.Event()) == "duplicates"

    # THEN there is still one execution, no slot is held, and the closed one counts as failed (aborted)
    assert len(shipping.executions()) == 1
    assert shipping.tracker.counts() == {"succeeded": 0, "failed": 1, "running": 0, "waiting": 0}
    assert shipping.tracker.settled


def test_an_order_id_that_cannot_name_an_execution_is_unreadable(mock_stack, state_machine, orders):
    shipping = Shipping(mock_stack, state_machine, max_inflight=1)
    order = {**orders[0], "orderId": "not a valid name"}

    with pytest.raises(UnreadableOrder) as raised:
        shipping.handler.handle(order, ref_for(mock_stack, orders[0]), threading.Event())

    assert (
        str(raised.value)
        == f"order 'not a valid name' from s3://{mock_stack.info.bucket}/{order_key(orders[0]['orderId'])} cannot be started: InvalidName"
    )
    assert shipping.tracker.settled  # the slot was given back
    assert shipping.executions() == []


def test_in_flight_executions_are_bounded_and_a_closed_one_frees_a_slot(mock_stack, state_machine, orders):
    # GIVEN a bound of two executions, both taken
    shipping = Shipping(mock_stack, state_machine, max_inflight=2)
    for order in orders[:2]:
        shipping.handler.handle(order, ref_for(mock_stack, order), threading.Event())

    # WHEN a third order comes, its worker waits for room
    outcomes = []
    waiting = threading.Thread(
        target=lambda: outcomes.append(shipping.handler.handle(orders[2], ref_for(mock_stack, orders[2]), threading.Event()))
    )
    waiting.start()
    waiting.join(0.5)
    assert outcomes == []
    assert len(shipping.executions()) == 2

    # AND when one execution closes, the waiting order starts
    shipping.stepfunctions.stop_execution(executionArn=shipping.execution_arn(orders[0]["orderId"]))
    shipping.tracker.poll()
    waiting.join(10)

    # THEN never more than two ran at once
    assert outcomes == ["started"]
    assert shipping.tracker.counts() == {"succeeded": 0, "failed": 1, "running": 2, "waiting": 0}


def test_a_stop_while_waiting_for_room_gives_the_message_back(mock_stack, state_machine, orders):
    shipping = Shipping(mock_stack, state_machine, max_inflight=1)
    shipping.handler.handle(orders[0], ref_for(mock_stack, orders[0]), threading.Event())
    stop = threading.Event()
    stop.set()

    with pytest.raises(Interrupted):
        shipping.handler.handle(orders[1], ref_for(mock_stack, orders[1]), stop)
    assert len(shipping.executions()) == 1


class ThrottledOnce:
    """A Step Functions client whose first StartExecution is throttled."""

    def __init__(self, real):
        self.real = real
        self.throttled = False

    def start_execution(self, **kwargs):
        if not self.throttled:
            self.throttled = True
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "StartExecution")
        return self.real.start_execution(**kwargs)


def test_throttling_backs_off_and_starts_the_order(mock_stack, state_machine, orders, monkeypatch):
    monkeypatch.setattr("blackfriday.consumer.pool.random.uniform", lambda low, high: 0)
    real = mock_stack.gateway.client("stepfunctions")
    shipping = Shipping(mock_stack, state_machine, stepfunctions=ThrottledOnce(real))

    assert shipping.handler.handle(orders[0], ref_for(mock_stack, orders[0]), threading.Event()) == "started"
    assert shipping.stats.snapshot().get("throttled", 0) == 1
    assert len(shipping.executions()) == 1


def test_executions_left_running_by_an_earlier_consumer_are_adopted(mock_stack, state_machine, orders):
    # GIVEN two executions started by a consumer that was killed
    stepfunctions = mock_stack.gateway.client("stepfunctions")
    for order in orders[:2]:
        stepfunctions.start_execution(stateMachineArn=state_machine, name=order["orderId"], input=json.dumps({"order": order}))

    # WHEN a new consumer starts
    shipping = Shipping(mock_stack, state_machine)
    adopted = shipping.tracker.adopt_running()

    # THEN it tracks them (they count against --max-inflight, and --until-empty waits for them)
    assert adopted == 2
    assert shipping.tracker.counts()["running"] == 2
    assert not shipping.tracker.settled


def test_a_closed_execution_gives_its_latency_from_upload_to_stop(mock_stack, state_machine, orders):
    # GIVEN an order uploaded a minute ago whose execution has just stopped
    uploaded_at = datetime.now(timezone.utc) - timedelta(minutes=1)
    shipping = Shipping(mock_stack, state_machine)
    shipping.handler.handle(orders[0], ObjectRef(mock_stack.info.bucket, order_key(orders[0]["orderId"]), uploaded_at), threading.Event())
    arn = shipping.execution_arn(orders[0]["orderId"])
    shipping.stepfunctions.stop_execution(executionArn=arn)
    stopped_at = shipping.stepfunctions.describe_execution(executionArn=arn)["stopDate"]

    # WHEN the tracker polls
    shipping.tracker.poll()

    # THEN the order's latency runs from its upload to the execution's stop
    assert shipping.latency.count == 1
    assert shipping.latency.percentiles(50) == ((stopped_at - uploaded_at).total_seconds(),)


def test_an_order_waiting_for_approval_holds_no_slot_and_does_not_keep_the_tracker_unsettled(mock_stack, state_machine, orders):
    # GIVEN one slot, taken by an order's execution
    shipping = Shipping(mock_stack, state_machine, max_inflight=1)
    shipping.handler.handle(orders[0], ref_for(mock_stack, orders[0]), threading.Event())
    stop = threading.Event()
    stop.set()
    with pytest.raises(Interrupted):  # no room for a second order
        shipping.handler.handle(orders[1], ref_for(mock_stack, orders[1]), stop)
    assert not shipping.tracker.settled

    # WHEN its order's row becomes AWAITING_APPROVAL and the tracker polls
    shipping.awaiting.add(orders[0]["orderId"])
    shipping.tracker.poll()

    # THEN it is parked: it counts as waiting, not running, the tracker is settled, and its slot takes the next order
    assert shipping.tracker.counts() == {"succeeded": 0, "failed": 0, "running": 0, "waiting": 1}
    assert shipping.tracker.settled
    assert shipping.handler.handle(orders[1], ref_for(mock_stack, orders[1]), threading.Event()) == "started"
    assert shipping.tracker.counts() == {"succeeded": 0, "failed": 0, "running": 1, "waiting": 1}
    assert not shipping.tracker.settled

    # AND once decided (no longer AWAITING_APPROVAL) it counts as running again until it ends
    shipping.awaiting.clear()
    shipping.tracker.poll()
    assert shipping.tracker.counts() == {"succeeded": 0, "failed": 0, "running": 2, "waiting": 0}


def test_executions_adopted_at_start_that_wait_for_approval_are_parked_at_once(mock_stack, state_machine, orders):
    # GIVEN two executions left by a killed consumer, one of whose orders waits for a person
    stepfunctions = mock_stack.gateway.client("stepfunctions")
    for order in orders[:2]:
        stepfunctions.start_execution(stateMachineArn=state_machine, name=order["orderId"], input=json.dumps({"order": order}))
    shipping = Shipping(mock_stack, state_machine, awaiting={orders[0]["orderId"]})

    # WHEN a new consumer adopts them
    assert shipping.tracker.adopt_running() == 2

    # THEN the waiting one holds no slot
    assert shipping.tracker.counts() == {"succeeded": 0, "failed": 0, "running": 1, "waiting": 1}
