"""The order API's routes as plain functions over boto3 clients; lambdas/orders_api.py is their thin handler.

    GET  /                          the storefront page (HTML)
    GET  /catalogue                 products with price and live stock
    POST /orders                    validate, write orders/<shard>/<orderId>.json (the producer's path), 202
    GET  /orders/{orderId}          the order's journey (the function `status.py --order` uses)
    GET  /orders/{orderId}/receipt  the receipt, 404 until it exists
    GET  /review                    the reviewer's page: the orders waiting for approval, approve / reject buttons
    GET  /approvals                 the orders waiting for approval (blackfriday.approvals.waiting_orders)
    POST /orders/{orderId}/approval {"decision": "approve"|"reject", "reason": ..., "reviewer": ...}: decided exactly
                                    once; 409 naming why when the order does not wait (unknown, already decided,
                                    never needed approval, expired)

Bad input never reaches the bucket and never gets a 5xx: 400 for a body that is not the order's JSON shape,
413 over 64 KB, 422 for an order the shop cannot take (unknown SKU, quantities, prices, total, a reused
Idempotency-Key), 405 for a method a route does not have, 403 `Missing Authentication Token` for a path
that is no route (as API Gateway answers). Every error body is {"message": ..., "problems": [...]}.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

from botocore.exceptions import ClientError

from blackfriday import approvals
from blackfriday.api import paths
from blackfriday.api.review import REVIEW_PAGE
from blackfriday.api.storefront import PAGE
from blackfriday.domain import CATALOGUE, CURRENCY, PAYMENT_METHODS, PRODUCTS, OrderStatus, order_key, receipt_key, validation_problems
from blackfriday.errors import error_code
from blackfriday.journey import journey_of
from blackfriday.order_rows import timestamp
from blackfriday.tables import stock_levels

MAX_BODY_BYTES = 64 * 1024
MAX_ITEMS = 10  # lines per order
MAX_NAME_CHARS = 100
MAX_CUSTOMER_ID_CHARS = 64
MAX_EMAIL_CHARS = 254
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, as the IETF Idempotency-Key draft's examples
# orderId = uuid5(namespace, Idempotency-Key): a retried POST names the same object, so S3's conditional write
# (If-None-Match: *) refuses the second copy and the order enters the pipeline once.
IDEMPOTENCY_NAMESPACE = uuid.UUID("6f1c1a57-2b0e-4f5e-9d43-bf1a7c0de12a")
REQUEST_DIGEST_METADATA = "request-sha256"  # x-amz-meta-request-sha256: tells a retry from a reused key
ORDER_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DOORBUSTER_SKU_PREFIX = "DB-"  # the catalogue names its scarce Black Friday deals DB-*
# The saga's steps on the way to a receipt (statemachine/order_processing.asl.json), for the page's progress list.
HAPPY_PATH = ("ValidateOrder", "ReserveInventory", "ProcessPayment", "GenerateReceipt", "SendNotification")
JSON_TYPE = "application/json"
HTML_TYPE = "text/html; charset=utf-8"

ORDER_FIELDS = {"customer": dict, "items": list, "totalCents": int, "paymentMethod": str, "currency": str}
ORDER_REQUIRED = ("customer", "items", "totalCents", "paymentMethod")
CUSTOMER_FIELDS = {"email": str, "name": str, "customerId": str}
CUSTOMER_REQUIRED = ("email",)
ITEM_FIELDS = {"sku": str, "quantity": int, "unitPriceCents": int}
ITEM_REQUIRED = ("sku", "quantity", "unitPriceCents")
TYPE_NAMES = {dict: "a JSON object", list: "an array", str: "a string", int: "an integer"}


class Rejected(Exception):
    """A request the API refuses: its status and the problems to name in the answer."""

    def __init__(self, status: int, problems: list[str] | str, headers: dict[str, str] | None = None):
        self.status = status
        self.problems = [problems] if isinstance(problems, str) else problems
        self.headers = headers or {}
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class Response:
    status: int
    body: str
    content_type: str = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)

    def to_proxy(self) -> dict:
        """The Lambda proxy integration's answer."""
        return {
            "statusCode": self.status,
            "headers": {"Content-Type": self.content_type, **self.headers},
            "body": self.body,
            "isBase64Encoded": False,
        }


def json_response(status: int, document: object, headers: dict[str, str] | None = None) -> Response:
    return Response(status, json.dumps(document), JSON_TYPE, {"Cache-Control": "no-store", **(headers or {})})


def rejection(rejected: Rejected) -> Response:
    return json_response(rejected.status, {"message": "; ".join(rejected.problems), "problems": rejected.problems}, rejected.headers)


@dataclass(frozen=True)
class ApiRequest:
    method: str
    path: str  # the route's path, without the stage: "/orders/abc"
    headers: dict[str, str]  # lower-case names
    body: bytes
    base_url: str  # where the API answers (stage included), for the links it hands out

    @classmethod
    def from_proxy_event(cls, event: dict) -> ApiRequest:
        headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
        raw = event.get("body") or ""
        body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode()
        path = event.get("path") or "/"
        requested = (event.get("requestContext") or {}).get("path") or path
        # AWS: requestContext.path "/prod/orders" for path "/orders"; the emulator: "/restapis/id/prod/_user_request_/orders".
        base_path = requested[: len(requested) - len(path)] if requested.endswith(path) else ""
        scheme = headers.get("x-forwarded-proto", "https")
        host = headers.get("host", "")
        return cls(event.get("httpMethod", "GET"), path, headers, body, f"{scheme}://{host}{base_path.rstrip('/')}")


@dataclass(frozen=True)
class Store:
    """Where orders go and where their journey is read: clients and the stack's names."""

    s3: object
    dynamodb: object
    stepfunctions: object
    bucket: str
    inventory_table: str
    orders_table: str
    state_machine_arn: str

    def execution_arn(self, order_id: str) -> str:
        """The consumer starts one execution per order, named by its orderId."""
        prefix, name = self.state_machine_arn.rsplit(":stateMachine:", 1)
        return f"{prefix}:execution:{name}:{order_id}"


# --- Routes ------------------------------------------------------------------------------------------------


def storefront(store: Store, request: ApiRequest) -> Response:
    return Response(200, PAGE, HTML_TYPE, {"Cache-Control": "no-cache"})


def is_doorbuster(sku: str) -> bool:
    return sku.startswith(DOORBUSTER_SKU_PREFIX)


def catalogue(store: Store, request: ApiRequest) -> Response:
    stock = stock_levels(store.dynamodb, store.inventory_table)
    products = [
        {
            "sku": product.sku,
            "name": product.name,
            "priceCents": product.price_cents,
            "stock": stock.get(product.sku, 0),
            "initialStock": product.initial_stock,
            "maxPerOrder": product.max_per_order,
            "doorbuster": is_doorbuster(product.sku),
        }
        for product in CATALOGUE
    ]
    return json_response(200, {"currency": CURRENCY, "products": products})


def place_order(store: Store, request: ApiRequest) -> Response:
    key = idempotency_key(request.headers)
    order_request = parse_order_request(request.body)
    order_id = order_id_for_key(key) if key else str(uuid.uuid4())
    order = build_order(order_request, order_id, datetime.now(timezone.utc))
    problems = order_problems(order_request, order)
    if problems:
        raise Rejected(422, problems)
    digest = request_digest(order_request)
    replayed = False
    try:
        store.s3.put_object(
            Bucket=store.bucket,
            Key=order_key(order_id),
            Body=json.dumps(order).encode(),
            ContentType=JSON_TYPE,
            Metadata={REQUEST_DIGEST_METADATA: digest},
            IfNoneMatch="*",
        )
    except ClientError as error:
        if error_code(error) != "PreconditionFailed":
            raise
        stored = store.s3.head_object(Bucket=store.bucket, Key=order_key(order_id))["Metadata"].get(REQUEST_DIGEST_METADATA)
        if stored != digest:
            raise Rejected(422, f"Idempotency-Key {key!r} was already used for a different order ({order_id}): use a new key for a new order") from None
        replayed = True
    status_url = f"{request.base_url}/orders/{order_id}"
    headers = {"Location": status_url, **({"Idempotent-Replayed": "true"} if replayed else {})}
    body = {"orderId": order_id, "status": "ACCEPTED", "statusUrl": status_url, "receiptUrl": f"{status_url}/receipt"}
    return json_response(202, body, headers)


def order_journey(store: Store, request: ApiRequest, order_id: str) -> Response:
    check_order_id(order_id)
    journey = journey_of(store.s3, store.dynamodb, store.stepfunctions, store.bucket, store.orders_table, store.execution_arn(order_id), order_id)
    if not journey["object"]["uploaded"] and journey["row"] is None and journey["execution"] is None:
        raise Rejected(404, f"order {order_id} not found")
    return json_response(200, journey_view(journey, f"{request.base_url}/orders/{order_id}"))


def order_receipt(store: Store, request: ApiRequest, order_id: str) -> Response:
    check_order_id(order_id)
    try:
        body = store.s3.get_object(Bucket=store.bucket, Key=receipt_key(order_id))["Body"].read()
    except store.s3.exceptions.NoSuchKey:
        raise Rejected(404, f"order {order_id} has no receipt (yet): an order gets one when it completes") from None
    return Response(200, body.decode(), JSON_TYPE, {"Cache-Control": "no-store"})


# --- Approvals: GET /review, GET /approvals, POST /orders/{orderId}/approval ---------------------------------

DECISION_FIELDS = {"decision": str, "reason": str, "reviewer": str}
DECISION_REQUIRED = ("decision",)
API_REVIEWER = "order-api"  # who decided, when the request does not say
MAX_REVIEWER_CHARS = 64


def review_page(store: Store, request: ApiRequest) -> Response:
    return Response(200, REVIEW_PAGE, HTML_TYPE, {"Cache-Control": "no-cache"})


def waiting_for_approval(store: Store, request: ApiRequest) -> Response:
    now = datetime.now(timezone.utc)
    waiting = approvals.waiting_orders(store.dynamodb, store.orders_table)
    return json_response(200, {"waiting": [order.to_json(now) for order in waiting]})


def parse_decision(body: bytes) -> dict:
    """{"decision", "reason", "reviewer"} checked (400 naming each problem), else Rejected."""
    if len(body) > MAX_BODY_BYTES:
        raise Rejected(413, f"request body is {len(body)} bytes; the limit is {MAX_BODY_BYTES}")
    try:
        decision = json.loads(body or b"null")
    except ValueError as error:
        raise Rejected(400, f"request body is not valid JSON: {error}") from None
    problems = shape_problems(decision, DECISION_FIELDS, DECISION_REQUIRED)
    if not problems:
        if decision["decision"] not in approvals.DECISIONS:
            problems.append(f"decision must be one of {', '.join(approvals.DECISIONS)}, got {decision['decision'][:40]!r}")
        elif decision["decision"] == approvals.REJECT and not decision.get("reason", "").strip():
            problems.append("reason is required to reject: the customer is told why")
        if len(decision.get("reviewer", "")) > MAX_REVIEWER_CHARS:
            problems.append(f"reviewer is longer than {MAX_REVIEWER_CHARS} characters")
    if problems:
        raise Rejected(400, problems)
    return decision


def decide_approval(store: Store, request: ApiRequest, order_id: str) -> Response:
    check_order_id(order_id)
    decision = parse_decision(request.body)
    try:
        made = approvals.decide(
            store.stepfunctions, store.dynamodb, store.orders_table, order_id, decision["decision"],
            decision.get("reviewer", "").strip() or API_REVIEWER, decision.get("reason", ""),
        )  # fmt: skip
    except approvals.ApprovalRefused as refused:
        raise Rejected(409, str(refused)) from None
    return json_response(200, made.to_json())


# (path template, {method: route function}); path parameters are passed by name.
ROUTES = (
    (paths.STOREFRONT, {"GET": storefront}),
    (paths.CATALOGUE, {"GET": catalogue}),
    (paths.ORDERS, {"POST": place_order}),
    (paths.ORDER, {"GET": order_journey}),
    (paths.ORDER_RECEIPT, {"GET": order_receipt}),
    (paths.ORDER_APPROVAL, {"POST": decide_approval}),
    (paths.APPROVALS, {"GET": waiting_for_approval}),
    (paths.REVIEW, {"GET": review_page}),
)


def match_route(path: str) -> tuple[dict, dict[str, str]] | None:
    given = [segment for segment in path.split("/") if segment]
    for template, methods in ROUTES:
        wanted = [segment for segment in template.split("/") if segment]
        if len(wanted) != len(given):
            continue
        parameters = {}
        for expected, actual in zip(wanted, given):
            if expected.startswith("{"):
                parameters[expected.strip("{}")] = actual
            elif expected != actual:
                break
        else:
            return methods, parameters
    return None


def handle(store: Store, request: ApiRequest) -> Response:
    """Answer one request; a Rejected becomes its 4xx, anything else is a real failure and propagates (API Gateway: 502)."""
    try:
        matched = match_route(request.path)
        if matched is None:
            raise Rejected(403, "Missing Authentication Token")
        methods, parameters = matched
        route = methods.get(request.method)
        if route is None:
            allowed = ", ".join(methods)
            raise Rejected(405, f"method {request.method} is not allowed on {request.path}: use {allowed}", {"Allow": allowed})
        return route(store, request, **{name_of(parameter): value for parameter, value in parameters.items()})
    except Rejected as rejected:
        return rejection(rejected)


def name_of(path_parameter: str) -> str:
    """{orderId} -> order_id, the route functions' parameter name."""
    return re.sub(r"(?<!^)([A-Z])", r"_\1", path_parameter).lower()


# --- POST /orders: reading and checking the request ----------------------------------------------------------


def idempotency_key(headers: dict[str, str]) -> str | None:
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
    if len(body) > MAX_BODY_BYTES:
        raise Rejected(413, f"request body is {len(body)} bytes; the limit is {MAX_BODY_BYTES}")
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


def json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return TYPE_NAMES.get(type(value), type(value).__name__)


def shape_problems(value: object, fields: dict[str, type], required: tuple[str, ...], label: str = "") -> list[str]:
    """Missing, unknown and mistyped fields of one JSON object, each prefixed with its label ("item 2: ...")."""
    if not isinstance(value, dict):
        return [f"{label or 'request body'} must be a JSON object, got {json_type(value)}"]
    where = f"{label}: " if label else ""
    problems = [f"{where}missing field {name!r}" for name in required if name not in value]
    problems += [f"{where}unknown field {name!r}" for name in value if name not in fields]
    for name, kind in fields.items():
        if name in value and not (isinstance(value[name], kind) and not isinstance(value[name], bool)):
            problems.append(f"{where}{name} must be {TYPE_NAMES[kind]}, got {json_type(value[name])}")
    return problems


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
        "items": [{"sku": item["sku"], "quantity": item["quantity"], "unitPriceCents": item["unitPriceCents"]} for item in order_request["items"]],
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


# --- GET /orders/{orderId} -----------------------------------------------------------------------------------


def check_order_id(order_id: str) -> None:
    if not ORDER_ID.match(order_id):
        raise Rejected(400, f"order id must be a UUID like 0f8fad5b-d9cb-469f-a165-70867728950e, got {order_id[:80]!r}")


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
