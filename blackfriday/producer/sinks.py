"""Where the engine sends each planned order: one `send` call per order, safe to call from many threads.

A sink raises on a send that failed for good (after its client's own retries); the engine counts and
names the failure. `S3Sink` uploads to the stack's orders bucket, whose ObjectCreated events start
the pipeline; another transport (an HTTP order API, say) is one more class with the same two members.
"""

from __future__ import annotations

import time
from typing import Protocol

from blackfriday.clients import AwsGateway
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
