"""Each Lambda handler, called as Lambda calls it (`handler(event, None)`), under moto.mock_aws.

The handlers are loaded from lambdas/<short_name>.py with the environment FUNCTION_SPECS gives them, after
the mock is in place (they build their clients at import, as a warm Lambda does).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from blackfriday.domain import (
    PRODUCTS,
    OrderGenerator,
    OutOfStock,
    PaymentDeclined,
    PaymentGatewayTimeout,
    ValidationError,
    make_invalid,
    order_key,
    payment_id,
    payment_outcome,
)
from blackfriday.functions import FUNCTION_SPECS, ORDERS_API_FUNCTION, spec

LAMBDAS = Path(__file__).resolve().parents[2] / "lambdas"


@pytest.fixture
def load_handler(mock_workflow_stack, monkeypatch):
    """load_handler(short_name) -> its handler, imported fresh with exactly the spec's environment."""

    def load(short_name: str):
        for variable in mock_workflow_stack.environment:
            monkeypatch.delenv(variable, raising=False)
        for variable in spec(short_name).environment:
            monkeypatch.setenv(variable, mock_workflow_stack.environment[variable])
        module_spec = importlib.util.spec_from_file_location(f"lambda_{short_name}", LAMBDAS / f"{short_name}.py")
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        return module.handler

    return load


def order_with(outcome: str, items: list[tuple[str, int]]) -> dict:
    """A valid generated order, re-identified so the gateway answers `outcome`, for these items."""
    order = OrderGenerator(seed=3).order(0)
    order["orderId"] = next(f"order-{n}" for n in range(10_000) if payment_outcome(f"order-{n}") == outcome)
    order["items"] = [{"sku": sku, "quantity": count, "unitPriceCents": PRODUCTS[sku].price_cents} for sku, count in items]
    order["totalCents"] = sum(count * PRODUCTS[sku].price_cents for sku, count in items)
    return order


def test_there_is_one_handler_module_per_function_spec():
    assert sorted(path.stem for path in LAMBDAS.glob("*.py")) == sorted(item.short_name for item in (*FUNCTION_SPECS, ORDERS_API_FUNCTION))


def test_the_happy_path_through_every_handler(mock_workflow_stack, load_handler):
    stack = mock_workflow_stack
    # GIVEN an approved order for two units of a lamp
    order = order_with("approved", [("HM-LAMP", 2)])
    order_id = order["orderId"]
    # WHEN each step's handler runs with the event the state machine gives it
    assert load_handler("validate_order")({"order": order}, None) == {"orderId": order_id, "totalCents": 5800}
    assert load_handler("reserve_inventory")({"order": order}, None) == {"reservedItems": {"HM-LAMP": 2}}
    payment = load_handler("process_payment")({"order": order, "attempt": 0}, None)
    notification = load_handler("send_notification")({"order": order, "payment": payment}, None)
    receipt = load_handler("generate_receipt")({"order": order, "payment": payment}, None)
    # THEN the order is charged, confirmed, receipted and COMPLETED, with its stock taken
    assert payment == {"paymentId": payment_id(order_id), "chargedCents": 5800}
    assert set(notification) == {"messageId"}
    assert receipt == {"receiptKey": f"receipts/{order_id}.json", "completed": True}
    assert stack.order_record(order_id)["status"] == {"S": "COMPLETED"}
    assert stack.stock("HM-LAMP") == 1498
    [confirmation] = stack.notifications()
    assert confirmation["MessageAttributes"]["orderId"]["Value"] == order_id


@pytest.mark.parametrize(
    ("short_name", "event", "error"),
    [
        ("validate_order", {"order": make_invalid(order_with("approved", [("HM-LAMP", 1)]), "zero_quantity")}, ValidationError),
        ("process_payment", {"order": order_with("declined", [("HM-LAMP", 1)]), "attempt": 0}, PaymentDeclined),
        ("process_payment", {"order": order_with("flaky", [("HM-LAMP", 1)]), "attempt": 0}, PaymentGatewayTimeout),
    ],
)
def test_business_errors_escape_the_handler_as_domain_exceptions(mock_workflow_stack, load_handler, short_name, event, error):
    # GIVEN a reserved order (so payment reaches the gateway) WHEN the handler runs
    load_handler("reserve_inventory")({"order": event["order"]}, None)
    # THEN the domain exception escapes: its class name is the error Step Functions matches on
    with pytest.raises(error):
        load_handler(short_name)(event, None)


def test_reserve_handler_raises_out_of_stock_and_takes_nothing(mock_workflow_stack, load_handler):
    stack = mock_workflow_stack
    # GIVEN no TVs left
    stack.set_stock("DB-TV-65", 0)
    order = order_with("approved", [("HM-LAMP", 1), ("DB-TV-65", 1)])
    # WHEN the reservation handler runs THEN OutOfStock, and the lamp stock is untouched
    with pytest.raises(OutOfStock):
        load_handler("reserve_inventory")({"order": order}, None)
    assert stack.stock("HM-LAMP") == 1500


def test_release_handler_gives_back_the_reservation(mock_workflow_stack, load_handler):
    stack = mock_workflow_stack
    # GIVEN a reserved order
    order = order_with("approved", [("TY-DRONE", 3)])
    load_handler("reserve_inventory")({"order": order}, None)
    # WHEN the compensation handler runs with the order id
    result = load_handler("release_inventory")({"orderId": order["orderId"]}, None)
    # THEN the stock is whole again
    assert result == {"releasedItems": {"TY-DRONE": 3}}
    assert stack.stock("TY-DRONE") == 400


def test_mark_order_failed_handler_uses_the_key_when_the_order_has_no_id(mock_workflow_stack, load_handler):
    stack = mock_workflow_stack
    # GIVEN a Catch output for an order without an id, uploaded under its key
    event = {
        "order": {"items": []},
        "source": {"bucket": stack.bucket, "key": order_key("order-77")},
        "error": {"Error": "ValidationError", "Cause": json.dumps({"errorType": "ValidationError", "errorMessage": "orderId missing"})},
    }
    # WHEN the handler runs
    result = load_handler("mark_order_failed")(event, None)
    # THEN the order from the key is FAILED with the reason, and OrderErrors says so
    reason = "ValidationError: orderId missing"
    assert result == {"orderId": "order-77", "errorName": "ValidationError", "reason": reason, "markedFailed": True}
    assert stack.order_record("order-77")["reason"] == {"S": reason}
    [envelope] = stack.notifications()
    assert envelope["TopicArn"] == stack.errors_topic_arn
