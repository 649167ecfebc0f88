"""Remove every resource of a stack (the manifest in reverse dependency order), and find any that remain.

Only the exact names a prefix derives are touched: `--prefix blackfriday` never removes a
`blackfriday-dev` stack that lives beside it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from blackfriday.manifest import Manifest
from blackfriday.names import StackNames
from blackfriday.resources.kinds import ABSENT, Context, operations
from blackfriday.stack_declaration import STACK

SETTLE_POLLS = 18  # x SETTLE_DELAY_SECONDS: SQS lists a deleted queue for up to 60 s; other lists lag briefly too
SETTLE_DELAY_SECONDS = 5.0


def removal_plan(gateway, names: StackNames, manifest: Manifest = STACK) -> list[str]:
    """What remove_stack would delete, from read-only calls (what goes with its owner is not listed)."""
    context = Context(gateway, names, manifest)
    return [
        context.label(resource)
        for resource in reversed(manifest.ordered)
        if operations(resource).deletable and operations(resource).read(context, resource) is not ABSENT
    ]


def remove_stack(
    gateway, names: StackNames, report: Callable[[str], None] = lambda resource: None, manifest: Manifest = STACK
) -> list[str]:
    """Delete users before what they use; each not-found counts as done. Returns what was deleted."""
    context = Context(gateway, names, manifest)
    deleted: list[str] = []
    for resource in reversed(manifest.ordered):
        for label in operations(resource).delete(context, resource):
            deleted.append(label)
            report(label)
    return deleted


def remaining_resources(gateway, names: StackNames, manifest: Manifest = STACK) -> list[str]:
    """Every resource of the stack that the services' list calls still show."""
    context = Context(gateway, names, manifest)
    by_operations: dict[int, tuple] = {}
    for resource in manifest:
        kind = operations(resource)
        by_operations.setdefault(id(kind), (kind, []))[1].append(resource)
    return [found for kind, resources in by_operations.values() for found in kind.remaining(context, resources)]


def remaining_after_settling(
    gateway, names: StackNames, manifest: Manifest = STACK, sleep: Callable[[float], None] = time.sleep
) -> list[str]:
    """remaining_resources, asked again (bounded) while eventually consistent list calls still show deleted things."""
    remaining = remaining_resources(gateway, names, manifest)
    for _ in range(SETTLE_POLLS):
        if not remaining:
            break
        sleep(SETTLE_DELAY_SECONDS)
        remaining = remaining_resources(gateway, names, manifest)
    return remaining
