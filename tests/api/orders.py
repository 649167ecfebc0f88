"""Orders the API tests send: a valid one, and every bad one with the exact status and problems it must get."""

from __future__ import annotations

import json

from blackfriday.domain import CATALOGUE


def a_valid_order(**changes) -> dict:
    order = {
        "customer": {"name": "Ana Smith", "email": "ana@example.com"},
        "items": [{"sku": "DB-TV-65", "quantity": 1, "unitPriceCents": 49900}, {"sku": "HM-LAMP", "quantity": 2, "unitPriceCents": 2900}],
        "totalCents": 49900 + 2 * 2900,
        "paymentMethod": "card",
    }
    return {**order, **changes}


OVERSIZED = json.dumps(a_valid_order(customer={"email": "ana@example.com", "name": "x" * 70_000})).encode()
TOO_MANY = [{"sku": product.sku, "quantity": 1, "unitPriceCents": product.price_cents} for product in CATALOGUE[:11]]

BAD_ORDERS = [
    ("empty body", b"", 400, ["request body is empty: send the order as a JSON object"]),
    (
        "not JSON",
        b"{not json",
        400,
        ["request body is not valid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"],
    ),
    (
        "not UTF-8",
        b'{"items": "\xff"}',
        400,
        ["request body is not valid JSON: 'utf-8' codec can't decode byte 0xff in position 11: invalid start byte"],
    ),
    ("an array", b"[]", 400, ["request body must be a JSON object, got an array"]),
    ("null field", a_valid_order(paymentMethod=None), 400, ["paymentMethod must be a string, got null"]),
    ("absent field", {k: v for k, v in a_valid_order().items() if k != "items"}, 400, ["missing field 'items'"]),
    ("unknown field", a_valid_order(orderId="mine"), 400, ["unknown field 'orderId'"]),
    ("customer not an object", a_valid_order(customer="ana"), 400, ["customer must be a JSON object, got a string"]),
    ("customer without email", a_valid_order(customer={"name": "Ana"}), 400, ["customer: missing field 'email'"]),
    ("item not an object", a_valid_order(items=["DB-TV-65"]), 400, ["item 1 must be a JSON object, got a string"]),
    (
        "quantity as text",
        a_valid_order(items=[{"sku": "HM-LAMP", "quantity": "2", "unitPriceCents": 2900}]),
        400,
        ["item 1: quantity must be an integer, got a string"],
    ),
    (
        "quantity as boolean",
        a_valid_order(items=[{"sku": "HM-LAMP", "quantity": True, "unitPriceCents": 2900}]),
        400,
        ["item 1: quantity must be an integer, got a boolean"],
    ),
    ("total as a fraction", a_valid_order(totalCents=557.0), 400, ["totalCents must be an integer, got a number"]),
    (
        "price missing",
        a_valid_order(items=[{"sku": "HM-LAMP", "quantity": 1}], totalCents=2900),
        400,
        ["item 1: missing field 'unitPriceCents'"],
    ),
    (
        "unknown SKU",
        a_valid_order(items=[{"sku": "NO-SUCH-SKU", "quantity": 1, "unitPriceCents": 1000}], totalCents=1000),
        422,
        ["item 1: unknown SKU 'NO-SUCH-SKU'"],
    ),
    (
        "quantity 0",
        a_valid_order(items=[{"sku": "HM-LAMP", "quantity": 0, "unitPriceCents": 2900}], totalCents=0),
        422,
        ["item 1: quantity must be a positive integer, got 0"],
    ),
    (
        "negative quantity",
        a_valid_order(items=[{"sku": "HM-LAMP", "quantity": -2, "unitPriceCents": 2900}], totalCents=-5800),
        422,
        ["item 1: quantity must be a positive integer, got -2"],
    ),
    (
        "over the per-order limit",
        a_valid_order(items=[{"sku": "DB-TV-65", "quantity": 2, "unitPriceCents": 49900}], totalCents=99800),
        422,
        ["item 1: at most 1 of DB-TV-65 per order, got 2"],
    ),
    ("total mismatch", a_valid_order(totalCents=100), 422, ["totalCents 100 does not equal the items' sum 55700"]),
    (
        "price mismatch",
        a_valid_order(items=[{"sku": "HM-LAMP", "quantity": 1, "unitPriceCents": 100}], totalCents=100),
        422,
        ["item 1: price 100 does not match catalogue price 2900"],
    ),
    (
        "too many items",
        a_valid_order(items=TOO_MANY, totalCents=sum(item["unitPriceCents"] for item in TOO_MANY)),
        422,
        ["too many items: 11 (at most 10 per order)"],
    ),
    (
        "SKU twice",
        a_valid_order(items=[{"sku": "HM-LAMP", "quantity": 1, "unitPriceCents": 2900}] * 2, totalCents=5800),
        422,
        ["item 2: HM-LAMP is already item 1; put its whole quantity on one line"],
    ),
    ("empty items", a_valid_order(items=[], totalCents=0), 422, ["items must be a non-empty list"]),
    ("bad email", a_valid_order(customer={"email": "nobody"}), 422, ["customer: email is not an email address: 'nobody'"]),
    (
        "payment method",
        a_valid_order(paymentMethod="cash"),
        422,
        ["paymentMethod must be one of card, paypal, apple_pay, google_pay, got 'cash'"],
    ),
    ("currency", a_valid_order(currency="EUR"), 422, ["currency must be USD"]),
    ("over 64 KB", OVERSIZED, 413, [f"request body is {len(OVERSIZED)} bytes; the limit is 65536"]),
]
