"""What every kind of resource shares to be read, compared, applied, deleted and found again, and the registry.

Every kind has one Operations object, registered by `@operates_on(Kind)` above its class. `read` and
`differences` make read-only calls (Describe, Get, List, Head): they are the plan. `apply` converges one
resource through its module's ensure_* function, `delete` removes it (not-found is done) and `remaining` lists
what of a kind still exists. A kind's dataclass, its operations and its service calls live together in
blackfriday/resources/<service>.py (as RestApi, the order API's front door, in apigateway.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from blackfriday.manifest import Manifest, Resource
from blackfriday.names import StackNames
from blackfriday.resources.base import Action

ABSENT = None  # what `read` returns for a resource that does not exist


@dataclass(frozen=True)
class Artefacts:
    """What setup computes from local files before any AWS call: a broken file stops the run untouched."""

    zips: dict[str, bytes]  # function short name -> deployment package
    definition: str  # the rendered ASL
    policies: dict[str, dict]  # role key -> its only inline policy


@dataclass
class Context:
    """One stack on one target: what every operation needs."""

    gateway: object
    names: StackNames
    manifest: Manifest
    artefacts: Artefacts | None = None  # only setup has them
    tls_only: bool = True  # a TLS-only bucket policy (never on a plain-HTTP endpoint: it would deny every request)
    sleep: Callable[[float], None] = time.sleep  # every wait of a run (retries, deletes settling): tests pass their own

    def client(self, service: str):
        return self.gateway.client(service)

    def name(self, key: str) -> str:
        return self.manifest[key].name(self.names)

    def arn(self, key: str) -> str:
        return self.manifest[key].arn(self.names)

    def label(self, resource: Resource) -> str:
        return self.manifest.label(resource, self.names)


@dataclass(frozen=True)
class Listing:
    """One paginated list call, and how to read a resource name from an item of its answer."""

    service: str
    operation: str
    items_key: str
    name_of: Callable[[object], str]
    arguments: Callable[[StackNames], dict] = lambda names: {}


class Operations:
    noun: str | None = None  # how describe_stack names a missing one; None: describe_stack does not need it
    deletable = True  # False: it goes with the resource it belongs to
    listing: Listing | None = None

    def read(self, context: Context, resource) -> object | None:
        """The resource's current state (read-only), ABSENT when it does not exist."""
        raise NotImplementedError

    def differences(self, context: Context, resource, current) -> list[str]:
        """What apply would change on the existing resource (read-only); CannotConverge when it must not."""
        return []

    def apply(self, context: Context, resource) -> Action:
        raise NotImplementedError

    def delete(self, context: Context, resource) -> list[str]:
        """What was deleted (none when it did not exist or goes with its owner)."""
        return []

    def remaining(self, context: Context, resources: list) -> list[str]:
        if self.listing is None:
            return []
        owned = {resource.name(context.names) for resource in resources}
        kind = resources[0].kind
        pages = context.client(self.listing.service).get_paginator(self.listing.operation).paginate(**self.listing.arguments(context.names))
        return [
            f"{kind} {name}" for page in pages for name in map(self.listing.name_of, page.get(self.listing.items_key, [])) if name in owned
        ]


def reported_deletion(resource: Resource, name: str, existed: bool) -> list[str]:
    """What a delete reports: the resource, when it existed."""
    return [f"{resource.kind} {name}"] if existed else []


# Filled as each kind's module is imported: a resource of a kind exists only once its module (and so its operations) is loaded.
OPERATIONS: dict[type[Resource], Operations] = {}


def operates_on(*kinds: type[Resource]):
    """Register the decorated Operations class (one object, shared by the kinds given) as how those kinds are handled."""

    def register(operations_class: type[Operations]) -> type[Operations]:
        shared = operations_class()
        for kind in kinds:
            OPERATIONS[kind] = shared
        return operations_class

    return register


def operations(resource: Resource) -> Operations:
    return OPERATIONS[type(resource)]
