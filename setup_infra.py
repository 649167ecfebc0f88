"""Create or converge every resource of the order pipeline (idempotent); --plan shows what that would do.

Exit codes with --plan (like `terraform plan -detailed-exitcode`): 0 nothing would change, 3 something
would, 1 a resource cannot be converged (named, with the reason), 2 a usage or configuration problem.
"""

import re
from decimal import Decimal, InvalidOperation

import click

from blackfriday.cli import PipelineCommand, confirm_on_aws, json_option, target_options, yes_option
from blackfriday.clients import AwsGateway
from blackfriday.deployment.deploy import EMULATOR_ACCOUNT, Deployment, Plan, speaks_tls
from blackfriday.deployment.stack import describe_stack
from blackfriday.domain import DEFAULT_APPROVAL_THRESHOLD_CENTS, DEFAULT_APPROVAL_TIMEOUT_SECONDS
from blackfriday.emulator import lifecycle
from blackfriday.errors import UsageProblem
from blackfriday.manifest import ApprovalSettings
from blackfriday.names import StackNames
from blackfriday.resources.base import Action
from blackfriday.ui import Output

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ACTION_STYLES = {Action.CREATED: "green", Action.UPDATED: "yellow", Action.UNCHANGED: "dim"}
EXIT_PLAN_HAS_CHANGES = 3
MAX_TASK_TIMEOUT_SECONDS = 365 * 24 * 3600  # Step Functions' limit for a Standard workflow's task


def approval_settings(threshold_dollars: str, timeout_seconds: int) -> ApprovalSettings:
    """--approval-threshold in dollars (whole cents) and --approval-timeout in seconds, checked."""
    try:
        cents = Decimal(threshold_dollars) * 100
    except InvalidOperation:
        raise UsageProblem(f"--approval-threshold {threshold_dollars!r} is not an amount in dollars") from None
    if not cents.is_finite() or cents != cents.to_integral_value() or cents <= 0:
        raise UsageProblem(f"--approval-threshold {threshold_dollars!r} must be a positive amount in whole cents")
    if not 1 <= timeout_seconds <= MAX_TASK_TIMEOUT_SECONDS:
        raise UsageProblem(f"--approval-timeout {timeout_seconds} must be between 1 and {MAX_TASK_TIMEOUT_SECONDS} seconds")
    return ApprovalSettings(threshold_cents=int(cents), timeout_seconds=timeout_seconds)


def start_emulator(out: Output) -> None:
    emulator = lifecycle.ensure_running()
    verb = "Started" if emulator.started else "Using"
    out.say(f"{verb} the local emulator at {emulator.url} (pid {emulator.pid}, log {emulator.log_path}); `python teardown.py` stops it.")


def show_plan(out: Output, plan: Plan) -> None:
    rows = [
        (
            step.change.kind,
            step.change.name,
            "[red]cannot converge[/]" if step.problem else f"[{ACTION_STYLES[step.change.action]}]{step.change.action.planned}[/]",
            step.problem or ", ".join(step.change.differences),
        )
        for step in plan.steps
    ]
    out.table("Plan", ("Kind", "Name", "Action", "Differences"), rows)
    out.say(", ".join(f"{count} to {action}" if action != "unchanged" else f"{count} unchanged" for action, count in plan.counts().items()))


def plan_document(target, names: StackNames, plan: Plan) -> dict:
    return {
        "target": target.kind,
        "endpoint_url": target.endpoint_url,
        "region": target.region,
        "account": names.account,
        "plan": [step.to_json() for step in plan.steps],
        "changes": len(plan.changes),
    }


def run_plan(out: Output, as_json: bool, target, names: StackNames, plan: Plan) -> None:
    """Show the plan; exit 3 when it changes something, 0 when not, 1 (RunFailure) when it cannot converge."""
    if as_json:
        out.emit_json(plan_document(target, names, plan))
    else:
        show_plan(out, plan)
    plan.check()
    click.get_current_context().exit(EXIT_PLAN_HAS_CHANGES if plan.changes else 0)


@click.command(cls=PipelineCommand)
@target_options
@json_option
@yes_option
@click.option(
    "--notify-email",
    metavar="ADDRESS",
    help=(
        "Subscribe ADDRESS to CriticalAlerts (every alarm's action) and to Approvals (big orders to review) "
        "(--target aws; confirm the e-mails AWS sends)."
    ),
)
@click.option(
    "--approval-threshold",
    metavar="DOLLARS",
    default=f"{DEFAULT_APPROVAL_THRESHOLD_CENTS / 100:.2f}",
    show_default=True,
    help="Orders totalling at least this wait for a person (approve.py) before they are charged.",
)
@click.option(
    "--approval-timeout",
    metavar="SECONDS",
    type=int,
    default=DEFAULT_APPROVAL_TIMEOUT_SECONDS,
    show_default=True,
    help="How long an order waits for a decision before it fails ApprovalExpired (its stock released).",
)
@click.option(
    "--plan",
    "plan_only",
    is_flag=True,
    help="Show what setup would do to each resource and change nothing. Exit 0: nothing would change; 3: something would.",
)
def main(target, as_json, yes, notify_email, approval_threshold, approval_timeout, plan_only):
    """Create or converge the Black Friday order pipeline."""
    out = Output(as_json)
    approval = approval_settings(approval_threshold, approval_timeout)
    if notify_email is not None:
        if not target.is_aws:
            raise UsageProblem("--notify-email needs --target aws: the emulator sends no e-mail")
        if not EMAIL_PATTERN.match(notify_email):
            raise UsageProblem(f"--notify-email {notify_email!r} is not an e-mail address")
    if plan_only and target.is_local and lifecycle.status() is None:
        # Planning never starts the emulator; one that is not running holds nothing, so everything would be created.
        out.say(f"No local emulator runs at {target.endpoint_url}: it starts empty, so setup would create every resource.")
        names = StackNames(target.prefix, EMULATOR_ACCOUNT, target.region)
        run_plan(
            out,
            as_json,
            target,
            names,
            Deployment.prepare(None, names, notify_email=notify_email, approval=approval).plan_for_empty_account(),
        )
        return
    if target.is_local and not plan_only:
        start_emulator(out)
    gateway = AwsGateway(target)
    gateway.check_reachable()
    names = StackNames(target.prefix, gateway.account_id, target.region)
    out.say(f"Target: {target.describe()}")
    deployment = Deployment.prepare(gateway, names, notify_email=notify_email, approval=approval)
    with out.human.status("Planning..."):
        plan = deployment.plan()
    if plan_only:
        run_plan(out, as_json, target, names, plan)
        return
    if target.is_aws:
        show_plan(out, plan)
        plan.check()
    confirm_on_aws(out, target, gateway.account_id, f"create or update the stack {target.prefix!r}", yes)
    if not speaks_tls(target):
        out.say("The endpoint speaks plain HTTP: the bucket gets no TLS-only policy (it would deny every request).")
    with out.human.status("Converging the stack...") as progress:
        changes = deployment.apply(plan, report=lambda change: progress.update(f"{change.resource}: {change.action}"))
    info = describe_stack(gateway, names)
    if as_json:
        out.emit_json(
            {
                "target": target.kind,
                "endpoint_url": target.endpoint_url,
                "region": target.region,
                "account": names.account,
                **info.to_json(),
                "changes": [change.to_json() for change in changes],
            }
        )
        return
    rows = [
        (change.kind, change.name, f"[{ACTION_STYLES[change.action]}]{change.action}[/]", ", ".join(change.differences))
        for change in changes
    ]
    out.table("Resources", ("Kind", "Name", "Action", "Differences"), rows)
    counts = {action: sum(change.action is action for change in changes) for action in Action}
    out.say(", ".join(f"{count} {action}" for action, count in counts.items()))
    where = "real AWS" if target.is_aws else target.endpoint_url
    out.say(f"Stack {target.prefix!r} lives on {where}: account {names.account}, region {target.region}.")
    out.say(f"Orders bucket s3://{info.bucket}; workflow {info.state_machine_arn}")
    out.say(f"Order API {info.api_url} (routes: docs/api.md); storefront {info.storefront_url}")
    if notify_email:
        out.say(f"Confirm the subscription in the e-mail AWS sent to {notify_email}.")
    out.say("Next: python producer.py --orders 10000 (or --via api), and python consumer.py")


if __name__ == "__main__":
    main()
