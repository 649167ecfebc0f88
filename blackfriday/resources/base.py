"""What every resource module shares: the action an ensure_* reports, policy documents, bounded retries."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TypeVar

from botocore.exceptions import ClientError

from blackfriday.errors import RunFailure

POLICY_VERSION = "2012-10-17"
T = TypeVar("T")


class Action(str, Enum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"

    def __str__(self) -> str:
        return self.value

    @property
    def planned(self) -> str:
        """As a plan says it, before it happens: create, update, unchanged."""
        return {Action.CREATED: "create", Action.UPDATED: "update", Action.UNCHANGED: "unchanged"}[self]


class CannotConverge(RunFailure):
    """A resource exists in a shape setup must not change (another key schema, another stack's redrive target, ...)."""


def combined(first: Action, *others: Action) -> Action:
    """One action for a resource converged in steps: created wins, then any update."""
    if first is Action.CREATED:
        return Action.CREATED
    return Action.UPDATED if Action.UPDATED in (first, *others) else Action.UNCHANGED


@dataclass(frozen=True)
class Change:
    kind: str  # e.g. "sqs queue"
    name: str  # e.g. "blackfriday-ShippingQueue"
    action: Action
    differences: tuple[str, ...] = ()  # what an update changes: "code hash", "ASL", "attributes: VisibilityTimeout", ...

    @property
    def resource(self) -> str:
        return f"{self.kind} {self.name}"

    def to_json(self) -> dict:
        return {"resource": self.resource, "action": self.action.value, "differences": list(self.differences)}


def policy(*statements: dict) -> dict:
    return {"Version": POLICY_VERSION, "Statement": list(statements)}


def as_document(value: str | dict | None) -> dict | None:
    """A policy as AWS returns it (JSON text or already parsed) as a dict, for comparison."""
    if value is None or value == "":
        return None
    return json.loads(value) if isinstance(value, str) else value


def same_policy(current: str | dict | None, desired: dict) -> bool:
    return normalized(as_document(current)) == normalized(desired)


def normalized(document):
    """AWS may turn a one-element list into a scalar and reorder lists; compare modulo both."""
    if isinstance(document, dict):
        return {key: normalized(value) for key, value in document.items()}
    if isinstance(document, list):
        items = [normalized(item) for item in document]
        if len(items) == 1:
            return items[0]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    return document


def retry_while(
    call: Callable[[], T],
    retryable: Callable[[ClientError], bool],
    *,
    sleep: Callable[[float], None],
    attempts: int = 10,
    first_delay: float = 1.0,
    max_delay: float = 10.0,
) -> T:
    """Call until it stops failing with a retryable error (IAM propagation, deletes in progress), at most `attempts` times,
    sleeping (the run's `Context.sleep`) between attempts."""
    delay = first_delay
    for _ in range(attempts - 1):
        try:
            return call()
        except ClientError as error:
            if not retryable(error):
                raise
        sleep(delay)
        delay = min(delay * 2, max_delay)
    return call()
