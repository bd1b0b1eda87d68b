"""The local executor of a report batch: worker processes, each with one warm kernel.

The parent starts ``jobs`` worker processes (``python -m coverage_analysis.report.worker``,
this interpreter) and talks to each over its standard input and output, one JSON
object per line: the worker's settings, then one task at a time; the worker answers
with each kernel's process id when it starts one and with the task's result. Each
worker runs its tasks with a :class:`~coverage_analysis.report.kernel_runner.NotebookRunner`
(kernel death, retry, timeout and export live there, not here).

Why plain subprocesses and pipes rather than ``concurrent.futures`` or
``multiprocessing``: a process pool's queues are named POSIX semaphores, and a
batch stopped by a signal left five of them leaked; its workers cannot be stopped
one by one while they run; and a worker that dies breaks the whole pool. Here a
stop (Ctrl-C, SIGTERM) sends SIGTERM to every worker, which abandons its notebook,
shuts its kernel down and answers ``interrupted``; a worker that does not end within
:data:`SHUTDOWN_GRACE` seconds is killed with the kernels it reported. Workers run
in their own session, so a Ctrl-C in the terminal reaches only the parent, which
decides. A worker that dies fails its current report only; the next report gets a
new worker.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence

from coverage_analysis.report.kernel_runner import (
    CELL_TIMEOUT,
    Task,
    _signal_text,
)
from coverage_analysis.report.manifest import STATUS_INTERRUPTED

log = logging.getLogger(__name__)

#: Seconds a stopped worker gets to shut its kernel down before it is killed.
SHUTDOWN_GRACE = 15.0
#: Command that starts a worker process under this interpreter.
WORKER_COMMAND = (sys.executable, "-m", "coverage_analysis.report.worker")
#: Executor name recorded in the manifest.
EXECUTOR_NAME = "local pool"


# --------------------------------------------------------------------------------------------
# parent side


class _Worker:
    """One worker process seen from the parent."""

    def __init__(self, settings: dict[str, object], env: dict[str, str]) -> None:
        self.kernel_pids: set[int] = set()
        self.proc = subprocess.Popen(
            WORKER_COMMAND,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, **env},
            start_new_session=True,  # a terminal Ctrl-C reaches the parent only
            close_fds=True,
        )
        self._send(settings)

    def _send(self, message: dict[str, object]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message).encode("utf-8") + b"\n")
        self.proc.stdin.flush()

    def run(self, task: Task) -> dict[str, object] | None:
        """Send ``task`` and wait for its result; ``None`` when the worker ended first."""
        assert self.proc.stdout is not None
        try:
            self._send(dataclasses.asdict(task))
        except (BrokenPipeError, OSError):
            return None
        for line in self.proc.stdout:
            message = json.loads(line)
            if "kernel_pid" in message:
                self.kernel_pids.add(int(message["kernel_pid"]))
            elif "result" in message:
                return message["result"]
        return None

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the worker if it still runs."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signum)

    def close(self, grace: float = SHUTDOWN_GRACE) -> int | None:
        """Let the worker end (closing its input), kill it after ``grace`` seconds, and
        kill any kernel it started that outlived it. Returns its exit status."""
        with contextlib.suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            log.warning("worker %d did not stop in %.0f s; killing it", self.proc.pid, grace)
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        _kill_kernels(self.kernel_pids)
        return self.proc.returncode


def _kill_kernels(pids: set[int]) -> None:
    """Kill the kernels among ``pids`` that still run (checked by command line, so a
    reused process id is never hit)."""
    import psutil

    for pid in pids:
        with contextlib.suppress(psutil.Error):
            proc = psutil.Process(pid)
            if any("ipykernel" in part for part in proc.cmdline()):
                log.warning("killing kernel %d left by a worker", pid)
                proc.kill()
                proc.wait(5)


class LocalPool:
    """Run report tasks in ``jobs`` worker processes with one warm kernel each.

    ``run(tasks, on_result)`` returns ``{task name: result}``; on a ``KeyboardInterrupt``
    (or any exception raised in the waiting thread, such as the batch's SIGTERM signal)
    it stops every worker and kernel first, keeps the results that arrived in
    :attr:`results`, and re-raises.
    """

    def __init__(
        self,
        jobs: int,
        cwd: str | os.PathLike[str],
        env: dict[str, str] | None = None,
        timeout: float = CELL_TIMEOUT,
    ) -> None:
        self.jobs = jobs
        self.env = dict(env or {})
        self.settings: dict[str, object] = {"cwd": str(cwd), "timeout": timeout}
        self.results: dict[str, dict[str, object]] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._workers: set[_Worker] = set()
        self._ready: list[_Worker] = []  # started by prestart(), not yet given a task

    @property
    def name(self) -> str:
        """How the manifest names this executor."""
        return f"{EXECUTOR_NAME} ({self.jobs} worker processes)"

    def _spawn(self) -> _Worker | None:
        with self._lock:
            if self._stop.is_set():
                return None
            worker = _Worker(self.settings, self.env)
            self._workers.add(worker)
            return worker

    def prestart(self) -> None:
        """Start the ``jobs`` workers now, each booting its kernel and imports, so that
        they are warm when :meth:`run` begins (the batch computes its shared context
        meanwhile); a worker :meth:`run` does not need is closed when it ends."""
        while len(self._ready) < self.jobs:
            worker = self._spawn()
            if worker is None:
                return
            self._ready.append(worker)

    def _take_ready(self) -> _Worker | None:
        with self._lock:
            return self._ready.pop() if self._ready else None

    def _retire(self, worker: _Worker) -> int | None:
        code = worker.close()
        with self._lock:
            self._workers.discard(worker)
        return code

    def _drive(self, todo: queue.Queue[Task], done: queue.Queue[dict[str, object]]) -> None:
        """One driver thread: feed tasks to one worker, replacing it when it dies."""
        worker: _Worker | None = None
        try:
            while not self._stop.is_set():
                try:
                    task = todo.get_nowait()
                except queue.Empty:
                    break
                if worker is None:
                    worker = self._take_ready()
                if worker is None:
                    try:
                        worker = self._spawn()
                    except OSError as exc:
                        done.put(_result(task, f"could not start a worker process: {exc}"))
                        continue
                    if worker is None:
                        break
                result = worker.run(task)
                if result is None:  # the worker process ended under this task
                    code = self._retire(worker)
                    worker = None
                    status = (
                        STATUS_INTERRUPTED
                        if self._stop.is_set()
                        else f"worker process ended ({_signal_text(code)}) while running this report"
                    )
                    result = _result(task, status)
                done.put(result)
                if worker is not None and worker.proc.poll() is not None:
                    self._retire(worker)  # it stopped after a stop request of its own
                    worker = None
        finally:
            if worker is not None:
                self._retire(worker)

    def stop(self) -> None:
        """Stop taking tasks and ask every worker to abandon its notebook."""
        with self._lock:
            self._stop.set()
            workers = list(self._workers)
        for worker in workers:
            worker.signal(signal.SIGTERM)

    def close(self) -> None:
        """Nothing to release: :meth:`run` ends every worker it starts (the Dask
        executor disconnects from its scheduler here)."""

    def run(
        self,
        tasks: Sequence[Task],
        on_result: Callable[[dict[str, object]], None] | None = None,
    ) -> dict[str, dict[str, object]]:
        """Run ``tasks`` (in order, ``jobs`` at a time) and return their results by name."""
        todo: queue.Queue[Task] = queue.Queue()
        for task in tasks:
            todo.put(task)
        done: queue.Queue[dict[str, object]] = queue.Queue()
        threads = [
            threading.Thread(target=self._drive, args=(todo, done), name=f"report-worker-{i}")
            for i in range(min(self.jobs, len(tasks)))
        ]
        for thread in threads:
            thread.start()

        def collect(block: bool) -> None:
            while True:
                try:
                    result = done.get(timeout=0.2) if block else done.get_nowait()
                except queue.Empty:
                    return
                self.results[str(result["name"])] = result
                if on_result is not None:
                    on_result(result)
                if block:
                    return

        try:
            while any(t.is_alive() for t in threads) or not done.empty():
                collect(block=True)
        except BaseException:
            self.stop()
            raise
        finally:
            for thread in threads:
                thread.join(SHUTDOWN_GRACE + 5)
            while (spare := self._take_ready()) is not None:  # prestarted, never needed
                self._retire(spare)
            with self._lock:
                leftover = list(self._workers)
            for worker in leftover:  # only when a driver thread is stuck: kill, never wait
                worker.close(grace=0)
            collect(block=False)
        return self.results


def _result(task: Task, status: str) -> dict[str, object]:
    return {"name": task.name, "status": status, "seconds": 0.0, "attempts": 0}
