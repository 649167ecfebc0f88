"""Start, probe and stop the local emulator: what setup_infra.py, teardown.py and the emulator CLI call.

The emulator runs detached from the shell that started it, logging to `.emulator/emulator.log` under
the project root with its pid file beside it (every process of it, the front process first). Whether
it runs is decided by asking the port, never by the pid file alone: our health route tells our
emulator from another program on the same port, and lists its processes. The pid file serves to
clean up after a front process that was killed outright: `stop` and the next `start` end whatever
of it is left, and only processes whose command line is the emulator's.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from blackfriday.emulator import HEALTH_PATH, SERVICE_NAME
from blackfriday.emulator.errors import EmulatorStartError
from blackfriday.emulator.groups import GROUPED, SINGLE
from blackfriday.errors import UsageProblem
from blackfriday.target import DEFAULT_EMULATOR_PORT, emulator_port, endpoint_answers, local_endpoint_url

PROJECT_ROOT = Path(__file__).resolve().parents[2]
STATE_DIR = PROJECT_ROOT / ".emulator"
PROBE_TIMEOUT_SECONDS = 2.0
START_TIMEOUT_SECONDS = 60.0  # a cold start imports moto and Flask: a few seconds on a slow machine
STOP_TIMEOUT_SECONDS = 15.0
POLL_SECONDS = 0.1
PF_EXITING = 0x4  # in the flags of /proc/<pid>/stat: the process is exiting


class EmulatorProcess(NamedTuple):
    group: str  # "front", a group's name, or "all" in the single-process mode
    pid: int
    port: int
    services: list[str]


@dataclass(frozen=True)
class EmulatorStatus:
    url: str
    pid: int  # the front process's
    port: int
    log_path: Path
    started: bool  # True when this call started it, False when it already ran
    processes: tuple[EmulatorProcess, ...] = ()


def process_mode() -> int:
    raw = os.environ.get("BF_EMULATOR_PROCESSES", str(GROUPED))
    if raw not in (str(GROUPED), str(SINGLE)):
        raise UsageProblem(f"BF_EMULATOR_PROCESSES must be {GROUPED} (a process per group of services) or {SINGLE}, got {raw!r}")
    return int(raw)


def log_path_for(port: int) -> Path:
    suffix = "" if port == DEFAULT_EMULATOR_PORT else f"-{port}"
    return STATE_DIR / f"emulator{suffix}.log"


def pid_path_for(port: int) -> Path:
    return log_path_for(port).with_suffix(".pid")


def probe(url: str) -> dict | None:
    """Our emulator's health document, None when nothing answers; UsageProblem when another program does."""
    if not endpoint_answers(url, timeout=PROBE_TIMEOUT_SECONDS):
        return None
    try:
        with urllib.request.urlopen(url + HEALTH_PATH, timeout=PROBE_TIMEOUT_SECONDS) as response:
            health = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        health = None
    if isinstance(health, dict) and health.get("service") == SERVICE_NAME:
        return health
    raise UsageProblem(
        f"port {urllib.parse.urlsplit(url).port} is taken by another program (not the blackfriday emulator): "
        "stop it or choose another port with BF_EMULATOR_PORT"
    )


def status(port: int | None = None) -> EmulatorStatus | None:
    port = port or emulator_port()
    url = local_endpoint_url(port)
    health = probe(url)
    if health is None:
        return None
    return status_from(health, url, port, started=False)


def status_from(health: dict, url: str, port: int, started: bool) -> EmulatorStatus:
    processes = tuple(
        EmulatorProcess(item["group"], int(item["pid"]), int(item["port"]), list(item["services"])) for item in health.get("processes", [])
    )
    return EmulatorStatus(url, int(health["pid"]), port, log_path_for(port), started, processes)


def serve_command(port: int, processes: int | None = None) -> list[str]:
    return [sys.executable, "-m", "blackfriday.emulator", "serve", "--port", str(port), "--processes", str(processes or process_mode())]


def wait_until_healthy(url: str, process: subprocess.Popen, log_path: Path, timeout: float = START_TIMEOUT_SECONDS) -> dict:
    """Poll the health route until our emulator answers; fail early (with the log's tail) if the process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EmulatorStartError(f"the emulator exited with code {process.returncode} before it was healthy; {log_tail(log_path)}")
        health = probe(url)
        if health is not None and health["pid"] == process.pid:
            return health
        time.sleep(POLL_SECONDS)
    process.kill()
    raise EmulatorStartError(f"the emulator was not healthy at {url} after {timeout:.0f} s; {log_tail(log_path)}")


def log_tail(log_path: Path, lines: int = 3) -> str:
    try:
        tail = log_path.read_text(errors="replace").strip().splitlines()[-lines:]
    except OSError:
        tail = []
    return f"see {log_path}" + (": " + " | ".join(tail) if tail else "")


def ensure_running(port: int | None = None, processes: int | None = None) -> EmulatorStatus:
    """Return the running emulator, or start one detached in the background and wait until it is healthy."""
    port = port or emulator_port()
    running = status(port)
    if running is not None:
        return running
    end_leftovers(port)
    url = local_endpoint_url(port)
    log_path = log_path_for(port)
    STATE_DIR.mkdir(exist_ok=True)
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            serve_command(port, processes),
            cwd=PROJECT_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # survives the script that started it and its Ctrl-C
        )
    try:
        health = wait_until_healthy(url, process, log_path)
    except EmulatorStartError:
        running = status(port)  # another script started one at the same moment: use it
        if running is None:
            raise
        return running
    started = status_from(health, url, port, started=True)
    pid_path_for(port).write_text("".join(f"{pid}\n" for pid in pids_of(started)))
    return started


def pids_of(running: EmulatorStatus) -> list[int]:
    """The front process first, then the others."""
    return [running.pid] + [process.pid for process in running.processes if process.pid != running.pid]


def stop(port: int | None = None) -> bool:
    """Stop every process of our emulator on the port; False when none answered. Never signals another program."""
    port = port or emulator_port()
    running = status(port)
    if running is None:
        end_leftovers(port)
        return False
    end_processes(pids_of(running))  # the front stops the others, and they their Lambda workers
    end_leftovers(port)
    return True


def end_leftovers(port: int) -> None:
    """End what the pid file lists and still runs as our emulator (its front process was killed outright), and wait
    for what of it is already exiting: the group processes end by themselves when their front process dies."""
    pid_path = pid_path_for(port)
    try:
        pids = [int(line) for line in pid_path.read_text().split()]
    except (OSError, ValueError):
        pids = []
    running = [pid for pid in pids if is_emulator_process(pid)]
    exiting = [pid for pid in pids if pid not in running and is_exiting(pid)]  # checked second: running may turn exiting, never back
    end_processes(running)
    for pid in exiting:
        wait_for_exit(pid, STOP_TIMEOUT_SECONDS)
    pid_path.unlink(missing_ok=True)


def is_emulator_process(pid: int) -> bool:
    try:
        command_line = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"blackfriday.emulator" in command_line and (b"serve" in command_line or b"serve-group" in command_line)


def is_exiting(pid: int) -> bool:
    """The process has begun to exit and is not yet a zombie. Its command line then reads empty, so
    `is_emulator_process` cannot tell it from another program's, for as long as the kernel takes to tear it down
    (~0.1 s for a group process's memory, longer under load). It runs no code of its own any more: waiting for it
    is safe whoever it is."""
    try:
        state, *fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return state not in ("Z", "X") and bool(int(fields[5]) & PF_EXITING)


def end_processes(pids: list[int]) -> None:
    """SIGTERM each (the first one, the front, ends the others itself), then SIGKILL what is left after the timeout."""
    for pid in pids:
        signal_quietly(pid, signal.SIGTERM)
        if not wait_for_exit(pid, STOP_TIMEOUT_SECONDS):
            signal_quietly(pid, signal.SIGKILL)
            wait_for_exit(pid, STOP_TIMEOUT_SECONDS)


def signal_quietly(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def wait_for_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            finished, _ = os.waitpid(pid, os.WNOHANG)  # reaps it when we started it ourselves
            if finished == pid:
                return True
        except ChildProcessError:
            pass  # not our child: it is gone once signal 0 fails
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(POLL_SECONDS)
    return False
