"""DynamoDB TransactWriteItems that backs up the items it touches, not whole tables.

moto 5.2.5's `DynamoDBBackend.transact_write_items` deep-copies every table a transaction names
before running it, to restore on cancellation. Each ReserveInventory and ReleaseInventory writes
the Orders table, so every transaction copies all orders so far: 45 ms at 3,000 orders and growing,
quadratic over a 10,000-order run. (Without the request gate the restore also erased concurrent
writes.) This fix (registered in patches.py) snapshots only the touched items and restores those; moto's own code still runs
the checks and writes, it just keeps the live tables as its "backup".
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable

_keeping_tables = threading.local()


class _CopyKeepingTables:
    """Stands in for the `copy` module inside moto.dynamodb.models during our transactions."""

    def __init__(self, table_type: type):
        self.table_type = table_type

    def deepcopy(self, value, memo=None):
        if getattr(_keeping_tables, "active", False) and isinstance(value, self.table_type):
            return value  # moto's whole-table backup becomes the live table; we restore items instead
        return copy.deepcopy(value, memo)

    def __getattr__(self, name):
        return getattr(copy, name)


def _touched_keys(backend, transact_items) -> list[tuple[object, dict]] | None:
    """(table, key attributes) per operation, or None when a key cannot be read (moto reports that)."""
    touched = []
    for entry in transact_items:
        _, operation = next(iter(entry.items()))
        table = backend.tables.get(operation.get("TableName"))
        if table is None:
            continue
        source = operation.get("Item") if "Item" in operation else operation.get("Key")
        attributes = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
        if not isinstance(source, dict) or any(name not in source for name in attributes):
            return None
        touched.append((table, {name: source[name] for name in attributes}))
    return touched


def _restore(backend, table, key: dict, snapshot) -> None:
    hash_value, range_value = backend.get_keys_value(table, key)
    if table.range_key_attr:
        if snapshot is None:
            table.items[hash_value].pop(range_value, None)
        else:
            table.items[hash_value][range_value] = snapshot
    elif snapshot is None:
        table.items.pop(hash_value, None)
    else:
        table.items[hash_value] = snapshot


def item_level_backup(original: Callable) -> Callable:
    """Wrap moto's transact_write_items (a Patch in patches.py); installs the `copy` stand-in it needs."""
    import moto.dynamodb.models as dynamodb_models
    from moto.dynamodb.models.table import Table

    if not isinstance(dynamodb_models.copy, _CopyKeepingTables):
        dynamodb_models.copy = _CopyKeepingTables(Table)  # inert outside our transactions

    def transact_write_items(self, transact_items):
        touched = _touched_keys(self, transact_items)
        if touched is None:
            return original(self, transact_items)
        snapshots = [(table, key, copy.deepcopy(table.get_item(*self.get_keys_value(table, key)))) for table, key in touched]
        _keeping_tables.active = True
        try:
            return original(self, transact_items)
        except Exception:
            for table, key, snapshot in reversed(snapshots):
                _restore(self, table, key, snapshot)
            raise
        finally:
            _keeping_tables.active = False

    return transact_write_items
