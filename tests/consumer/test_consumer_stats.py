import io

from rich.console import Console

from blackfriday.consumer.dashboard import Dashboard, RateMeter
from blackfriday.consumer.monitor import QueueDepth
from blackfriday.consumer.stats import POOL_COUNTERS, LatencySample, Pool, PoolStats
from blackfriday.consumer.summary import RunSnapshot
from blackfriday.ui import Output


def test_latency_percentiles_are_exact_nearest_rank_below_capacity():
    sample = LatencySample(capacity=1000)
    for value in range(100, 0, -1):
        sample.add(float(value))
    assert sample.percentiles(50, 95, 100) == (50.0, 95.0, 100.0)
    assert sample.count == 100


def test_latency_memory_stays_bounded_past_capacity():
    sample = LatencySample(capacity=100)
    for value in range(10_000):
        sample.add(float(value))
    assert sample.count == 10_000
    assert len(sample._values) == 100
    p50, p95 = sample.percentiles(50, 95)
    assert 0 <= p50 <= p95 <= 9_999


def test_no_latency_yet_is_none():
    assert LatencySample().percentiles(50, 95) == (None, None)


def test_the_rate_covers_the_last_few_seconds():
    meter = RateMeter()
    assert meter.rate(100.0, 0) == 0.0
    assert meter.rate(101.0, 10) == 10.0
    assert meter.rate(102.0, 30) == 15.0
    # older points drop out of the five-second window, the latest of them kept as its start
    assert meter.rate(110.0, 40) == 10 / 8


def test_pool_stats_count_errors_and_remember_the_last():
    stats = PoolStats(Pool.ANALYTICS)
    stats.add("received", 3)
    stats.error("first")
    stats.error("second")
    stats.hold(10)
    stats.hold(-4)
    assert stats.snapshot() == {"received": 3, "errors": 2}
    assert (stats.last_error, stats.in_hand) == ("second", 6)


def summary(**overrides) -> RunSnapshot:
    counts = {pool: dict.fromkeys(counters, 0) for pool, counters in POOL_COUNTERS.items()}
    counts["shipping"].update(received=12, started=10, duplicates=1, errors=3, processed=11)
    counts["analytics"].update(received=12, aggregated=8, rejected=2, duplicates=1, errors=3, processed=11)
    fields = dict(
        seconds=42.0,
        stopped="",
        workers=4,
        counts=counts,
        in_hand={"shipping": 2, "analytics": 0},
        last_errors={"analytics": "s3://b/orders/aa/x.json is not JSON"},
        executions={"succeeded": 7, "failed": 2, "running": 1, "waiting": 3},
        latency_p50=1.25,
        latency_p95=3.5,
        latency_samples=9,
        queues={"shipping": QueueDepth(5, 2, 0, 1), "analytics": QueueDepth(0, 0, 0, 1)},
        active_pools=("shipping", "analytics"),
    )
    return RunSnapshot(**{**fields, **overrides})


def test_the_plain_line_tells_queues_pools_and_executions():
    line = Dashboard.line(summary(stopped="SIGINT"), {"shipping": 2.0, "analytics": 1.5})
    assert line == (
        "42s | shipping 5 visible/2 in flight/DLQ 1 | analytics 0 visible/0 in flight/DLQ 1 "
        "| shipping 2.0/s started 10 duplicates 1 errors 3 "
        "| analytics 1.5/s aggregated 8 rejected 2 duplicates 1 errors 3 "
        "| executions running 1 waiting 3 succeeded 7 failed 2 p50 1.25s p95 3.50s | stopping (SIGINT)"
    )


def test_the_live_view_shows_every_figure():
    console = Console(record=True, width=200)
    dashboard = Dashboard.__new__(Dashboard)
    dashboard.title = "consumer demo"
    console.print(dashboard.render(summary(), {"shipping": 2.0, "analytics": 1.5}))
    text = console.export_text()
    assert "consumer demo · 42s · 4 worker(s) per pool · running (Ctrl-C stops cleanly)" in text
    assert "10 started" in text and "8 aggregated, 2 rejected" in text
    assert "1.25s" in text and "3.50s" in text
    assert "last analytics error: s3://b/orders/aa/x.json is not JSON" in text


def test_the_json_summary_has_the_documented_keys():
    document = summary(stopped="until-empty").to_json()
    assert document["seconds"] == 42.0
    assert {key: document["shipping"][key] for key in ("received", "started", "duplicates", "errors")} == {
        "received": 12, "started": 10, "duplicates": 1, "errors": 3,
    }  # fmt: skip
    assert {key: document["analytics"][key] for key in ("aggregated", "rejected", "duplicates")} == {
        "aggregated": 8,
        "rejected": 2,
        "duplicates": 1,
    }
    assert document["executions"] == {"succeeded": 7, "failed": 2, "running": 1, "waiting": 3}
    assert document["dlq"] == {"shipping": 1, "analytics": 1}
    assert document["latency"] == {"p50Seconds": 1.25, "p95Seconds": 3.5, "samples": 9}
    assert document["report"] is None


def test_a_tick_off_a_terminal_prints_the_plain_line_of_the_snapshot_it_is_given():
    # GIVEN a dashboard whose output is not a terminal
    out = Output()
    out.human = Console(file=io.StringIO(), width=400)
    with Dashboard(out, live=True, title="consumer demo") as dashboard:
        # WHEN it is handed a snapshot (a value: no consumer behind it)
        dashboard.tick(summary())
    # THEN it prints that snapshot's plain line (no rate yet from a single point)
    assert out.human.file.getvalue() == Dashboard.line(summary(), {"shipping": 0.0, "analytics": 0.0}) + "\n"
