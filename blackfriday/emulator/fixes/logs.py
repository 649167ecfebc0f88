"""CloudWatch Logs: no fix; the Lambda runtime writes each invocation's log lines into moto's logs backend here."""

from __future__ import annotations

from moto.logs.models import LogsBackend, logs_backends

from blackfriday.emulator.fixes.registry import Fingerprint


def put_log_events(account_id: str, region: str, group: str, stream: str, events: list[dict]) -> None:
    """Append the events ({"timestamp": ms, "message": text}) to the stream, creating it and its group if need be."""
    backend = logs_backends[account_id][region]
    backend.ensure_log_group(group)
    backend.ensure_log_stream(group, stream)
    backend.put_log_events(group, stream, events)


FIXES = ()
RELIED_ON = (
    Fingerprint(LogsBackend, "ensure_log_group", "8a46b499c91a96821e270d11471880b22712900a02387678cb4dc15aabd81f19"),
    Fingerprint(LogsBackend, "ensure_log_stream", "3a88c3a9d2cd30d6ffcac35dd64d061f4bdbb1f77e9899119e5ceb4daf88e225"),
    Fingerprint(LogsBackend, "put_log_events", "9413dbc08c425c247e3f79568d04f2043b2a45ca75523ed41a212f50ef58461e"),
)
