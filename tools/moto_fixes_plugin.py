"""pytest plugin: every emulator fix applied before moto's own tests run (`-p tools.moto_fixes_plugin`)."""

from __future__ import annotations

import pytest

APPLIED: list[str] = []


def pytest_configure(config) -> None:
    from blackfriday.emulator import fixes

    APPLIED.extend(fixes.install())
    left_out = [fix.label for fix in fixes.FIXES if fix.label not in APPLIED]
    if left_out:  # the comparison with stock moto would not be about the fixes as written
        pytest.exit(f"moto changed what these fixes replace, so they were not applied: {', '.join(left_out)}", returncode=3)


def pytest_terminal_summary(terminalreporter) -> None:
    terminalreporter.write_line(f"blackfriday emulator fixes applied: {len(APPLIED)}")
