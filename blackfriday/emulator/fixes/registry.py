"""The registry's machinery: a fingerprint of moto code, and a patch that replaces a moto object and can be undone.

The service modules build their `Patch` and `Fingerprint` entries from these; the package (`fixes/__init__.py`)
gathers them and installs them.
"""

from __future__ import annotations

import hashlib
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Fingerprint:
    """A moto object a fix depends on, and the sha256 of its source when the fix was written (moto 5.2.5)."""

    owner: Any
    name: str
    source_sha256: str

    @property
    def label(self) -> str:
        if inspect.ismodule(self.owner):
            return f"{self.owner.__name__}.{self.name}"
        return f"{self.owner.__module__}.{self.owner.__qualname__}.{self.name}"

    def original(self) -> Any:
        value = inspect.getattr_static(self.owner, self.name)
        return value.fget if isinstance(value, property) else value

    def fingerprinted(self) -> Any:
        return self.original()

    def current_sha256(self) -> str:
        return hashlib.sha256(inspect.getsource(self.fingerprinted()).encode()).hexdigest()


@dataclass
class Patch(Fingerprint):
    """Replace `owner.name` with `build(original)`; for a property, `build` gets and returns the getter.

    `source_of` names the moto code the fingerprint covers when the replaced value is not moto code
    itself (a module a moto module imported); by default it is the replaced object.
    """

    build: Callable[[Any], Any]
    hot_spot: bool = False
    source_of: Any = None
    replaced: list[tuple[Any, str, Any, Any]] = field(default_factory=list)  # (where, name, previous, replacement)

    def fingerprinted(self) -> Any:
        return self.original() if self.source_of is None else self.source_of

    def apply(self) -> None:
        static = inspect.getattr_static(self.owner, self.name)
        original = self.original()
        replacement = self.build(original)
        self.swap(self.owner, property(replacement) if isinstance(static, property) else replacement)
        if inspect.ismodule(self.owner) and inspect.isfunction(original):
            # Modules that did `from module import function` hold their own reference: patch those too.
            for module in moto_modules_holding(self.name, original):
                self.swap(module, replacement)

    def swap(self, where: Any, value: Any) -> None:
        self.replaced.append((where, self.name, where.__dict__[self.name], value))
        setattr(where, self.name, value)

    def undo(self) -> None:
        while self.replaced:
            where, name, previous, replacement = self.replaced.pop()
            setattr(where, name, previous)
            if inspect.ismodule(where) and inspect.isfunction(previous):  # and in modules imported since, which took the replacement
                for module in moto_modules_holding(name, replacement):
                    setattr(module, name, previous)


def moto_modules_holding(name: str, value: Any) -> list[Any]:
    return [
        module
        for module in list(sys.modules.values())
        if getattr(module, "__name__", "").startswith("moto.") and getattr(module, "__dict__", {}).get(name) is value
    ]
