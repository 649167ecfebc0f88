"""The warm workers of one function configuration, each busy with one invocation at a time, like Lambda execution
environments."""

from __future__ import annotations

import threading
from pathlib import Path

from blackfriday.emulator.lambda_function import DeployedFunction
from blackfriday.emulator.lambda_worker_client import Worker


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
