"""What the order API refuses: `Rejected`, the 4xx a route raises naming each problem (blackfriday.api.routes turns it
into the answer {"message": ..., "problems": [...]}), and the checks both request bodies and the order id in a path share."""

from __future__ import annotations

import re

MAX_BODY_BYTES = 64 * 1024
ORDER_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TYPE_NAMES = {dict: "a JSON object", list: "an array", str: "a string", int: "an integer"}


class Rejected(Exception):
    """A request the API refuses: its status and the problems to name in the answer."""

    def __init__(self, status: int, problems: list[str] | str, headers: dict[str, str] | None = None):
        self.status = status
        self.problems = [problems] if isinstance(problems, str) else problems
        self.headers = headers or {}
        super().__init__("; ".join(self.problems))


def check_body_size(body: bytes) -> None:
    if len(body) > MAX_BODY_BYTES:
        raise Rejected(413, f"request body is {len(body)} bytes; the limit is {MAX_BODY_BYTES}")


def json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return TYPE_NAMES.get(type(value), type(value).__name__)


def shape_problems(value: object, fields: dict[str, type], required: tuple[str, ...], label: str = "") -> list[str]:
    """Missing, unknown and mistyped fields of one JSON object, each prefixed with its label ("item 2: ...")."""
    if not isinstance(value, dict):
        return [f"{label or 'request body'} must be a JSON object, got {json_type(value)}"]
    where = f"{label}: " if label else ""
    problems = [f"{where}missing field {name!r}" for name in required if name not in value]
    problems += [f"{where}unknown field {name!r}" for name in value if name not in fields]
    for name, kind in fields.items():
        if name in value and not (isinstance(value[name], kind) and not isinstance(value[name], bool)):
            problems.append(f"{where}{name} must be {TYPE_NAMES[kind]}, got {json_type(value[name])}")
    return problems


def check_order_id(order_id: str) -> None:
    if not ORDER_ID.match(order_id):
        raise Rejected(400, f"order id must be a UUID like 0f8fad5b-d9cb-469f-a165-70867728950e, got {order_id[:80]!r}")
