"""producer.py --via api: ApiSink's requests, its retries over one pool, refusals at the door, and a run end to end."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import producer
from blackfriday.domain import DEFAULT_APPROVAL_THRESHOLD_CENTS
from blackfriday.producer import sinks
from blackfriday.producer.engine import Spike
from blackfriday.producer.plan import UploadPlan
from blackfriday.producer.settings import SpikeSettings
from blackfriday.producer.sinks import ApiSink, RefusedAtTheDoor
from blackfriday.verify import verify
from tests.api.conftest import OrdersApiStack
from tests.scripts import run_command

SEED = 4
PLAN = UploadPlan(SEED, invalid_rate=0.1, poison_rate=0.05, duplicate_rate=0.1)


def planned(kind: str):
    return next(PLAN.upload(index) for index in range(100) if PLAN.upload(index).kind == kind)


class ScriptedApi:
    """A local HTTP server answering each POST with `answer(request number from 1, Idempotency-Key)`."""

    def __init__(self, answer: Callable[[int, str], int]):
        self.answer = answer
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keeps connections open, as API Gateway does

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with api.lock:
                    api.requests.append(
                        {"path": self.path, "key": self.headers["Idempotency-Key"], "body": body, "connection": self.client_address}
                    )
                    status = api.answer(len(api.requests), self.headers["Idempotency-Key"])
                answer = json.dumps({"message": f"status {status}"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/prod"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def scripted_api(monkeypatch):
    monkeypatch.setattr(sinks, "BACKOFF_FACTOR_SECONDS", 0.0)  # the retries' count is under test, not their pauses
    servers = []

    def start(statuses: list[int] | None = None, answer: Callable[[int, str], int] | None = None) -> ScriptedApi:
        """Answers `statuses` in turn (the last one repeats), or as `answer` says."""
        servers.append(ScriptedApi(answer or (lambda number, key: statuses[min(number, len(statuses)) - 1])))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def test_a_valid_order_is_posted_without_the_fields_the_api_assigns_keyed_by_its_id(scripted_api):
    api = scripted_api([202])
    order = planned("valid")
    ApiSink(api.url, concurrency=2).send(order)
    (request,) = api.requests
    sent = json.loads(request["body"])
    assert (request["path"], request["key"]) == ("/prod/orders", order.order_id)
    assert sorted(sent) == ["currency", "customer", "items", "paymentMethod", "totalCents"]
    assert {name: value for name, value in json.loads(order.body).items() if name not in ("orderId", "createdAt")} == sent


def test_a_poison_body_is_posted_as_it_is():
    order = planned("poison")
    assert ApiSink.request_body(order) == order.body


@pytest.mark.parametrize("kind, status", [("invalid", 422), ("poison", 400)])
def test_a_planned_fault_refused_as_the_api_must_is_refused_at_the_door_not_retried(scripted_api, kind, status):
    api = scripted_api([status])
    with pytest.raises(RefusedAtTheDoor) as refusal:
        ApiSink(api.url, concurrency=2).send(planned(kind))
    assert (refusal.value.kind, refusal.value.status, len(api.requests)) == (kind, status, 1)


def test_429_and_5xx_are_retried_with_the_same_key_until_accepted(scripted_api):
    api = scripted_api([429, 503, 502, 202])
    order = planned("valid")
    ApiSink(api.url, concurrency=2).send(order)
    assert [request["key"] for request in api.requests] == [order.order_id] * 4


def test_a_5xx_that_persists_fails_after_the_bounded_retries(scripted_api):
    api = scripted_api([503])
    with pytest.raises(RuntimeError, match=r'^POST /orders answered HTTP 503 to a valid order: \{"message": "status 503"\}$'):
        ApiSink(api.url, concurrency=2).send(planned("valid"))
    assert len(api.requests) == sinks.RETRIES + 1


@pytest.mark.parametrize("kind, status", [("valid", 422), ("invalid", 202), ("poison", 422)])
def test_an_answer_the_order_must_not_get_is_a_failure_not_retried(scripted_api, kind, status):
    api = scripted_api([status])
    with pytest.raises(RuntimeError, match=rf"^POST /orders answered HTTP {status} to a {kind} order: "):
        ApiSink(api.url, concurrency=2).send(planned(kind))
    assert len(api.requests) == 1


def test_the_engine_counts_refusals_as_finished_and_never_resends_them(scripted_api):
    # GIVEN an API that accepts valid orders and refuses the planned faults as the order API does
    status_of = {PLAN.upload(index).order_id: {"valid": 202, "invalid": 422, "poison": 400}[PLAN.upload(index).kind] for index in range(60)}
    api = scripted_api(answer=lambda number, key: status_of[key])
    kinds = Counter(PLAN.upload(index).kind for index in range(60))
    resent = sum(PLAN.upload(index).duplicate and PLAN.upload(index).kind == "valid" for index in range(60))
    assert (kinds["valid"], kinds["invalid"], kinds["poison"], resent) == (51, 6, 3, 3)
    settings = SpikeSettings(orders=60, seed=SEED, concurrency=4, invalid_rate=0.1, poison_rate=0.05, duplicate_rate=0.1)

    # WHEN the spike runs through ApiSink
    report = Spike(ApiSink(api.url, settings.concurrency), settings).run()

    # THEN valid orders are uploaded (their planned duplicates re-sent), faults refused once each, nothing failed
    assert (report.uploaded, report.duplicates, report.failed, report.finished) == (51, 3, 0, 60)
    assert report.as_json()["refused_at_door"] == {"invalid": 6, "poison": 3}
    assert len(api.requests) == 60 + 3
    # AND every request went over the one pool's connections (at most `concurrency` of them)
    assert len({request["connection"] for request in api.requests}) <= settings.concurrency


@pytest.mark.emulator
def test_an_api_fed_run_drains_and_every_invariant_holds(deploy_own_stack):
    # GIVEN a fresh stack on the emulator
    stack = deploy_own_stack()
    target = stack.gateway.target
    kinds = Counter(PLAN.upload(index).kind for index in range(60))
    assert (kinds["valid"], kinds["invalid"], kinds["poison"]) == (51, 6, 3)

    # WHEN 60 orders with every fault are posted to its API
    result = run_command(
        producer.main, "--via", "api", "--endpoint-url", target.endpoint_url, "--prefix", target.prefix, "--region", target.region,
        "--orders", "60", "--seed", str(SEED), "--concurrency", "8",
        "--invalid-rate", "0.1", "--poison-rate", "0.05", "--duplicate-rate", "0.1", "--json",
    )  # fmt: skip

    # THEN the valid ones are accepted and the faults refused at the door, none failed
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert {key: report[key] for key in ("orders", "uploaded", "failed", "invalid", "poison", "refused_at_door", "api")} == {
        "orders": 60, "uploaded": 51, "failed": 0, "invalid": 0, "poison": 0, "refused_at_door": {"invalid": 6, "poison": 3},
        "api": stack.info.api_url,
    }  # fmt: skip
    # AND only the accepted orders are in the bucket
    s3 = stack.gateway.client("s3")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=stack.info.bucket, Prefix="orders/")
    assert sum(len(page.get("Contents", [])) for page in pages) == 51

    # WHEN the consumer drains the stack
    summary = OrdersApiStack(stack, stack.info.api_url).drain()

    # THEN the 51 accepted orders were processed, the 10 at or over $1,000 waiting for a person (their stock reserved), and
    # every invariant holds, counting only what entered the pipeline
    big = sum(
        1 for index in range(60)
        if PLAN.upload(index).kind == "valid" and json.loads(PLAN.upload(index).body)["totalCents"] >= DEFAULT_APPROVAL_THRESHOLD_CENTS
    )  # fmt: skip
    assert big == 10
    executions = summary["executions"]
    assert (summary["shipping"]["processed"], executions["succeeded"] + executions["failed"], executions["waiting"]) == (
        51,
        51 - big,
        big,
    ), summary
    assert [(invariant.number, invariant.problems) for invariant in verify(stack.gateway, stack.names, stack.info)] == [
        (1, []),
        (2, []),
        (3, []),
        (4, []),
    ]
