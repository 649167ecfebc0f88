"""The fix registry: every target is where its fix expects it, and every fix applies and undoes cleanly."""

from __future__ import annotations

import pytest

from blackfriday.emulator import fixes
from blackfriday.emulator.fixes import awslambda

# The messaging process's own fix is built with the Lambda process's URL: any URL fingerprints the same target.
MESSAGING_PROCESS_FIXES = (awslambda.in_another_process("http://127.0.0.1:1"),)


@pytest.mark.parametrize("target", fixes.FIXES + MESSAGING_PROCESS_FIXES + fixes.RELIED_ON, ids=lambda target: target.label)
def test_target_has_not_moved_since_the_fix_was_written(target):
    # GIVEN a moto object a fix replaces or relies on
    # WHEN its source is fingerprinted in the installed moto
    # THEN it is exactly the source the fix was written against (moto 5.2.5)
    assert target.current_sha256() == target.source_sha256, (
        f"moto changed {target.label}: review its fix in blackfriday/emulator/fixes/, then update its fingerprint"
    )


def test_every_fix_applies_and_undoes():
    # GIVEN unpatched moto
    originals = [inspect_static(patch) for patch in fixes.FIXES]
    # WHEN the fixes are applied, then undone
    with fixes.applied() as applied_labels:
        patched = [inspect_static(patch) for patch in fixes.FIXES]
    # THEN all of them applied, each replaced its target, and undo restored every original
    assert applied_labels == [patch.label for patch in fixes.FIXES]
    assert all(now is not before for now, before in zip(patched, originals, strict=True))
    assert [inspect_static(patch) for patch in fixes.FIXES] == originals


def inspect_static(patch):
    return patch.owner.__dict__[patch.name]


def test_without_hot_spots_only_the_emulator_machinery_and_aws_differences_apply():
    # GIVEN the registry, WHEN it is installed without the hot-spot fixes (the benchmark's unfixed side)
    with fixes.applied(hot_spots=False) as applied_labels:
        pass
    # THEN every other fix applied, and no hot spot
    assert applied_labels == [fix.label for fix in fixes.FIXES if not fix.hot_spot]
    assert "moto.sqs.models.Queue.wait_for_messages" in applied_labels
    assert "moto.awslambda.models.LambdaFunction.invoke" in applied_labels


def test_a_process_without_lambda_also_sends_moto_notification_invocations_to_the_lambda_process():
    # GIVEN unpatched moto, whose notifications look functions up in this process's Lambda backend
    import moto.awslambda.utils as lambda_utils

    original = lambda_utils.get_backend
    # WHEN the registry is installed for a process whose Lambda is served at another URL
    with fixes.applied(lambda_url="http://127.0.0.1:1") as applied_labels:
        backend = lambda_utils.get_backend("123456789012", "us-east-1")
    # THEN every fix applied, plus the stand-in whose functions invoke through that Lambda API; undo restored moto's
    assert applied_labels == [*(fix.label for fix in fixes.FIXES), "moto.awslambda.utils.get_backend"]
    assert isinstance(backend, awslambda.RemoteLambdaBackend)
    assert backend.get_function("orders").client.meta.endpoint_url == "http://127.0.0.1:1"
    assert lambda_utils.get_backend is original
