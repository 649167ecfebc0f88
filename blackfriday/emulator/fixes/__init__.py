"""Every change the emulator makes to moto 5.2.5, in one registry, one module per service (the machinery in `registry`).

Each fix replaces or wraps one named moto object (a `Patch`) and records the sha256 of the moto source
it was written against; tests/emulator/test_fixes.py fails when a moto upgrade moves or changes any
target, so the fix gets reviewed instead of silently misbehaving, and `install()` skips (and logs) a
fix whose target changed rather than break the server. `RELIED_ON` fingerprints moto code the fixes
depend on without replacing it, and the moto code whose shape the emulator's reads and writes of moto's
backends rely on: those happen only in the service modules here (e.g. `apigateway.deployed_api`, `logs.put_log_events`).

Three kinds of fix: the emulator's own machinery (the request gate's long poll, Lambdas that really
run), hot spots that make large runs crawl (`hot_spot=True`: the benchmark can leave them out), and
differences from AWS (AWS is right).

`install()` patches the current process (each emulator process); `applied()` does it for the length of
a `with` block and undoes it (tests). A process without Lambda (the messaging process) also gets
`awslambda.in_another_process`: moto's notifications there invoke their functions through Lambda's API.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from blackfriday.emulator.fixes import apigateway, awslambda, core, dynamodb, events, logs, s3, sqs, stepfunctions
from blackfriday.emulator.fixes.registry import Fingerprint, Patch

log = logging.getLogger("blackfriday.emulator.fixes")

SERVICES = (core, s3, sqs, dynamodb, stepfunctions, awslambda, events, apigateway, logs)
FIXES: tuple[Patch, ...] = tuple(fix for service in SERVICES for fix in service.FIXES)
RELIED_ON: tuple[Fingerprint, ...] = tuple(fingerprint for service in SERVICES for fingerprint in service.RELIED_ON)


# Fixes that depend on the process's place in the emulator's layout, applied by `install` and undone by `undo_all`.
process_fixes: list[Patch] = []


def install(hot_spots: bool = True, lambda_url: str | None = None) -> list[str]:
    """Apply every fix whose target still matches its fingerprint (hot spots only if asked); return the labels applied.

    `lambda_url`: Lambda is served by another process at that URL (the messaging process), where moto's
    notifications must invoke their functions (`awslambda.in_another_process`).
    """
    process_fixes[:] = [awslambda.in_another_process(lambda_url)] if lambda_url else []
    applied_labels = []
    for fix in (*FIXES, *process_fixes):
        if fix.hot_spot and not hot_spots:
            continue
        if fix.current_sha256() != fix.source_sha256:
            log.warning("moto changed %s since this fix was written: left unpatched", fix.label)
            continue
        fix.apply()
        applied_labels.append(fix.label)
    return applied_labels


def undo_all() -> None:
    for fix in reversed((*FIXES, *process_fixes)):
        fix.undo()


@contextlib.contextmanager
def applied(hot_spots: bool = True, lambda_url: str | None = None) -> Iterator[list[str]]:
    try:
        yield install(hot_spots, lambda_url)
    finally:
        undo_all()
