"""Warm Lambda execution environments: a template process per function code, and the workers forked from it.

`lambda_template` starts `python -I lambda_worker.py <control-fd>` once per unpacked code directory (the
template): it puts the code directory first on sys.path, as the Lambda runtime does, and imports boto3
from there (the runtime's SDK, or the zip's own copy if it ships one, exactly as the handler would),
then forks one worker per request on its control socket. A fork costs milliseconds where a fresh
interpreter importing boto3 costs about 0.15 s of CPU, on every cold start. Nothing of any function's
configuration is in the template: each worker gets its own environment before it imports its handler.
Standard library only, so the handler sees the same packages it would on AWS and nothing of ours.

Control protocol (length-prefixed JSON frames on a Unix socket pair): the runtime sends
{"environment": {...}} with three file descriptors attached (request pipe, response pipe, output
pipe); the template answers {"spawned": pid}, and {"exited": pid, "code": n} when a worker ends (n
negative for a signal, as subprocess reports it). The template ends when the runtime closes the socket.

Worker protocol: length-prefixed JSON frames on two dedicated pipes, so whatever the handler prints
(fd 1 and 2 both go to the output pipe) can never corrupt a response. After each invocation the worker
writes an end-of-invocation marker to the output pipe, then the response frame: the runtime reads logs
up to the marker. A handler that calls sys.exit or os._exit ends the process; the runtime sees the
closed pipe and the template reports the exit status.
"""

import importlib
import json
import logging
import os
import select
import signal
import socket
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
    handler.setFormatter(
        logging.Formatter("[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s", "%Y-%m-%dT%H:%M:%S")
    )
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
        return {
            "error": error_document(error, "Runtime.MarshalError")
            | {"errorMessage": f"Unable to marshal response: {error}", "stackTrace": []}
        }


def serve(request_fd, response_fd):
    """The worker: import the handler once, then run invocations until the runtime closes the request pipe."""
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


def preload_sdk():
    """Import boto3 as the handler would (code directory first); if that fails, forget it, so the handler meets the
    same failure itself, in its own log."""
    before = set(sys.modules)
    try:
        import boto3  # noqa: F401
    except Exception:  # noqa: BLE001 - whatever the import raises is the handler's to see
        for name in set(sys.modules) - before:
            del sys.modules[name]


def receive_spawn(control):
    """The next spawn request: (environment, [request fd, response fd, output fd]), or None when the runtime is gone."""
    header, fds, _, _ = socket.recv_fds(control, FRAME_HEADER.size, 3)
    rest = read_exactly(control.fileno(), FRAME_HEADER.size - len(header)) if header else None
    if rest is None or len(fds) != 3:
        return None
    body = read_exactly(control.fileno(), FRAME_HEADER.unpack(header + rest)[0])
    if body is None:
        return None
    return json.loads(body)["environment"], fds


def report_exits(control):
    """Reap every worker that ended and tell the runtime its exit status."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        send(control.fileno(), {"exited": pid, "code": os.waitstatus_to_exitcode(status)})


def become_worker(control, wakeup, environment, fds):
    """In the forked child: drop the template's ends, take the worker's pipes and the function's environment."""
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the handler's own subprocesses are its own to wait for
    control.close()
    for fd in wakeup:
        os.close(fd)
    request_fd, response_fd, output_fd = fds
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    os.close(output_fd)
    os.environ.clear()
    os.environ.update(environment)
    time.tzset()
    return request_fd, response_fd


def serve_template(control_fd):
    """Fork a worker per spawn request until the runtime closes the socket. Returns the worker's pipes in a child,
    None in the template when it is done."""
    control = socket.socket(fileno=control_fd)
    sys.path.insert(0, os.environ["LAMBDA_TASK_ROOT"])
    preload_sdk()
    wakeup = os.pipe()
    os.set_blocking(wakeup[1], False)
    signal.set_wakeup_fd(wakeup[1])
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)  # a handler, so that SIGCHLD reaches the wakeup pipe
    while True:
        readable, _, _ = select.select([control, wakeup[0]], [], [])
        try:
            if wakeup[0] in readable:
                os.read(wakeup[0], 512)
                report_exits(control)
            if control in readable:
                request = receive_spawn(control)
                if request is None:
                    return None
                environment, fds = request
                pid = os.fork()
                if pid == 0:
                    return become_worker(control, wakeup, environment, fds)
                for fd in fds:
                    os.close(fd)
                send(control.fileno(), {"spawned": pid})
        except (BrokenPipeError, ConnectionResetError):
            return None  # the runtime is gone


if __name__ == "__main__":
    worker_pipes = serve_template(int(sys.argv[1]))
    if worker_pipes is not None:
        serve(*worker_pipes)
