"""Python Lambdas that really run, without Docker: moto's `LambdaFunction.invoke` replaced by warm workers.

Each function gets a pool of worker processes (`lambda_worker.py`), forked on first invoke from the
template process of the function's code (which has imported boto3 from the code's sys.path) and reused,
one invocation at a time each, up to `BF_LAMBDA_MAX_WORKERS` (default 4) per function for concurrent
invokes, like Lambda execution environments. A pool is retired when the function's code or
configuration changes; workers idle for `BF_LAMBDA_IDLE_SECONDS` are stopped. Errors follow AWS:
function error `Unhandled` with {"errorType", "errorMessage", "stackTrace"}, so Step Functions
Retry/Catch match on the exception's class name. Output goes to CloudWatch Logs /aws/lambda/<name>.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from moto.awslambda import models as lambda_models
from moto.awslambda.exceptions import LambdaClientError
from moto.core.utils import unix_time_millis

from blackfriday.emulator import gate, groups
from blackfriday.emulator.lambda_worker import FRAME_HEADER, LOG_MARKER_PREFIX, read_exactly

log = logging.getLogger("blackfriday.emulator.lambda")

WORKER_SCRIPT = Path(__file__).with_name("lambda_worker.py")
MAX_WORKERS_PER_FUNCTION = int(os.environ.get("BF_LAMBDA_MAX_WORKERS", "4"))
IDLE_SECONDS = float(os.environ.get("BF_LAMBDA_IDLE_SECONDS", "300"))
INIT_TIMEOUT_SECONDS = 10.0  # as on AWS: a handler module gets 10 s to import
EXIT_STATUS_SECONDS = 2.0  # how long to wait for a worker's exit status before killing it
EVENT_INVOKE_THREADS = 32  # background runners for InvocationType=Event
LOG_TAIL_BYTES = 4096  # x-amz-log-result carries the last 4 KB, as on AWS
# The worker's base environment: enough to run Python, nothing of the server's credentials or settings.
INHERITED_VARIABLES = ("PATH", "LANG", "LC_ALL", "TMPDIR", "HOME", "SYSTEMROOT")
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}


class UnsupportedRuntime(LambdaClientError):
    """Only Python zip functions run here; anything else gets this instead of moto's silent echo."""

    def __init__(self, message: str):
        # AWS answers 502, which SDKs retry as transient: 400 makes the clear error come back at once.
        super().__init__("InvalidRuntimeException", message)


class InvalidRequestContent(LambdaClientError):
    def __init__(self, message: str):
        super().__init__("InvalidRequestContentException", message)


@dataclass(frozen=True)
class DeployedFunction:
    """What a warm worker depends on: when any of it changes, the pool is retired and new workers start."""

    function_arn: str
    function_name: str
    version: str
    region: str
    handler: str
    runtime: str
    code_sha_256: str
    environment: tuple[tuple[str, str], ...]
    timeout: int
    memory_size: int

    @classmethod
    def of(cls, function) -> DeployedFunction:
        return cls(
            function_arn=function.function_arn,
            function_name=function.function_name,
            version=str(function.version),
            region=function.region,
            handler=function.handler or "",
            runtime=function.run_time or "",
            code_sha_256=function.code_sha_256,
            environment=tuple(sorted((function.environment_vars or {}).items())),
            timeout=int(function.timeout),
            memory_size=int(function.memory_size),
        )


@dataclass
class Invocation:
    payload: bytes
    errored: bool
    log_text: str  # what went to CloudWatch Logs, for x-amz-log-result


def inherited_environment() -> dict[str, str]:
    return {name: os.environ[name] for name in INHERITED_VARIABLES if name in os.environ}


def error_payload(error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message, "stackTrace": []}).encode()


class WorkerGone(Exception):
    """The worker process ended (exit, crash) or stopped answering within its deadline."""


class Template:
    """The template process of one code directory, and the exit statuses of the workers forked from it."""

    def __init__(self, code_dir: Path):
        self.code_dir = code_dir
        self.last_used = time.monotonic()  # set by the runtime (under its lock) each time it hands the template out
        runtime_end, template_end = socket.socketpair()
        environment = inherited_environment() | {"LAMBDA_TASK_ROOT": str(code_dir)}
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-I", str(WORKER_SCRIPT), str(template_end.fileno())],
                pass_fds=(template_end.fileno(),),
                cwd=code_dir,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=None,  # the emulator's log: a template that cannot start says why there
            )
        finally:
            template_end.close()
        self.control = runtime_end
        self.spawn_lock = threading.Lock()  # one spawn at a time: its answer is the next "spawned" frame
        self.condition = threading.Condition()
        self.spawned: list[int] = []
        self.live: set[int] = set()
        self.exit_codes: dict[int, int] = {}
        self.closed = False  # the template ended: nothing more will be spawned or reported
        threading.Thread(target=self.read_reports, name=f"lambda-template-{self.process.pid}", daemon=True).start()

    def read_reports(self) -> None:
        """Spawned pids and exit statuses, until the template ends; the socket is closed here, never under a read."""
        fd = self.control.fileno()
        while (header := read_exactly(fd, FRAME_HEADER.size)) is not None:
            body = read_exactly(fd, FRAME_HEADER.unpack(header)[0])
            if body is None:
                break
            report = json.loads(body)
            with self.condition:
                if "spawned" in report:
                    self.spawned.append(report["spawned"])
                    self.live.add(report["spawned"])
                else:
                    self.exit_codes[report["exited"]] = report["code"]
                    self.live.discard(report["exited"])
                self.condition.notify_all()
        with self.condition:
            self.closed = True
            self.condition.notify_all()
        self.control.close()

    def spawn(self, environment: dict[str, str], fds: tuple[int, int, int]) -> int:
        """Fork a worker with this environment and these pipes (request read end, response and output write ends)."""
        with self.spawn_lock:
            body = json.dumps({"environment": environment}).encode()
            try:
                socket.send_fds(self.control, [FRAME_HEADER.pack(len(body)) + body], list(fds))
            except OSError:
                raise WorkerGone() from None
            with self.condition:
                self.condition.wait_for(lambda: self.spawned or self.closed, INIT_TIMEOUT_SECONDS)
                if self.spawned:
                    return self.spawned.pop()
            self.process.kill()  # ended, or stuck: a late answer must never be taken for the next spawn's
            raise WorkerGone()

    def exit_code(self, pid: int, timeout: float) -> int | None:
        """The worker's exit status once it has ended, None while it runs (after `timeout` seconds of waiting)."""
        with self.condition:
            self.condition.wait_for(lambda: pid in self.exit_codes or self.closed, timeout)
            return self.exit_codes.get(pid)

    def idle_since(self, cutoff: float) -> bool:
        with self.condition:
            return not self.live and self.last_used < cutoff

    @property
    def alive(self) -> bool:
        return not self.closed and self.process.poll() is None

    def stop(self) -> None:
        """Shut the control socket: the template sees its end and exits (its workers end when their request pipes close)."""
        try:
            self.control.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # the template has already ended
        try:
            self.process.wait(timeout=EXIT_STATUS_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Worker:
    """One worker process, forked from its code's template, and its three pipes: requests in, responses out, output
    (stdout+stderr) out."""

    def __init__(self, config: DeployedFunction, template: Template, endpoint_environment: dict[str, str]):
        self.config = config
        self.template = template
        self.log_stream = f"{time.strftime('%Y/%m/%d', time.gmtime())}/[{config.version}]{uuid.uuid4().hex}"
        self.pending_output = bytearray()
        self.last_used = time.monotonic()
        self.returncode: int | None = None
        request_read, self.request_fd = os.pipe()
        self.response_fd, response_write = os.pipe()
        self.output_fd, output_write = os.pipe()
        try:
            self.pid = template.spawn(self.environment(template.code_dir, endpoint_environment), (request_read, response_write, output_write))
        except WorkerGone:
            for fd in (self.request_fd, self.response_fd, self.output_fd):
                os.close(fd)
            raise
        finally:
            for fd in (request_read, response_write, output_write):
                os.close(fd)
        self.poller = select.poll()  # response and output: waiting for a response
        self.poller.register(self.response_fd, select.POLLIN)
        self.poller.register(self.output_fd, select.POLLIN)
        self.output_poller = select.poll()  # output only: collecting what is left of it
        self.output_poller.register(self.output_fd, select.POLLIN)
        self.output_closed = False  # the handler closed its stdout and stderr: this worker is not reused
        self.response_buffer = bytearray()

    def environment(self, code_dir: Path, endpoint_environment: dict[str, str]) -> dict[str, str]:
        config = self.config
        environment = inherited_environment()
        environment.update(endpoint_environment, TZ=":UTC")
        environment.update(dict(config.environment))
        # Reserved variables: set by Lambda itself, whatever the function's configuration says.
        environment.update(DUMMY_CREDENTIALS)
        environment.update(
            AWS_REGION=config.region,
            AWS_DEFAULT_REGION=config.region,
            AWS_LAMBDA_FUNCTION_NAME=config.function_name,
            AWS_LAMBDA_FUNCTION_VERSION=config.version,
            AWS_LAMBDA_FUNCTION_MEMORY_SIZE=str(config.memory_size),
            AWS_LAMBDA_FUNCTION_TIMEOUT=str(config.timeout),
            AWS_LAMBDA_LOG_GROUP_NAME=f"/aws/lambda/{config.function_name}",
            AWS_LAMBDA_LOG_STREAM_NAME=self.log_stream,
            AWS_EXECUTION_ENV=f"AWS_Lambda_{config.runtime}",
            LAMBDA_TASK_ROOT=str(code_dir),
            _HANDLER=config.handler,
        )
        return environment

    def start(self) -> dict:
        """Wait for the handler module to import: {"ready": True} or {"initError": {...}}."""
        return self.exchange(None, time.monotonic() + INIT_TIMEOUT_SECONDS)

    def invoke(self, request: dict, timeout: float) -> dict:
        self.last_used = time.monotonic()
        body = json.dumps(request).encode()
        try:
            response = self.exchange(FRAME_HEADER.pack(len(body)) + body, time.monotonic() + timeout)
            self.collect_output_until(LOG_MARKER_PREFIX + request["requestId"].encode() + b"\n", time.monotonic() + 2)
            return response
        finally:
            self.last_used = time.monotonic()

    def exchange(self, frame: bytes | None, deadline: float) -> dict:
        """Send a frame (if any), then read one response frame, collecting output meanwhile."""
        if frame is not None:
            try:
                while frame:
                    frame = frame[os.write(self.request_fd, frame) :]
            except BrokenPipeError:
                raise WorkerGone() from None
        while True:
            response = self.complete_frame()
            if response is not None:
                return response
            for fd, _ in self.poll(self.poller, deadline):
                chunk = os.read(fd, 65536)
                if fd == self.output_fd:
                    self.pending_output += chunk
                    if not chunk:
                        self.output_closed = True
                        self.poller.unregister(self.output_fd)
                elif chunk:
                    self.response_buffer += chunk
                else:
                    raise WorkerGone()

    def complete_frame(self) -> dict | None:
        if len(self.response_buffer) < FRAME_HEADER.size:
            return None
        size = FRAME_HEADER.unpack_from(self.response_buffer)[0]
        end = FRAME_HEADER.size + size
        if len(self.response_buffer) < end:
            return None
        body = bytes(self.response_buffer[FRAME_HEADER.size : end])
        del self.response_buffer[:end]
        return json.loads(body)

    @staticmethod
    def poll(poller, deadline: float) -> list:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError()
        events = poller.poll(remaining * 1000)
        if not events:
            raise TimeoutError()
        return events

    def collect_output_until(self, marker: bytes, deadline: float) -> None:
        """The marker was written before the response, so it is already in the pipe (or the worker died)."""
        while marker not in self.pending_output:
            try:
                self.poll(self.output_poller, deadline)
            except TimeoutError:
                return
            chunk = os.read(self.output_fd, 65536)
            if not chunk:
                self.output_closed = True
                return
            self.pending_output += chunk
        self.pending_output = self.pending_output.replace(marker, b"")

    def take_output(self) -> str:
        """Everything the worker printed since the last call, including what is still in the pipe."""
        while self.output_poller.poll(0):
            chunk = os.read(self.output_fd, 65536)
            if not chunk:
                break
            self.pending_output += chunk
        output = self.pending_output.decode("utf-8", errors="replace")
        self.pending_output = bytearray()
        return output

    @property
    def alive(self) -> bool:
        return self.exit_code_now() is None

    def exit_code_now(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.template.exit_code(self.pid, 0)
        return self.returncode

    def exit_code(self) -> int:
        """The worker's exit status, killing it if it has not ended within a short wait."""
        self.returncode = self.template.exit_code(self.pid, EXIT_STATUS_SECONDS)
        if self.returncode is None:
            self.kill()  # waits for the status the template reports
        return -signal.SIGKILL if self.returncode is None else self.returncode

    def kill(self) -> None:
        if self.exit_code_now() is None:
            try:
                os.kill(self.pid, signal.SIGKILL)  # the template reaps it and reports the status
            except ProcessLookupError:
                pass  # it ended meanwhile, and the template has reaped it
            self.returncode = self.template.exit_code(self.pid, EXIT_STATUS_SECONDS)

    def stop(self) -> None:
        self.kill()
        for fd in (self.request_fd, self.response_fd, self.output_fd):
            try:
                os.close(fd)
            except OSError:
                pass


class WorkerPool:
    """The warm workers of one function configuration: at most `capacity`, each busy with one invocation."""

    def __init__(self, config: DeployedFunction, code_dir: Path, endpoint_environment: dict[str, str], capacity: int):
        self.config = config
        self.code_dir = code_dir
        self.endpoint_environment = endpoint_environment
        self.capacity = capacity
        self.idle: list[Worker] = []
        self.count = 0
        self.retired = False
        self.condition = threading.Condition()

    def acquire(self) -> tuple[Worker | None, bool]:
        """An idle worker (False), or a permit to start a new one (None, True); waits when all are busy."""
        with self.condition:
            while True:
                if self.idle:
                    return self.idle.pop(), False  # the most recently used: its caches are the warmest
                if self.count < self.capacity:
                    self.count += 1
                    return None, True
                self.condition.wait()

    def release(self, worker: Worker | None, reusable: bool) -> None:
        with self.condition:
            if worker is not None and reusable and not self.retired and worker.alive:
                self.idle.append(worker)
            else:
                self.count -= 1
                if worker is not None:
                    worker.stop()
            self.condition.notify()

    def retire(self) -> None:
        """Stop the idle workers now; busy ones stop when they are released."""
        with self.condition:
            self.retired = True
            idle, self.idle = self.idle, []
            self.count -= len(idle)
        for worker in idle:
            worker.stop()

    def stop_idle_since(self, cutoff: float) -> None:
        with self.condition:
            stale = [worker for worker in self.idle if worker.last_used < cutoff]
            self.idle = [worker for worker in self.idle if worker.last_used >= cutoff]
            self.count -= len(stale)
        for worker in stale:
            worker.stop()


class LambdaRuntime:
    """All pools of the emulator, keyed by function ARN; code unpacked once per code hash, with one template each."""

    def __init__(self, endpoint_url: str, endpoints: dict[str, str], workers_per_function: int = MAX_WORKERS_PER_FUNCTION):
        # AWS_ENDPOINT_URL for every service, AWS_ENDPOINT_URL_<SERVICE> for a grouped one's own process
        self.endpoint_environment = {"AWS_ENDPOINT_URL": endpoint_url, **groups.endpoint_environment(endpoints)}
        self.workers_per_function = workers_per_function
        self.pools: dict[str, WorkerPool] = {}
        self.lock = threading.Lock()
        self.code_root = Path(tempfile.mkdtemp(prefix="blackfriday-lambda-"))
        self.code_dirs: dict[str, Path] = {}
        self.templates: dict[Path, Template] = {}
        self.event_runner = ThreadPoolExecutor(EVENT_INVOKE_THREADS, thread_name_prefix="lambda-event")
        self.stopping = threading.Event()
        threading.Thread(target=self.stop_idle_workers, name="lambda-reaper", daemon=True).start()

    def pool_for(self, function) -> WorkerPool:
        config = DeployedFunction.of(function)
        with self.lock:
            pool = self.pools.get(config.function_arn)
            if pool is not None and pool.config == config:
                return pool
            if pool is not None:
                pool.retire()
            pool = WorkerPool(config, self.code_dir(function), self.endpoint_environment, self.workers_per_function)
            self.pools[config.function_arn] = pool
            return pool

    def code_dir(self, function) -> Path:
        code_dir = self.code_dirs.get(function.code_sha_256)
        if code_dir is None:
            code_dir = self.code_root / function.code_sha_256.replace("/", "_")
            code_dir.mkdir()
            try:
                zipfile.ZipFile(io.BytesIO(function.code_bytes)).extractall(code_dir)
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

    def invoke(self, function, body, request_headers, response_headers) -> bytes:
        """moto's `LambdaFunction.invoke(body, request_headers, response_headers)`, running the handler."""
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

    def run_logged(self, function, event: str) -> None:
        try:
            self.run(function, event)
        except Exception:  # an Event invocation has nobody to answer; the log keeps the failure
            log.exception("Event invocation of %s failed", function.function_name)

    def run(self, function, event: str) -> Invocation:
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
        now = int(unix_time_millis())
        group = f"/aws/lambda/{config.function_name}"
        account_id = config.function_arn.split(":")[4]
        with gate.held():  # invocations run outside the gate, and moto's logs backend is not thread-safe
            logs_backend = lambda_models.logs_backends[account_id][config.region]
            logs_backend.ensure_log_group(group)
            logs_backend.ensure_log_stream(group, worker.log_stream)
            logs_backend.put_log_events(group, worker.log_stream, [{"timestamp": now, "message": line} for line in lines])
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


def check_runnable(function) -> None:
    if function.package_type != "Zip" or not getattr(function, "code_bytes", b""):
        raise UnsupportedRuntime(f"function {function.function_name}: only Python zip packages run on the local emulator (no container images)")
    if not (function.run_time or "").startswith("python"):
        raise UnsupportedRuntime(
            f"function {function.function_name}: runtime {function.run_time} is not supported by the local emulator; "
            "only Python runtimes run here"
        )


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


def install(port: int, endpoints: dict[str, str]) -> LambdaRuntime:
    """Start the runtime that answers every Lambda invoke of this process (the fix in fixes/awslambda.py routes them
    here), its workers calling the emulator on `port`, each grouped service at its own process (`endpoints`: boto3
    client name -> URL)."""
    global RUNTIME
    RUNTIME = LambdaRuntime(f"http://127.0.0.1:{port}", endpoints)
    return RUNTIME


def shutdown() -> None:
    if RUNTIME is not None:
        RUNTIME.shutdown()
