"""Each Lambda's zip carries the Powertools modules it imports, so it runs where only the runtime is installed."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

from blackfriday.resources.awslambda import build_zip, package_files
from blackfriday.vendoring import imported_modules

ROOT = Path(__file__).resolve().parents[2]


def test_relative_imports_resolve_against_the_importing_module():
    source = "from .logger import Logger\nfrom ..shared import constants\nimport typing_extensions\nimport os\n"
    assert imported_modules(source, "aws_lambda_powertools.logging", is_package=True) == {
        "aws_lambda_powertools.logging.logger",
        "aws_lambda_powertools.logging.logger.Logger",
        "aws_lambda_powertools.shared",
        "aws_lambda_powertools.shared.constants",
        "typing_extensions",
    }
    assert imported_modules("from . import base\n", "aws_lambda_powertools.metrics.metrics") == {
        "aws_lambda_powertools.metrics",
        "aws_lambda_powertools.metrics.base",
    }


def test_a_handler_zip_imports_powertools_without_any_installed_package(tmp_path):
    # GIVEN the zip of a handler that logs and counts, unpacked where Lambda would unpack it
    files = package_files(ROOT / "lambdas" / "mark_order_failed.py", ROOT)
    assert "aws_lambda_powertools/logging/logger.py" in files
    assert "aws_lambda_powertools/metrics/base.py" in files
    zipfile.ZipFile(io.BytesIO(build_zip(files))).extractall(tmp_path)
    # WHEN a Python without site-packages (-S: no boto3, no Powertools installed) imports the telemetry module
    probe = (
        f"import sys; sys.path.insert(0, {str(tmp_path)!r}); "
        "from blackfriday import telemetry; import aws_lambda_powertools; "
        "telemetry.count_failed('OutOfStock'); print(aws_lambda_powertools.__file__)"
    )
    result = subprocess.run([sys.executable, "-I", "-S", "-c", probe], capture_output=True, text=True, cwd=tmp_path)
    # THEN it works from the zip's own copy
    assert result.returncode == 0, result.stderr
    *metrics, origin = result.stdout.splitlines()
    assert origin == str(tmp_path / "aws_lambda_powertools" / "__init__.py")
    assert len(metrics) == 2


def test_the_orders_api_zip_answers_with_its_own_copy_of_the_powertools_router(tmp_path):
    # GIVEN the order API's zip unpacked where Lambda would unpack it
    files = package_files(ROOT / "lambdas" / "orders_api.py", ROOT)
    assert "aws_lambda_powertools/event_handler/api_gateway.py" in files
    zipfile.ZipFile(io.BytesIO(build_zip(files))).extractall(tmp_path)
    # WHEN its routes answer a request for a path that is no route and one for the storefront (no client needed)
    probe = (
        f"import sys; sys.path.insert(0, {str(tmp_path)!r}); from blackfriday.api import routes; "
        "store = routes.Store(None, None, None, 'bucket', 'inventory', 'orders', 'arn:aws:states:us-east-1:1:stateMachine:m'); "
        "event = lambda path: {'path': path, 'httpMethod': 'GET', 'headers': {}, 'body': None, 'requestContext': {'path': path}}; "
        "print([routes.answer(store, event(path))['statusCode'] for path in ('/nope', '/')]); "
        "print(sorted({module.__file__.startswith(sys.path[0]) for name, module in sys.modules.items() "
        "if name.split('.')[0] in ('aws_lambda_powertools', 'jmespath', 'typing_extensions') and getattr(module, '__file__', None)}))"
    )
    result = subprocess.run([sys.executable, "-I", "-c", probe], capture_output=True, text=True, cwd=tmp_path)
    # THEN they answer, from the zip's own Powertools (the runtime gives boto3 and botocore only)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["[403, 200]", "[True]"]
