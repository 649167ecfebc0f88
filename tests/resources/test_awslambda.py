"""Deployment packages: deterministic, with the handler at the root and exactly the project modules it imports."""

from __future__ import annotations

import io
import zipfile

from blackfriday.resources.awslambda import ZIP_TIMESTAMP, build_zip, code_sha256, package_files
from blackfriday.resources.deploy import PROJECT_ROOT


def write_tree(root, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_handler_is_packaged_with_the_modules_it_imports_transitively(tmp_path):
    # GIVEN a project whose handler imports `fulfillment`, which imports `domain` by attribute; `clients` is unused
    write_tree(
        tmp_path,
        {
            "blackfriday/__init__.py": "",
            "blackfriday/fulfillment.py": "import json\nfrom blackfriday.domain import PRODUCTS\n",
            "blackfriday/domain.py": "PRODUCTS = {}\n",
            "blackfriday/clients.py": "import boto3\n",
            "lambdas/reserve.py": "import os\nfrom blackfriday import fulfillment\n\ndef handler(event, context):\n    return None\n",
        },
    )

    # WHEN the handler's package is built
    files = package_files(tmp_path / "lambdas" / "reserve.py", tmp_path)

    # THEN it holds the handler at the root, the package marker, fulfillment and domain: nothing else
    assert sorted(files) == ["blackfriday/__init__.py", "blackfriday/domain.py", "blackfriday/fulfillment.py", "reserve.py"]
    assert files["blackfriday/domain.py"] == b"PRODUCTS = {}\n"


def test_the_real_handlers_carry_the_shared_modules():
    # GIVEN the repository's reserve_inventory handler WHEN it is packaged THEN the shared domain code travels with it
    files = package_files(PROJECT_ROOT / "lambdas" / "reserve_inventory.py", PROJECT_ROOT)
    assert {"reserve_inventory.py", "blackfriday/__init__.py", "blackfriday/domain.py", "blackfriday/fulfillment.py"} <= set(files)
    assert "blackfriday/clients.py" not in files


def test_unchanged_sources_give_the_same_zip_and_a_changed_one_another(tmp_path):
    # GIVEN the same files packaged twice, listed in different orders
    files = {"b.py": b"B = 1\n", "a.py": b"A = 1\n"}
    first, second = build_zip(files), build_zip(dict(reversed(list(files.items()))))

    # THEN the bytes and the CodeSha256 are identical, with fixed timestamps and sorted entries
    assert first == second
    assert code_sha256(first) == code_sha256(second)
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert [(info.filename, info.date_time) for info in archive.infolist()] == [("a.py", ZIP_TIMESTAMP), ("b.py", ZIP_TIMESTAMP)]
    # AND one changed byte changes the hash
    assert code_sha256(build_zip({**files, "a.py": b"A = 2\n"})) != code_sha256(first)
