"""One warm Lambda execution environment: imports a Python handler once, then runs invocations one at a time.

Started by `lambda_runtime` as `python -I lambda_worker.py <request-fd> <response-fd>` in the function's
unpacked code directory, with the function's environment. Standard library only, so the handler sees
the same packages it would on AWS (the interpreter's site-packages, boto3 included) and nothing of ours.

Protocol: length-prefixed JSON frames on two dedicated pipes, so whatever the handler prints (fd 1 and
2 both go to the log pipe) can never corrupt a response. After each invocation the worker writes an
end-of-invocation marker to the log pipe, then the response frame: the parent reads logs up to the
marker. A handler that calls sys.exit or os._exit ends the process; the parent sees the closed pipe.
"""

import importlib
import json
import logging
import os
import struct
import sys
import time
import traceback

FRAME_HEADER = struct.Struct(">I")
LOG_MARKER_PREFIX = b"\x00BF-INVOCATION-END "


def read_exactly(fd, size):
    data = bytearray()
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def receive(fd):
    header = read_exactly(fd, FRAME_HEADER.size)
    if header is None:
        return None
    body = read_exactly(fd, FRAME_HEADER.unpack(header)[0])
    return None if body is None else json.loads(body)


def send(fd, message):
    body = json.dumps(message).encode()
    frame = FRAME_HEADER.pack(len(body)) + body
    while frame:
        frame = frame[os.write(fd, frame) :]


def error_document(error, error_type=None):
    return {
        "errorType": error_type or type(error).__name__,
        "errorMessage": str(error),
        # the handler's frames only, as on AWS: not this runtime's own
        "stackTrace": traceback.format_list([frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename != __file__]),
    }


class LambdaContext:
    """The attributes and method of the AWS Python runtime's context object that handlers use."""

    def __init__(self, request_id, invoked_function_arn, deadline_ms):
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_function_arn
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ["AWS_LAMBDA_FUNCTION_VERSION"]
        self.memory_limit_in_mb = os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
        self.log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(0, int(self._deadline_ms - time.time() * 1000))


class RequestIdFilter(logging.Filter):
    request_id = ""

    def filter(self, record):
        record.aws_request_id = RequestIdFilter.request_id
        return True


def configure_logging():
    """Like the AWS Python runtime: a root handler with level and request id, root level WARNING by default."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s", "%Y-%m-%dT%H:%M:%S"))
    handler.formatter.converter = time.gmtime
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(os.environ.get("AWS_LAMBDA_LOG_LEVEL", "WARNING").upper())


def load_handler(handler_name):
    module_name, _, function_name = handler_name.rpartition(".")
    if not module_name or not function_name:
        raise HandlerError("Runtime.MalformedHandlerName", f"Bad handler '{handler_name}': not enough values to unpack (expected 2, got 1)")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as error:
        raise HandlerError("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {error}") from error
    handler = getattr(module, function_name, None)
    if handler is None:
        raise HandlerError("Runtime.HandlerNotFound", f"Handler '{function_name}' missing on module '{module_name}'")
    return handler


class HandlerError(Exception):
    def __init__(self, error_type, message):
        super().__init__(message)
        self.error_type = error_type


def flush_output(request_id):
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        os.write(1, LOG_MARKER_PREFIX + request_id.encode() + b"\n")
    except (OSError, ValueError):
        pass  # the handler closed its output: the parent stops reading it at end of file


def run(request, handler):
    RequestIdFilter.request_id = request["requestId"]
    context = LambdaContext(request["requestId"], request["invokedFunctionArn"], request["deadlineMs"])
    try:
        result = handler(json.loads(request["event"]), context)
    except Exception as error:  # noqa: BLE001 - every handler error becomes the Lambda error document
        document = error_document(error)
        print(f"[ERROR] {document['errorType']}: {document['errorMessage']}", "".join(document["stackTrace"]), sep="\n", file=sys.stderr)
        return {"error": document}
    try:
        return {"payload": json.dumps(result)}
    except (TypeError, ValueError) as error:
        return {"error": error_document(error, "Runtime.MarshalError") | {"errorMessage": f"Unable to marshal response: {error}", "stackTrace": []}}


def main():
    request_fd, response_fd = int(sys.argv[1]), int(sys.argv[2])
    sys.path.insert(0, os.environ["LAMBDA_TASK_ROOT"])
    sys.stdout.reconfigure(line_buffering=True)  # prints and log records keep their order in the log
    configure_logging()
    try:
        handler = load_handler(os.environ["_HANDLER"])
    except HandlerError as error:
        send(response_fd, {"initError": error_document(error, error.error_type) | {"stackTrace": []}})
        return
    except Exception as error:  # noqa: BLE001 - an exception raised while importing the handler module
        send(response_fd, {"initError": error_document(error)})
        return
    send(response_fd, {"ready": True})
    while (request := receive(request_fd)) is not None:
        response = run(request, handler)
        flush_output(request["requestId"])
        send(response_fd, response)


if __name__ == "__main__":
    main()
