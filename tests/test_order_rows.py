"""OrderRow and the wire format of blackfriday.tables: an Orders item read into a record and written back is the same item."""

from __future__ import annotations

import pytest

from blackfriday.domain import OrderStatus
from blackfriday.order_rows import FAILURE_REASON_MAX_CHARS, REVIEW_NOTE_MAX_CHARS, OrderRow, row_key
from blackfriday.tables import from_item, marshal, number, numbers, stored_text, text, unmarshal

# Every attribute the pipeline writes on an order, as DynamoDB returns it (no real order has them all at once:
# a refund removes chargedCents).
FULL_ITEM = {
    "orderId": {"S": "0f8fad5b-d9cb-469f-a165-70867728950e"},
    "status": {"S": "FAILED"},
    "customerId": {"S": "cust-000042"},
    "totalCents": {"N": "114500"},
    "createdAt": {"S": "2026-11-27T00:00:01.000Z"},
    "receivedAt": {"S": "2026-11-27T00:00:02.000Z"},
    "reservedItems": {"M": {"HP-TABLET": {"N": "3"}, "HP-SMARTWATCH": {"N": "2"}}},
    "reservedAt": {"S": "2026-11-27T00:00:03.000Z"},
    "releasedAt": {"S": "2026-11-27T00:00:09.000Z"},
    "paymentId": {"S": "pay-1"},
    "chargedCents": {"N": "114500"},
    "chargeCount": {"N": "1"},
    "paidAt": {"S": "2026-11-27T00:00:05.000Z"},
    "receiptKey": {"S": "receipts/0f8fad5b-d9cb-469f-a165-70867728950e.json"},
    "completedAt": {"S": "2026-11-27T00:00:06.000Z"},
    "reason": {"S": "States.Timeout: the receipt took too long"},
    "errorName": {"S": "States.Timeout"},
    "failedAt": {"S": "2026-11-27T00:00:07.000Z"},
    "releaseError": {"S": "InventoryBusy: stock release cancelled"},
    "failureNotifiedAt": {"S": "2026-11-27T00:00:08.000Z"},
    "refundedCents": {"N": "114500"},
    "refundedAt": {"S": "2026-11-27T00:00:07.500Z"},
    "approvalToken": {"S": "token-1"},
    "approvalRequestedAt": {"S": "2026-11-27T00:00:04.000Z"},
    "approvalExpiresAt": {"S": "2026-11-28T00:00:04.000Z"},
    "decision": {"S": "approve"},
    "decidedBy": {"S": "alice"},
    "decidedAt": {"S": "2026-11-27T00:00:04.500Z"},
    "decisionReason": {"S": ""},
}


def test_every_attribute_of_an_order_round_trips_exactly():
    row = OrderRow.from_item(FULL_ITEM)
    # every field of the record is an attribute of the item, and the item has no attribute the record drops
    assert all(value is not None for value in row)
    assert row.to_item() == FULL_ITEM


def test_a_record_has_typed_values():
    row = OrderRow.from_item(FULL_ITEM)
    assert (row.order_id, row.status, row.total_cents, row.charge_count) == ("0f8fad5b-d9cb-469f-a165-70867728950e", "FAILED", 114_500, 1)
    assert row.reserved_items == {"HP-TABLET": 3, "HP-SMARTWATCH": 2}
    assert (row.approval_token, row.decided_by, row.decision_reason) == ("token-1", "alice", "")


def test_missing_attributes_are_none_and_stay_missing():
    # a projection (release_inventory reads reservedItems, releasedAt and status), then a row with its key only
    projected = {"status": {"S": "RESERVED"}, "reservedItems": {"M": {"KT-COFFEE": {"N": "1"}}}}
    row = OrderRow.from_item(projected)
    assert (row.order_id, row.status, row.reserved_items, row.released_at) == (None, "RESERVED", {"KT-COFFEE": 1}, None)
    assert row.to_item() == projected
    assert OrderRow.from_item({}) == OrderRow()
    assert OrderRow().to_item() == {}
    assert OrderRow.from_item(row_key("order-1")).to_item() == row_key("order-1")


def test_an_empty_text_is_kept_apart_from_a_missing_one():
    row = OrderRow.from_item({"orderId": {"S": "order-1"}, "createdAt": {"S": ""}})
    assert (row.created_at, row.received_at) == ("", None)
    assert row.to_item() == {"orderId": {"S": "order-1"}, "createdAt": {"S": ""}}


def test_an_attribute_the_record_does_not_name_is_left_out():
    assert OrderRow.from_item({"orderId": {"S": "order-1"}, "someoneElses": {"S": "x"}}) == OrderRow(order_id="order-1")


def test_numbers_are_whole_and_kept_as_decimal_text_on_the_wire():
    assert marshal(0) == {"N": "0"}
    assert marshal(-2900) == {"N": "-2900"}
    assert marshal(10**20) == {"N": "100000000000000000000"}
    assert unmarshal({"N": "100000000000000000000"}) == 10**20
    assert OrderRow(total_cents=5000, charged_cents=0).to_item() == {"totalCents": {"N": "5000"}, "chargedCents": {"N": "0"}}
    assert OrderRow.from_item({"chargedCents": {"N": "0"}}).charged_cents == 0


def test_values_the_tables_do_not_hold_are_refused():
    for value in (True, 1.5, None, ["a"]):
        with pytest.raises(TypeError):
            marshal(value)
    with pytest.raises(TypeError):
        unmarshal({"BOOL": True})


def test_the_typed_builders_match_marshal():
    assert (text("2026-11-27T00:00:00.000Z"), number(1), numbers({"TV": 2})) == (
        {"S": "2026-11-27T00:00:00.000Z"},
        {"N": "1"},
        {"M": {"TV": {"N": "2"}}},
    )
    assert (marshal("x"), marshal(7), marshal({"TV": 2})) == (text("x"), number(7), numbers({"TV": 2}))
    assert text(OrderStatus.PAID) == marshal(OrderStatus.PAID) == {"S": "PAID"}  # a status is a StrEnum: stored as its text
    assert from_item({"sku": {"S": "TV"}, "stock": {"N": "7"}}) == {"sku": "TV", "stock": 7}


def test_stored_text_shows_each_attribute_as_the_item_carries_it():
    assert stored_text({"status": {"S": "PAID"}, "totalCents": {"N": "5000"}, "reservedItems": {"M": {"TV": {"N": "1"}}}}) == {
        "status": "PAID",
        "totalCents": "5000",
        "reservedItems": {"TV": {"N": "1"}},
    }


def test_a_reviewers_note_fits_whole_in_the_reason_of_the_order_it_rejects():
    from blackfriday.api.decisions import MAX_REVIEWER_CHARS
    from blackfriday.approvals import REJECTED_ERROR
    from blackfriday.fulfillment import describe_failure

    cause = f"{'n' * REVIEW_NOTE_MAX_CHARS} (by {'r' * MAX_REVIEWER_CHARS})"  # what approvals.decide sends SendTaskFailure
    _, reason = describe_failure({"Error": REJECTED_ERROR, "Cause": cause})
    assert reason == f"{REJECTED_ERROR}: {cause}"
    assert len(reason) <= FAILURE_REASON_MAX_CHARS
