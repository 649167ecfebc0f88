"""Create or converge every resource of the order pipeline (idempotent)."""

import re

import click

from blackfriday.cli import PipelineCommand, confirm_on_aws, json_option, target_options, yes_option
from blackfriday.clients import AwsGateway
from blackfriday.emulator import lifecycle
from blackfriday.errors import UsageProblem
from blackfriday.names import StackNames
from blackfriday.resources.base import Action
from blackfriday.resources.deploy import deploy, speaks_tls
from blackfriday.resources.stack import describe_stack
from blackfriday.ui import Output

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ACTION_STYLES = {Action.CREATED: "green", Action.UPDATED: "yellow", Action.UNCHANGED: "dim"}


def start_emulator(out: Output) -> None:
    emulator = lifecycle.ensure_running()
    verb = "Started" if emulator.started else "Using"
    out.say(f"{verb} the local emulator at {emulator.url} (pid {emulator.pid}, log {emulator.log_path}); `python teardown.py` stops it.")


@click.command(cls=PipelineCommand)
@target_options
@json_option
@yes_option
@click.option("--notify-email", metavar="ADDRESS", help="Subscribe ADDRESS to OrderErrors (--target aws; confirm the e-mail AWS sends).")
def main(target, as_json, yes, notify_email):
    """Create or converge the Black Friday order pipeline."""
    out = Output(as_json)
    if notify_email is not None:
        if not target.is_aws:
            raise UsageProblem("--notify-email needs --target aws: the emulator sends no e-mail")
        if not EMAIL_PATTERN.match(notify_email):
            raise UsageProblem(f"--notify-email {notify_email!r} is not an e-mail address")
    if target.is_local:
        start_emulator(out)
    gateway = AwsGateway(target)
    gateway.check_reachable()
    names = StackNames(target.prefix, gateway.account_id, target.region)
    confirm_on_aws(out, target, gateway.account_id, f"create or update the stack {target.prefix!r}", yes)
    out.say(f"Target: {target.describe()}")
    if not speaks_tls(target):
        out.say("The endpoint speaks plain HTTP: the bucket gets no TLS-only policy (it would deny every request).")
    with out.human.status("Converging the stack...") as progress:
        changes = deploy(gateway, names, notify_email=notify_email, report=lambda change: progress.update(f"{change.resource}: {change.action}"))
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
    rows = [(change.kind, change.name, f"[{ACTION_STYLES[change.action]}]{change.action}[/]") for change in changes]
    out.table("Resources", ("Kind", "Name", "Action"), rows)
    counts = {action: sum(change.action is action for change in changes) for action in Action}
    out.say(", ".join(f"{count} {action}" for action, count in counts.items()))
    where = "real AWS" if target.is_aws else target.endpoint_url
    out.say(f"Stack {target.prefix!r} lives on {where}: account {names.account}, region {target.region}.")
    out.say(f"Orders bucket s3://{info.bucket}; workflow {info.state_machine_arn}")
    if notify_email:
        out.say(f"Confirm the subscription in the e-mail AWS sent to {notify_email}.")
    out.say("Next: python producer.py --orders 10000, and python consumer.py")


if __name__ == "__main__":
    main()
