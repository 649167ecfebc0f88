"""Run moto's own tests, from the installed moto's source distribution, on stock moto and with every emulator fix.

    python -m tools.moto_tests [--keep-going] [pytest paths relative to the sdist...]

Downloads the sdist of the installed moto version once (pip download, into .cache/), runs the selected
tests twice (in-process, as moto's CI does), and compares them test by test: a test that passes on
stock moto and does not pass with the fixes is a regression. Prints both summaries and every
regression; exit status 1 when there is one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ElementTree
from collections import Counter
from importlib.metadata import version
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CACHE = PROJECT_ROOT / ".cache"
# The services the emulator fixes, and moto's core (dispatch, name helpers).
DEFAULT_SUITES = (
    "tests/test_core",
    "tests/test_sqs",
    "tests/test_dynamodb",
    "tests/test_dynamodbstreams",
    "tests/test_stepfunctions",
    "tests/test_s3/test_s3_notifications.py",
    "tests/test_s3/test_s3_eventbridge_integration.py",
    "tests/test_events",
)
# Tests that need docker or the network cannot run here, on either side.
NOT_RUNNABLE = "not network and not requires_docker"


def source_distribution() -> Path:
    """The extracted sdist of the installed moto (tests included), downloaded on first use."""
    moto_version = version("moto")
    extracted = CACHE / f"moto-{moto_version}"
    if not (extracted / "tests").is_dir():
        CACHE.mkdir(exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                f"moto=={moto_version}",
                "--no-binary",
                ":all:",
                "--no-deps",
                "--dest",
                str(CACHE),
                "--quiet",
            ],
            check=True,
        )
        with tarfile.open(CACHE / f"moto-{moto_version}.tar.gz") as archive:
            archive.extractall(CACHE, filter="data")
    return extracted


def run(sdist: Path, suites: list[str], with_fixes: bool) -> dict[str, str]:
    """test id -> passed / failed / skipped, from one pytest run."""
    report = CACHE / f"moto-tests-{'fixed' if with_fixes else 'stock'}.xml"
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "--color=no",
        "-p",
        "no:cacheprovider",
        "-m",
        NOT_RUNNABLE,
        f"--junitxml={report}",
        *suites,
    ]
    if with_fixes:
        command[4:4] = ["-p", "tools.moto_fixes_plugin"]
    # moto's tests import their own `tests` package (the sdist's); the project root only provides the fixes.
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    environment["PYTHONPATH"] = str(PROJECT_ROOT)
    print(f"--- moto's tests, {'with every emulator fix' if with_fixes else 'stock moto'}: {' '.join(suites)}", flush=True)
    subprocess.run(command, cwd=sdist, env=environment, check=False)
    return outcomes(report)


def outcomes(report: Path) -> dict[str, str]:
    results = {}
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        test_id = f"{case.get('classname')}::{case.get('name')}"
        if case.find("skipped") is not None:
            results[test_id] = "skipped"
        elif case.find("failure") is not None or case.find("error") is not None:
            results[test_id] = "failed"
        else:
            results[test_id] = "passed"
    return results


def main(arguments: list[str]) -> int:
    suites = arguments or list(DEFAULT_SUITES)
    sdist = source_distribution()
    stock = run(sdist, suites, with_fixes=False)
    fixed = run(sdist, suites, with_fixes=True)
    regressions = sorted(test for test, outcome in stock.items() if outcome == "passed" and fixed.get(test) != "passed")
    now_passing = sorted(test for test, outcome in fixed.items() if outcome == "passed" and stock.get(test) != "passed")
    for name, results in (("stock moto", stock), ("with the fixes", fixed)):
        counts = Counter(results.values())
        print(f"{name}: {len(results)} tests, {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
    print(f"regressions (pass on stock moto, not with the fixes): {len(regressions)}")
    for test in regressions:
        print(f"  {test}: {fixed.get(test, 'not run')}")
    if now_passing:
        print(f"pass only with the fixes: {len(now_passing)}")
        for test in now_passing:
            print(f"  {test}")
    return 1 if regressions else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
