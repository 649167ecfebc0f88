"""Terminal output: rich tables and live views on a terminal, plain lines otherwise, JSON on demand.

With --json, stdout carries exactly one JSON object and everything human goes to stderr.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from rich.console import Console
from rich.table import Table


class Output:
    def __init__(self, as_json: bool = False):
        self.as_json = as_json
        self.stdout = Console(soft_wrap=True)
        self.stderr = Console(stderr=True, soft_wrap=True)
        # Human messages go where they do not corrupt the JSON document.
        self.human = self.stderr if as_json else self.stdout

    @property
    def interactive(self) -> bool:
        """True when a person watches: live progress and dashboards; else plain periodic lines."""
        return self.human.is_terminal

    def say(self, message: str) -> None:
        self.human.print(message, highlight=False)

    def warn(self, message: str) -> None:
        self.stderr.print(f"[yellow]{message}[/yellow]", highlight=False)

    def table(self, title: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
        table = Table(title=title, title_justify="left")
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*(str(cell) for cell in row))
        self.human.print(table)

    def emit_json(self, document: object) -> None:
        print(json.dumps(document, indent=2, sort_keys=False, default=str), flush=True)
