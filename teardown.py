"""Remove everything setup_infra.py created for a prefix; --plan lists what that would delete.

Exit codes with --plan: 0 nothing would be deleted, 3 something would, 2 a usage or configuration problem.
"""

import click

from blackfriday.cli import PipelineCommand, confirm_on_aws, json_option, target_options, yes_option
from blackfriday.clients import AwsGateway
from blackfriday.deployment.remove import remaining_after_settling, removal_plan, remove_stack
from blackfriday.emulator import lifecycle
from blackfriday.errors import RunFailure
from blackfriday.names import StackNames
from blackfriday.ui import Output

EXIT_PLAN_HAS_CHANGES = 3


def show_removal_plan(out: Output, as_json: bool, target) -> None:
    """List what teardown would delete, from read-only calls; exit 3 when that is anything, else 0."""
    if target.is_local and lifecycle.status() is None:
        out.say(f"No local emulator answers at {target.endpoint_url}: nothing to remove.")
        planned = []
    else:
        gateway = AwsGateway(target)
        gateway.check_reachable()
        out.say(f"Target: {target.describe()}")
        planned = removal_plan(gateway, StackNames(target.prefix, gateway.account_id, target.region))
    if as_json:
        out.emit_json({"delete": planned})
    elif planned:
        out.table("Teardown would delete", ("Resource",), ((resource,) for resource in planned))
        out.say(f"{len(planned)} resources to delete, with what they hold (objects, messages, items).")
    else:
        out.say("Nothing of the stack exists.")
    click.get_current_context().exit(EXIT_PLAN_HAS_CHANGES if planned else 0)


@click.command(cls=PipelineCommand)
@target_options
@json_option
@yes_option
@click.option("--keep-emulator", is_flag=True, help="On --target local, leave the emulator running afterwards.")
@click.option(
    "--plan", "plan_only", is_flag=True, help="List what teardown would delete and delete nothing. Exit 0: nothing to delete; 3: something."
)
def main(target, as_json, yes, keep_emulator, plan_only):
    """Remove every resource of the pipeline with this prefix."""
    out = Output(as_json)
    if plan_only:
        show_removal_plan(out, as_json, target)
        return
    deleted, remaining = [], []
    if target.is_local and lifecycle.status() is None:
        out.say(f"No local emulator answers at {target.endpoint_url}: nothing to remove.")
    else:
        gateway = AwsGateway(target)
        gateway.check_reachable()
        names = StackNames(target.prefix, gateway.account_id, target.region)
        confirm_on_aws(out, target, gateway.account_id, f"delete every resource of the stack {target.prefix!r}", yes)
        out.say(f"Target: {target.describe()}")
        with out.human.status("Removing the stack...") as progress:
            deleted = remove_stack(gateway, names, report=lambda resource: progress.update(f"deleted {resource}"))
            progress.update("Checking that nothing of the stack remains...")
            remaining = remaining_after_settling(gateway, names)
        if target.is_local and not keep_emulator and lifecycle.stop():
            out.say(f"Stopped the local emulator at {target.endpoint_url}.")
    if as_json:
        out.emit_json({"deleted": deleted, "remaining": remaining})
    else:
        if deleted:
            out.table("Deleted", ("Resource",), ((resource,) for resource in deleted))
        out.say(f"Deleted {len(deleted)} resources." if deleted else "Nothing of the stack existed.")
    if remaining:
        raise RunFailure(f"{len(remaining)} resources remain: {', '.join(remaining)}")
    out.say(f"Nothing with prefix {target.prefix!r} remains.")


if __name__ == "__main__":
    main()
