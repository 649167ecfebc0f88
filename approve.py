"""The reviewer's desk: list the big orders waiting for a person, approve or reject one, or let the demo policy decide.

    python approve.py                                   the waiting orders, the longest waiting first
    python approve.py approve ORDER_ID
    python approve.py reject ORDER_ID --reason TEXT
    python approve.py --auto [--until-idle SECONDS]     approve most, reject a few, until nothing waits

A decision that cannot be made is one line and exit 1, naming why: unknown order, already decided (by whom),
never needed approval, or expired.
"""

import getpass
from datetime import datetime, timezone

import click

from blackfriday import approvals
from blackfriday.cli import PipelineCommand, json_option, target_options
from blackfriday.clients import AwsGateway
from blackfriday.deployment.stack import describe_stack
from blackfriday.errors import UsageProblem
from blackfriday.names import StackNames
from blackfriday.ui import Output


def duration_text(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {seconds:02d}s"


def items_text(items: dict[str, int]) -> str:
    return ", ".join(f"{sku} x{units}" for sku, units in sorted(items.items()))


@click.command(cls=PipelineCommand)
@target_options
@json_option
@click.argument("decision", required=False, type=click.Choice(approvals.DECISIONS))
@click.argument("order_id", required=False)
@click.option("--reason", metavar="TEXT", default="", help="Why (required to reject): the customer's failure reason says it.")
@click.option(
    "--reviewer", metavar="NAME", default=getpass.getuser, show_default="your login name", help="Who decides, recorded on the order."
)
@click.option(
    "--auto", is_flag=True, help="Decide every waiting order by the demo policy (approves most, rejects one in ten) until none waits."
)
@click.option(
    "--until-idle",
    metavar="SECONDS",
    type=click.FloatRange(min=0),
    default=0.0,
    help="With --auto: keep watching until nothing has waited for SECONDS (beside a running consumer).",
)
def main(target, as_json, decision, order_id, reason, reviewer, auto, until_idle):
    """List the orders waiting for approval, or approve / reject one."""
    if auto and decision:
        raise UsageProblem("--auto decides every waiting order: give no decision with it")
    if decision and not order_id:
        raise UsageProblem(f"{decision} needs an ORDER_ID")
    if decision == approvals.REJECT and not reason.strip():
        raise UsageProblem("reject needs --reason TEXT: the customer is told why")
    if until_idle and not auto:
        raise UsageProblem("--until-idle goes with --auto")
    out = Output(as_json)
    gateway = AwsGateway(target)
    gateway.check_reachable()
    info = describe_stack(gateway, StackNames(target.prefix, gateway.account_id, target.region))
    sfn, dynamodb, orders_table = gateway.client("stepfunctions"), gateway.client("dynamodb"), info.tables["orders"]
    if auto:
        review = approvals.review_automatically(
            sfn, dynamodb, orders_table, idle_seconds=until_idle, on_decision=lambda outcome: report(out, outcome)
        )
        if as_json:
            out.emit_json(review.to_json())
        else:
            out.say(
                f"auto-review done: {review.approved} approved, {review.rejected} rejected, {review.refused} already decided or expired"
            )
    elif decision:
        made = approvals.decide(sfn, dynamodb, orders_table, order_id, decision, reviewer, reason)
        if as_json:
            out.emit_json(made.to_json())
        else:
            report(out, made)
    else:
        show_waiting(out, approvals.waiting_orders(dynamodb, orders_table))


def report(out: Output, outcome) -> None:
    if out.as_json:
        return
    if isinstance(outcome, approvals.ApprovalRefused):
        out.say(f"[yellow]{outcome}[/yellow]")
        return
    verb = (
        "approved: it is charged and completed next"
        if outcome.decision == approvals.APPROVE
        else f"rejected ({outcome.reason}): its stock is released"
    )
    out.say(f"order {outcome.order_id} {verb}")


def show_waiting(out: Output, waiting: list[approvals.WaitingOrder]) -> None:
    now = datetime.now(timezone.utc)
    if out.as_json:
        out.emit_json({"waiting": [order.to_json(now) for order in waiting]})
        return
    rows = [
        (
            order.order_id,
            order.customer_id,
            f"${order.total_cents / 100:,.2f}",
            items_text(order.items),
            duration_text(order.waiting_seconds(now)),
            duration_text(max(0.0, (order.expires_at - now).total_seconds())) if order.expires_at else "-",
        )
        for order in waiting
    ]
    out.table(f"Orders waiting for approval: {len(waiting)}", ("order", "customer", "total", "items", "waiting", "expires in"), rows)
    if waiting:
        out.say("Decide: python approve.py approve ORDER_ID  |  python approve.py reject ORDER_ID --reason TEXT")


if __name__ == "__main__":
    main()
