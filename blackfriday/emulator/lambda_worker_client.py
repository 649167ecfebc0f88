"""The runtime's side of one warm worker (the worker's side is lambda_worker.py): forked from its code's template
with the function's environment, fed invocations on its request pipe, its responses and output read back.
"""

from __future__ import annotations

import json
import os
import select
import signal
import time
import uuid
from pathlib import Path

from blackfriday.emulator.errors import WorkerGone
from blackfriday.emulator.lambda_function import DeployedFunction
from blackfriday.emulator.lambda_template import EXIT_STATUS_SECONDS, INIT_TIMEOUT_SECONDS, Template, inherited_environment
from blackfriday.emulator.lambda_worker import FRAME_HEADER, LOG_MARKER_PREFIX

DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}


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
            self.pid = template.spawn(
                self.environment(template.code_dir, endpoint_environment), (request_read, response_write, output_write)
            )
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
