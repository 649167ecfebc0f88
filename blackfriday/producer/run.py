"""A whole spike as producer.py runs it: progress, the summary, --json, and how the run ends.

The run ends in an exception whenever the CLI must not exit 0: RunFailure for failed sends (exit 1),
SpikeInterrupted for a Ctrl-C (exit 130, like any KeyboardInterrupt).
"""

from __future__ import annotations

from blackfriday.errors import RunFailure
from blackfriday.producer.engine import ABANDON_AFTER_CONSECUTIVE_FAILURES, Spike, stop_on_interrupt
from blackfriday.producer.report import SpikeReport
from blackfriday.producer.settings import SpikeSettings
from blackfriday.producer.sinks import OrderSink
from blackfriday.producer.view import ProgressView, show_summary
from blackfriday.ui import Output


class SpikeInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped the spike after its in-flight orders finished; `report` says what was sent.

    A KeyboardInterrupt, so whoever runs the spike treats it as any Ctrl-C (the CLI exits 130): a
    script chaining `producer.py && consumer.py` must see a cut-short spike."""

    def __init__(self, report: SpikeReport):
        super().__init__(f"stopped at Ctrl-C: {report.uploaded:,} of {report.orders:,} orders sent")
        self.report = report


def run_spike(sink: OrderSink, settings: SpikeSettings, out: Output) -> SpikeReport:
    """Send the spike through `sink` with progress on `out`, then show the summary (and --json)."""
    spike = Spike(sink, settings)
    with stop_on_interrupt() as stop, ProgressView(out, settings.orders) as view:
        report = spike.run(stop, view.update)
    show_summary(out, report)
    if out.as_json:
        out.emit_json(report.as_json())
    if report.interrupted:
        out.warn(f"Stopped at Ctrl-C: {report.uploaded:,} of {report.orders:,} orders uploaded, the rest not sent.")
        raise SpikeInterrupted(report)
    if report.abandoned:
        raise RunFailure(
            f"stopped after {ABANDON_AFTER_CONSECUTIVE_FAILURES} uploads in a row failed "
            f"({report.failures[-1].error if report.failures else 'no error recorded'})"
        )
    if report.failed:
        raise RunFailure(f"{report.failed} upload(s) failed after retries; they are named in the summary")
    return report
