"""The order domain, shared by the producer, the Lambdas and the tests. Standard library only.

Money is integer cents so totals add up exactly. An order as uploaded to S3:

    {"orderId": "...", "customer": {"customerId": "...", "email": "..."},
     "items": [{"sku": "...", "quantity": 1, "unitPriceCents": 4999}],
     "currency": "USD", "totalCents": 4999, "paymentMethod": "card", "createdAt": "2026-11-27T00:00:00Z"}
"""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import StrEnum


class OrderStatus(StrEnum):
    """An order's status in the Orders table: RECEIVED -> RESERVED [-> AWAITING_APPROVAL -> RESERVED] -> PAID -> COMPLETED,
    or FAILED."""

    RECEIVED = "RECEIVED"  # validated and recorded
    RESERVED = "RESERVED"  # its stock is held
    AWAITING_APPROVAL = "AWAITING_APPROVAL"  # a big order: its stock is held while a person decides
    PAID = "PAID"  # charged
    COMPLETED = "COMPLETED"  # receipt written: a final status
    FAILED = "FAILED"  # with a reason, anything reserved released and a charge refunded: a final status


FINAL_STATUSES = frozenset({OrderStatus.COMPLETED, OrderStatus.FAILED})

CURRENCY = "USD"
ORDERS_PREFIX = "orders/"
RECEIPTS_PREFIX = "receipts/"
REPORTS_PREFIX = "reports/"
PAYMENT_METHODS = ("card", "paypal", "apple_pay", "google_pay")


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    price_cents: int
    initial_stock: int
    popularity: float  # relative weight among the doorbusters, or among the regular products
    max_per_order: int = 3
    doorbuster: bool = False  # scarce and wanted by DOORBUSTER_SHARE of the orders: it sells out early, visibly


# A few scarce doorbusters, in one order out of DOORBUSTER_SHARE, sell out early in any spike (a cart
# holding one that is gone fails whole, OutOfStock); the regular products are stocked for a 10,000-order
# spike (a quarter or more left at its end). tests/test_domain.py simulates the outcome: 76 % complete.
CATALOGUE: tuple[Product, ...] = (
    Product("DB-TV-65", "65in OLED TV (doorbuster)", 49900, 20, 30.0, max_per_order=1, doorbuster=True),
    Product("DB-CONSOLE", "Game console bundle (doorbuster)", 29900, 30, 28.0, max_per_order=1, doorbuster=True),
    Product("DB-LAPTOP", "14in laptop (doorbuster)", 39900, 15, 22.0, max_per_order=1, doorbuster=True),
    Product("DB-EARBUDS", "Noise-cancelling earbuds (doorbuster)", 7900, 60, 20.0, max_per_order=2, doorbuster=True),
    Product("HP-SMARTWATCH", "Smartwatch", 19900, 5800, 12.0),
    Product("HP-TABLET", "10in tablet", 24900, 5200, 10.0),
    Product("HP-SPEAKER", "Smart speaker", 3900, 5000, 9.0),
    Product("HP-VACUUM", "Robot vacuum", 17900, 4400, 8.0),
    Product("KT-AIRFRYER", "Air fryer", 6900, 4000, 7.0),
    Product("KT-BLENDER", "High-speed blender", 8900, 3000, 5.0),
    Product("KT-COFFEE", "Espresso machine", 15900, 2400, 4.0),
    Product("HM-BLANKET", "Weighted blanket", 4900, 2200, 3.5),
    Product("HM-LAMP", "Smart lamp", 2900, 2000, 3.0),
    Product("TY-DRONE", "Camera drone", 12900, 1800, 3.0),
    Product("TY-BLOCKS", "Building blocks set", 5900, 1600, 2.5),
    Product("AP-JACKET", "Winter jacket", 9900, 1600, 2.5),
    Product("AP-SNEAKERS", "Running sneakers", 7900, 2000, 2.0),
    Product("BK-BESTSELLER", "Bestselling novel", 1499, 5000, 1.5),
    Product("GC-50", "Gift card 50", 5000, 100000, 1.0),
    Product("SP-YOGAMAT", "Yoga mat", 2500, 3000, 1.0),
)
PRODUCTS: dict[str, Product] = {product.sku: product for product in CATALOGUE}


class OrderError(Exception):
    """A business error; its class name is the error name Step Functions Retry/Catch match on."""


class BusinessRejection(OrderError):
    """A final business outcome, not a fault: the step returns it (see fulfillment.rejection) instead of failing,
    so Lambda's Errors metric and the fault alarms count faults only."""


class ValidationError(BusinessRejection):
    pass


class OutOfStock(BusinessRejection):
    pass


class PaymentDeclined(BusinessRejection):
    pass


class PaymentGatewayTimeout(OrderError):
    """Transient: the workflow retries it with backoff."""


class InventoryBusy(OrderError):
    """Transient: DynamoDB cancelled the stock transaction for a conflicting concurrent one; retried with backoff."""


class OrderStateConflict(OrderError):
    """The order's record forbids this step (e.g. charging an order that was never reserved)."""


def order_total_cents(items: list[dict]) -> int:
    return sum(item["quantity"] * item["unitPriceCents"] for item in items)


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validation_problems(order: object) -> list[str]:
    """Everything wrong with an order, in words a support agent can read; empty when valid."""
    if not isinstance(order, dict):
        return ["order is not a JSON object"]
    problems = []
    if not isinstance(order.get("orderId"), str) or not order.get("orderId"):
        problems.append("orderId missing")
    customer = order.get("customer")
    if not isinstance(customer, dict) or not customer.get("customerId") or "@" not in str(customer.get("email", "")):
        problems.append("customer needs customerId and a valid email")
    if order.get("currency") != CURRENCY:
        problems.append(f"currency must be {CURRENCY}")
    items = order.get("items")
    if not isinstance(items, list) or not items:
        return problems + ["items must be a non-empty list"]
    for position, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            problems.append(f"item {position} is not an object")
            continue
        sku = item.get("sku")
        product = PRODUCTS.get(sku)
        if product is None:
            problems.append(f"item {position}: unknown SKU {sku!r}")
        quantity = item.get("quantity")
        if not _is_count(quantity) or quantity < 1:
            problems.append(f"item {position}: quantity must be a positive integer, got {quantity!r}")
        price = item.get("unitPriceCents")
        if not _is_count(price) or price < 0:
            problems.append(f"item {position}: unitPriceCents must be a non-negative integer")
        elif product is not None and price != product.price_cents:
            problems.append(f"item {position}: price {price} does not match catalogue price {product.price_cents}")
    if not problems:
        expected = order_total_cents(items)
        if order.get("totalCents") != expected:
            problems.append(f"totalCents {order.get('totalCents')!r} does not equal the items' sum {expected}")
    return problems


def validate_order(order: object) -> dict:
    """Return the order when valid; raise ValidationError naming every problem otherwise."""
    problems = validation_problems(order)
    if problems:
        raise ValidationError("; ".join(problems))
    return order


def units_by_sku(order: dict) -> dict[str, int]:
    """Units per SKU; an order listing a SKU twice reserves the sum."""
    units: dict[str, int] = {}
    for item in order["items"]:
        units[item["sku"]] = units.get(item["sku"], 0) + item["quantity"]
    return units


# --- Review by a person ------------------------------------------------------------------------

DEFAULT_APPROVAL_THRESHOLD_CENTS = 100_000  # $1,000: an order at or over it waits for a reviewer
DEFAULT_APPROVAL_TIMEOUT_SECONDS = 24 * 3600  # a decision not made within a day fails the order ApprovalExpired
AUTO_REJECT_PER_MILLE = 100  # the demo reviewer (approve.py --auto) rejects one order in ten


def needs_approval(order: dict, threshold_cents: int) -> bool:
    return order["totalCents"] >= threshold_cents


def auto_review(order_id: str) -> bool:
    """The demo reviewer's decision, a pure function of the order id: True approves (most), False rejects (a few)."""
    return _order_hash(order_id, "review") % 1000 >= AUTO_REJECT_PER_MILLE


# --- S3 keys ---------------------------------------------------------------------------------


def order_key(order_id: str) -> str:
    """orders/<2 hex chars>/<orderId>.json: 256 key prefixes that real S3 can partition (3,500 PUT/s each)."""
    shard = hashlib.sha256(order_id.encode()).hexdigest()[:2]
    return f"{ORDERS_PREFIX}{shard}/{order_id}.json"


def order_id_from_key(key: str) -> str:
    if not key.startswith(ORDERS_PREFIX) or not key.endswith(".json"):
        raise ValueError(f"not an order key: {key!r}")
    return key.rsplit("/", 1)[-1][: -len(".json")]


def receipt_key(order_id: str) -> str:
    return f"{RECEIPTS_PREFIX}{order_id}.json"


# --- Payment gateway simulation ---------------------------------------------------------------

DECLINE_PER_MILLE = 40  # 4 % of orders are declined
FLAKY_PER_MILLE = 40  # 4 % first hit a gateway timeout...
FLAKY_FAILED_ATTEMPTS = 1  # ...on their first attempt only, so a retry completes them


def _order_hash(order_id: str, purpose: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{purpose}:{order_id}".encode()).digest()[:8], "big")


def payment_outcome(order_id: str) -> str:
    """'declined', 'flaky' or 'approved': a pure function of the order id, the same on every run."""
    bucket = _order_hash(order_id, "payment") % 1000
    if bucket < DECLINE_PER_MILLE:
        return "declined"
    if bucket < DECLINE_PER_MILLE + FLAKY_PER_MILLE:
        return "flaky"
    return "approved"


def payment_id(order_id: str) -> str:
    return f"pay_{_order_hash(order_id, 'payment-id'):016x}"


def authorize_payment(order_id: str, amount_cents: int, attempt: int) -> str:
    """The simulated gateway: return the payment id, or raise PaymentDeclined / PaymentGatewayTimeout.

    `attempt` counts from 0 (Step Functions' $$.State.RetryCount), so a flaky order fails its first
    FLAKY_FAILED_ATTEMPTS attempts and then succeeds, as a gateway that timed out would on retry.
    """
    outcome = payment_outcome(order_id)
    if outcome == "declined":
        raise PaymentDeclined(f"card declined by issuer for order {order_id} ({amount_cents} cents)")
    if outcome == "flaky" and attempt < FLAKY_FAILED_ATTEMPTS:
        raise PaymentGatewayTimeout(f"payment gateway timed out for order {order_id} (attempt {attempt + 1})")
    return payment_id(order_id)


# --- The Black Friday demand mix --------------------------------------------------------------

BLACK_FRIDAY_MIDNIGHT = datetime(2026, 11, 27, tzinfo=timezone.utc)
_FIRST_NAMES = ("ana", "ben", "chloe", "dev", "emma", "femi", "gus", "hana", "ivan", "jun", "kai", "lena")
_LAST_NAMES = ("smith", "nguyen", "garcia", "muller", "rossi", "tanaka", "okafor", "silva", "kim", "dubois")
DOORBUSTER_SHARE = 0.2  # orders that want one doorbuster, besides their regular items
_ITEM_COUNT_WEIGHTS = {1: 45, 2: 30, 3: 15, 4: 7, 5: 3}  # regular items per order
INVALID_KINDS = ("unknown_sku", "zero_quantity", "wrong_total")


def _pick(rng: random.Random, products: list[Product]) -> str:
    return rng.choices(products, weights=[product.popularity for product in products])[0].sku


class OrderGenerator:
    """Deterministic orders for a seed: order(i) is the same for the same (seed, i), in any order of calls."""

    def __init__(self, seed: int):
        self.seed = seed
        self._doorbusters = [product for product in CATALOGUE if product.doorbuster]
        self._regulars = [product for product in CATALOGUE if not product.doorbuster]

    def rng(self, index: int, purpose: str = "order") -> random.Random:
        return random.Random(f"{self.seed}:{index}:{purpose}")

    def order(self, index: int, created_at: datetime | None = None) -> dict:
        rng = self.rng(index)
        order_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        item_count = rng.choices(list(_ITEM_COUNT_WEIGHTS), weights=list(_ITEM_COUNT_WEIGHTS.values()))[0]
        chosen = [_pick(rng, self._doorbusters)] if rng.random() < DOORBUSTER_SHARE else []
        regulars: list[str] = []
        while len(regulars) < min(item_count, len(self._regulars)):
            sku = _pick(rng, self._regulars)
            if sku not in regulars:
                regulars.append(sku)
        chosen += regulars
        items = [
            {
                "sku": sku,
                "quantity": rng.randint(1, PRODUCTS[sku].max_per_order),
                "unitPriceCents": PRODUCTS[sku].price_cents,
            }
            for sku in chosen
        ]
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        customer_number = rng.randrange(1, 10**6)
        created = created_at or BLACK_FRIDAY_MIDNIGHT + timedelta(milliseconds=index * 37)
        return {
            "orderId": order_id,
            "customer": {
                "customerId": f"cust-{customer_number:06d}",
                "email": f"{first}.{last}{customer_number % 1000}@example.com",
            },
            "items": items,
            "currency": CURRENCY,
            "totalCents": order_total_cents(items),
            "paymentMethod": rng.choice(PAYMENT_METHODS),
            "createdAt": created.isoformat().replace("+00:00", "Z"),
        }


def make_invalid(order: dict, kind: str) -> dict:
    """A copy of a valid order broken in one of INVALID_KINDS, as a buggy client would send it."""
    broken = {**order, "items": [dict(item) for item in order["items"]]}
    if kind == "unknown_sku":
        broken["items"][0]["sku"] = "NO-SUCH-SKU"
        broken["items"][0]["unitPriceCents"] = 1000
        broken["totalCents"] = order_total_cents(broken["items"])
    elif kind == "zero_quantity":
        broken["items"][0]["quantity"] = 0
        broken["totalCents"] = order_total_cents(broken["items"])
    elif kind == "wrong_total":
        broken["totalCents"] = order["totalCents"] + 100
    else:
        raise ValueError(f"unknown invalid kind {kind!r}; expected one of {INVALID_KINDS}")
    return broken


def poison_body(order_id: str) -> bytes:
    """An object under orders/ that is not JSON at all: it cannot be read as an order."""
    return f"<<truncated upload {order_id}>> {{\x00not json".encode()
