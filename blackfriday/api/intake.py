"""POST /orders' intake: the order request read and checked (400 for a body that is not the order's JSON shape, 413 over
64 KB, 422 for an order the shop cannot take), the order built exactly as the producer uploads it, and the
Idempotency-Key that names it. Plain functions raising `Rejected`: blackfriday.api.routes' place_order is their route."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import datetime

from blackfriday.api.refusals import Rejected, check_body_size, shape_problems
from blackfriday.domain import CURRENCY, PAYMENT_METHODS, PRODUCTS, validation_problems
from blackfriday.order_rows import timestamp

MAX_ITEMS = 10  # lines per order
MAX_NAME_CHARS = 100
MAX_CUSTOMER_ID_CHARS = 64
MAX_EMAIL_CHARS = 254
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, as the IETF Idempotency-Key draft's examples
# orderId = uuid5(namespace, Idempotency-Key): a retried POST names the same object, so S3's conditional write
# (If-None-Match: *) refuses the second copy and the order enters the pipeline once.
IDEMPOTENCY_NAMESPACE = uuid.UUID("6f1c1a57-2b0e-4f5e-9d43-bf1a7c0de12a")
REQUEST_DIGEST_METADATA = "request-sha256"  # x-amz-meta-request-sha256: tells a retry from a reused key
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

ORDER_FIELDS = {"customer": dict, "items": list, "totalCents": int, "paymentMethod": str, "currency": str}
ORDER_REQUIRED = ("customer", "items", "totalCents", "paymentMethod")
CUSTOMER_FIELDS = {"email": str, "name": str, "customerId": str}
CUSTOMER_REQUIRED = ("email",)
ITEM_FIELDS = {"sku": str, "quantity": int, "unitPriceCents": int}
ITEM_REQUIRED = ("sku", "quantity", "unitPriceCents")


def idempotency_key(headers: dict[str, str]) -> str | None:
    """The request's Idempotency-Key; `headers` looks names up case-insensitively (Powertools' event headers)."""
    key = headers.get("idempotency-key")
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.match(key):
        raise Rejected(400, "Idempotency-Key must be 1 to 255 printable ASCII characters without spaces")
    return key


def order_id_for_key(key: str) -> str:
    """The orderId a POST with this Idempotency-Key creates: a client can know it before the answer."""
    return str(uuid.uuid5(IDEMPOTENCY_NAMESPACE, key))


def request_body_of(order: dict) -> dict:
    """The POST /orders body for a domain order (the producer's shape): the API assigns orderId and createdAt."""
    return {name: value for name, value in order.items() if name in ORDER_FIELDS}


def parse_order_request(body: bytes) -> dict:
    """The request's JSON with every field of the right type (400 naming each one that is not), else Rejected."""
    check_body_size(body)
    if not body.strip():
        raise Rejected(400, "request body is empty: send the order as a JSON object")
    try:
        order_request = json.loads(body)
    except ValueError as error:
        raise Rejected(400, f"request body is not valid JSON: {error}") from None
    problems = shape_problems(order_request, ORDER_FIELDS, ORDER_REQUIRED)
    if not problems:
        problems += shape_problems(order_request["customer"], CUSTOMER_FIELDS, CUSTOMER_REQUIRED, "customer")
        for position, item in enumerate(order_request["items"], start=1):
            problems += shape_problems(item, ITEM_FIELDS, ITEM_REQUIRED, f"item {position}")
    if problems:
        raise Rejected(400, problems)
    return order_request


def customer_id_of(email: str) -> str:
    """A storefront customer is known by their email: the same address is the same customer."""
    return "web-" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:12]


def build_order(order_request: dict, order_id: str, now: datetime) -> dict:
    """The order object exactly as the producer uploads it (blackfriday.domain's shape)."""
    customer = order_request["customer"]
    return {
        "orderId": order_id,
        "customer": {
            "customerId": customer.get("customerId") or customer_id_of(customer["email"]),
            "email": customer["email"],
            **({"name": customer["name"]} if customer.get("name") else {}),
        },
        "items": [
            {"sku": item["sku"], "quantity": item["quantity"], "unitPriceCents": item["unitPriceCents"]} for item in order_request["items"]
        ],
        "currency": order_request.get("currency", CURRENCY),
        "totalCents": order_request["totalCents"],
        "paymentMethod": order_request["paymentMethod"],
        "createdAt": timestamp(now),
    }


def order_problems(order_request: dict, order: dict) -> list[str]:
    """What the shop cannot take (422): the API's limits and the customer's address, else the domain's validation."""
    customer, items = order_request["customer"], order_request["items"]
    problems = []
    if not EMAIL.match(customer["email"]) or len(customer["email"]) > MAX_EMAIL_CHARS:
        problems.append(f"customer: email is not an email address: {customer['email'][:80]!r}")
    if len(customer.get("name", "")) > MAX_NAME_CHARS:
        problems.append(f"customer: name is longer than {MAX_NAME_CHARS} characters")
    if len(customer.get("customerId", "")) > MAX_CUSTOMER_ID_CHARS:
        problems.append(f"customer: customerId is longer than {MAX_CUSTOMER_ID_CHARS} characters")
    if order_request["paymentMethod"] not in PAYMENT_METHODS:
        problems.append(f"paymentMethod must be one of {', '.join(PAYMENT_METHODS)}, got {order_request['paymentMethod'][:40]!r}")
    if len(items) > MAX_ITEMS:
        problems.append(f"too many items: {len(items)} (at most {MAX_ITEMS} per order)")
    first_line: dict[str, int] = {}
    for position, item in enumerate(items, start=1):
        product = PRODUCTS.get(item["sku"])
        if item["sku"] in first_line:
            problems.append(f"item {position}: {item['sku']} is already item {first_line[item['sku']]}; put its whole quantity on one line")
        first_line.setdefault(item["sku"], position)
        if product is not None and item["quantity"] > product.max_per_order:
            problems.append(f"item {position}: at most {product.max_per_order} of {product.sku} per order, got {item['quantity']}")
    # The domain's own checks (known SKUs, positive quantities, catalogue prices, the total) once the API's pass:
    # its customer check is a looser form of the email check above, which would name one problem twice.
    return problems or validation_problems(order)


def request_digest(order_request: dict) -> str:
    """The same order sent again (whatever its key order or spacing) has the same digest."""
    return hashlib.sha256(json.dumps(order_request, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
