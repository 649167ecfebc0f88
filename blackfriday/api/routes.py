"""The order API on Powertools' APIGatewayRestResolver: `app`, its thin route functions over the shop's own logic
(blackfriday.api.intake, .decisions, .journey_view; blackfriday.approvals, blackfriday.journey), and `answer`, which
lambdas/orders_api.py calls with API Gateway's proxy event and the Store the routes read and write through.

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
that is no route (as API Gateway answers). Every error body is {"message": ..., "problems": [...]}: a route raises
`Rejected` and the app's exception handler answers it; anything else is a real failure and propagates (API Gateway: 502).
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from botocore.exceptions import ClientError

from blackfriday import approvals
from blackfriday.api import paths
from blackfriday.api.decisions import API_REVIEWER, parse_decision
from blackfriday.api.intake import (
    REQUEST_DIGEST_METADATA,
    build_order,
    idempotency_key,
    order_id_for_key,
    order_problems,
    parse_order_request,
    request_digest,
)
from blackfriday.api.journey_view import journey_view
from blackfriday.api.refusals import Rejected, check_order_id
from blackfriday.api.review import REVIEW_PAGE
from blackfriday.api.storefront import PAGE
from blackfriday.domain import CATALOGUE, CURRENCY, order_key, receipt_key
from blackfriday.errors import error_code
from blackfriday.journey import journey_of
from blackfriday.tables import stock_levels

DOORBUSTER_SKU_PREFIX = "DB-"  # the catalogue names its scarce Black Friday deals DB-*
JSON_TYPE = "application/json"
HTML_TYPE = "text/html; charset=utf-8"


class AnySegmentRestResolver(APIGatewayRestResolver):
    """Powertools' REST resolver, matching a path as API Gateway does before it sends it here: a parameter takes any
    segment (Powertools' own takes letters, digits and some punctuation, so /orders/"x" would be no route, a 403, instead
    of the 400 naming the bad id), and empty segments count for nothing (/orders//receipt is /orders/{orderId})."""

    @staticmethod  # the hook APIGatewayRestResolver itself overrides, to ignore trailing slashes
    def _compile_regex(rule: str, base_regex: str = "^{}/*$") -> re.Pattern:
        return re.compile(base_regex.format(re.sub(r"<(\w+)>", r"(?P<\1>[^/]+)", rule.replace("/", "/+"))))


# json.dumps with its own separators (Powertools' default serializer is compact): the JSON the API has always written.
app = AnySegmentRestResolver(serializer=json.dumps)


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


def answer(store: Store, event: dict, context=None) -> dict:
    """The Lambda proxy answer to one API Gateway proxy event, the routes reading and writing through `store`.
    One event at a time, as a Lambda execution environment runs them: the app holds the event and the store while it answers."""
    app.append_context(store=store)  # Powertools clears the context after each event
    proxy_answer = app.resolve(event, context)
    # Powertools gives a REST API's answer multiValueHeaders; each of ours has one value, and the API's answers have
    # always carried them as `headers` (API Gateway takes either).
    proxy_answer["headers"] = {name: value for name, (value,) in proxy_answer.pop("multiValueHeaders").items()}
    return proxy_answer


def current_store() -> Store:
    """The Store `answer` was given for the event being answered."""
    return app.context["store"]


def body_of(event: APIGatewayProxyEvent) -> bytes:
    """The request body as sent. Not Powertools' decoded_body: it decodes to text, so a body that is not UTF-8 would fail
    there (a 502) instead of being refused as not JSON (a 400), and the 64 KB limit would count characters."""
    raw = event.body or ""
    return base64.b64decode(raw) if event.is_base64_encoded else raw.encode()


def base_url_of(event: APIGatewayProxyEvent) -> str:
    """Where the API answers (stage included), for the links it hands out."""
    path = event.path
    requested = (event.get("requestContext") or {}).get("path") or path
    # AWS: requestContext.path "/prod/orders" for path "/orders"; the emulator: "/restapis/id/prod/_user_request_/orders".
    base_path = requested[: len(requested) - len(path)] if requested.endswith(path) else ""
    return f"{event.headers.get('x-forwarded-proto', 'https')}://{event.headers.get('host', '')}{base_path.rstrip('/')}"


def rule(path: str) -> str:
    """One of API Gateway's paths (blackfriday.api.paths) as Powertools' rule, each parameter named as the route
    function's argument: /orders/{orderId} -> /orders/<order_id>."""
    return re.sub(r"\{(\w+)\}", lambda parameter: "<" + re.sub(r"(?<!^)([A-Z])", r"_\1", parameter[1]).lower() + ">", path)


def json_response(status: int, document: object, headers: dict[str, str] | None = None) -> Response:
    """`document` written by the app's serializer (a str is taken as JSON text already), never cached."""
    return Response(status, body=document, headers={"Content-Type": JSON_TYPE, "Cache-Control": "no-store", **(headers or {})})


def page_response(page: str) -> Response:
    return Response(200, body=page, headers={"Content-Type": HTML_TYPE, "Cache-Control": "no-cache"})


@app.exception_handler(Rejected)
def refusal(rejected: Rejected) -> Response:
    return json_response(rejected.status, {"message": "; ".join(rejected.problems), "problems": rejected.problems}, rejected.headers)


@app.not_found
def no_route(_: NotFoundError) -> Response:
    """Powertools' 404 for an event no route takes becomes what the API answers: API Gateway's own 403 for a path that is
    no route, a 405 naming the methods a path's routes have (API Gateway passes every method of its paths on: ANY)."""
    method, path = app.current_event.http_method, app.current_event.path
    # Powertools has no public list of its routes: these two are its own (pinned in requirements.txt).
    allowed = [route.method for route in (*app._static_routes, *app._dynamic_routes) if route.rule.match(path)]
    if not allowed:
        raise Rejected(403, "Missing Authentication Token")
    raise Rejected(405, f"method {method} is not allowed on {path}: use {', '.join(allowed)}", {"Allow": ", ".join(allowed)})


# --- Routes ------------------------------------------------------------------------------------------------


@app.get(rule(paths.STOREFRONT))
def storefront() -> Response:
    return page_response(PAGE)


def is_doorbuster(sku: str) -> bool:
    return sku.startswith(DOORBUSTER_SKU_PREFIX)


@app.get(rule(paths.CATALOGUE))
def catalogue() -> Response:
    store = current_store()
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


@app.post(rule(paths.ORDERS))
def place_order() -> Response:
    store, event = current_store(), app.current_event
    key = idempotency_key(event.headers)
    order_request = parse_order_request(body_of(event))
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
            raise Rejected(
                422, f"Idempotency-Key {key!r} was already used for a different order ({order_id}): use a new key for a new order"
            ) from None
        replayed = True
    status_url = f"{base_url_of(event)}/orders/{order_id}"
    headers = {"Location": status_url, **({"Idempotent-Replayed": "true"} if replayed else {})}
    body = {"orderId": order_id, "status": "ACCEPTED", "statusUrl": status_url, "receiptUrl": f"{status_url}/receipt"}
    return json_response(202, body, headers)


@app.get(rule(paths.ORDER))
def order_journey(order_id: str) -> Response:
    store = current_store()
    check_order_id(order_id)
    journey = journey_of(
        store.s3, store.dynamodb, store.stepfunctions, store.bucket, store.orders_table, store.execution_arn(order_id), order_id
    )
    if not journey["object"]["uploaded"] and journey["row"] is None and journey["execution"] is None:
        raise Rejected(404, f"order {order_id} not found")
    return json_response(200, journey_view(journey, f"{base_url_of(app.current_event)}/orders/{order_id}"))


@app.get(rule(paths.ORDER_RECEIPT))
def order_receipt(order_id: str) -> Response:
    store = current_store()
    check_order_id(order_id)
    try:
        body = store.s3.get_object(Bucket=store.bucket, Key=receipt_key(order_id))["Body"].read()
    except store.s3.exceptions.NoSuchKey:
        raise Rejected(404, f"order {order_id} has no receipt (yet): an order gets one when it completes") from None
    return json_response(200, body.decode())  # the receipt's own JSON text


# --- Approvals: GET /review, GET /approvals, POST /orders/{orderId}/approval ---------------------------------


@app.get(rule(paths.REVIEW))
def review_page() -> Response:
    return page_response(REVIEW_PAGE)


@app.get(rule(paths.APPROVALS))
def waiting_for_approval() -> Response:
    store = current_store()
    now = datetime.now(timezone.utc)
    waiting = approvals.waiting_orders(store.dynamodb, store.orders_table)
    return json_response(200, {"waiting": [order.to_json(now) for order in waiting]})


@app.post(rule(paths.ORDER_APPROVAL))
def decide_approval(order_id: str) -> Response:
    store = current_store()
    check_order_id(order_id)
    decision = parse_decision(body_of(app.current_event))
    try:
        made = approvals.decide(
            store.stepfunctions, store.dynamodb, store.orders_table, order_id, decision["decision"],
            decision.get("reviewer", "").strip() or API_REVIEWER, decision.get("reason", ""),
        )  # fmt: skip
    except approvals.ApprovalRefused as refused:
        raise Rejected(409, str(refused)) from None
    return json_response(200, made.to_json())
