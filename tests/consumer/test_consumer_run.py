"""The run loop under mock_aws (analytics pool only: moto's in-process Step Functions does not execute)."""

import os
import signal
import threading
from dataclasses import replace

from blackfriday.consumer.run import Consumer, ConsumerSettings
from blackfriday.domain import make_invalid

ANALYTICS_ONLY = ConsumerSettings(queues=("analytics",), workers=2, wait_seconds=1, visibility_timeout=5)


def test_until_empty_drains_the_queue_then_reports(mock_stack, orders):
    # GIVEN three valid orders, one invalid, the S3 test event and a garbage message on the analytics queue
    for order in orders[:3] + [make_invalid(orders[3], "wrong_total")]:
        mock_stack.send("analytics", mock_stack.upload(order))
    mock_stack.send("analytics", '{"Service": "Amazon S3", "Event": "s3:TestEvent"}')
    mock_stack.send("analytics", "garbage")
    consumer = Consumer(mock_stack.gateway, mock_stack.info, replace(ANALYTICS_ONLY, until_empty=True))

    # WHEN it runs until the queue is empty
    summary = consumer.run()

    # THEN it stopped by itself once the garbage reached the DLQ, with every order counted once
    document = summary.to_json()
    assert document["stopped"] == "until-empty"
    assert {key: document["analytics"][key] for key in ("aggregated", "rejected", "duplicates", "test_events", "errors")} == {
        "aggregated": 3, "rejected": 1, "duplicates": 0, "test_events": 1, "errors": 3,
    }  # fmt: skip
    assert document["dlq"] == {"shipping": 0, "analytics": 1}
    assert document["shipping"]["received"] == 0
    # AND the report it wrote holds the three valid orders
    assert document["report"]["orders"] == 3
    assert document["report"]["rejected"] == 1
    assert document["report"]["key"].startswith("reports/sku-demand-")


def test_sigterm_stops_the_run_cleanly(mock_stack):
    # GIVEN a consumer with nothing to do and no end of its own
    consumer = Consumer(mock_stack.gateway, mock_stack.info, ANALYTICS_ONLY)
    threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGTERM)).start()

    # WHEN SIGTERM arrives / THEN the run returns, says why, and the previous handler is back
    previous = signal.getsignal(signal.SIGTERM)
    summary = consumer.run()
    assert summary.stopped == "SIGTERM"
    assert signal.getsignal(signal.SIGTERM) is previous


def test_duration_ends_the_run(mock_stack):
    consumer = Consumer(mock_stack.gateway, mock_stack.info, replace(ANALYTICS_ONLY, duration=1.5))
    summary = consumer.run()
    assert summary.stopped == "duration"
    assert summary.seconds >= 1.5
