"""The order API's Powertools app, answering proxy events under moto.mock_aws: exact statuses, messages, and what is (not) written."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from blackfriday.api import intake, routes
from blackfriday.api.journey_view import HAPPY_PATH, journey_view
from blackfriday.api.paths import ROUTE_PATHS
from blackfriday.api.refusals import MAX_BODY_BYTES
from blackfriday.api.routes import Store, answer, base_url_of, body_of
from blackfriday.domain import CATALOGUE, PRODUCTS, order_key, receipt_key, validation_problems
from tests.api.orders import BAD_ORDERS, a_valid_order

BASE_URL = "https://abc123.execute-api.us-east-1.amazonaws.com/prod"
HOST = "abc123.execute-api.us-east-1.amazonaws.com"


@pytest.fixture
def store(mock_workflow_stack) -> Store:
    import boto3

    return Store(
        s3=mock_workflow_stack.s3,
        dynamodb=mock_workflow_stack.dynamodb,
        stepfunctions=boto3.client("stepfunctions"),
        bucket=mock_workflow_stack.bucket,
        inventory_table=mock_workflow_stack.inventory_table,
        orders_table=mock_workflow_stack.orders_table,
        state_machine_arn=mock_workflow_stack.names.state_machine_arn,
    )


def call(store: Store, method: str, path: str, body: bytes | str | dict = b"", headers: dict | None = None):
    if isinstance(body, dict):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    proxy_answer = answer(store, proxy_event(method, path, body, headers or {}))
    headers = proxy_answer["headers"]
    body = json.loads(proxy_answer["body"]) if headers["Content-Type"] == routes.JSON_TYPE else proxy_answer["body"]
    return proxy_answer["statusCode"], body, headers


def proxy_event(method: str, path: str, body: bytes, headers: dict) -> dict:
    """The event API Gateway sends for a request to BASE_URL + path: a body that is not UTF-8 comes base64-encoded."""
    try:
        text, is_base64 = (body.decode(), False) if body else (None, False)
    except UnicodeDecodeError:
        text, is_base64 = base64.b64encode(body).decode(), True
    return {
        "path": path,
        "httpMethod": method,
        "headers": {"Host": HOST, "X-Forwarded-Proto": "https", **headers},
        "body": text,
        "isBase64Encoded": is_base64,
        "requestContext": {"path": f"/prod{path}", "stage": "prod"},
    }


def objects(store: Store) -> list[str]:
    return [item["Key"] for item in store.s3.list_objects_v2(Bucket=store.bucket).get("Contents", [])]


# --- GET / and GET /catalogue ---------------------------------------------------------------------------------


def test_the_root_serves_the_storefront_page(store):
    # WHEN the page is asked for
    status, body, headers = call(store, "GET", "/")
    # THEN it is the storefront's HTML
    assert status == 200
    assert body.startswith("<!doctype html>")
    assert "<title>Black Friday store</title>" in body


def test_the_catalogue_lists_every_product_with_its_live_stock(store, mock_workflow_stack):
    # GIVEN a doorbuster almost sold out
    mock_workflow_stack.set_stock("DB-TV-65", 3)
    # WHEN the catalogue is read
    status, body, headers = call(store, "GET", "/catalogue")
    # THEN every product is there in catalogue order, with its price and the stock the table holds now
    assert status == 200
    assert headers["Cache-Control"] == "no-store"
    assert body["currency"] == "USD"
    assert [product["sku"] for product in body["products"]] == [product.sku for product in CATALOGUE]
    tv = body["products"][0]
    assert tv == {
        "sku": "DB-TV-65",
        "name": PRODUCTS["DB-TV-65"].name,
        "priceCents": 49900,
        "stock": 3,
        "initialStock": PRODUCTS["DB-TV-65"].initial_stock,
        "maxPerOrder": 1,
        "doorbuster": True,
    }
    lamp = next(product for product in body["products"] if product["sku"] == "HM-LAMP")
    assert (lamp["stock"], lamp["doorbuster"]) == (PRODUCTS["HM-LAMP"].initial_stock, False)


# --- POST /orders -----------------------------------------------------------------------------------------------


def test_a_valid_order_is_written_where_the_producer_writes_and_accepted(store):
    # WHEN a valid order is posted
    status, body, headers = call(store, "POST", "/orders", a_valid_order())
    # THEN it is accepted with its id and where to follow it
    assert status == 202
    order_id = body["orderId"]
    assert uuid.UUID(order_id).version == 4
    assert body == {
        "orderId": order_id,
        "status": "ACCEPTED",
        "statusUrl": f"{BASE_URL}/orders/{order_id}",
        "receiptUrl": f"{BASE_URL}/orders/{order_id}/receipt",
    }
    assert headers["Location"] == f"{BASE_URL}/orders/{order_id}"
    assert "Idempotent-Replayed" not in headers
    # AND the order object is at the producer's key, in the domain's shape, valid for ValidateOrder
    assert objects(store) == [order_key(order_id)]
    written = json.loads(store.s3.get_object(Bucket=store.bucket, Key=order_key(order_id))["Body"].read())
    assert validation_problems(written) == []
    assert written["orderId"] == order_id
    assert written["customer"] == {"customerId": intake.customer_id_of("ana@example.com"), "email": "ana@example.com", "name": "Ana Smith"}
    assert written["items"] == a_valid_order()["items"]
    assert (written["currency"], written["totalCents"], written["paymentMethod"]) == ("USD", 55700, "card")


def test_a_retried_post_with_the_same_idempotency_key_creates_one_order(store):
    # GIVEN an order posted with an Idempotency-Key
    key = {"Idempotency-Key": "checkout-7f3a"}
    first_status, first, _ = call(store, "POST", "/orders", a_valid_order(), key)
    written = store.s3.get_object(Bucket=store.bucket, Key=order_key(first["orderId"]))["Body"].read()
    # WHEN the same order is posted again with the same key (its fields in another order)
    reordered = dict(reversed(list(a_valid_order().items())))
    status, body, headers = call(store, "POST", "/orders", reordered, key)
    # THEN the answer names the same order, says it is a replay, and nothing new is written
    assert (first_status, status) == (202, 202)
    assert body == first
    assert body["orderId"] == str(uuid.uuid5(intake.IDEMPOTENCY_NAMESPACE, "checkout-7f3a"))
    assert headers["Idempotent-Replayed"] == "true"
    assert objects(store) == [order_key(first["orderId"])]
    assert store.s3.get_object(Bucket=store.bucket, Key=order_key(first["orderId"]))["Body"].read() == written


def test_an_idempotency_key_reused_for_another_order_is_refused(store):
    # GIVEN an order posted with a key
    key = {"Idempotency-Key": "checkout-7f3a"}
    _, first, _ = call(store, "POST", "/orders", a_valid_order(), key)
    # WHEN a different order comes with the same key
    status, body, _ = call(store, "POST", "/orders", a_valid_order(paymentMethod="paypal"), key)
    # THEN it is refused, naming the reason, and the first order is untouched
    message = f"Idempotency-Key 'checkout-7f3a' was already used for a different order ({first['orderId']}): use a new key for a new order"
    assert (status, body) == (422, {"message": message, "problems": [message]})
    assert objects(store) == [order_key(first["orderId"])]


def test_posts_without_a_key_are_separate_orders(store):
    # WHEN the same order is posted twice without an Idempotency-Key
    _, first, _ = call(store, "POST", "/orders", a_valid_order())
    _, second, _ = call(store, "POST", "/orders", a_valid_order())
    # THEN they are two orders
    assert first["orderId"] != second["orderId"]
    assert sorted(objects(store)) == sorted([order_key(first["orderId"]), order_key(second["orderId"])])


@pytest.mark.parametrize("body, status, problems", [case[1:] for case in BAD_ORDERS], ids=[case[0] for case in BAD_ORDERS])
def test_every_bad_order_gets_its_4xx_naming_the_problem_and_nothing_is_written(store, body, status, problems):
    # WHEN a malformed or unacceptable order is posted
    answer_status, answer, _ = call(store, "POST", "/orders", body)
    # THEN its exact status and problems come back, and the bucket is untouched
    assert (answer_status, answer) == (status, {"message": "; ".join(problems), "problems": problems})
    assert objects(store) == []


def test_several_problems_are_named_together(store):
    # WHEN an order has two mistyped fields and an unknown one
    status, body, _ = call(store, "POST", "/orders", a_valid_order(totalCents="557", paymentMethod=1, coupon="BF"))
    # THEN all three are named
    problems = ["unknown field 'coupon'", "totalCents must be an integer, got a string", "paymentMethod must be a string, got a number"]
    assert (status, body) == (400, {"message": "; ".join(problems), "problems": problems})


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "caf\u00e9"])
def test_a_malformed_idempotency_key_is_refused(store, key):
    status, body, _ = call(store, "POST", "/orders", a_valid_order(), {"Idempotency-Key": key})
    message = "Idempotency-Key must be 1 to 255 printable ASCII characters without spaces"
    assert (status, body) == (400, {"message": message, "problems": [message]})
    assert objects(store) == []


# --- Methods and routes -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path, allowed",
    [
        ("DELETE", "/orders", "POST"),
        ("GET", "/orders", "POST"),
        ("POST", "/catalogue", "GET"),
        ("PUT", "/", "GET"),
        ("POST", "/orders/3d20f923-f8b0-4621-a580-adadeab1b3dc", "GET"),
    ],
)
def test_a_method_a_route_does_not_have_is_a_405_naming_the_allowed_one(store, method, path, allowed):
    status, body, headers = call(store, method, path, a_valid_order())
    message = f"method {method} is not allowed on {path}: use {allowed}"
    assert (status, body, headers["Allow"]) == (405, {"message": message, "problems": [message]}, allowed)
    assert objects(store) == []


def test_the_app_routes_exactly_the_paths_api_gateway_proxies_to_it(store):
    # GIVEN the paths the manifest declares on API Gateway, each proxied to the orders_api Lambda with every method
    # THEN the app has a route for each of them and for no other path
    registered = {route.path for route in (*routes.app._static_routes, *routes.app._dynamic_routes)}
    assert sorted(registered) == sorted(routes.rule(path) for path in ROUTE_PATHS)
    # AND each, as API Gateway sends it, reaches its route: a method none has is a 405, not the 403 of no route
    for path in ROUTE_PATHS:
        assert call(store, "OPTIONS", path.replace("{orderId}", ORDER_ID))[0] == 405


@pytest.mark.parametrize("path", ["/nope", "/orders/a/b/c", "/catalogue/DB-TV-65"])
def test_a_path_that_is_no_route_is_a_403_as_api_gateway_answers(store, path):
    status, body, _ = call(store, "GET", path)
    assert (status, body["message"]) == (403, "Missing Authentication Token")


# --- GET /orders/{orderId} and its receipt ----------------------------------------------------------------------


def test_an_accepted_order_shows_its_journey_before_any_step(store):
    # GIVEN an order just accepted
    _, placed, _ = call(store, "POST", "/orders", a_valid_order())
    order_id = placed["orderId"]
    # WHEN its journey is read
    status, body, _ = call(store, "GET", f"/orders/{order_id}")
    # THEN it is accepted, no step has run, and its items are there
    assert status == 200
    assert body == {
        "orderId": order_id,
        "status": "ACCEPTED",
        "finished": False,
        "steps": [{"name": step, "state": "pending"} for step in HAPPY_PATH],
        "lastStep": None,
        "failure": None,
        "items": a_valid_order()["items"],
        "totalCents": 55700,
        "receipt": None,
        "receiptUrl": f"{BASE_URL}/orders/{order_id}/receipt",
    }


def test_a_failed_order_shows_its_reason(store, mock_workflow_stack):
    # GIVEN an accepted order the workflow marked FAILED
    _, placed, _ = call(store, "POST", "/orders", a_valid_order())
    order_id = placed["orderId"]
    store.dynamodb.put_item(
        TableName=store.orders_table,
        Item={
            "orderId": {"S": order_id},
            "status": {"S": "FAILED"},
            "errorName": {"S": "OutOfStock"},
            "reason": {"S": "OutOfStock: DB-TV-65 (wanted 1)"},
        },
    )
    # WHEN its journey is read
    status, body, _ = call(store, "GET", f"/orders/{order_id}")
    # THEN it is FAILED with the error and the reason
    assert (status, body["status"], body["failure"]) == (
        200,
        "FAILED",
        {"error": "OutOfStock", "reason": "OutOfStock: DB-TV-65 (wanted 1)"},
    )


def test_an_unknown_order_is_a_404_and_a_malformed_id_a_400(store):
    unknown = str(uuid.uuid4())
    assert call(store, "GET", f"/orders/{unknown}")[:2] == (
        404,
        {"message": f"order {unknown} not found", "problems": [f"order {unknown} not found"]},
    )
    status, body, _ = call(store, "GET", "/orders/not-an-id")
    assert (status, body["message"]) == (400, "order id must be a UUID like 0f8fad5b-d9cb-469f-a165-70867728950e, got 'not-an-id'")
    status, body, _ = call(store, "GET", "/orders/not-an-id/receipt")
    assert (status, body["message"]) == (400, "order id must be a UUID like 0f8fad5b-d9cb-469f-a165-70867728950e, got 'not-an-id'")


@pytest.mark.parametrize("order_id", ['"x"', "a?b", "\u20ac", "a`b"])
def test_an_order_id_of_any_characters_reaches_its_route_as_through_api_gateway(store, order_id):
    # API Gateway's {orderId} takes any segment: the id is refused by name (400), not taken for no route (403)
    for path in (f"/orders/{order_id}", f"/orders/{order_id}/receipt"):
        status, body, _ = call(store, "GET", path)
        assert (status, body["message"]) == (400, f"order id must be a UUID like 0f8fad5b-d9cb-469f-a165-70867728950e, got {order_id!r}")


def test_the_receipt_is_a_404_until_it_exists(store):
    # GIVEN an accepted order
    _, placed, _ = call(store, "POST", "/orders", a_valid_order())
    order_id = placed["orderId"]
    # THEN its receipt is not there yet
    message = f"order {order_id} has no receipt (yet): an order gets one when it completes"
    assert call(store, "GET", f"/orders/{order_id}/receipt")[:2] == (404, {"message": message, "problems": [message]})
    # WHEN GenerateReceipt writes it
    receipt = {"orderId": order_id, "totalCents": 55700, "paymentId": "pay_1"}
    store.s3.put_object(Bucket=store.bucket, Key=receipt_key(order_id), Body=json.dumps(receipt).encode())
    # THEN it is served, and the journey carries it
    assert call(store, "GET", f"/orders/{order_id}/receipt")[:2] == (200, receipt)
    assert call(store, "GET", f"/orders/{order_id}")[1]["receipt"] == receipt


# --- The journey as the customer sees it (pure) -------------------------------------------------------------------


def journey(row: dict | None, steps: list[str] | None, execution_status: str = "RUNNING") -> dict:
    execution = (
        None if steps is None else {"status": execution_status, "steps": steps, "last_step": steps[-1], "error": None, "cause": None}
    )
    return {
        "order_id": "o-1",
        "object": {"key": "orders/xx/o-1.json", "uploaded": True, "order": {"items": [], "totalCents": 0}},
        "execution": execution,
        "row": row,
        "receipt": None,
        "failure_reason": (row or {}).get("reason"),
    }


def states(view: dict) -> list[str]:
    return [step["state"] for step in view["steps"]]


def test_a_running_order_shows_the_steps_done_and_the_one_in_progress():
    view = journey_view(journey({"status": "RESERVED"}, ["ValidateOrder", "ReserveInventory", "ProcessPayment"]), "u")
    assert (view["status"], states(view)) == ("RESERVED", ["done", "done", "current", "pending", "pending"])


def test_a_completed_order_shows_every_step_done():
    steps = [*HAPPY_PATH, "OrderCompleted"]
    view = journey_view(journey({"status": "COMPLETED"}, steps, "SUCCEEDED"), "u")
    assert (view["status"], states(view), view["failure"], view["finished"]) == ("COMPLETED", ["done"] * 5, None, True)


def test_a_completed_order_whose_confirmation_is_still_being_sent_is_not_finished():
    # GIVEN an order COMPLETED with its receipt while its execution is still sending the confirmation
    steps = ["ValidateOrder", "ReserveInventory", "ProcessPayment", "GenerateReceipt", "SendNotification"]
    view = journey_view(journey({"status": "COMPLETED"}, steps, "RUNNING"), "u")
    # THEN the confirmation is the step in progress and the journey is not over
    assert (view["status"], states(view), view["finished"]) == ("COMPLETED", ["done", "done", "done", "done", "current"], False)


def test_a_failed_order_marks_the_step_it_failed_in():
    steps = ["ValidateOrder", "ReserveInventory", "MarkOrderFailed", "OrderFailed"]
    row = {"status": "FAILED", "errorName": "OutOfStock", "reason": "OutOfStock: DB-TV-65 (wanted 1)"}
    view = journey_view(journey(row, steps, "FAILED"), "u")
    assert (view["status"], states(view)) == ("FAILED", ["done", "failed", "pending", "pending", "pending"])
    assert view["failure"] == {"error": "OutOfStock", "reason": "OutOfStock: DB-TV-65 (wanted 1)"}


def test_an_execution_started_before_the_record_shows_as_started():
    view = journey_view(journey(None, ["ValidateOrder"]), "u")
    assert (view["status"], states(view)) == ("STARTED", ["current", "pending", "pending", "pending", "pending"])


# --- The proxy event ------------------------------------------------------------------------------------------


def test_the_request_from_an_aws_proxy_event_knows_the_api_base_url():
    event = {
        "httpMethod": "POST",
        "path": "/orders",
        "headers": {"Host": "abc123.execute-api.us-east-1.amazonaws.com", "X-Forwarded-Proto": "https", "Idempotency-Key": "k"},
        "body": '{"a": 1}',
        "isBase64Encoded": False,
        "requestContext": {"path": "/prod/orders", "stage": "prod"},
    }
    request = APIGatewayProxyEvent(event)
    assert (request.http_method, request.path, dict(request.headers), body_of(request), base_url_of(request)) == (
        "POST",
        "/orders",
        {"host": "abc123.execute-api.us-east-1.amazonaws.com", "x-forwarded-proto": "https", "idempotency-key": "k"},
        b'{"a": 1}',
        "https://abc123.execute-api.us-east-1.amazonaws.com/prod",
    )


def test_the_request_from_an_emulator_proxy_event_with_a_base64_body():
    event = {
        "httpMethod": "GET",
        "path": "/",
        "headers": {"Host": "127.0.0.1:4599", "X-Forwarded-Proto": "http"},
        "body": "aGk=",
        "isBase64Encoded": True,
        "requestContext": {"path": "/restapis/abc123/prod/_user_request_/", "stage": "prod"},
    }
    request = APIGatewayProxyEvent(event)
    assert (body_of(request), base_url_of(request)) == (b"hi", "http://127.0.0.1:4599/restapis/abc123/prod/_user_request_")


def test_a_body_of_exactly_64_kb_is_taken(store):
    # GIVEN a valid order padded with whitespace to exactly the limit
    body = json.dumps(a_valid_order()).encode()
    body += b" " * (MAX_BODY_BYTES - len(body))
    # WHEN posted
    status, answer, _ = call(store, "POST", "/orders", body)
    # THEN it is accepted: only what is over 64 KB is a 413
    assert (len(body), status) == (65536, 202)
    assert objects(store) == [order_key(answer["orderId"])]


def test_the_producers_orders_are_taken_as_they_are_generated_and_its_invalid_ones_refused(store):
    from blackfriday.domain import OrderGenerator, make_invalid

    # GIVEN an order of the producer's mix, sent as producer --via api would, keyed by its own orderId
    order = OrderGenerator(seed=7).order(0)
    body = intake.request_body_of(order)
    # WHEN posted
    status, answer, _ = call(store, "POST", "/orders", body, {"Idempotency-Key": order["orderId"]})
    # THEN it is accepted under the id its key names, known to the client before the answer
    assert (status, answer["orderId"]) == (202, intake.order_id_for_key(order["orderId"]))
    # AND each invalid kind the producer injects is refused at the door, naming its problem
    refused = {
        kind: call(store, "POST", "/orders", intake.request_body_of(make_invalid(order, kind)))[:2]
        for kind in ("unknown_sku", "zero_quantity", "wrong_total")
    }
    assert {kind: status for kind, (status, _) in refused.items()} == {"unknown_sku": 422, "zero_quantity": 422, "wrong_total": 422}
    assert refused["unknown_sku"][1]["message"] == "item 1: unknown SKU 'NO-SUCH-SKU'"
    assert objects(store) == [order_key(answer["orderId"])]


# --- Approvals: GET /review, GET /approvals, POST /orders/{orderId}/approval -----------------------------------


def test_the_review_page_is_served(store):
    status, body, headers = call(store, "GET", "/review")
    assert (status, headers["Cache-Control"]) == (200, "no-cache")
    assert "<h1>Orders waiting for approval</h1>" in body and 'fetch("approvals"' in body


def test_the_orders_waiting_for_approval_are_listed(store, mock_workflow_stack):
    # GIVEN one order waiting for approval (its row as request_approval leaves it) and one that completed
    dynamodb = mock_workflow_stack.dynamodb
    dynamodb.put_item(TableName=store.orders_table, Item={
        "orderId": {"S": "waiting-1"}, "status": {"S": "AWAITING_APPROVAL"}, "customerId": {"S": "cust-1"}, "totalCents": {"N": "114500"},
        "reservedItems": {"M": {"HP-TABLET": {"N": "3"}, "HP-SMARTWATCH": {"N": "2"}}}, "approvalToken": {"S": "secret"},
        "approvalRequestedAt": {"S": "2026-11-27T00:00:00.000Z"}, "approvalExpiresAt": {"S": "2026-11-28T00:00:00.000Z"}})  # fmt: skip
    dynamodb.put_item(TableName=store.orders_table, Item={"orderId": {"S": "done-1"}, "status": {"S": "COMPLETED"}})
    # WHEN the reviewers' list is asked for THEN only the waiting order, without its task token
    status, body, _ = call(store, "GET", "/approvals")
    assert status == 200
    [waiting] = body["waiting"]
    assert {key: waiting[key] for key in ("orderId", "customerId", "totalCents", "items", "waitingSince", "expiresAt")} == {
        "orderId": "waiting-1", "customerId": "cust-1", "totalCents": 114500, "items": {"HP-TABLET": 3, "HP-SMARTWATCH": 2},
        "waitingSince": "2026-11-27T00:00:00.000Z", "expiresAt": "2026-11-28T00:00:00.000Z"}  # fmt: skip
    assert "secret" not in json.dumps(body)


ORDER_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"


@pytest.mark.parametrize(
    ("body", "problems"),
    [
        (b"", ["request body must be a JSON object, got null"]),
        ({"decision": "maybe"}, ["decision must be one of approve, reject, got 'maybe'"]),
        ({"decision": "reject", "reason": "  "}, ["reason is required to reject: the customer is told why"]),
        ({"decision": "approve", "by": "me"}, ["unknown field 'by'"]),
        ({"reason": "x"}, ["missing field 'decision'"]),
    ],
)
def test_a_bad_decision_is_a_400_naming_each_problem(store, body, problems):
    status, answer, _ = call(store, "POST", f"/orders/{ORDER_ID}/approval", body)
    assert (status, answer["problems"]) == (400, problems)


def test_deciding_an_order_that_does_not_wait_is_a_409_naming_why(store, mock_workflow_stack):
    # GIVEN an order that completed without ever needing approval
    mock_workflow_stack.dynamodb.put_item(
        TableName=store.orders_table, Item={"orderId": {"S": ORDER_ID}, "status": {"S": "COMPLETED"}, "totalCents": {"N": "5800"}}
    )
    # WHEN it is approved THEN 409: it never needed approval; an unknown order is a 409 saying so
    assert call(store, "POST", f"/orders/{ORDER_ID}/approval", {"decision": "approve"})[:2] == (
        409, {"message": f"order {ORDER_ID} never needed approval: it is COMPLETED, total $58.00",
              "problems": [f"order {ORDER_ID} never needed approval: it is COMPLETED, total $58.00"]})  # fmt: skip
    other = "1f8fad5b-d9cb-469f-a165-70867728950e"
    assert call(store, "POST", f"/orders/{other}/approval", {"decision": "approve"})[:2] == (
        409,
        {"message": f"no order {other} in this stack", "problems": [f"no order {other} in this stack"]},
    )
