"""DynamoDB: transactions that back up items, not tables, and UpdateExpression hot spots."""

from __future__ import annotations

import copy
import functools
import pickle
import threading
from collections.abc import Callable
from typing import Any

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.exceptions import ResourceNotFoundException
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import StreamShard, Table
from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser, Node
from moto.dynamodb.parsing.expressions import UpdateExpressionParser
from moto.dynamodb.parsing.validators import Validator

from blackfriday.emulator.fixes.registry import Fingerprint, Patch

# TransactWriteItems that backs up the items it touches, not whole tables. moto 5.2.5's
# `DynamoDBBackend.transact_write_items` deep-copies every table a transaction names before running
# it, to restore on cancellation. Each ReserveInventory and ReleaseInventory writes the Orders table,
# so every transaction copies all orders so far: 45 ms at 3,000 orders and growing, quadratic over a
# 10,000-order run. (Without the request gate the restore also erased concurrent writes.) This fix
# snapshots only the touched items and restores those; moto's own code still runs the checks and
# writes, it just keeps the live tables as its "backup" (the `copy` stand-in below).
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
    """(table, key attributes) per operation, or None when a key cannot be read (moto reports that).

    Tables are found as moto's own operations find them (`get_table`: by name or by ARN).
    """
    touched = []
    for entry in transact_items:
        _, operation = next(iter(entry.items()))
        try:
            table = backend.get_table(operation.get("TableName"))
        except ResourceNotFoundException:
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


def keeping_tables(original_copy_module) -> _CopyKeepingTables:
    return _CopyKeepingTables(Table)  # inert outside our transactions


def item_level_backup(original: Callable) -> Callable:
    """Wrap moto's transact_write_items; needs the `copy` stand-in (`keeping_tables`) installed as well."""

    def transact_write_items(self, transact_items):
        touched = _touched_keys(self, transact_items)
        if touched is None:
            return original(self, transact_items)
        snapshots = [(table, key, copy.deepcopy(table.get_item(*self.get_keys_value(table, key)))) for table, key in touched]
        # A cancelled transaction writes nothing to the tables' streams either (moto's restored table copies
        # brought back their old stream shards): remember where each stream ends.
        stream_ends = {
            id(table): (table.stream_shard, len(table.stream_shard.items)) for table, _ in touched if table.stream_shard is not None
        }
        _keeping_tables.active = True
        try:
            return original(self, transact_items)
        except Exception:
            for table, key, snapshot in reversed(snapshots):
                _restore(self, table, key, snapshot)
            for shard, end in stream_ends.values():
                del shard.items[end:]
            raise
        finally:
            _keeping_tables.active = False

    return transact_write_items


# DynamoDB UpdateItem tokenises and parses its UpdateExpression on every call (~0.3 ms for the
# order workflow's expressions). The parsed tree is a pure function of the string and is never
# mutated: every UpdateExpressionValidator copies it before resolving names and values into it
# (Validator.__init__, replaced below). So parse each distinct expression once; an invalid one
# raises each time (lru_cache does not keep exceptions). The tree also keeps its own pickle, for the Validator fix below.
PICKLED_TREE = "_blackfriday_pickled_tree"


def memoized_update_expression_parse(original: classmethod) -> classmethod:
    @functools.lru_cache(maxsize=1024)
    def make(cls, expression_str):
        tree = original.__func__(cls, expression_str)
        tree.__dict__[PICKLED_TREE] = pickle.dumps(tree, pickle.HIGHEST_PROTOCOL)
        return tree

    return classmethod(make)


# Each validation deep-copies the expression tree (~0.3 ms: parent links, tokens); unpickling the
# parse-time pickle of the same tree builds an equal, independent copy ~6x faster. Trees that did not
# come from the cache (none today) are still deep-copied.
def validator_copying_from_pickle(original: Callable) -> Callable:
    def __init__(self, expression, expression_attribute_names, expression_attribute_values, item, table):
        self.expression_attribute_names = expression_attribute_names
        self.expression_attribute_values = expression_attribute_values
        self.item = item
        self.table = table
        self.processors = self.get_ast_processors()
        pickled = expression.__dict__.get(PICKLED_TREE)
        self.node_to_validate = pickle.loads(pickled) if pickled is not None else copy.deepcopy(expression)

    return __init__


# moto validates every UpdateExpression with ten AST traversers. For each node each one builds a
# new `_processing_map()` dict (twice) and runs isinstance checks against ABC classes (slow
# `__instancecheck__`): half of UpdateItem's time. Which processor handles a node depends only on the
# node's class (first isinstance match in map order) and the map is fixed per traverser instance, so
# decide once per (traverser, node class). Same walk, same order, same hooks as moto's.
def processor_for(traverser: Any, node_type: type) -> Callable | None:
    by_type = traverser.__dict__.setdefault("_processor_by_node_type", {})
    if node_type not in by_type:
        by_type[node_type] = next(
            (processor for class_key, processor in traverser._processing_map().items() if issubclass(node_type, class_key)),
            None,
        )
    return by_type[node_type]


def typed_traversal(original: Callable) -> Callable:
    def traverse_node_recursively(self, node, child_id=-1):
        if isinstance(node, Node):
            parent_node = node.parent
            if node.children is not None:
                for i, child_node in enumerate(node.children):
                    self.pre_processing_of_child(node, i)
                    self.traverse_node_recursively(child_node, i)
            processor = processor_for(self, type(node))
            if processor is not None:
                node = processor(node)
                node.parent = parent_node
                if parent_node:
                    parent_node.children[child_id] = node
        return node

    return traverse_node_recursively


FIXES = (
    Patch(
        DynamoDBBackend,
        "transact_write_items",
        "81db2cb7d94e39c90b3a2077e1f4bb41a449c558ef9b1b1e2910fdaa39978ad4",
        item_level_backup,
        hot_spot=True,
    ),
    # The `copy` module moto.dynamodb.models imported, for the stand-in: fingerprinted by that module's source.
    Patch(
        dynamodb_models,
        "copy",
        "deee8b9c59bc8a4be642e9968c1673b6e4be57b989f8fd6777dd29786864ca86",
        keeping_tables,
        hot_spot=True,
        source_of=dynamodb_models,
    ),
    Patch(
        UpdateExpressionParser,
        "make",
        "2c00ed96d6e191f243b449166e75bfb38f307b2e19405bc0981847061e0dbee3",
        memoized_update_expression_parse,
        hot_spot=True,
    ),
    Patch(
        Validator,
        "__init__",
        "9489b532dd0fb359e273711c1a67971f1b73af47ddbaa91868e9cc42a26ddbb3",
        validator_copying_from_pickle,
        hot_spot=True,
    ),
    Patch(
        DepthFirstTraverser,
        "traverse_node_recursively",
        "d7f01d9b45cf9f64ac84751ec4c8cab3114e7c179350eb1b81ffe5f0a114aa78",
        typed_traversal,
        hot_spot=True,
    ),
)
# The transaction fix finds tables with get_table, and takes a stream's records to be StreamShard.items, appended to by add.
RELIED_ON = (
    Fingerprint(DynamoDBBackend, "get_table", "a738146035fc206b81e0659a004dcc62ae70eb356ef7c5ab771ba68bdd2d7ab0"),
    Fingerprint(StreamShard, "add", "357dc6da267e5dd7d46e18ee25d14b232a98679677906a2f02e4d454d1f11e03"),
)
