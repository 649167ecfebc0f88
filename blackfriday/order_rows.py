"""The Orders table's rows as every module reads and writes them: the key, the status attribute, the timestamps."""

from __future__ import annotations

from datetime import datetime, timezone

STATUS_NAME = {"#status": "status"}  # `status` is a DynamoDB reserved word: expressions say #status


def row_key(order_id: str) -> dict:
    return {"orderId": {"S": order_id}}


def timestamp(moment: datetime | None = None) -> str:
    """ISO 8601 in UTC to the millisecond with a Z (now when no moment is given), as every time on an order is written."""
    return (moment or datetime.now(timezone.utc)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_timestamp(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
