"""consumer.py end to end on the emulator: producer spikes with invalid, poison and duplicate orders.

Each scenario deploys its own stack (a prefix of its own) with setup_infra's code, uploads with
producer.py and drains with consumer.py as subprocesses, then checks the design's four invariants
(blackfriday.verify) and the consumer's own counts against what the producer's plan uploaded.

Consumers run with --visibility-timeout 10 (received messages stay hidden 10 s, kept extended while
their work lasts) so that messages held by a killed consumer come back within seconds instead of
the queue's minute, and with --wait-seconds 1 so that a stop is never held up by a long poll.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from blackfriday.clients import AwsGateway
from blackfriday.deployment.deploy import deploy
from blackfriday.deployment.stack import StackInfo, describe_stack
from blackfriday.domain import DEFAULT_APPROVAL_THRESHOLD_CENTS, order_key
from blackfriday.names import StackNames
from blackfriday.producer import UploadPlan
from blackfriday.target import ENDPOINT, Target
from blackfriday.verify import verify

pytestmark = pytest.mark.emulator

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
RUN_TIMEOUT_SECONDS = 240  # a bound for a hung process, far above a normal run
CONSUMER_OPTIONS = ("--json", "--no-dashboard", "--workers", "4", "--wait-seconds", "1", "--visibility-timeout", "10")


@dataclass(frozen=True)
class Spike:
    """What producer.py uploads for these settings, from its own deterministic plan."""

    orders: int
    seed: int
    invalid_rate: float
    poison_rate: float
    duplicate_rate: float

    def uploads(self):
        plan = UploadPlan(self.seed, self.invalid_rate, self.poison_rate, self.duplicate_rate)
        return [plan.upload(index) for index in range(self.orders)]

    def count(self, kind: str, duplicated: bool = False) -> int:
        return sum(1 for upload in self.uploads() if upload.kind == kind and (upload.duplicate or not duplicated))

    @property
    def big(self) -> int:
        """Valid orders at or over the default approval threshold: they wait for a person."""
        return sum(
            1 for upload in self.uploads()
            if upload.kind == "valid" and json.loads(upload.body)["totalCents"] >= DEFAULT_APPROVAL_THRESHOLD_CENTS
        )  # fmt: skip

    @property
    def readable(self) -> int:
        return self.count("valid") + self.count("invalid")

    @property
    def events(self) -> int:
        """One S3 event per upload, re-uploads included."""
        return self.orders + sum(1 for upload in self.uploads() if upload.duplicate)

    @property
    def poison_events(self) -> int:
        """Every upload of a poison object is one event on each queue."""
        return self.count("poison") + self.count("poison", duplicated=True)

    @property
    def readable_duplicates(self) -> int:
        return self.count("valid", duplicated=True) + self.count("invalid", duplicated=True)

    def producer_args(self) -> list[str]:
        return [
            "--orders", str(self.orders), "--seed", str(self.seed), "--invalid-rate", str(self.invalid_rate),
            "--poison-rate", str(self.poison_rate), "--duplicate-rate", str(self.duplicate_rate),
        ]  # fmt: skip


@dataclass
class Pipeline:
    url: str
    gateway: AwsGateway
    names: StackNames
    info: StackInfo

    @property
    def environment(self) -> dict[str, str]:
        environment = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "BF_"))}
        return {**environment, "AWS_ENDPOINT_URL": self.url, "BF_PREFIX": self.names.prefix}

    def script(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, env=self.environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    def produce(self, spike: Spike) -> dict:
        producer = self.script("producer.py", *spike.producer_args(), "--json")
        stdout, stderr = producer.communicate(timeout=RUN_TIMEOUT_SECONDS)
        assert producer.returncode == 0, stderr
        return json.loads(stdout)

    def start_consumer(self, *args: str) -> subprocess.Popen:
        return self.script("consumer.py", *CONSUMER_OPTIONS, *args)

    def drain(self) -> dict:
        """consumer.py --until-empty to its end: its JSON summary."""
        return finish(self.start_consumer("--until-empty"))

    def review(self) -> dict:
        """approve.py --auto decides every waiting order; once the approved ones have run to their end, a consumer
        pass writes the analytics report again (its sales are the orders COMPLETED when it is written)."""
        reviewer = self.script("approve.py", "--auto", "--json")
        result = finish(reviewer)
        stepfunctions = self.gateway.client("stepfunctions")
        running = stepfunctions.get_paginator("list_executions")
        deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
        while any(page["executions"] for page in running.paginate(stateMachineArn=self.info.state_machine_arn, statusFilter="RUNNING")):
            assert time.monotonic() < deadline, "executions still running after every approval was decided"
            time.sleep(0.5)
        self.drain()
        return result

    def execution_names(self) -> Counter:
        stepfunctions = self.gateway.client("stepfunctions")
        pages = stepfunctions.get_paginator("list_executions").paginate(stateMachineArn=self.info.state_machine_arn)
        return Counter(execution["name"] for page in pages for execution in page["executions"])

    def wait_for_executions(self, count: int, consumer: subprocess.Popen) -> None:
        deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
        while sum(self.execution_names().values()) < count:
            assert consumer.poll() is None, consumer.communicate()
            assert time.monotonic() < deadline, f"fewer than {count} executions started"
            time.sleep(0.2)

    def dlq_depths(self) -> dict[str, int]:
        sqs = self.gateway.client("sqs")
        depths = {}
        for name, queue in self.info.queues.items():
            attributes = sqs.get_queue_attributes(QueueUrl=queue.dlq_url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
            depths[name] = int(attributes["ApproximateNumberOfMessages"])
        return depths

    def assert_invariants_hold(self) -> None:
        failed = {invariant.title: invariant.problems for invariant in verify(self.gateway, self.names, self.info) if not invariant.holds}
        assert failed == {}


def finish(consumer: subprocess.Popen) -> dict:
    stdout, stderr = consumer.communicate(timeout=RUN_TIMEOUT_SECONDS)
    assert consumer.returncode == 0, stderr
    assert "Traceback" not in stderr
    return json.loads(stdout)


def deploy_pipeline(url: str) -> Pipeline:
    prefix = "c" + uuid.uuid4().hex[:12]
    gateway = AwsGateway(Target(ENDPOINT, REGION, prefix, url))
    names = StackNames(prefix, gateway.account_id, REGION)
    deploy(gateway, names)
    return Pipeline(url, gateway, names, describe_stack(gateway, names))


@pytest.fixture
def pipeline(emulator_url) -> Pipeline:
    return deploy_pipeline(emulator_url)


# --- One spike drained in one go; redrive on what it dead-lettered ------------------------------------

SPIKE = Spike(orders=150, seed=11, invalid_rate=0.1, poison_rate=0.04, duplicate_rate=0.1)


@pytest.fixture(scope="module")
def drained(emulator_url) -> tuple[Pipeline, dict, dict]:
    pipeline = deploy_pipeline(emulator_url)
    pipeline.produce(SPIKE)
    summary = pipeline.drain()
    # the invariants hold while the big orders wait for a person (a fourth place, holding their stock)...
    pipeline.assert_invariants_hold()
    return pipeline, summary, pipeline.review()


def test_every_order_reaches_exactly_one_terminal_place_and_analytics_match_the_valid_orders(drained):
    # GIVEN a spike of 150 orders with invalid, poison and duplicate uploads, drained by one consumer run,
    # its big orders then decided by the demo reviewer
    pipeline, summary, review = drained
    assert (SPIKE.count("valid"), SPIKE.count("invalid"), SPIKE.count("poison"), SPIKE.readable_duplicates, SPIKE.poison_events) == (
        129,
        15,
        6,
        12,
        9,
    )
    assert SPIKE.big == 12

    # THEN the consumer ended with the queues drained while the big orders waited, and said how many
    assert summary["executions"]["waiting"] == SPIKE.big
    assert review["approved"] + review["rejected"] == SPIKE.big and review["refused"] == 0
    # AND once they are decided the design's four invariants hold (one terminal place each, once, stock, money and analytics)
    pipeline.assert_invariants_hold()
    # AND one execution per readable order, none for poison, none for a duplicate
    executions = pipeline.execution_names()
    assert len(executions) == SPIKE.readable
    assert set(executions.values()) == {1}
    # AND the consumer's counts are exactly what was uploaded
    assert summary["stopped"] == "until-empty"
    assert summary["shipping"]["received"] == SPIKE.events + 2 * SPIKE.poison_events
    assert {key: summary["shipping"][key] for key in ("started", "duplicates", "errors")} == {
        "started": SPIKE.readable,
        "duplicates": SPIKE.readable_duplicates,
        "errors": 3 * SPIKE.poison_events,  # three receives each before the DLQ
    }
    assert {key: summary["analytics"][key] for key in ("aggregated", "rejected", "duplicates")} == {
        "aggregated": SPIKE.count("valid"),
        "rejected": SPIKE.count("invalid"),
        "duplicates": SPIKE.readable_duplicates,
    }
    assert summary["executions"]["running"] == 0
    assert summary["executions"]["succeeded"] + summary["executions"]["failed"] == SPIKE.readable - SPIKE.big
    assert summary["dlq"] == {"shipping": SPIKE.poison_events, "analytics": SPIKE.poison_events}
    # AND the report in the bucket is the one the summary shows, with the rejected orders apart
    report = summary["report"]
    stored = json.loads(pipeline.gateway.client("s3").get_object(Bucket=pipeline.info.bucket, Key=report["key"])["Body"].read())
    assert report["key"].startswith("reports/sku-demand-")
    assert stored == {key: value for key, value in report.items() if key != "key"}
    assert (stored["orders"], stored["rejected"]) == (SPIKE.count("valid"), SPIKE.count("invalid"))


def test_redrive_returns_dead_letters_to_their_queue_and_they_come_back_to_the_dlq(drained):
    # GIVEN the poison events of the drained spike in both DLQs
    pipeline, _, _ = drained
    poison_keys = {order_key(upload.order_id) for upload in SPIKE.uploads() if upload.kind == "poison"}

    # WHEN each DLQ is redriven
    for queue in ("shipping", "analytics"):
        redrive = pipeline.script("consumer.py", "--redrive", queue, "--json")
        result = finish(redrive)
        # THEN every dead letter went back to its queue, moved by hand on the emulator (no move tasks)
        assert result == {"queue": queue, "moved": SPIKE.poison_events, "method": "receive-send-delete"}
    assert pipeline.dlq_depths() == {"shipping": 0, "analytics": 0}

    # AND a consumer run tries them again (three receives each) and they end in the DLQs again, nothing started
    summary = pipeline.drain()
    assert summary["shipping"]["errors"] == 3 * SPIKE.poison_events
    assert summary["shipping"]["started"] == 0
    assert summary["dlq"] == {"shipping": SPIKE.poison_events, "analytics": SPIKE.poison_events}
    assert summary["report"]["orders"] == SPIKE.count("valid")
    assert summary["errors"]["shipping"].split(" ")[0].removeprefix(f"s3://{pipeline.info.bucket}/") in poison_keys
    pipeline.assert_invariants_hold()


# --- Stops in the middle of a run ---------------------------------------------------------------------

SMALL_SPIKE = Spike(orders=80, seed=23, invalid_rate=0.1, poison_rate=0.05, duplicate_rate=0.1)


def test_sigint_then_sigkill_mid_run_lose_nothing_and_a_restart_processes_every_order_once(pipeline):
    # GIVEN a consumer working through a spike
    assert (SMALL_SPIKE.readable, SMALL_SPIKE.poison_events, SMALL_SPIKE.readable_duplicates) == (76, 4, 8)
    pipeline.produce(SMALL_SPIKE)
    consumer = pipeline.start_consumer()
    pipeline.wait_for_executions(15, consumer)

    # WHEN it gets Ctrl-C, it stops cleanly (exit 0, checked by finish) with what it started counted
    consumer.send_signal(signal.SIGINT)
    interrupted = finish(consumer)
    assert interrupted["stopped"] == "SIGINT"
    assert interrupted["shipping"]["started"] >= 15

    # AND a second consumer is killed with SIGKILL mid-run (its messages in hand neither deleted nor given back)
    consumer = pipeline.start_consumer()
    pipeline.wait_for_executions(interrupted["shipping"]["started"] + 15, consumer)
    consumer.kill()
    consumer.communicate(timeout=RUN_TIMEOUT_SECONDS)
    assert consumer.returncode == -signal.SIGKILL

    # AND a third consumer drains what is left, the big orders waiting; the demo reviewer then decides them
    summary = pipeline.drain()
    assert SMALL_SPIKE.big == 12
    assert summary["executions"]["waiting"] == SMALL_SPIKE.big
    review = pipeline.review()
    assert review["approved"] + review["rejected"] == SMALL_SPIKE.big

    # THEN every readable order was started exactly once across the three runs, none twice
    executions = pipeline.execution_names()
    assert len(executions) == SMALL_SPIKE.readable
    assert set(executions.values()) == {1}
    # AND the invariants hold: one terminal place each, stock, money, analytics counted once per order
    pipeline.assert_invariants_hold()
    assert (summary["report"]["orders"], summary["report"]["rejected"]) == (SMALL_SPIKE.count("valid"), SMALL_SPIKE.count("invalid"))
    assert summary["dlq"] == {"shipping": SMALL_SPIKE.poison_events, "analytics": SMALL_SPIKE.poison_events}
    assert summary["executions"]["running"] == 0
