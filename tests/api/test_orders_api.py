"""The order API deployed on the emulator, called over real HTTP through execute-api, orders drained by consumer.py."""

from __future__ import annotations

import json
import uuid

import pytest
import requests

from blackfriday.api.intake import IDEMPOTENCY_NAMESPACE
from blackfriday.domain import PRODUCTS, order_key, payment_outcome
from tests.api.orders import BAD_ORDERS, a_valid_order

pytestmark = pytest.mark.emulator

TIMEOUT = 30


def order_objects(api) -> list[str]:
    s3 = api.stack.gateway.client("s3")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=api.stack.info.bucket, Prefix="orders/")
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def set_stock(api, sku: str, stock: int) -> None:
    api.stack.gateway.client("dynamodb").put_item(
        TableName=api.stack.info.tables["inventory"], Item={"sku": {"S": sku}, "stock": {"N": str(stock)}}
    )


def test_the_storefront_and_the_catalogue_answer(orders_api_stack):
    page = requests.get(orders_api_stack.url, timeout=TIMEOUT)
    assert (page.status_code, page.headers["Content-Type"]) == (200, "text/html; charset=utf-8")
    assert "<title>Black Friday store</title>" in page.text
    catalogue = requests.get(f"{orders_api_stack.url}/catalogue", timeout=TIMEOUT)
    assert catalogue.status_code == 200
    stock = {product["sku"]: product["stock"] for product in catalogue.json()["products"]}
    assert stock["GC-50"] == PRODUCTS["GC-50"].initial_stock


@pytest.mark.parametrize("body, status, problems", [case[1:] for case in BAD_ORDERS], ids=[case[0] for case in BAD_ORDERS])
def test_every_bad_order_gets_its_exact_4xx_over_http_and_nothing_is_written(orders_api_stack, body, status, problems):
    before = order_objects(orders_api_stack)
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    response = requests.post(f"{orders_api_stack.url}/orders", data=data, headers={"Content-Type": "application/json"}, timeout=TIMEOUT)
    assert (response.status_code, response.json()) == (status, {"message": "; ".join(problems), "problems": problems})
    assert order_objects(orders_api_stack) == before


def test_a_wrong_method_is_a_405_and_an_unknown_route_a_403(orders_api_stack):
    response = requests.delete(f"{orders_api_stack.url}/orders", timeout=TIMEOUT)
    assert (response.status_code, response.json()["message"], response.headers["Allow"]) == (
        405,
        "method DELETE is not allowed on /orders: use POST",
        "POST",
    )
    response = requests.get(f"{orders_api_stack.url}/admin", timeout=TIMEOUT)
    assert (response.status_code, response.json()) == (403, {"message": "Missing Authentication Token"})


def test_a_retried_post_with_the_same_idempotency_key_creates_one_order(orders_api_stack):
    before = order_objects(orders_api_stack)
    headers = {"Idempotency-Key": f"retry-{uuid.uuid4()}"}
    order = a_valid_order(items=[{"sku": "GC-50", "quantity": 1, "unitPriceCents": 5000}], totalCents=5000)
    first = requests.post(f"{orders_api_stack.url}/orders", json=order, headers=headers, timeout=TIMEOUT)
    second = requests.post(f"{orders_api_stack.url}/orders", json=order, headers=headers, timeout=TIMEOUT)
    assert (first.status_code, second.status_code) == (202, 202)
    assert first.json() == second.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert order_objects(orders_api_stack) == sorted([*before, order_key(first.json()["orderId"])])
    assert first.json()["statusUrl"] == f"{orders_api_stack.url}/orders/{first.json()['orderId']}"


def test_an_order_completes_with_a_receipt_and_a_doorbuster_beyond_its_stock_fails_out_of_stock(orders_api_stack):
    url = orders_api_stack.url
    # GIVEN the laptop doorbuster sold out, an order the stock can serve and one for the laptop
    set_stock(orders_api_stack, "DB-LAPTOP", 0)
    served = a_valid_order(items=[{"sku": "HM-LAMP", "quantity": 2, "unitPriceCents": 2900}], totalCents=5800)
    laptop = a_valid_order(items=[{"sku": "DB-LAPTOP", "quantity": 1, "unitPriceCents": 39900}], totalCents=39900)
    served_id = post_approved(url, served)
    laptop_response = requests.post(f"{url}/orders", json=laptop, timeout=TIMEOUT)
    assert laptop_response.status_code == 202
    laptop_id = laptop_response.json()["orderId"]
    # WHEN the consumer drains the queues
    orders_api_stack.drain()
    # THEN the first order's journey ended COMPLETED with its receipt, every step done
    journey = requests.get(f"{url}/orders/{served_id}", timeout=TIMEOUT).json()
    assert journey["status"] == "COMPLETED"
    assert [step["state"] for step in journey["steps"]] == ["done"] * 5
    receipt = requests.get(f"{url}/orders/{served_id}/receipt", timeout=TIMEOUT)
    assert receipt.status_code == 200
    assert (receipt.json()["orderId"], receipt.json()["totalCents"]) == (served_id, 5800)
    assert journey["receipt"] == receipt.json()
    # AND the laptop order FAILED with OutOfStock, and has no receipt
    failed = requests.get(f"{url}/orders/{laptop_id}", timeout=TIMEOUT).json()
    assert (failed["status"], failed["failure"]["error"]) == ("FAILED", "OutOfStock")
    assert [step["state"] for step in failed["steps"]] == ["done", "failed", "pending", "pending", "pending"]
    assert requests.get(f"{url}/orders/{laptop_id}/receipt", timeout=TIMEOUT).status_code == 404


def post_approved(url: str, order: dict) -> str:
    """Post with an Idempotency-Key naming an orderId the payment simulator approves (96 % are), so the order completes."""
    key = next(
        key
        for key in (f"approved-{uuid.uuid4()}" for _ in range(50))
        if payment_outcome(str(uuid.uuid5(IDEMPOTENCY_NAMESPACE, key))) == "approved"
    )
    response = requests.post(f"{url}/orders", json=order, headers={"Idempotency-Key": key}, timeout=TIMEOUT)
    assert response.status_code == 202, response.text
    return response.json()["orderId"]


def test_a_big_order_waits_is_listed_for_review_and_is_decided_once_over_http(orders_api_stack):
    url = orders_api_stack.url
    # GIVEN an order over the $1,000 threshold, posted and drained (the consumer ends with it waiting)
    big = a_valid_order(
        items=[
            {"sku": "HP-TABLET", "quantity": 3, "unitPriceCents": 24900},
            {"sku": "HP-SMARTWATCH", "quantity": 2, "unitPriceCents": 19900},
        ],
        totalCents=114_500,
    )
    order_id = post_approved(url, big)
    summary = orders_api_stack.drain()
    assert summary["executions"]["waiting"] >= 1  # this test's order, and any another API test left waiting
    # THEN its journey says AWAITING_APPROVAL, the review page is served and the order is listed for review
    assert requests.get(f"{url}/orders/{order_id}", timeout=TIMEOUT).json()["status"] == "AWAITING_APPROVAL"
    page = requests.get(f"{url}/review", timeout=TIMEOUT)
    assert (page.status_code, page.headers["Content-Type"]) == (200, "text/html; charset=utf-8")
    assert "<h1>Orders waiting for approval</h1>" in page.text
    [listed] = [item for item in requests.get(f"{url}/approvals", timeout=TIMEOUT).json()["waiting"] if item["orderId"] == order_id]
    assert (listed["totalCents"], listed["items"]) == (114_500, {"HP-TABLET": 3, "HP-SMARTWATCH": 2})
    # WHEN a rejection comes without a reason THEN 400, and nothing is decided
    no_reason = requests.post(f"{url}/orders/{order_id}/approval", json={"decision": "reject"}, timeout=TIMEOUT)
    assert (no_reason.status_code, no_reason.json()["problems"]) == (400, ["reason is required to reject: the customer is told why"])
    # WHEN a reviewer approves it THEN 200 with the decision, and the order completes
    approved = requests.post(f"{url}/orders/{order_id}/approval", json={"decision": "approve", "reviewer": "dana"}, timeout=TIMEOUT)
    assert approved.status_code == 200, approved.text
    assert {key: approved.json()[key] for key in ("orderId", "decision", "reviewer")} == {
        "orderId": order_id,
        "decision": "approve",
        "reviewer": "dana",
    }
    # AND a second decision is a 409 naming who decided
    again = requests.post(f"{url}/orders/{order_id}/approval", json={"decision": "reject", "reason": "late"}, timeout=TIMEOUT)
    assert again.status_code == 409
    assert again.json()["message"].startswith(f"order {order_id} was already approved by dana at {approved.json()['decidedAt']}")
    # AND an order the stack never saw is a 409 too, saying so
    unknown_id = str(uuid.uuid4())
    unknown = requests.post(f"{url}/orders/{unknown_id}/approval", json={"decision": "approve"}, timeout=TIMEOUT)
    assert (unknown.status_code, unknown.json()["message"]) == (409, f"no order {unknown_id} in this stack")
