"""The design's four invariants, checked from the system's own state after a run has drained.

1. Every order ends in exactly one place: COMPLETED with one receipt, FAILED with a reason, or
   (only for unreadable objects) its event in the shipping DLQ; completed + failed + dead-lettered = N.
   A big order may also be AWAITING_APPROVAL (a fourth place, until a person decides it), without a receipt.
2. No order is processed twice: one execution per orderId, one receipt, one charge.
3. For every SKU: initial stock - final stock = units in COMPLETED orders and in orders AWAITING_APPROVAL
   (their stock stays reserved while they wait); stock >= 0; no FAILED order still holds a reservation
   (a release that ran out of retries: `status.py --repair` gives it back).
4. Sum of receipt totals = sum of successful payments; the analytics report's demand equals the exact
   sums over the valid orders uploaded, and its sales the exact sums over the COMPLETED orders.
"""

from __future__ import annotations

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import unquote_plus

from blackfriday.deployment.stack import StackInfo
from blackfriday.domain import (
    FINAL_STATUSES,
    ORDERS_PREFIX,
    PRODUCTS,
    RECEIPTS_PREFIX,
    REPORTS_PREFIX,
    OrderStatus,
    units_by_sku,
    validation_problems,
)
from blackfriday.fulfillment import unreleased_reservations
from blackfriday.order_rows import OrderRow
from blackfriday.tables import scan_all, stock_levels

# Per SKU: demand (every valid order) and sales (COMPLETED orders), as the analytics report states them.
REPORT_FIELDS = ("orders", "units", "demandCents", "salesOrders", "salesUnits", "salesCents")

READ_THREADS = 16
SHOWN_PER_PROBLEM = 5  # examples named per failed invariant; the count says how many in all


@dataclass
class Invariant:
    number: int
    title: str
    problems: list[str] = field(default_factory=list)

    @property
    def holds(self) -> bool:
        return not self.problems

    def to_json(self) -> dict:
        return {"number": self.number, "title": self.title, "holds": self.holds, "problems": self.problems}


def _examples(ids) -> str:
    ids = sorted(ids)
    shown = ", ".join(ids[:SHOWN_PER_PROBLEM])
    return f"{shown}, … ({len(ids)} in all)" if len(ids) > SHOWN_PER_PROBLEM else shown


def _list_keys(s3, bucket: str, prefix: str) -> list[str]:
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    return keys


def _read_json_objects(s3, bucket: str, keys: list[str]) -> dict[str, object]:
    """key -> parsed JSON, or None for an object that is not JSON. Reads in parallel on the shared client."""

    def read(key):
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        try:
            return key, json.loads(body)
        except ValueError:
            return key, None

    with ThreadPoolExecutor(READ_THREADS) as pool:
        return dict(pool.map(read, keys))


def _dead_lettered_keys(sqs, dlq_url: str) -> Counter:
    """Object keys named by the S3 events waiting in a DLQ, without consuming them.

    Messages are received with a visibility timeout long enough to page through the whole DLQ, then
    made visible again at once.
    """
    keys: Counter = Counter()
    handles = []
    while True:
        messages = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=120, WaitTimeSeconds=0).get(
            "Messages", []
        )
        if not messages:
            break
        for message in messages:
            handles.append(message["ReceiptHandle"])
            try:
                records = json.loads(message["Body"]).get("Records", [])
                # Event keys are URL-encoded (S3 encodes spaces and specials; moto encodes "/" too).
                keys.update(unquote_plus(record["s3"]["object"]["key"]) for record in records)
            except (ValueError, AttributeError, KeyError, TypeError):
                keys["<not an S3 event>"] += 1
    for start in range(0, len(handles), 10):
        entries = [
            {"Id": str(index), "ReceiptHandle": handle, "VisibilityTimeout": 0} for index, handle in enumerate(handles[start : start + 10])
        ]
        sqs.change_message_visibility_batch(QueueUrl=dlq_url, Entries=entries)
    return keys


def _latest_report(s3, bucket: str) -> dict | None:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=REPORTS_PREFIX)
    reports = [item for page in pages for item in page.get("Contents", [])]
    if not reports:
        return None
    latest = max(reports, key=lambda item: (item["LastModified"], item["Key"]))
    return json.loads(s3.get_object(Bucket=bucket, Key=latest["Key"])["Body"].read())


def verify(gateway, names, info: StackInfo) -> list[Invariant]:
    s3, sqs, dynamodb = gateway.client("s3"), gateway.client("sqs"), gateway.client("dynamodb")
    stepfunctions = gateway.client("stepfunctions")

    uploaded = _read_json_objects(s3, info.bucket, _list_keys(s3, info.bucket, ORDERS_PREFIX))
    readable = {order["orderId"]: order for order in uploaded.values() if isinstance(order, dict) and isinstance(order.get("orderId"), str)}
    unreadable_keys = {key for key, order in uploaded.items() if not (isinstance(order, dict) and order.get("orderId"))}
    rows = {row.order_id: row for row in map(OrderRow.from_item, scan_all(dynamodb, info.tables["orders"]))}
    status = {order_id: row.status for order_id, row in rows.items()}
    receipts = _read_json_objects(s3, info.bucket, _list_keys(s3, info.bucket, RECEIPTS_PREFIX))
    receipt_ids = Counter(order_id_from_receipt(key) for key in receipts)
    executions = Counter(
        execution["name"]
        for page in stepfunctions.get_paginator("list_executions").paginate(stateMachineArn=info.state_machine_arn)
        for execution in page["executions"]
    )
    dead_lettered = _dead_lettered_keys(sqs, info.queues["shipping"].dlq_url)

    completed = {order_id for order_id in readable if status.get(order_id) == OrderStatus.COMPLETED}
    failed = {order_id for order_id in readable if status.get(order_id) == OrderStatus.FAILED}
    awaiting = {order_id for order_id in readable if status.get(order_id) == OrderStatus.AWAITING_APPROVAL}
    stock, unreleased = stock_levels(dynamodb, info.tables["inventory"]), unreleased_reservations(dynamodb, info.tables["orders"])
    invariants = [
        _one_place(readable, unreadable_keys, status, rows, receipt_ids, dead_lettered, completed, failed, awaiting),
        _once(readable, executions, receipt_ids, rows),
        _stock(stock, readable, completed | awaiting, unreleased),
        _money(receipts, rows, readable, completed, _latest_report(s3, info.bucket)),
    ]
    return invariants


def order_id_from_receipt(key: str) -> str:
    return key[len(RECEIPTS_PREFIX) : -len(".json")]


def _one_place(readable, unreadable_keys, status, rows, receipt_ids, dead_lettered, completed, failed, awaiting) -> Invariant:
    check = Invariant(1, "every order ends in exactly one place")
    unfinished = {order_id for order_id in readable if status.get(order_id) not in FINAL_STATUSES} - awaiting
    if unfinished:
        check.problems.append(f"orders neither COMPLETED nor FAILED nor AWAITING_APPROVAL: {_examples(unfinished)}")
    awaiting_with_receipt = {order_id for order_id in awaiting if receipt_ids.get(order_id)}
    if awaiting_with_receipt:
        check.problems.append(f"orders AWAITING_APPROVAL that have a receipt: {_examples(awaiting_with_receipt)}")
    without_receipt = {order_id for order_id in completed if not receipt_ids.get(order_id)}
    if without_receipt:
        check.problems.append(f"COMPLETED orders without a receipt: {_examples(without_receipt)}")
    failed_with_receipt = {order_id for order_id in failed if receipt_ids.get(order_id)}
    if failed_with_receipt:
        check.problems.append(f"FAILED orders that also have a receipt: {_examples(failed_with_receipt)}")
    without_reason = {order_id for order_id in failed if not rows[order_id].reason}
    if without_reason:
        check.problems.append(f"FAILED orders without a reason: {_examples(without_reason)}")
    lost_unreadable = {key for key in unreadable_keys if not dead_lettered.get(key)}
    if lost_unreadable:
        check.problems.append(f"unreadable objects whose event is not in the shipping DLQ: {_examples(lost_unreadable)}")
    total = len(readable) + len(unreadable_keys)
    accounted = len(completed) + len(failed) + len(awaiting) + len(unreadable_keys - lost_unreadable)
    if accounted != total:
        check.problems.append(
            f"completed {len(completed)} + failed {len(failed)} + awaiting approval {len(awaiting)} + dead-lettered "
            f"{len(unreadable_keys - lost_unreadable)} = {accounted}, but {total} orders were uploaded"
        )
    return check


def _once(readable, executions, receipt_ids, rows) -> Invariant:
    check = Invariant(2, "no order is processed twice")
    missing = set(readable) - set(executions)
    if missing:
        check.problems.append(f"orders with no execution: {_examples(missing)}")
    repeated = {name for name, count in executions.items() if count > 1}
    if repeated:
        check.problems.append(f"orders with more than one execution: {_examples(repeated)}")
    strangers = set(executions) - set(readable)
    if strangers:
        check.problems.append(f"executions for no uploaded order: {_examples(strangers)}")
    extra_receipts = {order_id for order_id, count in receipt_ids.items() if count > 1 or order_id not in readable}
    if extra_receipts:
        check.problems.append(f"receipts that are repeated or belong to no order: {_examples(extra_receipts)}")
    overcharged = {order_id for order_id, row in rows.items() if (row.charge_count or 0) > 1}
    if overcharged:
        check.problems.append(f"orders charged more than once: {_examples(overcharged)}")
    return check


def _stock(stock, readable, holding, unreleased) -> Invariant:
    """`holding`: the COMPLETED orders and those AWAITING_APPROVAL (their stock reserved while a person decides)."""
    check = Invariant(3, "stock moves only by the units of COMPLETED orders and never goes below zero")
    if unreleased:
        check.problems.append(
            f"FAILED orders still holding their reservation (release failed; status.py --repair returns it): {_examples(unreleased)}"
        )
    sold = Counter()
    for order_id in holding:
        sold.update(units_by_sku(readable[order_id]))
    for sku, product in PRODUCTS.items():
        if sku not in stock:
            check.problems.append(f"{sku}: missing from the Inventory table")
            continue
        if stock[sku] < 0:
            check.problems.append(f"{sku}: stock is {stock[sku]}, below zero")
        if product.initial_stock - stock[sku] != sold[sku]:
            check.problems.append(
                f"{sku}: initial {product.initial_stock} - final {stock[sku]} = "
                f"{product.initial_stock - stock[sku]}, but COMPLETED orders and orders awaiting approval hold {sold[sku]} units"
            )
    return check


def _money(receipts, rows, readable, completed, report) -> Invariant:
    check = Invariant(4, "receipts match payments; the report's demand matches the valid orders and its sales the COMPLETED ones")
    receipt_total = sum(int(receipt.get("totalCents", 0)) for receipt in receipts.values() if isinstance(receipt, dict))
    charged_total = sum(row.charged_cents for row in rows.values() if row.charged_cents is not None)
    if receipt_total != charged_total:
        check.problems.append(f"receipts total {receipt_total} cents, but payments total {charged_total} cents")
    expected = {}
    for order in readable.values():
        if validation_problems(order):
            continue
        for item in order["items"]:
            line = expected.setdefault(item["sku"], dict.fromkeys(REPORT_FIELDS, 0))
            line["units"] += item["quantity"]
            line["demandCents"] += item["quantity"] * item["unitPriceCents"]
            if order["orderId"] in completed:
                line["salesUnits"] += item["quantity"]
                line["salesCents"] += item["quantity"] * item["unitPriceCents"]
        for sku in {item["sku"] for item in order["items"]}:
            expected[sku]["orders"] += 1
            expected[sku]["salesOrders"] += order["orderId"] in completed
    if report is None:
        check.problems.append("no analytics report in reports/")
        return check
    reported = {line["sku"]: {k: line.get(k) for k in REPORT_FIELDS} for line in report["skus"]}
    for sku in sorted(set(expected) | set(reported)):
        if expected.get(sku) != reported.get(sku):
            check.problems.append(
                f"analytics for {sku}: report says {reported.get(sku)}, the valid and COMPLETED orders sum to {expected.get(sku)}"
            )
    sold = report.get("sales", {}).get("salesCents")
    if sold != charged_total:
        check.problems.append(f"the report's sales total {sold} cents, but the COMPLETED orders were charged {charged_total} cents")
        late = completed_after(rows, completed, report.get("generatedAt"))
        if late:
            check.problems.append(
                f"{len(late)} order(s) completed after the report was written at {report['generatedAt']} (approved since?): "
                f"`consumer.py --until-empty` writes it again: {_examples(late)}"
            )
    return check


def completed_after(rows, completed, generated_at: str | None) -> set[str]:
    """COMPLETED orders whose completedAt is later than the report: a report is as of its writing."""
    if not generated_at:
        return set()
    written = datetime.fromisoformat(generated_at)
    return {
        order_id for order_id in completed if rows[order_id].completed_at and datetime.fromisoformat(rows[order_id].completed_at) > written
    }
