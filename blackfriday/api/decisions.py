"""POST /orders/{orderId}/approval's body: a reviewer's decision read and checked (400 naming each problem, 413 over
64 KB) before blackfriday.approvals.decide makes it. blackfriday.api.routes' decide_approval is its route."""

from __future__ import annotations

import json

from blackfriday import approvals
from blackfriday.api.refusals import Rejected, check_body_size, shape_problems

DECISION_FIELDS = {"decision": str, "reason": str, "reviewer": str}
DECISION_REQUIRED = ("decision",)
API_REVIEWER = "order-api"  # who decided, when the request does not say
MAX_REVIEWER_CHARS = 64


def parse_decision(body: bytes) -> dict:
    """{"decision", "reason", "reviewer"} checked (400 naming each problem), else Rejected."""
    check_body_size(body)
    try:
        decision = json.loads(body or b"null")
    except ValueError as error:
        raise Rejected(400, f"request body is not valid JSON: {error}") from None
    problems = shape_problems(decision, DECISION_FIELDS, DECISION_REQUIRED)
    if not problems:
        if decision["decision"] not in approvals.DECISIONS:
            problems.append(f"decision must be one of {', '.join(approvals.DECISIONS)}, got {decision['decision'][:40]!r}")
        elif decision["decision"] == approvals.REJECT and not decision.get("reason", "").strip():
            problems.append("reason is required to reject: the customer is told why")
        if len(decision.get("reviewer", "")) > MAX_REVIEWER_CHARS:
            problems.append(f"reviewer is longer than {MAX_REVIEWER_CHARS} characters")
    if problems:
        raise Rejected(400, problems)
    return decision
