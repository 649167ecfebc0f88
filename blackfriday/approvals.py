"""A person in the loop: big orders wait in the workflow (a task token) until a reviewer approves or rejects them.

The workflow's AwaitApproval task calls request_approval (the request_approval Lambda): the order's row gets
AWAITING_APPROVAL and the token, and the Approvals topic tells the reviewers. Its stock stays reserved.

A decision is claimed on the row first, with a conditional write (only from AWAITING_APPROVAL, only once),
and only the winner calls SendTaskSuccess / SendTaskFailure: two reviewers deciding at once get one decision,
and the other is told who won. The claim puts the order back to RESERVED: approved, it is charged next;
rejected, ReleaseInventory gives its stock back and MarkOrderFailed fails it `Rejected` with the reviewer's note.
A decision whose token had expired (the workflow's TimeoutSeconds) is undone and reported as expired.

Orders record (besides fulfillment's): approvalToken, approvalRequestedAt, approvalExpiresAt, and once decided
decision (approve|reject), decidedBy, decidedAt, decisionReason.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from botocore.exceptions import ClientError

from blackfriday.domain import OrderStatus, auto_review
from blackfriday.errors import RunFailure, error_code
from blackfriday.order_rows import REVIEW_NOTE_MAX_CHARS, STATUS_NAME, OrderRow, parse_timestamp, row_key, timestamp
from blackfriday.tables import scan_all, text

AWAITING = OrderStatus.AWAITING_APPROVAL
RESERVED = OrderStatus.RESERVED
APPROVE, REJECT = "approve", "reject"
DECISIONS = (APPROVE, REJECT)
REJECTED_ERROR = "Rejected"  # the error SendTaskFailure gives the workflow: MarkOrderFailed's reason
EXPIRED_ERROR = "ApprovalExpired"
AUTO_REVIEWER = "auto-reviewer"
AUTO_REJECT_REASON = "rejected by the demo review policy (one order in ten)"
BATCH_GET_KEYS = 100  # BatchGetItem's limit per request
BATCH_GET_ROUNDS = 5  # rounds for UnprocessedKeys before giving up on this look-up


class ApprovalRefused(RunFailure):
    """A decision that cannot be made; the subclass says why (the API answers 409, approve.py exits 1)."""


class UnknownOrder(ApprovalRefused):
    pass


class AlreadyDecided(ApprovalRefused):
    pass


class NeverNeededApproval(ApprovalRefused):
    pass


class ApprovalExpired(ApprovalRefused):
    pass


def _now() -> datetime:
    return datetime.now(timezone.utc)


# --- The workflow's side: AwaitApproval ------------------------------------------------------------------


def request_approval(dynamodb, sns, orders_table: str, topic_arn: str, order: dict, token: str, timeout_seconds: int) -> dict:
    """Park a RESERVED order as AWAITING_APPROVAL with its task token and tell the reviewers on Approvals.

    A repeat (a Lambda retry) replaces the token of an order still undecided; an order decided meanwhile keeps its decision.
    """
    order_id = order["orderId"]
    requested = _now()
    expires = requested + timedelta(seconds=timeout_seconds)
    try:
        dynamodb.update_item(
            TableName=orders_table,
            Key=row_key(order_id),
            UpdateExpression=(
                "SET #status = :awaiting, approvalToken = :token, approvalRequestedAt = if_not_exists(approvalRequestedAt, :now), "
                "approvalExpiresAt = :expires"
            ),
            ConditionExpression="(#status = :reserved AND attribute_not_exists(decision)) OR #status = :awaiting",
            ExpressionAttributeNames=STATUS_NAME,
            ExpressionAttributeValues={
                ":awaiting": text(AWAITING),
                ":reserved": text(RESERVED),
                ":token": text(token),
                ":now": text(timestamp(requested)),
                ":expires": text(timestamp(expires)),
            },
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return {"orderId": order_id, "awaiting": False}  # decided already: its reviewer sent the token's answer
    message = {
        "event": "ApprovalRequested",
        "orderId": order_id,
        "customerId": order["customer"]["customerId"],
        "totalCents": order["totalCents"],
        "currency": order["currency"],
        "items": [{"sku": item["sku"], "quantity": item["quantity"]} for item in order["items"]],
        "expiresAt": timestamp(expires),
        "decide": f"python approve.py approve {order_id}   |   python approve.py reject {order_id} --reason TEXT",
    }
    sns.publish(
        TopicArn=topic_arn,
        Subject=f"Order {order_id} (${order['totalCents'] / 100:,.2f}) waits for approval"[:100],
        Message=json.dumps(message),
        MessageAttributes={
            "event": {"DataType": "String", "StringValue": "ApprovalRequested"},
            "orderId": {"DataType": "String", "StringValue": order_id},
            "totalCents": {"DataType": "Number", "StringValue": str(order["totalCents"])},
        },
    )
    return {"orderId": order_id, "awaiting": True, "expiresAt": timestamp(expires)}


# --- The reviewer's side ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WaitingOrder:
    order_id: str
    customer_id: str
    total_cents: int
    items: dict[str, int]  # sku -> units reserved
    waiting_since: datetime
    expires_at: datetime | None

    def waiting_seconds(self, now: datetime) -> float:
        return max(0.0, (now - self.waiting_since).total_seconds())

    def to_json(self, now: datetime) -> dict:
        return {
            "orderId": self.order_id,
            "customerId": self.customer_id,
            "totalCents": self.total_cents,
            "items": self.items,
            "waitingSince": timestamp(self.waiting_since),
            "waitingSeconds": round(self.waiting_seconds(now), 1),
            "expiresAt": timestamp(self.expires_at) if self.expires_at else None,
        }


def _waiting_order(row: OrderRow) -> WaitingOrder:
    return WaitingOrder(
        order_id=row.order_id,
        customer_id=row.customer_id or "",
        total_cents=row.total_cents or 0,
        items=row.reserved_items or {},
        waiting_since=parse_timestamp(row.approval_requested_at),
        expires_at=parse_timestamp(row.approval_expires_at) if row.approval_expires_at else None,
    )


def waiting_orders(dynamodb, orders_table: str) -> list[WaitingOrder]:
    """Every order AWAITING_APPROVAL, the longest waiting first (a paginated, consistent scan)."""
    items = scan_all(
        dynamodb,
        orders_table,
        ConsistentRead=True,
        FilterExpression="#status = :awaiting",
        ExpressionAttributeNames=STATUS_NAME,
        ExpressionAttributeValues={":awaiting": text(AWAITING)},
    )
    waiting = [_waiting_order(OrderRow.from_item(item)) for item in items]
    return sorted(waiting, key=lambda order: (order.waiting_since, order.order_id))


def awaiting_among(dynamodb, orders_table: str, order_ids: Iterable[str]) -> set[str]:
    """Which of these orders are AWAITING_APPROVAL now (BatchGetItem, 100 keys a request)."""
    ids = sorted(set(order_ids))
    awaiting = set()
    for start in range(0, len(ids), BATCH_GET_KEYS):
        request = {
            orders_table: {
                "Keys": [row_key(order_id) for order_id in ids[start : start + BATCH_GET_KEYS]],
                "ProjectionExpression": "orderId, #status",
                "ExpressionAttributeNames": STATUS_NAME,
                "ConsistentRead": True,
            }
        }
        for _ in range(BATCH_GET_ROUNDS):
            answer = dynamodb.batch_get_item(RequestItems=request)
            rows = map(OrderRow.from_item, answer["Responses"].get(orders_table, []))
            awaiting.update(row.order_id for row in rows if row.status == AWAITING)
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                break
        else:
            raise RunFailure(f"{orders_table}: BatchGetItem left keys unprocessed after {BATCH_GET_ROUNDS} rounds")
    return awaiting


@dataclass(frozen=True)
class Decision:
    order_id: str
    decision: str  # approve | reject
    reviewer: str
    reason: str
    decided_at: str

    def to_json(self) -> dict:
        return {
            "orderId": self.order_id,
            "decision": self.decision,
            "reviewer": self.reviewer,
            "reason": self.reason,
            "decidedAt": self.decided_at,
        }


def _refusal(order_id: str, item: dict) -> ApprovalRefused:
    """Why a claim on this row (as it was when the claim failed) was refused."""
    if not item:
        return UnknownOrder(f"no order {order_id} in this stack")
    row = OrderRow.from_item(item)
    status = row.status or "unknown"
    if row.decision is not None:
        verb = "approved" if row.decision == APPROVE else "rejected"
        return AlreadyDecided(f"order {order_id} was already {verb} by {row.decided_by} at {row.decided_at} (it is {status} now)")
    if row.error_name == EXPIRED_ERROR:
        return ApprovalExpired(f"the approval of order {order_id} expired at {row.approval_expires_at}: it is FAILED ApprovalExpired")
    if row.approval_requested_at is not None:
        return AlreadyDecided(f"order {order_id} no longer waits for approval: it is {status} ({row.reason or 'no reason given'})")
    return NeverNeededApproval(f"order {order_id} never needed approval: it is {status}, total ${(row.total_cents or 0) / 100:,.2f}")


def decide(stepfunctions, dynamodb, orders_table: str, order_id: str, decision: str, reviewer: str, reason: str = "") -> Decision:
    """Approve or reject a waiting order, exactly once: claim the decision on its row, then answer its task token.

    Raises UnknownOrder, AlreadyDecided (naming who decided), NeverNeededApproval or ApprovalExpired.
    """
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {DECISIONS}, not {decision!r}")
    reason = reason.strip()[:REVIEW_NOTE_MAX_CHARS]
    decided_at = timestamp(_now())
    try:
        item = dynamodb.update_item(
            TableName=orders_table,
            Key=row_key(order_id),
            UpdateExpression=(
                "SET #status = :reserved, decision = :decision, decidedBy = :reviewer, decidedAt = :at, decisionReason = :reason"
            ),
            ConditionExpression="#status = :awaiting AND attribute_not_exists(decision)",
            ExpressionAttributeNames=STATUS_NAME,
            ExpressionAttributeValues={
                ":reserved": text(RESERVED),
                ":awaiting": text(AWAITING),
                ":decision": text(decision),
                ":reviewer": text(reviewer),
                ":at": text(decided_at),
                ":reason": text(reason),
            },
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )["Attributes"]
    except dynamodb.exceptions.ConditionalCheckFailedException as error:
        raise _refusal(order_id, error.response.get("Item", {})) from None
    row = OrderRow.from_item(item)
    token = row.approval_token
    try:
        if decision == APPROVE:
            output = {"decision": APPROVE, "reviewer": reviewer, "reason": reason, "decidedAt": decided_at}
            stepfunctions.send_task_success(taskToken=token, output=json.dumps(output))
        else:
            stepfunctions.send_task_failure(taskToken=token, error=REJECTED_ERROR, cause=f"{reason or 'no reason given'} (by {reviewer})")
    except ClientError as error:
        if error_code(error) not in ("TaskTimedOut", "InvalidToken", "TaskDoesNotExist"):
            raise
        _undo_claim(dynamodb, orders_table, order_id, decided_at)
        raise ApprovalExpired(f"the approval of order {order_id} expired at {row.approval_expires_at} ({error_code(error)})") from None
    return Decision(order_id, decision, reviewer, reason, decided_at)


def _undo_claim(dynamodb, orders_table: str, order_id: str, decided_at: str) -> None:
    """The token had expired: the workflow fails the order ApprovalExpired, so our claim must not say it was decided."""
    try:
        dynamodb.update_item(
            TableName=orders_table,
            Key=row_key(order_id),
            UpdateExpression="REMOVE decision, decidedBy, decidedAt, decisionReason",
            ConditionExpression="decidedAt = :at",
            ExpressionAttributeValues={":at": text(decided_at)},
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        pass  # nothing of ours to undo


# --- The demo reviewer (approve.py --auto) ----------------------------------------------------------------


@dataclass
class AutoReview:
    approved: int = 0
    rejected: int = 0
    refused: int = 0  # another reviewer won, or the token expired first

    def to_json(self) -> dict:
        return {"approved": self.approved, "rejected": self.rejected, "refused": self.refused}


def review_automatically(
    stepfunctions,
    dynamodb,
    orders_table: str,
    idle_seconds: float = 0.0,
    poll_seconds: float = 1.0,
    on_decision: Callable[[Decision | ApprovalRefused], None] = lambda outcome: None,
    sleep: Callable[[float], None] = time.sleep,
) -> AutoReview:
    """Decide every waiting order by domain.auto_review (approves most, rejects a few) until nothing waits.

    With idle_seconds, nothing must have waited for that long before it returns (orders still arriving
    while a consumer runs); with 0 it returns at the first listing that finds nothing waiting.
    """
    review = AutoReview()
    idle_since = time.monotonic()
    while True:
        waiting = waiting_orders(dynamodb, orders_table)
        for order in waiting:
            approve = auto_review(order.order_id)
            try:
                outcome = decide(
                    stepfunctions,
                    dynamodb,
                    orders_table,
                    order.order_id,
                    APPROVE if approve else REJECT,
                    AUTO_REVIEWER,
                    "" if approve else AUTO_REJECT_REASON,
                )
            except ApprovalRefused as refused:
                review.refused += 1
                on_decision(refused)
                continue
            if approve:
                review.approved += 1
            else:
                review.rejected += 1
            on_decision(outcome)
        if waiting:
            idle_since = time.monotonic()
            continue
        if time.monotonic() - idle_since >= idle_seconds:
            return review
        sleep(poll_seconds)
