"""moto's dispatch and name helpers, fixed: same answers, computed once."""

from __future__ import annotations

import moto.backends

from blackfriday.emulator import fixes
from blackfriday.emulator.fixes import core


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


def test_a_request_is_told_apart_as_moto_dispatches_it():
    dispatcher = core.dispatcher()
    signed = "AWS4-HMAC-SHA256 Credential=key/20250101/us-east-1/{}/aws4_request"
    # GIVEN requests for SQS, DynamoDB (signed), moto's own API, and an unsigned one
    requests = [
        {"PATH_INFO": "/", "HTTP_HOST": "127.0.0.1:4599", "HTTP_AUTHORIZATION": signed.format("sqs")},
        {"PATH_INFO": "/", "HTTP_HOST": "127.0.0.1:4599", "HTTP_AUTHORIZATION": signed.format("dynamodb"),
         "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.ListTables"},
        {"PATH_INFO": "/moto-api/reset", "HTTP_HOST": "127.0.0.1:4599"},
        {"PATH_INFO": "/bucket/key", "HTTP_HOST": "127.0.0.1:4599"},
    ]  # fmt: skip
    # WHEN each is told apart, THEN its backend is the one moto would dispatch it to (S3 when nothing says otherwise)
    assert [core.backend_for(dispatcher, environ) for environ in requests] == ["sqs", "dynamodb", "moto_api", "s3"]


def test_header_names_as_sent_are_those_moto_kept():
    from moto.core.request import PRESERVED_HEADER_NAMES_ENVIRON_KEY

    # GIVEN a request whose S3 metadata header moto's handler kept under its sent name, and one without any
    kept = {"HTTP_X_AMZ_META_ORDER_ID": "x-amz-meta-Order-Id"}
    # THEN the names are moto's, or none
    assert core.sent_header_names({PRESERVED_HEADER_NAMES_ENVIRON_KEY: kept}) == kept
    assert core.sent_header_names({}) == {}


def test_a_raw_response_reads_and_streams_its_body():
    assert core.raw_response(b"answer").read() == b"answer"
    assert list(core.raw_response(b"answer").stream()) == [b"answer"]
