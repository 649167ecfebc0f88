"""Python Lambdas that really run, without Docker: moto's `LambdaFunction.invoke` replaced by warm workers.

Each function gets a pool of worker processes (`lambda_worker.py`), forked on first invoke from the
template process of the function's code (which has imported boto3 from the code's sys.path) and reused,
one invocation at a time each, up to `BF_LAMBDA_MAX_WORKERS` (default 4) per function for concurrent
invokes, like Lambda execution environments. A pool is retired when the function's code or
configuration changes; workers idle for `BF_LAMBDA_IDLE_SECONDS` are stopped. Errors follow AWS:
function error `Unhandled` with {"errorType", "errorMessage", "stackTrace"}, so Step Functions
Retry/Catch match on the exception's class name. Output goes to CloudWatch Logs /aws/lambda/<name>.

Here: the runtime (pools by function, code unpacked once per hash, templates by code), its log writer,
its reaper of idle workers, and the checks of an invoke request. Elsewhere: the function as the runtime
sees it (`lambda_function`), the template process (`lambda_template`), one worker (`lambda_worker_client`,
and `lambda_worker` inside it), the workers of one function (`lambda_pool`).
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from blackfriday.emulator import gate, groups
from blackfriday.emulator.errors import InvalidRequestContent, UnsupportedRuntime, WorkerGone
from blackfriday.emulator.lambda_function import DeployedFunction, check_runnable
from blackfriday.emulator.lambda_pool import WorkerPool
from blackfriday.emulator.lambda_template import INIT_TIMEOUT_SECONDS, Template
from blackfriday.emulator.lambda_worker_client import Worker

log = logging.getLogger("blackfriday.emulator.lambda")

MAX_WORKERS_PER_FUNCTION = int(os.environ.get("BF_LAMBDA_MAX_WORKERS", "4"))
IDLE_SECONDS = float(os.environ.get("BF_LAMBDA_IDLE_SECONDS", "300"))
EVENT_INVOKE_THREADS = 32  # background runners for InvocationType=Event
LOG_TAIL_BYTES = 4096  # x-amz-log-result carries the last 4 KB, as on AWS
# (account, region, log group, log stream, events [{"timestamp": ms, "message": text}]): where invocations log
LogWriter = Callable[[str, str, str, str, list[dict]], None]


@dataclass
class Invocation:
    payload: bytes
    errored: bool
    log_text: str  # what went to CloudWatch Logs, for x-amz-log-result


def error_payload(error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message, "stackTrace": []}).encode()


class LambdaRuntime:
    """All pools of the emulator, keyed by function ARN; code unpacked once per code hash, with one template each."""

    def __init__(
        self,
        endpoint_url: str,
        endpoints: dict[str, str],
        append_log_events: LogWriter,
        workers_per_function: int = MAX_WORKERS_PER_FUNCTION,
    ):
        # AWS_ENDPOINT_URL for every service, AWS_ENDPOINT_URL_<SERVICE> for a grouped one's own process
        self.endpoint_environment = {"AWS_ENDPOINT_URL": endpoint_url, **groups.endpoint_environment(endpoints)}
        self.append_log_events = append_log_events
        self.workers_per_function = workers_per_function
        self.pools: dict[str, WorkerPool] = {}
        self.lock = threading.Lock()
        self.code_root = Path(tempfile.mkdtemp(prefix="blackfriday-lambda-"))
        self.code_dirs: dict[str, Path] = {}
        self.templates: dict[Path, Template] = {}
        self.event_runner = ThreadPoolExecutor(EVENT_INVOKE_THREADS, thread_name_prefix="lambda-event")
        self.stopping = threading.Event()
        threading.Thread(target=self.stop_idle_workers, name="lambda-reaper", daemon=True).start()

    def pool_for(self, config: DeployedFunction) -> WorkerPool:
        with self.lock:
            pool = self.pools.get(config.function_arn)
            if pool is not None and pool.config == config:
                return pool
            if pool is not None:
                pool.retire()
            pool = WorkerPool(config, self.code_dir(config), self.endpoint_environment, self.workers_per_function)
            self.pools[config.function_arn] = pool
            return pool

    def code_dir(self, function: DeployedFunction) -> Path:
        code_dir = self.code_dirs.get(function.code_sha_256)
        if code_dir is None:
            code_dir = self.code_root / function.code_sha_256.replace("/", "_")
            code_dir.mkdir()
            try:
                zipfile.ZipFile(io.BytesIO(function.code)).extractall(code_dir)
            except zipfile.BadZipFile:
                shutil.rmtree(code_dir)
                raise UnsupportedRuntime(f"function {function.function_name}: its deployment package is not a zip file") from None
            self.code_dirs[function.code_sha_256] = code_dir
        return code_dir

    def template_for(self, code_dir: Path) -> Template:
        with self.lock:
            template = self.templates.get(code_dir)
            if template is None or not template.alive:
                template = self.templates[code_dir] = Template(code_dir)
            template.last_used = time.monotonic()
            return template

    def invoke(self, function: DeployedFunction, body, request_headers, response_headers) -> bytes:
        """moto's `LambdaFunction.invoke(body, request_headers, response_headers)` of this function, running the handler."""
        check_runnable(function)
        event = event_text(body)
        invocation_type = header(request_headers, "x-amz-invocation-type") or "RequestResponse"
        if invocation_type == "DryRun":
            return b""
        if invocation_type == "Event":
            self.event_runner.submit(self.run_logged, function, event)
            return b""
        with gate.released():  # moto invoking from inside a request (SNS, SQS event source): the handler calls back
            result = self.run(function, event)
        if result.errored:
            # Unhandled, as AWS reports handler errors: Step Functions match Retry/Catch on errorType.
            response_headers["x-amz-function-error"] = "Unhandled"
        if header(request_headers, "x-amz-log-type") == "Tail":
            tail = result.log_text.encode()[-LOG_TAIL_BYTES:]
            response_headers["x-amz-log-result"] = base64.b64encode(tail).decode()
        return result.payload

    def run_logged(self, function: DeployedFunction, event: str) -> None:
        try:
            self.run(function, event)
        except Exception:  # an Event invocation has nobody to answer; the log keeps the failure
            log.exception("Event invocation of %s failed", function.function_name)

    def run(self, function: DeployedFunction, event: str) -> Invocation:
        pool = self.pool_for(function)
        worker, start_new = pool.acquire()
        reusable = False
        request_id = str(uuid.uuid4())
        started = time.monotonic()
        try:
            if start_new:
                try:
                    worker = Worker(pool.config, self.template_for(pool.code_dir), pool.endpoint_environment)
                except WorkerGone:
                    message = f"RequestId: {request_id} Error: Runtime exited with error: the function's template process ended"
                    return Invocation(error_payload("Runtime.ExitError", message), True, message + "\n")
                ready = self.start_worker(worker, request_id)
                if ready is not None:
                    return ready
            payload, errored, reusable, runtime_error = self.call(worker, pool.config, request_id, event)
            log_text = self.write_logs(worker, request_id, worker.take_output() + runtime_error, started)
            return Invocation(payload, errored, log_text)
        finally:
            pool.release(worker, reusable)

    def start_worker(self, worker: Worker, request_id: str) -> Invocation | None:
        """None when the worker is ready; else the invocation's result (an init error), the worker discarded."""
        try:
            outcome = worker.start()
        except TimeoutError:
            message = f"RequestId: {request_id} Error: Init timed out after {INIT_TIMEOUT_SECONDS:.2f} seconds"
            outcome = {"initError": {"errorType": "Sandbox.Timedout", "errorMessage": message}}
        except WorkerGone:
            outcome = {"initError": {"errorType": "Runtime.ExitError", "errorMessage": exit_message(request_id, worker.exit_code())}}
        if "initError" in outcome:
            error = outcome["initError"]
            output = worker.take_output() + f"[ERROR] {error['errorType']}: {error['errorMessage']}\n"
            log_text = self.write_logs(worker, request_id, output, time.monotonic())
            return Invocation(json.dumps(error | {"stackTrace": error.get("stackTrace", [])}).encode(), True, log_text)
        return None

    def call(self, worker: Worker, config: DeployedFunction, request_id: str, event: str) -> tuple[bytes, bool, bool, str]:
        """(payload, errored, worker reusable, runtime error line for the log) for one invocation on a started worker."""
        request = {
            "requestId": request_id,
            "event": event,
            "invokedFunctionArn": config.function_arn,
            "deadlineMs": time.time() * 1000 + config.timeout * 1000,
        }
        try:
            response = worker.invoke(request, config.timeout)
        except TimeoutError:
            worker.kill()  # the only way to stop a handler mid-flight, as Lambda does
            message = f"RequestId: {request_id} Error: Task timed out after {config.timeout:.2f} seconds"
            return error_payload("Sandbox.Timedout", message), True, False, message + "\n"
        except WorkerGone:
            message = exit_message(request_id, worker.exit_code())
            return error_payload("Runtime.ExitError", message), True, False, message + "\n"
        reusable = not worker.output_closed
        if "error" in response:
            return json.dumps(response["error"]).encode(), True, reusable, ""
        return response["payload"].encode(), False, reusable, ""

    def write_logs(self, worker: Worker, request_id: str, output: str, started: float) -> str:
        """START / the handler's output / END / REPORT in the worker's stream of /aws/lambda/<name>, as on AWS."""
        config = worker.config
        duration_ms = (time.monotonic() - started) * 1000
        lines = [f"START RequestId: {request_id} Version: {config.version}"]
        lines += [line for line in output.splitlines() if line]
        lines += [
            f"END RequestId: {request_id}",
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\tMemory Size: {config.memory_size} MB",
        ]
        now = int(time.time() * 1000)
        group = f"/aws/lambda/{config.function_name}"
        account_id = config.function_arn.split(":")[4]
        with gate.held():  # invocations run outside the gate, and moto's logs backend is not thread-safe
            self.append_log_events(
                account_id, config.region, group, worker.log_stream, [{"timestamp": now, "message": line} for line in lines]
            )
        return "\n".join(lines) + "\n"

    def stop_idle_workers(self) -> None:
        while not self.stopping.wait(min(IDLE_SECONDS, 10)):
            cutoff = time.monotonic() - IDLE_SECONDS
            with self.lock:
                pools = list(self.pools.values())
            for pool in pools:
                pool.stop_idle_since(cutoff)
            with self.lock:
                idle = {code_dir: template for code_dir, template in self.templates.items() if template.idle_since(cutoff)}
                for code_dir in idle:
                    del self.templates[code_dir]
            for template in idle.values():
                template.stop()

    def shutdown(self) -> None:
        self.stopping.set()
        self.event_runner.shutdown(wait=False, cancel_futures=True)
        with self.lock:
            pools, self.pools = list(self.pools.values()), {}
        for pool in pools:
            pool.retire()
        with self.lock:
            templates, self.templates = list(self.templates.values()), {}
        for template in templates:
            template.stop()
        shutil.rmtree(self.code_root, ignore_errors=True)


def exit_message(request_id: str, exit_code: int) -> str:
    reason = f"exit status {exit_code}" if exit_code >= 0 else f"signal {-exit_code}"
    return f"RequestId: {request_id} Error: Runtime exited with error: {reason}"


def event_text(body) -> str:
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    if not body:
        return "{}"
    try:
        json.loads(body)
    except ValueError:
        raise InvalidRequestContent("Could not parse request body into json: the payload is not valid JSON") from None
    return body


def header(headers, name: str) -> str | None:
    """Request headers are werkzeug's (case-insensitive) over HTTP, a plain dict when moto invokes internally."""
    value = headers.get(name)
    if value is None and isinstance(headers, dict):
        lowered = {key.lower(): value for key, value in headers.items()}
        value = lowered.get(name)
    return value


RUNTIME: LambdaRuntime | None = None


def install(port: int, endpoints: dict[str, str], append_log_events: LogWriter) -> LambdaRuntime:
    """Start the runtime that answers every Lambda invoke of this process (the fix in fixes/awslambda.py routes them
    here), its workers calling the emulator on `port`, each grouped service at its own process (`endpoints`: boto3
    client name -> URL), each invocation's log lines given to `append_log_events` (the server passes the logs backend's
    writer from the fixes registry, which imports this module)."""
    global RUNTIME
    RUNTIME = LambdaRuntime(f"http://127.0.0.1:{port}", endpoints, append_log_events)
    return RUNTIME


def shutdown() -> None:
    if RUNTIME is not None:
        RUNTIME.shutdown()
