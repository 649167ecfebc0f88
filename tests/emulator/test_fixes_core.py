"""moto's dispatch and name helpers, fixed: same answers, computed once."""

from __future__ import annotations

import moto.backends

from blackfriday.emulator import fixes


def test_module_list_is_computed_once_and_unchanged():
    # GIVEN the list of moto's service modules as moto computes it
    expected = list(moto.backends.list_of_moto_modules())
    with fixes.applied():
        # WHEN it is asked for twice with the fix
        first, second = moto.backends.list_of_moto_modules(), moto.backends.list_of_moto_modules()
    # THEN it is the same list, and the same object (no directory scan the second time)
    assert list(first) == expected
    assert second is first


def test_name_conversions_are_remembered_and_unchanged():
    import moto.core.responses
    import moto.core.utils

    names = ["ApproximateNumberOfMessages", "QueueArn", "SendMessageBatch", "KMSMasterKeyId", "", "x"]
    expected = [moto.core.utils.camelcase_to_underscores(name) for name in names]
    expected_methods = moto.core.utils.method_names_from_class(moto.core.responses.BaseResponse)
    with fixes.applied():
        # GIVEN the fix, WHEN moto converts the same names twice, through the name its responses module imported
        first = [moto.core.responses.camelcase_to_underscores(name) for name in names]
        second = [moto.core.utils.camelcase_to_underscores(name) for name in names]
        methods = moto.core.responses.method_names_from_class(moto.core.responses.BaseResponse)
        hits = moto.core.utils.camelcase_to_underscores.cache_info().hits
    # THEN the answers are moto's, and the second round came from the cache
    assert first == second == expected
    assert hits == len(names)
    assert methods == expected_methods
