"""A snapshot of the running pipeline, one order's journey, or a check of the design's invariants."""

import click

from blackfriday.approvals import EXPIRED_ERROR, REJECTED_ERROR
from blackfriday.cli import PipelineCommand, json_option, target_options
from blackfriday.clients import AwsGateway
from blackfriday.deployment.stack import describe_stack
from blackfriday.domain import DECLINE_PER_MILLE
from blackfriday.errors import RunFailure
from blackfriday.fulfillment import repair_releases
from blackfriday.functions import FUNCTION_SPECS
from blackfriday.names import StackNames
from blackfriday.observability import order_log_lines
from blackfriday.status import order_journey, snapshot
from blackfriday.ui import Output
from blackfriday.verify import verify

# What a customer was told, for the reasons the workflow records (the errorName of a FAILED order).
FAILURE_MEANINGS = {
    "OutOfStock": "an item had sold out when the order came to reserve it (doorbusters first)",
    "PaymentDeclined": f"the card was declined (the simulated gateway declines about {DECLINE_PER_MILLE / 10:g} %)",
    "ValidationError": "the order was invalid (unknown SKU, bad quantity or total): the producer's --invalid-rate",
    REJECTED_ERROR: "a reviewer rejected the big order (approve.py reject, or one in ten by the demo policy)",
    EXPIRED_ERROR: "no reviewer decided before the approval timed out",
}


@click.command(cls=PipelineCommand)
@target_options
@json_option
@click.option("--order", "order_id", metavar="ORDER_ID", help="Show one order's journey through the pipeline.")
@click.option("--verify", "check", is_flag=True, help="Check the four invariants; exit 1 naming every one that fails.")
@click.option("--repair", is_flag=True, help="Give back the stock still held by FAILED orders whose release failed (each once).")
def main(target, as_json, order_id, check, repair):
    """Show queue depths, orders and executions by status, and the hottest SKUs' stock."""
    if sum(map(bool, (order_id, check, repair))) > 1:
        raise click.UsageError("--order, --verify and --repair cannot be combined")
    out = Output(as_json)
    gateway = AwsGateway(target)
    gateway.check_reachable()
    names = StackNames(target.prefix, gateway.account_id, target.region)
    info = describe_stack(gateway, names)
    if check:
        report_invariants(out, verify(gateway, names, info))
    elif repair:
        returned = repair_releases(gateway.client("dynamodb"), info.tables["inventory"], info.tables["orders"])
        if out.as_json:
            out.emit_json(returned)
        else:
            out.say(f"gave back the reservations of {len(returned)} FAILED order(s): {returned}")
    elif order_id:
        journey = order_journey(gateway, names, info, order_id)
        groups = [names.log_group(spec.short_name) for spec in FUNCTION_SPECS]
        report_journey(out, {**journey, "log_lines": order_log_lines(gateway.client("logs"), groups, order_id)})
    else:
        report_snapshot(out, snapshot(gateway, info))


def report_snapshot(out, state):
    if out.as_json:
        return out.emit_json(state)
    out.table(
        "Queues",
        ("queue", "visible", "in flight", "DLQ"),
        [(name, depth["visible"], depth["in_flight"], depth.get("dlq", "-")) for name, depth in state["queues"].items()],
    )
    out.table("Orders by status", ("status", "orders"), state["orders"].items() or [("(none yet)", 0)])
    if state["failed_by_reason"]:
        out.table(
            "Why orders failed",
            ("reason", "orders", "what it means"),
            [
                (reason, count, FAILURE_MEANINGS.get(reason, "see python status.py --order ID"))
                for reason, count in state["failed_by_reason"].items()
            ],
        )
    out.table("Executions by status", ("status", "executions"), state["executions"].items())
    if state["awaiting_approval"]:
        out.say(f"{state['awaiting_approval']} order(s) wait for a person's approval (their stock reserved): python approve.py lists them.")
    else:
        out.say("No order waits for approval.")
    out.table(
        "Hottest SKUs",
        ("sku", "initial", "stock", "sold"),
        [(line["sku"], line["initial"], line["stock"], line["sold"]) for line in state["stock"]],
    )


def report_journey(out, journey):
    if out.as_json:
        return out.emit_json(journey)
    if not journey["object"]["uploaded"] and journey["row"] is None and journey["execution"] is None:
        raise RunFailure(f"no order {journey['order_id']} in this stack")
    execution = journey["execution"] or {}
    rows = [
        ("object", journey["object"]["key"] if journey["object"]["uploaded"] else "not uploaded"),
        ("execution", execution.get("status", "never started")),
        ("ended in step", execution.get("last_step") or "-"),
        ("error", execution.get("error") or "-"),
        ("status in Orders", (journey["row"] or {}).get("status", "no row")),
        ("approval", approval_text(journey["row"] or {})),
        ("receipt", "yes" if journey["receipt"] else "no"),
        ("failure reason", journey["failure_reason"] or "-"),
    ]
    out.table(f"Order {journey['order_id']}", ("", ""), rows)
    out.table(
        "Its log lines",
        ("function", "level", "message"),
        [(line["logGroup"].rsplit("/", 1)[-1], line.get("level", ""), line.get("message", "")) for line in journey["log_lines"]],
    )


def approval_text(row: dict) -> str:
    if "decision" in row:
        verb = "approved" if row["decision"] == "approve" else "rejected"
        return f"{verb} by {row['decidedBy']} at {row['decidedAt']}" + (f": {row['decisionReason']}" if row.get("decisionReason") else "")
    if "approvalRequestedAt" in row:
        return f"waiting since {row['approvalRequestedAt']} (expires {row.get('approvalExpiresAt', '-')})"
    return "not needed"


def report_invariants(out, invariants):
    if out.as_json:
        out.emit_json({"holds": all(item.holds for item in invariants), "invariants": [i.to_json() for i in invariants]})
    else:
        for invariant in invariants:
            mark = "[green]holds[/green]" if invariant.holds else "[red]FAILS[/red]"
            out.say(f"{invariant.number}. {invariant.title}: {mark}")
            for problem in invariant.problems:
                out.say(f"   - {problem}")
    failing = [invariant for invariant in invariants if not invariant.holds]
    if failing:
        numbers = ", ".join(f"{invariant.number} ({invariant.title})" for invariant in failing)
        raise RunFailure(f"invariants failing: {numbers}")


if __name__ == "__main__":
    main()
