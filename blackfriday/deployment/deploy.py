"""Plan, then apply: what a run would do to each resource of the manifest (read-only calls), then doing it.

The plan walks the manifest in dependency order and asks each resource's operations what exists and what
differs; apply converges exactly the resources the plan found missing or different, in the same order.
Each step is idempotent, so a run interrupted anywhere (Ctrl-C) leaves a stack the next run completes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from blackfriday.errors import RunFailure
from blackfriday.manifest import ApprovalSettings, Manifest
from blackfriday.names import StackNames
from blackfriday.resources import awslambda, iam, stepfunctions
from blackfriday.resources.awslambda import Function
from blackfriday.resources.base import Action, CannotConverge, Change
from blackfriday.resources.cloudwatch import ALERTS_TOPIC
from blackfriday.resources.iam import Role
from blackfriday.resources.kinds import ABSENT, Artefacts, Context, operations
from blackfriday.resources.sns import EmailSubscription
from blackfriday.resources.stepfunctions import StateMachine
from blackfriday.stack_declaration import STACK
from blackfriday.target import Target

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EMULATOR_ACCOUNT = "123456789012"  # the account the local emulator (moto) serves
NOTIFIED_TOPICS = (ALERTS_TOPIC, "topic:approvals")  # what --notify-email subscribes the address to: alarms, and big orders to review


@dataclass(frozen=True)
class Sources:
    """Where the deployed code comes from: handlers, the ASL file, and the root holding the `blackfriday` package."""

    root: Path
    lambdas_dir: Path
    asl_path: Path

    @classmethod
    def project(cls) -> Sources:
        return cls(PROJECT_ROOT, PROJECT_ROOT / "lambdas", PROJECT_ROOT / "statemachine" / "order_processing.asl.json")

    def handler(self, short_name: str) -> Path:
        path = self.lambdas_dir / f"{short_name}.py"
        if not path.is_file():
            raise RunFailure(f"the handler of Lambda {short_name} is missing: expected {path}")
        return path


def prepare(names: StackNames, sources: Sources, manifest: Manifest = STACK) -> Artefacts:
    """Package every function, render the ASL, write every role's policy: no AWS call."""
    zips = {
        function.spec.short_name: awslambda.build_zip(awslambda.package_files(sources.handler(function.spec.short_name), sources.root))
        for function in manifest.of(Function)
    }
    if not sources.asl_path.is_file():
        raise RunFailure(f"the workflow definition is missing: expected {sources.asl_path}")
    definition = stepfunctions.render_definition(sources.asl_path, manifest.placeholder_values(names))
    policies = {}
    for role in manifest.of(Role):
        needs = manifest[role.grants_for]
        if isinstance(needs, StateMachine):
            policies[role.key] = stepfunctions.workflow_policy(names, definition)
        else:
            grants = [(grant.actions, manifest.grant_arn(grant, names)) for grant in needs.spec.grants]
            policies[role.key] = iam.function_policy(grants, manifest[needs.log_group].arn(names))
    return Artefacts(zips, definition, policies)


def speaks_tls(target: Target) -> bool:
    """A TLS-only bucket policy on a plain-HTTP endpoint (the local emulator) would deny every request."""
    return target.endpoint_url is None or target.endpoint_url.startswith("https://")


@dataclass(frozen=True)
class Step:
    """What a run would do to one resource: `problem` says why it cannot be converged at all."""

    key: str
    change: Change
    problem: str | None = None

    def to_json(self) -> dict:
        return {**self.change.to_json(), "action": self.change.action.planned, "problem": self.problem}


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]

    @property
    def changes(self) -> list[Step]:
        return [step for step in self.steps if step.change.action is not Action.UNCHANGED]

    @property
    def problems(self) -> list[str]:
        return [step.problem for step in self.steps if step.problem]

    def check(self) -> None:
        """Stop before anything is touched when a resource cannot be converged."""
        if self.problems:
            raise CannotConverge("; ".join(self.problems))

    def counts(self) -> dict[str, int]:
        return {action.planned: sum(step.change.action is action for step in self.steps) for action in Action}


class Deployment:
    """One stack (a manifest under a prefix) on one target, its local artefacts prepared."""

    def __init__(self, gateway, names: StackNames, manifest: Manifest, artefacts: Artefacts, tls_only: bool = True):
        self.context = Context(gateway, names, manifest, artefacts, tls_only)

    @classmethod
    def prepare(
        cls,
        gateway,
        names: StackNames,
        sources: Sources | None = None,
        notify_email: str | None = None,
        manifest: Manifest = STACK,
        approval: ApprovalSettings | None = None,
    ) -> Deployment:
        if approval is not None:
            manifest = manifest.with_approval(approval)
        if notify_email:
            # the address hears of every alarm and is the reviewer of big orders
            manifest = manifest.plus(
                *(EmailSubscription(key=f"email:{topic}:{notify_email}", topic=topic, address=notify_email) for topic in NOTIFIED_TOPICS)
            )
        artefacts = prepare(names, sources or Sources.project(), manifest)
        return cls(gateway, names, manifest, artefacts, tls_only=gateway is None or speaks_tls(gateway.target))

    def _step(self, resource, action: Action, differences=(), problem: str | None = None) -> Step:
        shown = resource.shown_name(self.context.manifest, self.context.names)
        return Step(resource.key, Change(resource.kind, shown, action, tuple(differences)), problem)

    def plan(self) -> Plan:
        """Each resource's action from read-only calls: create, update (with what differs) or unchanged."""
        steps = []
        for resource in self.context.manifest:
            try:
                steps.append(self._planned(resource))
            except CannotConverge as problem:
                steps.append(self._step(resource, Action.UNCHANGED, problem=str(problem)))
        return Plan(tuple(steps))

    def _planned(self, resource) -> Step:
        kind = operations(resource)
        current = kind.read(self.context, resource)
        if current is ABSENT:
            return self._step(resource, Action.CREATED)
        differences = kind.differences(self.context, resource, current)
        return self._step(resource, Action.UPDATED if differences else Action.UNCHANGED, differences)

    def plan_for_empty_account(self) -> Plan:
        """The plan without asking anything: every resource is created (a local emulator that is not running starts empty)."""
        return Plan(tuple(self._step(resource, Action.CREATED) for resource in self.context.manifest))

    def apply(self, plan: Plan, report: Callable[[Change], None] = lambda change: None) -> list[Change]:
        """Converge what the plan found missing or different, in its order; returns (and reports) each resource's action."""
        plan.check()
        changes = []
        for step in plan.steps:
            change = step.change
            if change.action is not Action.UNCHANGED:
                resource = self.context.manifest[step.key]
                change = Change(change.kind, change.name, operations(resource).apply(self.context, resource), change.differences)
            changes.append(change)
            report(change)
        return changes


def deploy(
    gateway,
    names: StackNames,
    sources: Sources | None = None,
    notify_email: str | None = None,
    report: Callable[[Change], None] = lambda change: None,
    manifest: Manifest = STACK,
    approval: ApprovalSettings | None = None,
) -> list[Change]:
    """Plan, then converge every resource; returns (and reports as it goes) each resource's action."""
    deployment = Deployment.prepare(gateway, names, sources, notify_email, manifest, approval)
    return deployment.apply(deployment.plan(), report)
