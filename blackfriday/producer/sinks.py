"""Where the engine sends each planned order: one `send` call per order, safe to call from many threads.

A sink raises on a send that failed for good (after its client's own retries); the engine counts and
names the failure. `S3Sink` uploads to the stack's orders bucket, whose ObjectCreated events start
the pipeline; `ApiSink` posts to the stack's order API, which refuses invalid and poison orders at the
door (RefusedAtTheDoor: they never enter the pipeline) and writes the others where S3Sink would.
"""

from __future__ import annotations

import json
import time
from typing import Protocol

import urllib3

from blackfriday.api.intake import request_body_of
from blackfriday.clients import AwsGateway
from blackfriday.deployment.stack import describe_stack
from blackfriday.errors import StackNotReady
from blackfriday.names import StackNames
from blackfriday.producer.plan import PlannedUpload
from blackfriday.resources.s3 import bucket_exists
from blackfriday.target import Target

UPLOADED_AT_METADATA = "uploaded-at"  # S3 returns it as x-amz-meta-uploaded-at (epoch ms)


class OrderSink(Protocol):
    destination: dict[str, str]  # where the orders go, for the report and its --json ({"bucket": ...})

    def send(self, order: PlannedUpload) -> None: ...


class S3Sink:
    """One object per order under orders/, carrying its upload time (epoch ms) for the consumer's latency figures."""

    def __init__(self, s3, bucket: str):
        self.s3 = s3
        self.bucket = bucket
        self.destination = {"bucket": bucket}

    @classmethod
    def for_stack(cls, gateway: AwsGateway, target: Target) -> S3Sink:
        """The stack's orders bucket, the one resource the producer needs; StackNotReady (exit 2) without it."""
        names = StackNames(target.prefix, gateway.account_id, target.region)
        s3 = gateway.client("s3")
        if not bucket_exists(s3, names.bucket):
            raise StackNotReady(
                f"the orders bucket {names.bucket} does not exist (prefix {target.prefix!r}): run `python setup_infra.py` first"
            )
        return cls(s3, names.bucket)

    def send(self, order: PlannedUpload) -> None:
        self.s3.put_object(
            Bucket=self.bucket,
            Key=order.key,
            Body=order.body,
            ContentType="application/json",
            Metadata={UPLOADED_AT_METADATA: str(time.time_ns() // 10**6)},
        )


# What the order API answers a planned fault: 422 for an order the shop cannot take, 400 for a body that is no order.
DOOR_REFUSALS = {"invalid": 422, "poison": 400}
ACCEPTED = 202
# 429 (the stage's throttling) and 5xx are retried: the Idempotency-Key makes a repeated POST create one order.
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRIES = 6
BACKOFF_FACTOR_SECONDS = 0.2  # 0.2, 0.4, 0.8 ... s between attempts (urllib3 adds jitter below), each at most BACKOFF_MAX_SECONDS
BACKOFF_MAX_SECONDS = 5.0
REQUEST_TIMEOUT = urllib3.Timeout(connect=5.0, read=30.0)


class RefusedAtTheDoor(Exception):
    """The API refused a planned fault as it must (422 invalid, 400 poison): the order never entered the pipeline."""

    def __init__(self, kind: str, status: int):
        super().__init__(f"{kind} order refused with HTTP {status}")
        self.kind = kind
        self.status = status


class ApiSink:
    """POST {api_url}/orders with the order's id as Idempotency-Key, over one pool of `concurrency` connections."""

    def __init__(self, api_url: str, concurrency: int):
        self.orders_url = f"{api_url}/orders"
        self.destination = {"api": api_url}
        retry = urllib3.Retry(
            total=RETRIES,
            allowed_methods=frozenset({"POST"}),
            status_forcelist=RETRIED_STATUSES,
            backoff_factor=BACKOFF_FACTOR_SECONDS,
            backoff_max=BACKOFF_MAX_SECONDS,
            backoff_jitter=BACKOFF_FACTOR_SECONDS,
            respect_retry_after_header=True,
            raise_on_status=False,  # the last answer is read below and named in the failure
        )
        self.http = urllib3.PoolManager(num_pools=1, maxsize=concurrency, block=True, retries=retry, timeout=REQUEST_TIMEOUT)

    @classmethod
    def for_stack(cls, gateway: AwsGateway, target: Target, concurrency: int) -> ApiSink:
        """The stack's order API (StackNotReady, exit 2, when the stack or its API is missing)."""
        info = describe_stack(gateway, StackNames(target.prefix, gateway.account_id, target.region))
        return cls(info.api_url, concurrency)

    @staticmethod
    def request_body(order: PlannedUpload) -> bytes:
        """What a client would POST: the order without the fields the API assigns; a poison body as it is."""
        if order.kind == "poison":
            return order.body
        return json.dumps(request_body_of(json.loads(order.body)), separators=(",", ":")).encode()

    def send(self, order: PlannedUpload) -> None:
        answer = self.http.request(
            "POST",
            self.orders_url,
            body=self.request_body(order),
            headers={"Content-Type": "application/json", "Idempotency-Key": order.order_id},
        )
        if answer.status == ACCEPTED and order.kind == "valid":
            return
        if answer.status == DOOR_REFUSALS.get(order.kind):
            raise RefusedAtTheDoor(order.kind, answer.status)
        raise RuntimeError(
            f"POST /orders answered HTTP {answer.status} to a {order.kind} order: {answer.data[:300].decode(errors='replace')}"
        )
