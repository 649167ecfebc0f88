"""The producer on screen: a rich progress bar on a terminal, a plain line every few seconds otherwise, and the summary."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from blackfriday.producer.report import SpikeReport
from blackfriday.ui import Output

PLAIN_PROGRESS_SECONDS = 5.0


class ProgressView:
    """A rich progress bar on a terminal; a plain line every few seconds otherwise."""

    def __init__(self, out: Output, total: int, clock: Callable[[], float] = time.monotonic):
        self.out = out
        self.total = total
        self.clock = clock
        self.started = clock()
        self.last_line = self.started
        self.progress: Progress | None = None

    def __enter__(self):
        if self.out.interactive:
            self.progress = Progress(
                TextColumn("Uploading"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[speed]} orders/s"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[failed]}"),
                console=self.out.human,
            )
            self.progress.start()
            self.task = self.progress.add_task("upload", total=self.total, speed="0", failed="")
        return self

    def __exit__(self, *exc_info):
        if self.progress is not None:
            self.progress.stop()

    def update(self, report: SpikeReport) -> None:
        now = self.clock()
        elapsed = now - self.started
        speed = report.uploaded / elapsed if elapsed > 0 else 0.0
        if self.progress is not None:
            failed = f"[red]{report.failed} failed[/red]" if report.failed else ""
            self.progress.update(self.task, completed=report.finished, speed=f"{speed:,.0f}", failed=failed)
        elif now - self.last_line >= PLAIN_PROGRESS_SECONDS:
            self.last_line = now
            remaining = (self.total - report.finished) / speed if speed else float("inf")
            eta = f"ETA {remaining:,.0f}s" if math.isfinite(remaining) else "ETA unknown"
            self.out.say(f"uploaded {report.uploaded:,}/{self.total:,} orders, {speed:,.0f} orders/s, {report.failed} failed, {eta}")


def show_summary(out: Output, report: SpikeReport) -> None:
    out.table(
        "Producer run",
        ("", "value"),
        (
            ("Orders requested", f"{report.orders:,}"),
            ("Uploaded", f"{report.uploaded:,}"),
            ("  of which invalid", f"{report.invalid:,}"),
            ("  of which poison", f"{report.poison:,}"),
            ("Duplicate re-sends", f"{report.duplicates:,}"),
            *((f"Refused at the door: {kind}", f"{count:,}") for kind, count in sorted(report.refused.items())),
            ("Failed uploads", f"{report.failed:,}"),
            ("Seconds", f"{report.seconds:,.1f}"),
            ("Orders/s", f"{report.orders_per_second:,.1f}"),
            ("Seed", f"{report.seed} (reproduce with --seed {report.seed})"),
            *((name.capitalize(), value) for name, value in report.destination.items()),
        ),
    )
    # One line per failure, never a table cell: a key must stay whole to be searched for.
    for failure in report.failures:
        out.say(f"[red]failed[/red] {escape(failure.key)}: {escape(failure.error)}")
    if report.failed > len(report.failures):
        out.say(f"[red]failed[/red] … and {report.failed - len(report.failures)} more")
