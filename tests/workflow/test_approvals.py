"""A person in the loop, on the real emulator: big orders wait (task token) with their stock reserved until a
reviewer approves or rejects them, or the wait times out; a decision is made exactly once."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import approve
from blackfriday import approvals
from blackfriday.approvals import AlreadyDecided, ApprovalExpired, NeverNeededApproval, UnknownOrder
from blackfriday.domain import PRODUCTS, OrderGenerator, order_key, payment_outcome
from blackfriday.manifest import ApprovalSettings
from tests.scripts import run_command

pytestmark = pytest.mark.emulator

DEADLINE_SECONDS = 120  # a hang fails the test instead of blocking the suite; not a timing assertion
THRESHOLD = ApprovalSettings(threshold_cents=100_000, timeout_seconds=600)
BIG = [("HP-TABLET", 3), ("HP-SMARTWATCH", 2)]  # $1,145.00: over the $1,000 threshold
EXACTLY_AT_THRESHOLD = [("GC-50", 20)]  # $1,000.00 exactly


def order_for(tag: str, items: list[tuple[str, int]]) -> dict:
    """A valid order the simulated gateway approves."""
    order = OrderGenerator(seed=13).order(0)
    order["orderId"] = next(f"{tag}-{n}" for n in range(10_000) if payment_outcome(f"{tag}-{n}") == "approved")
    order["items"] = [{"sku": sku, "quantity": count, "unitPriceCents": PRODUCTS[sku].price_cents} for sku, count in items]
    order["totalCents"] = sum(count * PRODUCTS[sku].price_cents for sku, count in items)
    return order


class Scenario:
    """One stack: start orders, wait for them to wait, decide, read what they left."""

    def __init__(self, stack):
        self.stack = stack
        self.sfn = stack.gateway.client("stepfunctions")
        self.dynamodb = stack.gateway.client("dynamodb")
        self.orders_table = stack.info.tables["orders"]

    def start(self, order: dict) -> str:
        execution_input = {"order": order, "source": {"bucket": self.stack.info.bucket, "key": order_key(order["orderId"])}}
        return self.sfn.start_execution(
            stateMachineArn=self.stack.info.state_machine_arn, name=order["orderId"], input=json.dumps(execution_input)
        )["executionArn"]

    def waiting_ids(self) -> set[str]:
        return {order.order_id for order in approvals.waiting_orders(self.dynamodb, self.orders_table)}

    def until_waiting(self, order_id: str) -> None:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while order_id not in self.waiting_ids():
            assert time.monotonic() < deadline, f"{order_id} never waited for approval"
            time.sleep(0.2)

    def finished(self, execution_arn: str) -> dict:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while (execution := self.sfn.describe_execution(executionArn=execution_arn))["status"] == "RUNNING":
            assert time.monotonic() < deadline, f"{execution_arn} still RUNNING"
            time.sleep(0.2)
        return execution

    def row(self, order_id: str) -> dict:
        return self.dynamodb.get_item(TableName=self.orders_table, Key={"orderId": {"S": order_id}}, ConsistentRead=True)["Item"]

    def stock(self, sku: str) -> int:
        item = self.dynamodb.get_item(TableName=self.stack.info.tables["inventory"], Key={"sku": {"S": sku}}, ConsistentRead=True)["Item"]
        return int(item["stock"]["N"])

    def decide(self, order_id: str, decision: str, reviewer: str = "alice", reason: str = ""):
        return approvals.decide(self.sfn, self.dynamodb, self.orders_table, order_id, decision, reviewer, reason)

    def states_entered(self, execution_arn: str) -> list[str]:
        pages = self.sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
        return [
            event["stateEnteredEventDetails"]["name"]
            for page in pages
            for event in page["events"]
            if event["type"].endswith("StateEntered")
        ]


@pytest.fixture(scope="module")
def reviewed(deploy_own_stack) -> Scenario:
    return Scenario(deploy_own_stack(THRESHOLD))


@pytest.fixture(scope="module")
def approvals_heard(reviewed) -> str:
    """A queue subscribed to the Approvals topic: what a reviewer's e-mail would carry."""
    sqs, sns = reviewed.stack.gateway.client("sqs"), reviewed.stack.gateway.client("sns")
    url = sqs.create_queue(QueueName=f"{reviewed.stack.names.prefix}-heard")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=reviewed.stack.info.topics["approvals"], Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    return url


def heard(sqs, queue_url: str, order_id: str) -> list[dict]:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
            body = json.loads(message["Body"])
            if body["orderId"] == order_id:
                return [body]
    return []


def test_a_big_order_waits_holding_its_stock_is_approved_and_completes(reviewed, approvals_heard):
    # GIVEN an order over the threshold
    order = order_for("big-approved", BIG)
    tablets_before = reviewed.stock("HP-TABLET")
    # WHEN it runs
    execution_arn = reviewed.start(order)
    reviewed.until_waiting(order["orderId"])
    # THEN it waits AWAITING_APPROVAL with its stock reserved, and the reviewers were told
    waiting = next(item for item in approvals.waiting_orders(reviewed.dynamodb, reviewed.orders_table) if item.order_id == order["orderId"])
    assert (waiting.customer_id, waiting.total_cents, waiting.items) == (
        order["customer"]["customerId"],
        114_500,
        {"HP-TABLET": 3, "HP-SMARTWATCH": 2},
    )
    assert reviewed.row(order["orderId"])["status"] == {"S": "AWAITING_APPROVAL"}
    assert reviewed.stock("HP-TABLET") == tablets_before - 3
    assert reviewed.sfn.describe_execution(executionArn=execution_arn)["status"] == "RUNNING"
    [message] = heard(reviewed.stack.gateway.client("sqs"), approvals_heard, order["orderId"])
    assert (message["event"], message["totalCents"], message["items"]) == (
        "ApprovalRequested",
        114_500,
        [{"sku": "HP-TABLET", "quantity": 3}, {"sku": "HP-SMARTWATCH", "quantity": 2}],
    )
    # WHEN a reviewer approves it
    decision = reviewed.decide(order["orderId"], "approve")
    # THEN it is charged and completed, and the row says who approved it
    assert reviewed.finished(execution_arn)["status"] == "SUCCEEDED"
    row = reviewed.row(order["orderId"])
    assert (row["status"], row["decision"], row["decidedBy"], row["chargedCents"]) == (
        {"S": "COMPLETED"},
        {"S": "approve"},
        {"S": "alice"},
        {"N": "114500"},
    )
    assert decision.decision == "approve"
    assert reviewed.stock("HP-TABLET") == tablets_before - 3
    assert reviewed.states_entered(execution_arn)[-6:] == [
        "AwaitApproval",
        "ProcessPayment",
        "PaymentApproved?",
        "GenerateReceipt",
        "SendNotification",
        "OrderCompleted",
    ]


def test_a_rejected_order_fails_rejected_with_the_note_and_its_stock_is_back(reviewed):
    # GIVEN a big order waiting
    order = order_for("big-rejected", BIG)
    tablets_before, watches_before = reviewed.stock("HP-TABLET"), reviewed.stock("HP-SMARTWATCH")
    execution_arn = reviewed.start(order)
    reviewed.until_waiting(order["orderId"])
    # WHEN a reviewer rejects it with a note
    reviewed.decide(order["orderId"], "reject", reviewer="bob", reason="looks like a reseller")
    # THEN the order is FAILED Rejected with the note, nothing is charged and its stock is back
    execution = reviewed.finished(execution_arn)
    assert (execution["status"], execution["error"]) == ("FAILED", "Rejected")
    row = reviewed.row(order["orderId"])
    assert (row["status"], row["errorName"], row["reason"]) == (
        {"S": "FAILED"},
        {"S": "Rejected"},
        {"S": "Rejected: looks like a reseller (by bob)"},
    )
    assert "chargedCents" not in row and "releasedAt" in row
    assert (reviewed.stock("HP-TABLET"), reviewed.stock("HP-SMARTWATCH")) == (tablets_before, watches_before)


def test_deciding_twice_or_an_unknown_order_gives_the_exact_error(reviewed):
    # GIVEN an order approved by alice
    order = order_for("big-twice", BIG)
    execution_arn = reviewed.start(order)
    reviewed.until_waiting(order["orderId"])
    first = reviewed.decide(order["orderId"], "approve")
    reviewed.finished(execution_arn)
    # WHEN bob decides it again THEN he is told who decided it and when
    with pytest.raises(AlreadyDecided) as again:
        reviewed.decide(order["orderId"], "reject", reviewer="bob", reason="late")
    assert str(again.value) == f"order {order['orderId']} was already approved by alice at {first.decided_at} (it is COMPLETED now)"
    # AND an order the stack never saw is unknown
    with pytest.raises(UnknownOrder) as unknown:
        reviewed.decide("no-such-order", "approve")
    assert str(unknown.value) == "no order no-such-order in this stack"


def test_a_small_order_never_waits_and_cannot_be_decided(reviewed):
    # GIVEN an order under the threshold, and one exactly at it
    small, at_threshold = order_for("small", [("HM-LAMP", 1)]), order_for("at-threshold", EXACTLY_AT_THRESHOLD)
    assert at_threshold["totalCents"] == 100_000
    # WHEN they run
    small_arn, at_arn = reviewed.start(small), reviewed.start(at_threshold)
    # THEN the small one completes without AwaitApproval, and deciding it says it never needed approval
    assert reviewed.finished(small_arn)["status"] == "SUCCEEDED"
    assert "AwaitApproval" not in reviewed.states_entered(small_arn)
    with pytest.raises(NeverNeededApproval) as never:
        reviewed.decide(small["orderId"], "approve")
    assert str(never.value) == f"order {small['orderId']} never needed approval: it is COMPLETED, total $29.00"
    # AND the one at the threshold waits
    reviewed.until_waiting(at_threshold["orderId"])
    reviewed.decide(at_threshold["orderId"], "approve")
    assert reviewed.finished(at_arn)["status"] == "SUCCEEDED"


def test_two_concurrent_decisions_have_exactly_one_winner(reviewed):
    # GIVEN a big order waiting
    order = order_for("big-race", BIG)
    execution_arn = reviewed.start(order)
    reviewed.until_waiting(order["orderId"])
    start = threading.Barrier(2)

    def decide(reviewer: str, decision: str):
        start.wait()
        try:
            return reviewed.decide(order["orderId"], decision, reviewer=reviewer, reason=f"{reviewer} says {decision}")
        except AlreadyDecided as refused:
            return refused

    # WHEN two reviewers decide at the same moment, one approving and one rejecting
    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(decide, ("alice", "bob"), ("approve", "reject")))
    # THEN exactly one decision won, the other was told so, and the execution followed the winner
    winners = [outcome for outcome in outcomes if isinstance(outcome, approvals.Decision)]
    losers = [outcome for outcome in outcomes if isinstance(outcome, AlreadyDecided)]
    assert (len(winners), len(losers)) == (1, 1)
    [winner] = winners
    verb = "approved" if winner.decision == "approve" else "rejected"
    assert str(losers[0]).startswith(f"order {order['orderId']} was already {verb} by {winner.reviewer} at {winner.decided_at}")
    execution = reviewed.finished(execution_arn)
    assert execution["status"] == ("SUCCEEDED" if winner.decision == "approve" else "FAILED")
    row = reviewed.row(order["orderId"])
    assert (row["decision"], row["decidedBy"], row["chargeCount"] if winner.decision == "approve" else None) == (
        {"S": winner.decision},
        {"S": winner.reviewer},
        {"N": "1"} if winner.decision == "approve" else None,
    )


def test_an_order_nobody_decides_fails_approval_expired_and_its_stock_is_back(deploy_own_stack):
    # GIVEN a stack whose reviewers get 2 seconds, and a big order
    expiring = Scenario(deploy_own_stack(ApprovalSettings(threshold_cents=100_000, timeout_seconds=2)))
    order = order_for("big-expired", BIG)
    tablets_before = expiring.stock("HP-TABLET")
    # WHEN nobody decides
    execution = expiring.finished(expiring.start(order))
    # THEN the order is FAILED ApprovalExpired and its stock is back
    assert (execution["status"], execution["error"]) == ("FAILED", "ApprovalExpired")
    row = expiring.row(order["orderId"])
    assert (row["status"], row["errorName"], row["reason"]) == (
        {"S": "FAILED"},
        {"S": "ApprovalExpired"},
        {"S": "ApprovalExpired: no reviewer decided before the approval timed out"},
    )
    assert expiring.stock("HP-TABLET") == tablets_before
    # AND a late decision is told the approval expired
    with pytest.raises(ApprovalExpired) as late:
        expiring.decide(order["orderId"], "approve")
    assert (
        str(late.value)
        == f"the approval of order {order['orderId']} expired at {row['approvalExpiresAt']['S']}: it is FAILED ApprovalExpired"
    )


# --- approve.py -----------------------------------------------------------------------------------------------


def approve_py(scenario: Scenario, *args: str):
    target = ("--endpoint-url", scenario.stack.gateway.target.endpoint_url, "--prefix", scenario.stack.names.prefix)
    return run_command(approve.main, *target, *args)


def test_approve_py_lists_what_waits_and_decides_with_one_line_errors(reviewed):
    # GIVEN a big order waiting
    order = order_for("big-cli", BIG)
    execution_arn = reviewed.start(order)
    reviewed.until_waiting(order["orderId"])
    # WHEN the reviewer lists the waiting orders THEN it is there with its customer, total and items
    listed = approve_py(reviewed, "--json")
    assert listed.exit_code == 0, listed.output
    [entry] = [item for item in json.loads(listed.stdout)["waiting"] if item["orderId"] == order["orderId"]]
    assert (entry["customerId"], entry["totalCents"], entry["items"]) == (
        order["customer"]["customerId"],
        114_500,
        {"HP-TABLET": 3, "HP-SMARTWATCH": 2},
    )
    table = approve_py(reviewed)
    assert table.exit_code == 0 and order["orderId"] in table.stdout and "$1,145.00" in table.stdout
    # WHEN a rejection has no reason THEN it is a usage error (exit 2), and nothing is decided
    no_reason = approve_py(reviewed, "reject", order["orderId"])
    assert (no_reason.exit_code, no_reason.stderr) == (2, "Error: reject needs --reason TEXT: the customer is told why\n")
    # WHEN it is rejected with a reason THEN it says so and the order fails Rejected
    rejected = approve_py(reviewed, "reject", order["orderId"], "--reason", "address mismatch", "--reviewer", "carol")
    assert (rejected.exit_code, rejected.stdout) == (0, f"order {order['orderId']} rejected (address mismatch): its stock is released\n")
    assert reviewed.finished(execution_arn)["error"] == "Rejected"
    # AND deciding it again, or an unknown order, is one line naming why, exit 1
    again = approve_py(reviewed, "approve", order["orderId"])
    decided_at = reviewed.row(order["orderId"])["decidedAt"]["S"]
    assert (again.exit_code, again.stderr) == (
        1,
        f"Error: order {order['orderId']} was already rejected by carol at {decided_at} (it is FAILED now)\n",
    )
    unknown = approve_py(reviewed, "approve", "no-such-order")
    assert (unknown.exit_code, unknown.stderr) == (1, "Error: no order no-such-order in this stack\n")
