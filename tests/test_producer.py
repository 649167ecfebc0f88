"""The producer: deterministic orders and faults, pacing, the upload engine and producer.py's exit codes."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from fractions import Fraction
from pathlib import Path

import pytest
from botocore.awsrequest import AWSResponse
from rich.console import Console

import producer
from blackfriday.clients import AwsGateway
from blackfriday.domain import CATALOGUE, validate_order, validation_problems
from blackfriday.errors import UsageProblem
from blackfriday.names import StackNames
from blackfriday.producer.engine import ABANDON_AFTER_CONSECUTIVE_FAILURES, Spike
from blackfriday.producer.pacing import Pacer, shape_rate
from blackfriday.producer.plan import StratifiedPicks, UploadPlan
from blackfriday.producer.report import NAMED_FAILURES, Failure, SpikeReport
from blackfriday.producer.run import SpikeInterrupted, run_spike
from blackfriday.producer.settings import SpikeSettings
from blackfriday.producer.sinks import S3Sink
from blackfriday.producer.view import ProgressView
from blackfriday.ui import Output
from tests.scripts import run_command

ROOT = Path(__file__).resolve().parent.parent
DOORBUSTERS = {product.sku for product in CATALOGUE if product.sku.startswith("DB-")}


def body_kind(body: bytes) -> str:
    try:
        order = json.loads(body)
    except ValueError:
        return "poison"
    return "invalid" if validation_problems(order) else "valid"


# --- Orders and faults: pure functions of (seed, index) -------------------------------------------


def test_the_same_seed_uploads_the_same_bytes_under_the_same_keys_in_any_call_order():
    # GIVEN two plans with one seed and every fault switched on
    first = UploadPlan(seed=42, invalid_rate=0.1, poison_rate=0.05, duplicate_rate=0.1)
    second = UploadPlan(seed=42, invalid_rate=0.1, poison_rate=0.05, duplicate_rate=0.1)
    # WHEN one is asked in order and the other backwards, as racing workers would
    forwards = [first.upload(index) for index in range(300)]
    backwards = [second.upload(index) for index in reversed(range(300))][::-1]
    # THEN every planned upload is identical
    assert forwards == backwards
    # AND another seed gives other orders
    assert UploadPlan(seed=43).upload(0).order_id != forwards[0].order_id


def test_valid_orders_add_up_and_only_the_doorbusters_are_wanted_beyond_their_stock():
    # GIVEN 2,000 orders without injected faults
    plan = UploadPlan(seed=7, invalid_rate=0)
    orders = [json.loads(plan.upload(index).body) for index in range(2000)]
    # THEN every order is valid (known SKUs, positive quantities, total = sum of qty x price), unique, keyed by id
    assert all(validate_order(order) for order in orders)
    assert len({order["orderId"] for order in orders}) == 2000
    # AND the doorbusters, and only they, are asked for more units than they have in stock, so they sell out
    units = Counter()
    for order in orders:
        for item in order["items"]:
            units[item["sku"]] += item["quantity"]
    stock = {product.sku: product.initial_stock for product in CATALOGUE}
    assert {sku for sku in stock if units[sku] > stock[sku]} == DOORBUSTERS


def test_injected_faults_are_exactly_the_rates_claim_and_of_the_kind_they_claim():
    # GIVEN 10,000 orders with 2 % invalid, 1 % poison and 5 % duplicates
    plan = UploadPlan(seed=2026, invalid_rate=0.02, poison_rate=0.01, duplicate_rate=0.05)
    uploads = [plan.upload(index) for index in range(10_000)]
    # THEN the counts are exact
    assert Counter(upload.kind for upload in uploads) == {"valid": 9_700, "invalid": 200, "poison": 100}
    assert sum(upload.duplicate for upload in uploads) == 500
    # AND each body is what its kind says: invalid orders fail validation, poison is not JSON at all
    assert all(body_kind(upload.body) == upload.kind for upload in uploads)
    # AND invalid orders come in every kind a buggy client sends
    problems = " ".join(" ".join(validation_problems(json.loads(u.body))) for u in uploads if u.kind == "invalid")
    assert all(marker in problems for marker in ("unknown SKU", "quantity must be a positive integer", "does not equal"))


@pytest.mark.parametrize("rate", [Fraction(1, 3), Fraction(7, 100), Fraction(1, 1), Fraction(999, 1000)])
@pytest.mark.parametrize("seed", [1, 99])
def test_stratified_picks_count_floor_or_one_more_of_n_times_rate_for_every_prefix(rate, seed):
    # GIVEN a pick stream
    picks = StratifiedPicks(UploadPlan(seed).generator, rate, "test")
    # WHEN counting picks over every prefix of 600 indices
    count = 0
    for n in range(1, 601):
        count += picks.rank(n - 1) is not None
        # THEN each prefix holds floor(n*rate) picks or one more, and exactly n*rate when that is whole
        assert count - int(n * rate) in ((0,) if (n * rate).denominator == 1 else (0, 1)), n


def test_fault_rates_that_are_not_whole_counts_round_to_a_neighbour():
    # GIVEN 333 orders at 2 % invalid and 1 % poison (6.66 and 3.33 orders)
    plan = UploadPlan(seed=5, invalid_rate=0.02, poison_rate=0.01)
    kinds = Counter(plan.kind(index) for index in range(333))
    # THEN the faulty orders are floor or ceil of 9.99, split without stealing from each other
    assert kinds["invalid"] + kinds["poison"] in (9, 10)
    assert kinds["poison"] in (3, 4) and kinds["invalid"] in (6, 7)


# --- Pacing ---------------------------------------------------------------------------------------


class FakeTime:
    """A clock and a stop event whose waits advance the clock instead of sleeping."""

    def __init__(self):
        self.now = 0.0

    def clock(self):
        return self.now

    def wait(self, seconds):
        self.now += seconds
        return False

    def is_set(self):
        return False


def release_times(total, rate, shape):
    fake = FakeTime()
    pacer = Pacer(total, rate, shape, clock=fake.clock)
    times = []
    for index in range(total):
        assert pacer.wait_turn(index, fake)
        times.append(round(fake.now, 6))
    return times


def test_shapes_give_the_rate_the_help_text_promises():
    assert [shape_rate("steady", 100, f) for f in (0, 0.5, 0.99)] == [100, 100, 100]
    assert [shape_rate("ramp", 100, f) for f in (0, 0.5, 1)] == pytest.approx([10, 55, 100])
    assert [shape_rate("burst", 100, f) for f in (0, 0.19, 0.2, 0.9)] == [100, 100, 25, 25]


def test_pacer_releases_orders_on_the_shaped_schedule():
    # steady 10/s: one order every 0.1 s
    assert release_times(5, 10, "steady") == [0.0, 0.1, 0.2, 0.3, 0.4]
    # burst 10/s over 10 orders: the first 2 (a fifth) at 10/s, then 2.5/s
    assert release_times(10, 10, "burst")[:5] == [0.0, 0.1, 0.2, 0.6, 1.0]
    # no rate: everything at once
    assert release_times(3, 0, "steady") == [0.0, 0.0, 0.0]


def test_pacer_that_fell_behind_catches_up_at_most_one_second_of_backlog():
    # GIVEN a 4/s pacer whose submitter stalled for 5 s after the first order
    fake = FakeTime()
    pacer = Pacer(100, 4, "steady", clock=fake.clock)
    pacer.wait_turn(0, fake)
    fake.now = 5.0
    # WHEN it continues
    released_without_waiting = 0
    for index in range(1, 100):
        before = fake.now
        pacer.wait_turn(index, fake)
        if fake.now > before:
            break
        released_without_waiting += 1
    # THEN only one second of backlog (4 orders) goes out at once with the order due now, not 20
    assert released_without_waiting == 5


def test_a_set_stop_ends_the_wait_at_once():
    stop = threading.Event()
    stop.set()
    assert Pacer(10, 1, "steady").wait_turn(0, stop) is False


# --- On screen ----------------------------------------------------------------------------------


def test_without_a_terminal_progress_is_a_plain_line_every_five_seconds():
    # GIVEN output that is not a terminal and a clock under the test's control
    out = Output()
    out.human = Console(file=io.StringIO(), width=200)
    fake = FakeTime()
    report = SpikeReport(orders=1000, seed=1, destination={"bucket": "b"}, uploaded=200, failed=1, failed_orders=1)
    with ProgressView(out, 1000, clock=fake.clock) as view:
        # WHEN it is updated often over 12 seconds
        for tick in range(121):
            fake.now = tick / 10
            view.update(report)
    # THEN it printed at 5 s and 10 s only, with done/total, orders/s, failures and the ETA
    assert out.human.file.getvalue().splitlines() == [
        "uploaded 200/1,000 orders, 40 orders/s, 1 failed, ETA 20s",
        "uploaded 200/1,000 orders, 20 orders/s, 1 failed, ETA 40s",
    ]


# --- Settings -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"orders": 0}, "--orders must be at least 1, got 0"),
        ({"concurrency": 0}, "--concurrency must be between 1 and 512, got 0"),
        ({"rate": float("nan")}, "--rate must be a non-negative number of orders per second, got nan"),
        ({"rate": float("inf")}, "--rate must be a non-negative number of orders per second, got inf"),
        ({"duplicate_rate": float("nan")}, "--duplicate-rate must be between 0 and 1, got nan"),
        ({"invalid_rate": 0.6, "poison_rate": 0.5}, "--invalid-rate 0.6 and --poison-rate 0.5 add up to more than 1"),
        ({"shape": "spiky"}, "--shape must be one of steady, ramp, burst, got 'spiky'"),
    ],
)
def test_settings_reject_what_click_cannot_see(overrides, message):
    with pytest.raises(UsageProblem) as raised:
        SpikeSettings(**{"orders": 10, "seed": 1, **overrides})
    assert str(raised.value) == message


# --- The engine with any sink (the transport is one send call) ----------------------------------


class RecordingSink:
    """A sink that keeps what it is sent, refusing the keys it is told to."""

    def __init__(self, refuse: frozenset[str] = frozenset(), on_send=lambda sent: None):
        self.destination = {"bucket": "memory"}
        self.refuse = refuse
        self.on_send = on_send
        self.sent: list[str] = []
        self.lock = threading.Lock()

    def send(self, order):
        if order.key in self.refuse:
            raise ConnectionError(f"refused {order.key}")
        with self.lock:
            self.sent.append(order.key)
            self.on_send(len(self.sent))


def test_the_engine_sends_every_planned_order_through_any_sink_and_each_duplicate_twice():
    # GIVEN a sink that is not S3 at all, and a plan with duplicates
    settings = SpikeSettings(orders=60, seed=9, concurrency=4, duplicate_rate=0.1)
    plan = UploadPlan(seed=9, duplicate_rate=0.1)
    sink = RecordingSink()
    # WHEN the spike runs through it
    report = Spike(sink, settings).run()
    # THEN it got each planned order once, and the planned duplicates a second time
    expected = Counter({plan.upload(index).key: 2 if plan.upload(index).duplicate else 1 for index in range(60)})
    assert Counter(sink.sent) == expected
    assert (report.uploaded, report.duplicates, report.failed) == (60, 6, 0)
    assert report.as_json()["bucket"] == "memory"


def test_a_send_that_raises_is_a_named_failure_of_that_order():
    plan = UploadPlan(seed=2)
    refused = plan.upload(7).key
    report = Spike(RecordingSink(refuse=frozenset({refused})), SpikeSettings(orders=20, seed=2, concurrency=2)).run()
    assert (report.uploaded, report.failed, report.failed_orders) == (19, 1, 1)
    assert report.failures == [Failure(refused, f"ConnectionError: refused {refused}")]


def test_ctrl_c_during_run_spike_ends_in_a_keyboard_interrupt_carrying_the_report():
    # GIVEN a spike whose fifth send brings a Ctrl-C (SIGINT to this process)
    out = Output()
    out.human = Console(file=io.StringIO(), width=200)
    sink = RecordingSink(on_send=lambda sent: sent == 5 and signal.raise_signal(signal.SIGINT))
    # WHEN it runs / THEN it stops submitting, finishes what is in flight and raises SpikeInterrupted
    with pytest.raises(SpikeInterrupted) as raised:
        run_spike(sink, SpikeSettings(orders=1000, seed=1, concurrency=2), out)
    report = raised.value.report
    assert isinstance(raised.value, KeyboardInterrupt)  # what the CLI turns into "Interrupted." and exit 130
    assert report.interrupted and 5 <= report.uploaded == len(sink.sent) < 1000
    assert "Producer run" in out.human.file.getvalue()  # the summary was shown first


def test_the_cli_layer_turns_a_spike_interrupted_into_exit_130():
    import click

    from blackfriday.cli import PipelineCommand

    @click.command(cls=PipelineCommand)
    def interrupted():
        raise SpikeInterrupted(SpikeReport(orders=10, seed=1, destination={"bucket": "b"}, uploaded=3))

    result = run_command(interrupted)
    assert (result.exit_code, result.stdout, result.stderr) == (130, "", "Interrupted.\n")


# --- producer.py bad input (before anything is touched) ------------------------------------------


def invoke_producer(*args):
    return run_command(producer.main, *args)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--orders", "0"], "Error: Invalid value for '--orders': 0 is not in the range x>=1."),
        (["--invalid-rate", "1.5"], "Error: Invalid value for '--invalid-rate': 1.5 is not in the range 0<=x<=1."),
        (["--poison-rate", "-0.1"], "Error: Invalid value for '--poison-rate': -0.1 is not in the range 0<=x<=1."),
        (["--duplicate-rate", "2"], "Error: Invalid value for '--duplicate-rate': 2.0 is not in the range 0<=x<=1."),
        (["--rate", "-5"], "Error: Invalid value for '--rate': -5.0 is not in the range x>=0."),
        (["--rate", "nan"], "Error: --rate must be a non-negative number of orders per second, got nan"),
        (["--concurrency", "0"], "Error: Invalid value for '--concurrency': 0 is not in the range 1<=x<=512."),
        (["--shape", "burst"], "Error: --shape burst needs --rate: without a cap the orders go out as fast as possible"),
        (
            ["--invalid-rate", "0.7", "--poison-rate", "0.4"],
            "Error: --invalid-rate 0.7 and --poison-rate 0.4 add up to more than 1",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, message):
    # GIVEN an endpoint that does not exist: bad input must be caught before any call
    result = invoke_producer("--endpoint-url", "http://127.0.0.1:9", *args)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == message + "\n"


# --- Against the emulator (real HTTP, real threads) ----------------------------------------------


def create_orders_bucket(gateway: AwsGateway) -> str:
    bucket = StackNames(gateway.target.prefix, gateway.account_id, gateway.region).bucket
    gateway.client("s3").create_bucket(Bucket=bucket)
    return bucket


def target_args(target):
    return ["--endpoint-url", target.endpoint_url, "--prefix", target.prefix, "--region", target.region]


def objects_in(s3, bucket):
    paginator = s3.get_paginator("list_objects_v2")
    return [item["Key"] for page in paginator.paginate(Bucket=bucket) for item in page.get("Contents", [])]


def drain_events(sqs, queue_url):
    """ObjectCreated events per key (the S3 test event left out)."""
    events = Counter()
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            for record in json.loads(message["Body"]).get("Records", []):
                events[urllib.parse.unquote(record["s3"]["object"]["key"])] += 1
        sqs.delete_message_batch(
            QueueUrl=queue_url, Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)]
        )
    return events


def notify_queue(gateway, bucket) -> str:
    sqs = gateway.client("sqs")
    queue_url = sqs.create_queue(QueueName=f"{gateway.target.prefix}-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    gateway.client("s3").put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={"QueueConfigurations": [{"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}]},
    )
    return queue_url


@pytest.mark.emulator
def test_json_counts_match_the_objects_and_events_in_the_bucket(emulator_gateway):
    # GIVEN an orders bucket whose ObjectCreated events land in a queue
    bucket = create_orders_bucket(emulator_gateway)
    queue_url = notify_queue(emulator_gateway, bucket)
    s3 = emulator_gateway.client("s3")
    before_ms = time.time_ns() // 10**6
    # WHEN 200 orders go up with every fault switched on
    result = invoke_producer(
        *target_args(emulator_gateway.target), "--orders", "200", "--seed", "11", "--concurrency", "8",
        "--invalid-rate", "0.05", "--poison-rate", "0.02", "--duplicate-rate", "0.1", "--json",
    )  # fmt: skip
    after_ms = time.time_ns() // 10**6
    # THEN it succeeds and its counts are exactly the rates
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert {key: report[key] for key in ("orders", "uploaded", "failed", "invalid", "poison", "duplicates", "seed", "bucket")} == {
        "orders": 200, "uploaded": 200, "failed": 0, "invalid": 10, "poison": 4, "duplicates": 20, "seed": 11, "bucket": bucket,
    }  # fmt: skip
    assert report["orders_per_second"] > 0 and report["seconds"] > 0
    # AND the bucket holds one object per order, under orders/<2 hex>/<orderId>.json, of the kinds reported
    keys = objects_in(s3, bucket)
    assert len(keys) == 200
    assert all(key.startswith("orders/") and len(key.split("/")[1]) == 2 and key.endswith(".json") for key in keys)
    kinds = Counter()
    for key in keys:
        stored = s3.get_object(Bucket=bucket, Key=key)
        kinds[body_kind(stored["Body"].read())] += 1
        # AND each carries its upload time for the consumer's latency figures
        assert before_ms <= int(stored["Metadata"]["uploaded-at"]) <= after_ms
    assert kinds == {"valid": 186, "invalid": 10, "poison": 4}
    # AND each duplicate made a second ObjectCreated event for the same key
    events = drain_events(emulator_gateway.client("sqs"), queue_url)
    assert sum(events.values()) == 220
    assert Counter(events.values()) == {1: 180, 2: 20}
    assert set(events) == set(keys)


class RawBody:
    def __init__(self, body):
        self.body = body

    def stream(self, **kwargs):
        yield self.body


def refusing_gateway(refusals: dict[str, int], status: int, code: str) -> type[AwsGateway]:
    """An AwsGateway class whose S3 client gets `status`/`code` for the first refusals[key] PUTs of each key.

    The answer replaces the HTTP exchange, so botocore's retry policy handles it as it would S3's own.
    """

    class RefusingGateway(AwsGateway):
        attempts: Counter = Counter()

        def client(self, service):
            client = super().client(service)
            if service == "s3" and not getattr(client, "refusing", False):
                client.meta.events.register("before-send.s3.PutObject", answer)
                client.refusing = True
            return client

    lock = threading.Lock()

    def answer(request, **kwargs):
        key = urllib.parse.unquote(urllib.parse.urlsplit(request.url).path).split("/", 2)[2]
        with lock:
            RefusingGateway.attempts[key] += 1
            if RefusingGateway.attempts[key] > refusals.get(key, 0):
                return None  # let the request through to the emulator
        body = f"<Error><Code>{code}</Code><Message>refused by the test</Message></Error>".encode()
        return AWSResponse(request.url, status, {}, RawBody(body))

    return RefusingGateway


ALWAYS = 10**9


@pytest.mark.emulator
def test_an_upload_that_still_fails_is_counted_named_and_exits_1(emulator_gateway, monkeypatch):
    # GIVEN a bucket that refuses two of the orders for good
    bucket = create_orders_bucket(emulator_gateway)
    plan = UploadPlan(seed=3)
    refused = {plan.upload(4).key, plan.upload(17).key}
    monkeypatch.setattr(producer, "AwsGateway", refusing_gateway(dict.fromkeys(refused, ALWAYS), 403, "AccessDenied"))
    # WHEN 40 orders go up
    result = invoke_producer(*target_args(emulator_gateway.target), "--orders", "40", "--seed", "3", "--json")
    # THEN the run exits 1 with one line, and the JSON names each key with its error
    assert result.exit_code == 1
    assert result.stderr.endswith("\nError: 2 upload(s) failed after retries; they are named in the summary\n")
    report = json.loads(result.stdout)
    assert (report["uploaded"], report["failed"]) == (38, 2)
    assert sorted((failure["key"], failure["error"]) for failure in report["failures"]) == sorted(
        (key, "PutObject failed: AccessDenied: refused by the test") for key in refused
    )
    # AND the summary table names them to a person too
    assert all(key in result.stderr for key in refused)
    # AND the bucket holds exactly the others
    assert set(objects_in(emulator_gateway.client("s3"), bucket)) == {plan.upload(i).key for i in range(40)} - refused


@pytest.mark.emulator
def test_throttled_uploads_are_retried_by_the_client_and_succeed(emulator_gateway):
    # GIVEN S3 answering 503 SlowDown to the first PUT of three orders
    bucket = create_orders_bucket(emulator_gateway)
    plan = UploadPlan(seed=8)
    throttled = {plan.upload(index).key for index in (1, 2, 3)}
    gateway = refusing_gateway(dict.fromkeys(throttled, 1), 503, "SlowDown")(emulator_gateway.target)
    # WHEN 20 orders go up through the engine
    report = Spike(S3Sink(gateway.client("s3"), bucket), SpikeSettings(orders=20, seed=8, concurrency=4)).run()
    # THEN none failed, each throttled key took exactly two attempts, the others one
    assert (report.uploaded, report.failed, report.failures) == (20, 0, [])
    assert Counter(gateway.attempts.values()) == {1: 17, 2: 3}
    assert {key for key, attempts in gateway.attempts.items() if attempts == 2} == throttled
    assert len(objects_in(gateway.client("s3"), bucket)) == 20


@pytest.mark.emulator
def test_a_broken_bucket_stops_the_run_instead_of_failing_every_order(emulator_gateway):
    # GIVEN a bucket that refuses every order
    bucket = create_orders_bucket(emulator_gateway)
    plan = UploadPlan(seed=4)
    refusals = {plan.upload(index).key: ALWAYS for index in range(1000)}
    gateway = refusing_gateway(refusals, 403, "AccessDenied")(emulator_gateway.target)
    # WHEN 1,000 orders are attempted
    report = Spike(S3Sink(gateway.client("s3"), bucket), SpikeSettings(orders=1000, seed=4, concurrency=4)).run()
    # THEN it gives up after 50 failures in a row (plus those already in flight), naming the first 50
    assert report.abandoned and report.uploaded == 0
    assert ABANDON_AFTER_CONSECUTIVE_FAILURES <= report.failed == report.submitted < 1000
    assert len(report.failures) == NAMED_FAILURES


@pytest.mark.emulator
def test_a_stop_lets_in_flight_uploads_finish_and_reports_exactly_those(emulator_gateway):
    # GIVEN a run that is asked to stop once 25 orders are handed out
    bucket = create_orders_bucket(emulator_gateway)
    stop = threading.Event()

    def stop_at_25(report):
        if report.submitted >= 25:
            stop.set()

    # WHEN it runs
    spike = Spike(S3Sink(emulator_gateway.client("s3"), bucket), SpikeSettings(orders=1000, seed=6, concurrency=8))
    report = spike.run(stop, stop_at_25)
    # THEN it stopped submitting (orders queued but not started are not sent), and every order it counts
    # is in the bucket and nothing else
    assert report.interrupted
    assert 0 < report.uploaded == report.submitted <= 25
    assert len(objects_in(emulator_gateway.client("s3"), bucket)) == report.uploaded


@pytest.mark.emulator
def test_ctrl_c_exits_130_without_a_traceback_after_reporting_what_was_uploaded(emulator_gateway):
    # GIVEN producer.py uploading slowly
    bucket = create_orders_bucket(emulator_gateway)
    s3 = emulator_gateway.client("s3")
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "BF_"))}
    process = subprocess.Popen(
        [sys.executable, "producer.py", *target_args(emulator_gateway.target), "--orders", "1000", "--rate", "20", "--json"],
        cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    # WHEN Ctrl-C arrives once orders are landing
    deadline = time.monotonic() + 30
    while not objects_in(s3, bucket) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    # THEN it exits 130 with one line, no traceback, and its JSON matches the bucket
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert stderr.endswith("Interrupted.\n")
    report = json.loads(stdout)
    assert report["interrupted"] is True
    assert 0 < report["uploaded"] < 1000
    assert report["uploaded"] == len(objects_in(s3, bucket))


@pytest.mark.emulator
def test_a_stack_without_its_bucket_is_exit_2_telling_to_run_setup_infra(emulator_target, emulator_gateway):
    # GIVEN a prefix nobody set up
    bucket = StackNames(emulator_target.prefix, emulator_gateway.account_id, emulator_target.region).bucket
    # WHEN the producer is asked to upload
    result = invoke_producer(*target_args(emulator_target), "--orders", "5")
    # THEN one line, exit 2, before anything is uploaded
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"Error: the orders bucket {bucket} does not exist (prefix {emulator_target.prefix!r}): run `python setup_infra.py` first\n"
    )
