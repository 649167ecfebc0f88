"""Python Lambdas really run on the emulator: warm workers, Lambda-style errors, timeouts, logs (real HTTP)."""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from blackfriday.clients import AwsGateway
from blackfriday.emulator import lifecycle
from blackfriday.target import ENDPOINT, Target, local_endpoint_url
from tests.emulator.conftest import FunctionDeployer

pytestmark = pytest.mark.emulator

COUNTING_HANDLER = """
    import os
    import boto3

    INVOCATIONS = 0  # module level: survives between invokes only in a warm worker
    dynamodb = boto3.client("dynamodb")

    def handler(event, context):
        global INVOCATIONS
        INVOCATIONS += 1
        item = dynamodb.get_item(TableName=os.environ["TABLE"], Key={"sku": {"S": event["sku"]}})["Item"]
        return {"stock": int(item["stock"]["N"]), "greeting": os.environ["GREETING"], "invocations": INVOCATIONS,
                "pid": os.getpid(), "function": context.function_name}
"""

MISBEHAVING_HANDLER = """
    import logging
    import os
    import sys
    import time

    INVOCATIONS = 0

    class OutOfStock(Exception):
        pass

    def handler(event, context):
        global INVOCATIONS
        INVOCATIONS += 1
        action = event.get("action")
        print(f"acting: {action}")
        logging.getLogger().warning("warned about %s", action)
        if action == "raise":
            raise OutOfStock("sku-1 is sold out")
        if action == "sleep":
            time.sleep(30)
        if action == "exit":
            sys.exit(3)
        if action == "hard-exit":
            os._exit(0)
        if action == "set":
            return {"a", "b"}
        if action == "close-output":
            os.close(1)
            os.close(2)
        if action == "garbage":
            sys.stdout.write("\\x00\\x1b[31m{not json" + "x" * 200_000)  # more than a pipe holds, no newline
            os.write(2, b"\\xff\\xfe raw bytes\\n")
        return {"invocations": INVOCATIONS, "pid": os.getpid()}
"""


@pytest.fixture
def inventory_table(emulator_gateway) -> str:
    name = f"{emulator_gateway.target.prefix}-Inventory"
    dynamodb = emulator_gateway.client("dynamodb")
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "sku", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "sku", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName=name, Item={"sku": {"S": "tv-55"}, "stock": {"N": "42"}})
    return name


@pytest.fixture
def misbehaving(functions) -> str:
    return functions.deploy("misbehaving", MISBEHAVING_HANDLER, timeout=1)


def test_handler_reads_its_environment_calls_dynamodb_and_stays_warm(functions, inventory_table):
    # GIVEN a zipped handler that reads an environment variable and calls DynamoDB through boto3
    name = functions.deploy("counting", COUNTING_HANDLER, environment={"TABLE": inventory_table, "GREETING": "hello"})
    # WHEN it is invoked twice
    first, first_error = functions.invoke(name, {"sku": "tv-55"})
    second, second_error = functions.invoke(name, {"sku": "tv-55"})
    # THEN both return the real item, and the second ran in the same warm worker (module state kept)
    assert first_error is None and second_error is None
    assert {key: first[key] for key in ("stock", "greeting", "invocations", "function")} == {
        "stock": 42,
        "greeting": "hello",
        "invocations": 1,
        "function": name,
    }
    assert (second["invocations"], second["pid"]) == (2, first["pid"])


def test_a_changed_configuration_gets_a_fresh_worker(functions, inventory_table):
    # GIVEN a function that has a warm worker
    name = functions.deploy("reconfigured", COUNTING_HANDLER, environment={"TABLE": inventory_table, "GREETING": "old"})
    before, _ = functions.invoke(name, {"sku": "tv-55"})
    # WHEN its environment changes
    functions.lambda_client.update_function_configuration(
        FunctionName=name, Environment={"Variables": {"TABLE": inventory_table, "GREETING": "new"}}
    )
    functions.lambda_client.get_waiter("function_updated_v2").wait(FunctionName=name)
    after, _ = functions.invoke(name, {"sku": "tv-55"})
    # THEN the next invoke runs in a new worker with the new environment
    assert (before["greeting"], after["greeting"]) == ("old", "new")
    assert after["invocations"] == 1 and after["pid"] != before["pid"]


def test_handler_exception_is_an_unhandled_error_named_after_its_class(functions, misbehaving):
    # WHEN the handler raises its own exception class
    payload, function_error = functions.invoke(misbehaving, {"action": "raise"})
    # THEN the error is Unhandled, typed by the class name, with the handler's frames only
    assert function_error == "Unhandled"
    assert (payload["errorType"], payload["errorMessage"]) == ("OutOfStock", "sku-1 is sold out")
    assert len(payload["stackTrace"]) == 1 and "in handler" in payload["stackTrace"][0]
    # AND the same warm worker serves the next invoke
    after, after_error = functions.invoke(misbehaving)
    assert after_error is None and after["invocations"] == 2


def test_handler_past_its_timeout_is_stopped_and_the_function_recovers(functions, misbehaving):
    # WHEN the handler sleeps past its 1-second timeout
    payload, function_error = functions.invoke(misbehaving, {"action": "sleep"})
    # THEN the invoke reports the timeout, as Lambda words it
    assert function_error == "Unhandled"
    assert payload["errorType"] == "Sandbox.Timedout"
    assert payload["errorMessage"].endswith("Error: Task timed out after 1.00 seconds")
    # AND the function works again, in a new worker (the old one was killed)
    after, after_error = functions.invoke(misbehaving)
    assert after_error is None and after["invocations"] == 1


@pytest.mark.parametrize(
    ("action", "error_type", "message_end"),
    [
        ("exit", "Runtime.ExitError", "Error: Runtime exited with error: exit status 3"),
        ("hard-exit", "Runtime.ExitError", "Error: Runtime exited with error: exit status 0"),
        ("set", "Runtime.MarshalError", "Unable to marshal response: Object of type set is not JSON serializable"),
    ],
)
def test_exits_and_unserialisable_results_are_lambda_errors(functions, misbehaving, action, error_type, message_end):
    # WHEN the handler exits the process or returns something JSON cannot encode
    payload, function_error = functions.invoke(misbehaving, {"action": action})
    # THEN the invoke returns the matching Lambda error
    assert function_error == "Unhandled"
    assert payload["errorType"] == error_type
    assert payload["errorMessage"].endswith(message_end)
    # AND the next invoke of the function works
    after, after_error = functions.invoke(misbehaving)
    assert after_error is None and "invocations" in after


def test_garbage_output_never_mixes_into_the_response(functions, misbehaving):
    # WHEN the handler writes control characters, invalid UTF-8 and more than a pipe buffer, unterminated
    response = functions.lambda_client.invoke(FunctionName=misbehaving, Payload=json.dumps({"action": "garbage"}), LogType="Tail")
    # THEN the response is the handler's result alone, and the output's tail came back as the log result
    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read())["invocations"] == 1
    tail = base64.b64decode(response["LogResult"]).decode()
    assert "\ufffd\ufffd raw bytes" in tail and tail.rstrip().split("\n")[-1].startswith("REPORT RequestId: ")
    # AND a handler that closes its stdout and stderr still answers; its broken worker is replaced
    closed, closed_error = functions.invoke(misbehaving, {"action": "close-output"})
    after, after_error = functions.invoke(misbehaving)
    assert (closed_error, closed["invocations"]) == (None, 2)
    assert (after_error, after["invocations"]) == (None, 1)


def test_output_and_logging_land_in_the_functions_log_group(functions, misbehaving, emulator_gateway):
    # WHEN the handler prints and logs a warning
    functions.invoke(misbehaving, {"action": "hello"})
    # THEN both are in /aws/lambda/<function>, between START and END/REPORT lines, in order
    logs = emulator_gateway.client("logs")
    group = f"/aws/lambda/{misbehaving}"
    (stream,) = logs.describe_log_streams(logGroupName=group)["logStreams"]
    messages = [
        event["message"]
        for event in logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"], startFromHead=True)["events"]
    ]
    assert messages[0].startswith("START RequestId: ") and messages[0].endswith(" Version: $LATEST")
    assert messages[1] == "acting: hello"
    assert messages[2].startswith("[WARNING]\t") and messages[2].endswith("\twarned about hello")
    assert messages[3].startswith("END RequestId: ") and messages[4].startswith("REPORT RequestId: ")
    assert len(messages) == 5


def test_event_invocation_is_accepted_and_runs_in_the_background(functions, inventory_table, emulator_gateway):
    # GIVEN a handler that records its event in DynamoDB
    name = functions.deploy(
        "recorder",
        """
        import os
        import boto3

        def handler(event, context):
            boto3.client("dynamodb").put_item(TableName=os.environ["TABLE"], Item={"sku": {"S": event["sku"]}, "stock": {"N": "7"}})
        """,
        environment={"TABLE": inventory_table},
    )
    # WHEN it is invoked with InvocationType Event
    response = functions.lambda_client.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"sku": "async-1"}))
    # THEN the call is accepted at once (202), and the handler's write appears
    assert response["StatusCode"] == 202
    dynamodb = emulator_gateway.client("dynamodb")
    waiter = dynamodb.get_waiter("table_exists")  # proves the table answers; the item needs its own bounded poll
    waiter.wait(TableName=inventory_table)
    item = poll_item(dynamodb, inventory_table, "async-1")
    assert item == {"sku": {"S": "async-1"}, "stock": {"N": "7"}}


def test_a_lambda_subscribed_to_a_topic_runs_when_a_message_is_published(functions, inventory_table, emulator_gateway):
    # GIVEN a handler that records each SNS message in DynamoDB, subscribed to a topic (moto invokes it
    # from inside the Publish request, and the handler calls back into the emulator)
    name = functions.deploy(
        "subscriber",
        """
        import os
        import boto3

        dynamodb = boto3.client("dynamodb")

        def handler(event, context):
            message = event["Records"][0]["Sns"]["Message"]
            # two calls: the write happens only if the first call came back while Publish was still running
            dynamodb.describe_table(TableName=os.environ["TABLE"])
            dynamodb.put_item(TableName=os.environ["TABLE"], Item={"sku": {"S": message}, "stock": {"N": "1"}})
        """,
        environment={"TABLE": inventory_table},
    )
    sns = emulator_gateway.client("sns")
    topic_arn = sns.create_topic(Name=f"{functions.prefix}-events")["TopicArn"]
    function_arn = functions.lambda_client.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="lambda", Endpoint=function_arn)
    # WHEN a message is published
    sns.publish(TopicArn=topic_arn, Message="from-sns")
    # THEN the handler ran and its write is there
    dynamodb = emulator_gateway.client("dynamodb")
    assert dynamodb.get_item(TableName=inventory_table, Key={"sku": {"S": "from-sns"}})["Item"] == {
        "sku": {"S": "from-sns"},
        "stock": {"N": "1"},
    }


def poll_item(dynamodb, table: str, sku: str, attempts: int = 100) -> dict | None:
    for _ in range(attempts):
        item = dynamodb.get_item(TableName=table, Key={"sku": {"S": sku}}, ConsistentRead=True).get("Item")
        if item is not None:
            return item
        threading.Event().wait(0.05)
    return None


def invoke_together(functions, name: str, count: int) -> list[tuple[dict, str | None]]:
    """`count` invokes of the function at the same time, each from its own thread: their (payload, error)."""
    results: list = []
    threads = [threading.Thread(target=lambda: results.append(functions.invoke(name))) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_concurrent_invokes_run_in_separate_workers(functions, inventory_table):
    # GIVEN a handler that only returns once all four invocations are running at the same time
    name = functions.deploy(
        "rendezvous",
        """
        import os
        import time
        import boto3

        dynamodb = boto3.client("dynamodb")

        def handler(event, context):
            key = {"sku": {"S": "arrivals"}}
            dynamodb.update_item(TableName=os.environ["TABLE"], Key=key, UpdateExpression="ADD arrived :one",
                                 ExpressionAttributeValues={":one": {"N": "1"}})
            while int(dynamodb.get_item(TableName=os.environ["TABLE"], Key=key)["Item"]["arrived"]["N"]) < 4:
                time.sleep(0.02)
            return os.getpid()
        """,
        timeout=20,
        environment={"TABLE": inventory_table},
    )
    # WHEN four invokes arrive together
    results = invoke_together(functions, name, 4)
    # THEN all four completed (none waited for another), each in its own worker
    assert [error for _, error in results] == [None] * 4
    assert len({pid for pid, _ in results}) == 4


def test_import_errors_are_reported_as_lambda_init_errors(functions):
    # GIVEN a handler module that imports a package the zip does not contain
    name = functions.deploy("broken", "import not_in_the_zip\n\ndef handler(event, context):\n    return 1\n")
    # WHEN it is invoked
    payload, function_error = functions.invoke(name)
    # THEN the error names the import failure
    assert function_error == "Unhandled"
    assert payload["errorType"] == "Runtime.ImportModuleError"
    assert payload["errorMessage"] == "Unable to import module 'app': No module named 'not_in_the_zip'"


def test_non_python_runtime_gets_a_clear_error_not_an_echo(functions):
    # GIVEN a Node.js function
    name = functions.deploy("node", "exports.handler = async () => 1;", runtime="nodejs20.x")
    # WHEN it is invoked
    with pytest.raises(ClientError) as raised:
        functions.invoke(name, {"echo": "me"})
    # THEN the call fails and says why
    error = raised.value.response["Error"]
    assert error["Code"] == "InvalidRuntimeException"
    assert error["Message"] == (
        f"function {name}: runtime nodejs20.x is not supported by the local emulator; only Python runtimes run here"
    )


def test_invoking_a_missing_function_is_resource_not_found(functions):
    # WHEN a function that does not exist is invoked
    with pytest.raises(ClientError) as raised:
        functions.invoke(f"{functions.prefix}-missing")
    # THEN Lambda's not-found error comes back
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


# --- Workers forked from the template process of their code -------------------------------------------

CONFIGURATION_HANDLER = """
    import os
    import time

    def handler(event, context):
        names = ("GREETING", "ONLY_IN_FIRST", "AWS_LAMBDA_FUNCTION_NAME", "LAMBDA_TASK_ROOT")
        return {"environment": {name: os.environ.get(name) for name in names}, "zone": time.strftime("%Z"), "pid": os.getpid()}
"""


def test_functions_with_the_same_code_each_see_only_their_own_configuration(functions):
    # GIVEN two functions deployed from the same zip (one code, so workers forked from one template), configured differently
    first = functions.deploy("first", CONFIGURATION_HANDLER, environment={"GREETING": "hello", "ONLY_IN_FIRST": "yes"})
    second = functions.deploy("second", CONFIGURATION_HANDLER, environment={"GREETING": "bonjour"})
    code = {functions.lambda_client.get_function(FunctionName=name)["Configuration"]["CodeSha256"] for name in (first, second)}
    assert len(code) == 1
    # WHEN each is invoked
    first_result, first_error = functions.invoke(first)
    second_result, second_error = functions.invoke(second)
    # THEN each worker has its own function's environment and nothing of the other's, in UTC as on AWS
    assert (first_error, second_error) == (None, None)
    code_root = first_result["environment"]["LAMBDA_TASK_ROOT"]
    assert first_result["environment"] == {
        "GREETING": "hello",
        "ONLY_IN_FIRST": "yes",
        "AWS_LAMBDA_FUNCTION_NAME": first,
        "LAMBDA_TASK_ROOT": code_root,
    }
    assert second_result["environment"] == {
        "GREETING": "bonjour",
        "ONLY_IN_FIRST": None,
        "AWS_LAMBDA_FUNCTION_NAME": second,
        "LAMBDA_TASK_ROOT": code_root,
    }
    assert (first_result["zone"], second_result["zone"]) == ("UTC", "UTC")
    # AND they ran in two processes
    assert first_result["pid"] != second_result["pid"]


SDK_REPORTING_HANDLER = """
    import os
    import boto3

    def handler(event, context):
        return {"version": boto3.__version__, "in_the_zip": boto3.__file__.startswith(os.environ["LAMBDA_TASK_ROOT"])}
"""


def test_a_zip_that_ships_its_own_boto3_gets_that_one_as_on_aws(functions):
    # GIVEN a zip that bundles its own boto3 (the code directory comes first on sys.path, as in the Lambda runtime)
    name = functions.deploy("bundled", SDK_REPORTING_HANDLER, files={"boto3/__init__.py": "__version__ = '0.0.1-bundled'\n"})
    # WHEN it is invoked
    payload, function_error = functions.invoke(name)
    # THEN the handler's boto3 is the zip's, not the one the emulator's template would otherwise have imported
    assert function_error is None
    assert payload == {"version": "0.0.1-bundled", "in_the_zip": True}


def test_a_bundled_sdk_that_fails_to_import_fails_the_handlers_init_with_its_own_error(functions):
    # GIVEN a zip whose bundled boto3 raises when imported
    broken_sdk = {"boto3/__init__.py": "raise RuntimeError('this bundled SDK is broken')\n"}
    name = functions.deploy("broken-sdk", SDK_REPORTING_HANDLER, files=broken_sdk)
    # WHEN it is invoked
    payload, function_error = functions.invoke(name)
    # THEN the init error is the handler module's own import failure, as on AWS
    assert function_error == "Unhandled"
    assert (payload["errorType"], payload["errorMessage"]) == ("RuntimeError", "this bundled SDK is broken")


TWO_AT_ONCE_HANDLER = """
    import os
    import time

    def handler(event, context):
        arrivals = os.environ["ARRIVALS"]
        open(os.path.join(arrivals, str(os.getpid())), "w").close()
        while len(os.listdir(arrivals)) < 2:  # returns only once two invocations run at the same time
            time.sleep(0.02)
        return os.getpid()
"""


def lambda_processes_of(pid: int) -> set[int]:
    """Every live process under `pid`: the templates it started and the workers forked from them."""
    children = {int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit() and parent_of(int(entry.name)) == pid}
    return children.union(*(lambda_processes_of(child) for child in children))


def parent_of(pid: int) -> int | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] == "Z" else int(fields[1])


@pytest.mark.parametrize("ending", [signal.SIGTERM, signal.SIGKILL], ids=["stopped", "killed outright"])
def test_an_emulator_that_ends_takes_its_lambda_templates_and_workers_with_it(tmp_path, free_tcp_port, ending):
    # GIVEN an emulator of its own with a function that has two warm workers (forked from one template)
    url = local_endpoint_url(free_tcp_port)
    with open(tmp_path / "emulator.log", "wb") as log_file:
        emulator = subprocess.Popen(
            lifecycle.serve_command(free_tcp_port, processes=1), cwd=lifecycle.PROJECT_ROOT, stdout=log_file, stderr=subprocess.STDOUT
        )
    try:
        lifecycle.wait_until_healthy(url, emulator, tmp_path / "emulator.log")
        functions = FunctionDeployer(AwsGateway(Target(ENDPOINT, "us-east-1", "own", url)))
        arrivals = tmp_path / "arrivals"
        arrivals.mkdir()
        name = functions.deploy("two-at-once", TWO_AT_ONCE_HANDLER, environment={"ARRIVALS": str(arrivals)})
        results = invoke_together(functions, name, 2)
        assert len({pid for pid, _ in results}) == 2
        lambda_processes = lambda_processes_of(emulator.pid)
        assert len(lambda_processes) == 3
        # WHEN the emulator is stopped, or killed outright (it cannot stop anything itself)
        emulator.send_signal(ending)
        emulator.wait(timeout=15)
        # THEN the template and both workers end too: they see the emulator's ends of their pipes close
        deadline = time.monotonic() + 5
        while (left := {pid for pid in lambda_processes if parent_of(pid) is not None}) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert left == set()
    finally:
        if emulator.poll() is None:
            emulator.kill()
            emulator.wait()
