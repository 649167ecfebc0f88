"""The manifest's model: resources as data (kind, name from the prefix, configuration, dependencies), checked and ordered.

Setup walks a manifest in dependency order, teardown in the reverse order; the remaining-check, describe_stack,
the Lambda environments, the ASL placeholders and the IAM grants all derive from it. A resource's `key` is
how everything else refers to it: `${topic:order_events}` in the ASL file, `Grant(..., "table:orders")` in
functions.py, `dead_letter_queue="queue:shipping_dlq"` in the stack's declaration (blackfriday/stack_declaration.py).
This module knows no kind: each is a Resource subclass in its service's module, blackfriday/resources/<service>.py,
beside its operations and its service calls.
"""

from __future__ import annotations

import graphlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import ClassVar, TypeVar

from blackfriday.domain import DEFAULT_APPROVAL_THRESHOLD_CENTS, DEFAULT_APPROVAL_TIMEOUT_SECONDS
from blackfriday.names import StackNames


@dataclass(frozen=True, kw_only=True)
class Resource:
    """One resource of the stack. `kind` is how setup and teardown name it to the user."""

    kind: ClassVar[str]
    key: str

    def name(self, names: StackNames) -> str:
        raise NotImplementedError

    def arn(self, names: StackNames) -> str:
        raise NotImplementedError(f"{self.kind} {self.key} has no ARN known from its name")

    def reference(self, names: StackNames) -> str:
        """What `${key}` in the ASL and an environment variable naming this resource stand for."""
        return self.arn(names)

    def depends_on(self, manifest: Manifest) -> tuple[str, ...]:
        """Keys of the resources that must exist first (this one names them)."""
        return ()

    def shown_name(self, manifest: Manifest, names: StackNames) -> str:
        """The name setup and teardown show: its own name; what connects two resources shows what it connects."""
        return self.name(names)


R = TypeVar("R", bound=Resource)


@dataclass(frozen=True)
class ApprovalSettings:
    """When a person must approve an order, and how long the workflow waits (setup_infra.py options).

    They reach the workflow as ReserveInventory's environment (it answers needsApproval and the wait), so a
    change shows in the plan as an update of that function."""

    threshold_cents: int = DEFAULT_APPROVAL_THRESHOLD_CENTS
    timeout_seconds: int = DEFAULT_APPROVAL_TIMEOUT_SECONDS

    def environment(self) -> dict[str, str]:
        return {"APPROVAL_THRESHOLD_CENTS": str(self.threshold_cents), "APPROVAL_TIMEOUT_SECONDS": str(self.timeout_seconds)}


class Manifest:
    """The resources of a stack, checked (unique keys, known references, no cycle) and in dependency order,
    and the settings its functions read from their environment."""

    def __init__(self, resources: Iterable[Resource], approval: ApprovalSettings = ApprovalSettings()):
        self.resources = tuple(resources)
        self.approval = approval
        self.ordered = self.resources  # until sorted below: dependencies may look resources up by kind
        self._by_key: dict[str, Resource] = {}
        for resource in self.resources:
            if resource.key in self._by_key:
                raise ValueError(f"the manifest declares {resource.key!r} twice")
            self._by_key[resource.key] = resource
        for resource in self.resources:
            unknown = [key for key in resource.depends_on(self) if key not in self._by_key]
            if unknown:
                raise ValueError(f"{resource.key} depends on {', '.join(unknown)}, which the manifest does not declare")
        self.ordered = self._dependency_order()

    def _dependency_order(self) -> tuple[Resource, ...]:
        """Every resource after what it depends on; otherwise in the order declared."""
        sorter = graphlib.TopologicalSorter({resource.key: resource.depends_on(self) for resource in self.resources})
        try:
            sorter.prepare()
        except graphlib.CycleError as error:
            raise ValueError(f"the manifest's dependencies form a cycle: {' -> '.join(error.args[1])}") from None
        position = {resource.key: index for index, resource in enumerate(self.resources)}
        ordered: list[Resource] = []
        ready: list[str] = []
        while sorter.is_active():
            ready = sorted([*ready, *sorter.get_ready()], key=position.__getitem__)
            key = ready.pop(0)
            ordered.append(self._by_key[key])
            sorter.done(key)
        return tuple(ordered)

    def __iter__(self) -> Iterator[Resource]:
        return iter(self.ordered)

    def __getitem__(self, key: str) -> Resource:
        return self._by_key[key]

    def of(self, kind: type[R]) -> list[R]:
        """Every resource of a kind, in dependency order."""
        return [resource for resource in self.ordered if isinstance(resource, kind)]

    def plus(self, *resources: Resource) -> Manifest:
        return Manifest((*self.resources, *resources), self.approval)

    def with_approval(self, approval: ApprovalSettings) -> Manifest:
        return Manifest(self.resources, approval)

    def label(self, resource: Resource, names: StackNames) -> str:
        return f"{resource.kind} {resource.shown_name(self, names)}"

    def placeholder_values(self, names: StackNames) -> dict[str, str]:
        """What each `${key}` of an ASL file stands for: every resource that has a reference, and `${partition}`
        (a service integration is written `arn:${partition}:states:::sns:publish`)."""
        values = {"partition": names.partition}
        for resource in self.resources:
            try:
                values[resource.key] = resource.reference(names)
            except NotImplementedError:
                continue
        return values

    def environment_values(self, names: StackNames) -> dict[str, str]:
        """Every environment variable a resource declares, with the name or ARN it carries into Lambdas, and the settings."""
        return {
            **{resource.environment: resource.reference(names) for resource in self.resources if getattr(resource, "environment", None)},
            **self.approval.environment(),
        }

    def grant_arn(self, grant, names: StackNames) -> str:
        if grant.unscoped:
            return "*"
        if grant.executions:
            return self[grant.resource].executions_arn(names)
        return self[grant.resource].arn(names) + grant.path
