"""Every change the emulator makes to moto 5.2.5, in one registry, one module per service.

Each fix replaces or wraps one named moto object (a `Patch`) and records the sha256 of the moto source
it was written against; tests/emulator/test_fixes.py fails when a moto upgrade moves or changes any
target, so the fix gets reviewed instead of silently misbehaving, and `install()` skips (and logs) a
fix whose target changed rather than break the server. `RELIED_ON` fingerprints moto code the fixes
depend on without replacing it.

Three kinds of fix: the emulator's own machinery (the request gate's long poll, Lambdas that really
run), hot spots that make large runs crawl (`hot_spot=True`: the benchmark can leave them out), and
differences from AWS (AWS is right).

`install()` patches the current process (each emulator process); `applied()` does it for the length of
a `with` block and undoes it (tests). A process without Lambda (the messaging process) also gets
`awslambda.in_another_process`: moto's notifications there invoke their functions through Lambda's API.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import logging
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("blackfriday.emulator.fixes")


@dataclass
class Fingerprint:
    """A moto object a fix depends on, and the sha256 of its source when the fix was written (moto 5.2.5)."""

    owner: Any
    name: str
    source_sha256: str

    @property
    def label(self) -> str:
        if inspect.ismodule(self.owner):
            return f"{self.owner.__name__}.{self.name}"
        return f"{self.owner.__module__}.{self.owner.__qualname__}.{self.name}"

    def original(self) -> Any:
        value = inspect.getattr_static(self.owner, self.name)
        return value.fget if isinstance(value, property) else value

    def fingerprinted(self) -> Any:
        return self.original()

    def current_sha256(self) -> str:
        return hashlib.sha256(inspect.getsource(self.fingerprinted()).encode()).hexdigest()


@dataclass
class Patch(Fingerprint):
    """Replace `owner.name` with `build(original)`; for a property, `build` gets and returns the getter.

    `source_of` names the moto code the fingerprint covers when the replaced value is not moto code
    itself (a module a moto module imported); by default it is the replaced object.
    """

    build: Callable[[Any], Any]
    hot_spot: bool = False
    source_of: Any = None
    replaced: list[tuple[Any, str, Any, Any]] = field(default_factory=list)  # (where, name, previous, replacement)

    def fingerprinted(self) -> Any:
        return self.original() if self.source_of is None else self.source_of

    def apply(self) -> None:
        static = inspect.getattr_static(self.owner, self.name)
        original = self.original()
        replacement = self.build(original)
        self.swap(self.owner, property(replacement) if isinstance(static, property) else replacement)
        if inspect.ismodule(self.owner) and inspect.isfunction(original):
            # Modules that did `from module import function` hold their own reference: patch those too.
            for module in moto_modules_holding(self.name, original):
                self.swap(module, replacement)

    def swap(self, where: Any, value: Any) -> None:
        self.replaced.append((where, self.name, where.__dict__[self.name], value))
        setattr(where, self.name, value)

    def undo(self) -> None:
        while self.replaced:
            where, name, previous, replacement = self.replaced.pop()
            setattr(where, name, previous)
            if inspect.ismodule(where) and inspect.isfunction(previous):  # and in modules imported since, which took the replacement
                for module in moto_modules_holding(name, replacement):
                    setattr(module, name, previous)


def moto_modules_holding(name: str, value: Any) -> list[Any]:
    return [
        module
        for module in list(sys.modules.values())
        if getattr(module, "__name__", "").startswith("moto.") and getattr(module, "__dict__", {}).get(name) is value
    ]


# Imported here, not at the top: each service module builds its Patch and Fingerprint entries from the classes above.
from blackfriday.emulator.fixes import awslambda, core, dynamodb, events, s3, sqs, stepfunctions  # noqa: E402

SERVICES = (core, s3, sqs, dynamodb, stepfunctions, awslambda, events)
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
