"""What a customer sees of an order's journey (GET /orders/{orderId}): its status, the steps done, the failure
reason, the receipt; a pure view of blackfriday.journey.journey_of's record."""

from __future__ import annotations

from blackfriday.domain import OrderStatus

# The saga's steps on the way to a receipt (statemachine/order_processing.asl.json), for the page's progress list.
HAPPY_PATH = ("ValidateOrder", "ReserveInventory", "ProcessPayment", "GenerateReceipt", "SendNotification")


def journey_view(journey: dict, order_url: str) -> dict:
    """What a customer sees of an order's journey: its status, the steps done, the failure reason, the receipt."""
    row, execution = journey["row"] or {}, journey["execution"] or {}
    entered = execution.get("steps", [])
    status = row.get("status") or ("STARTED" if execution else "ACCEPTED")
    if execution.get("status") in ("FAILED", "TIMED_OUT", "ABORTED") and status != "FAILED":
        status = "FAILED"
    # The order is COMPLETED once its receipt exists; the confirmation is sent after that, so the journey
    # is over only when the execution has ended too.
    running = execution.get("status") == "RUNNING"
    reached = [step for step in HAPPY_PATH if step in entered]
    steps = []
    for step in HAPPY_PATH:
        if step not in reached:
            state = "pending"
        elif step != reached[-1] or (status == "COMPLETED" and not running):
            state = "done"
        else:
            state = "failed" if status == "FAILED" else "current"
        steps.append({"name": step, "state": state})
    order = journey["object"]["order"] if isinstance(journey["object"]["order"], dict) else {}
    return {
        "orderId": journey["order_id"],
        "status": status,
        "finished": status in (OrderStatus.COMPLETED, OrderStatus.FAILED) and not running,
        "steps": steps,
        "lastStep": execution.get("last_step"),
        "failure": {"error": row.get("errorName") or execution.get("error"), "reason": journey["failure_reason"] or execution.get("cause")}
        if status == "FAILED"
        else None,
        "items": order.get("items", []),
        "totalCents": order.get("totalCents"),
        "receipt": journey["receipt"],
        "receiptUrl": f"{order_url}/receipt",
    }
