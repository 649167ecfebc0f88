"""Third-party packages a Lambda imports, copied into its zip so it runs on AWS as it does here.

The Lambda Python runtime ships boto3 and botocore only. Rather than whole distributions, the zip
gets the modules that are reachable from the project's imports (absolute and relative, transitively,
with their packages' __init__), read from the packages installed in this environment, so the zip
holds exactly the code that runs and the pinned versions of requirements.txt.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
from pathlib import Path

# The Lambdas' third-party imports (Powertools for AWS Lambda) and what those import in turn.
VENDORED_PACKAGES = ("aws_lambda_powertools", "jmespath", "typing_extensions")


def _install_root(top_level: str) -> Path:
    """The directory that holds the installed package (or single-module) `top_level`."""
    spec = importlib.util.find_spec(top_level)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(f"{top_level} is not installed: pip install -r requirements.txt")
    origin = Path(spec.origin)
    return origin.parent.parent if origin.name == "__init__.py" else origin.parent


def _module_file(module: str) -> tuple[Path, str] | None:
    """(file, archive name) of a vendored module, or None when it is an attribute or not installed."""
    root = _install_root(module.split(".")[0])
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate, candidate.relative_to(root).as_posix()
    return None


def _vendored(module: str) -> bool:
    return module.split(".")[0] in VENDORED_PACKAGES


@functools.cache  # every zip reaches the same project sources
def imported_modules(source: str, module: str = "", is_package: bool = False) -> frozenset[str]:
    """Dotted names of vendored modules (or of their attributes) that a source file imports.

    `module` is the file's own dotted name, needed to resolve its relative imports.
    """
    found = set()
    package_parts = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if _vendored(alias.name))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package_parts[: len(package_parts) - node.level + 1]
                base = ".".join([*anchor, node.module] if node.module else anchor)
            else:
                base = node.module or ""
            if _vendored(base):
                found.add(base)
                found.update(f"{base}.{alias.name}" for alias in node.names)  # a submodule, or just an attribute
    return frozenset(found)


@functools.cache
def _installed_module(module: str) -> tuple[str, bytes, frozenset[str]] | None:
    """(archive name, bytes, vendored imports) of an installed module; None when `module` is an attribute or absent.

    Cached for the process: installed packages do not change while it runs, and every function's zip reaches
    the same few hundred modules (parsing them once per zip was most of the time a setup took).
    """
    located = _module_file(module)
    if located is None:
        return None
    path, archive_name = located
    data = path.read_bytes()
    return archive_name, data, imported_modules(data.decode("utf-8"), module, is_package=path.name == "__init__.py")


def vendored_files(project_sources: dict[str, bytes]) -> dict[str, bytes]:
    """Archive name -> bytes of every vendored module the given project files reach."""
    files: dict[str, bytes] = {}
    pending = set()
    for name, source in project_sources.items():
        if name.endswith(".py"):
            pending |= imported_modules(source.decode())
    seen = set()
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        parts = module.split(".")
        pending.update(".".join(parts[:depth]) for depth in range(1, len(parts)))  # the enclosing packages
        installed = _installed_module(module)
        if installed is None:
            continue
        archive_name, data, imports = installed
        files[archive_name] = data
        pending |= imports
    return files
