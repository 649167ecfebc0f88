"""The Orders table's rows as every module reads and writes them: the key, the record, the status attribute, the
timestamps and the limits on the text an order keeps."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import NamedTuple

from blackfriday.tables import marshal, unmarshal

STATUS_NAME = {"#status": "status"}  # `status` is a DynamoDB reserved word: expressions say #status
FAILURE_REASON_MAX_CHARS = 500  # an order's reason (and releaseError): a readable reason, not a stack trace
# A reviewer's note (decisionReason) becomes a rejected order's reason as "Rejected: <note> (by <reviewer>)":
# this limit keeps the whole note inside FAILURE_REASON_MAX_CHARS (the API takes reviewer names up to 64 characters).
REVIEW_NOTE_MAX_CHARS = 256


def row_key(order_id: str) -> dict:
    return {"orderId": {"S": order_id}}


class OrderRow(NamedTuple):
    """One Orders item as Python values; None is an attribute the item does not have (or that was not projected).

    Statuses and timestamps stay the text they are stored as (see `timestamp`): reading a row parses nothing it does not use.
    A NamedTuple rather than a frozen dataclass: as immutable, and built in a quarter of the time (the Lambdas read rows).
    """

    order_id: str | None = None
    status: str | None = None  # a domain.OrderStatus, or whatever text a row holds
    customer_id: str | None = None
    total_cents: int | None = None
    created_at: str | None = None  # the order's own createdAt, as uploaded ("" when it had none)
    received_at: str | None = None
    reserved_items: dict[str, int] | None = None  # sku -> units
    reserved_at: str | None = None
    released_at: str | None = None
    payment_id: str | None = None
    charged_cents: int | None = None  # removed by a refund
    charge_count: int | None = None
    paid_at: str | None = None
    receipt_key: str | None = None
    completed_at: str | None = None
    reason: str | None = None
    error_name: str | None = None
    failed_at: str | None = None
    release_error: str | None = None
    failure_notified_at: str | None = None
    refunded_cents: int | None = None
    refunded_at: str | None = None
    approval_token: str | None = None
    approval_requested_at: str | None = None
    approval_expires_at: str | None = None
    decision: str | None = None  # approve | reject
    decided_by: str | None = None
    decided_at: str | None = None
    decision_reason: str | None = None

    @classmethod
    def from_item(cls, item: dict) -> OrderRow:
        """The record of an item (or of its projection); attributes the record does not name are left out."""
        return cls(**{_FIELDS[name]: unmarshal(attribute) for name, attribute in item.items() if name in _FIELDS})

    def to_item(self) -> dict:
        return {name: marshal(value) for name, value in zip(_FIELDS, self, strict=True) if value is not None}


def _attribute_name(field: str) -> str:
    """The stored attribute's name: the field's name in camelCase (order_id -> orderId)."""
    first, *rest = field.split("_")
    return first + "".join(word.capitalize() for word in rest)


_FIELDS = {_attribute_name(field): field for field in OrderRow._fields}  # attribute name -> field name, in the record's order


def timestamp(moment: datetime | None = None) -> str:
    """ISO 8601 in UTC to the millisecond with a Z (now when no moment is given), as every time on an order is written."""
    return (moment or datetime.now(timezone.utc)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_timestamp(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
