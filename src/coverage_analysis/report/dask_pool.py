"""The report batch on a Dask cluster: one warm kernel per Dask worker.

The executor :class:`DaskPool` has the interface of
:class:`~coverage_analysis.report.pool.LocalPool` (``run(tasks, on_result)``,
``results``, ``stop()``, ``name``), so :func:`~coverage_analysis.report.runner.run_reports`
builds the same progress bar and manifest whichever ran the batch.

* **One warm kernel per worker.** A worker plugin (:class:`WarmKernelPlugin`),
  registered for the batch, gives each Dask worker one
  :class:`~coverage_analysis.report.kernel_runner.NotebookRunner`; it starts the kernel
  in the background as soon as the worker gets the plugin, and the report tasks run
  in it one at a time (a lock: a worker with several threads still has one kernel).
  Kernel death, the one retry, the cell timeout and the export are the runner's, as
  in the local pool. The plugin is removed at the end of the batch, which shuts the
  kernels down: nothing is left running on the cluster.
* **Failure isolation.** A task never raises (the runner returns a status); a task
  the cluster could not run (its worker died under it, which Dask retries on another
  worker before giving up) fails that report only, with the reason.
* **Outputs.** The workers write the reports straight into ``--out``, and read the
  processed folder and the notebook templates, at the client's paths: every worker
  must see them (a shared filesystem). A task checks this first and fails with one
  line naming the folder when it cannot. Only the small result dict travels back.
* **Stop.** A Ctrl-C or SIGTERM of the client asks every worker's runner to abandon
  its notebook (it discards its kernel within a second); the batch's queued tasks
  return ``interrupted`` without running; the client waits at most
  :data:`STOP_WAIT` seconds for them, then cancels what is left.

Imported only when a scheduler is given (it imports ``distributed``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from distributed import Client, WorkerPlugin, as_completed, get_worker

from coverage_analysis.report.kernel_runner import CELL_TIMEOUT, NotebookRunner, Task
from coverage_analysis.report.manifest import STATUS_INTERRUPTED

log = logging.getLogger(__name__)

#: Name of the warm-kernel plugin on the workers.
PLUGIN_NAME = "coverage-analysis-warm-kernel"
#: Executor name recorded in the manifest.
EXECUTOR_NAME = "dask distributed"
#: Seconds the client waits, after a stop, for the workers to abandon the batch.
STOP_WAIT = 15.0
#: Seconds between two looks at the stopped batch's tasks.
STOP_POLL = 0.1
#: Seconds a plugin being removed waits for the notebook in its kernel to stop.
TEARDOWN_WAIT = 15.0


class WarmKernelPlugin(WorkerPlugin):
    """One :class:`NotebookRunner` (one warm kernel) on each Dask worker.

    ``settings``: the kernel's working folder ``cwd``, the cell ``timeout`` and the
    kernel environment ``env`` of the batch.
    """

    name = PLUGIN_NAME

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings

    def setup(self, worker: Any) -> None:
        """Make the runner and start its kernel in the background."""
        self.lock = threading.Lock()
        self.stopped: set[str] = set()
        self.runner = NotebookRunner(
            cwd=self.settings["cwd"],
            timeout=float(self.settings["timeout"]),
            env=dict(self.settings["env"]),
            watch_parent=False,
        )
        threading.Thread(target=self._warm, name="warm-kernel", daemon=True).start()

    def _warm(self) -> None:
        from coverage_analysis.report.worker import _warm_imports

        with self.lock:
            try:
                self.runner.start(while_booting=_warm_imports)
            except Exception as exc:  # retried by the first task
                log.warning("warm kernel not started yet: %s", exc)

    def run(self, task: Task, batch: str) -> dict[str, object]:
        """Run one report of ``batch`` in the warm kernel (never raises)."""
        with self.lock:
            if batch in self.stopped:
                return _result(task, STATUS_INTERRUPTED)
            self.runner.clear_stop()
            return self.runner.run(task)

    def stop(self, batch: str) -> None:
        """Abandon the running notebook and the queued tasks of ``batch``."""
        self.stopped.add(batch)
        self.runner.request_stop(f"batch {batch} stopped by its client")

    async def teardown(self, worker: Any) -> None:
        """Stop the notebook in the kernel, if any, and shut the kernel down (in a
        thread: the runner's own event loop cannot run inside the worker's)."""
        await asyncio.to_thread(self._close)

    def _close(self) -> None:
        runner = self.runner
        runner.request_stop("warm-kernel plugin removed")
        if self.lock.acquire(timeout=TEARDOWN_WAIT):
            try:
                runner.close()
            finally:
                self.lock.release()
            return
        pid = runner.kernel_pid  # still busy after the wait: kill the kernel, never hang
        if pid is not None:
            import psutil

            with contextlib.suppress(psutil.Error):
                psutil.Process(pid).kill()


def _unreachable(task: Task, processed_dir: str | None) -> str | None:
    """A line naming the folder of ``task`` this worker cannot see, else ``None``."""
    checks = [
        ("notebook template", Path(task.input_path), Path.is_file),
        ("reports folder (--out)", Path(task.output_path).parent, Path.is_dir),
    ]
    if processed_dir:
        checks.append(("processed folder", Path(processed_dir), Path.is_dir))
    for what, path, present in checks:
        if not present(path):
            where = get_worker().address
            return (
                f"the {what} {path} is not reachable from Dask worker {where}: the workers "
                "must see it at the same path as the client (a shared filesystem)"
            )
    return None


def run_report_task(task: dict[str, Any], batch: str) -> dict[str, object]:
    """The Dask task of one report: run it in this worker's warm kernel."""
    report = Task(**task)
    plugin = get_worker().plugins.get(PLUGIN_NAME)
    if plugin is None:
        return _result(report, "no warm-kernel plugin on this Dask worker (it joined late?)")
    problem = _unreachable(report, str(report.parameters.get("processed_dir") or ""))
    if problem is not None:
        return _result(report, problem)
    return plugin.run(report, batch)


def _stop_batch(batch: str, dask_worker: Any = None) -> None:
    """Run on every worker by :meth:`DaskPool.stop`."""
    plugin = dask_worker.plugins.get(PLUGIN_NAME) if dask_worker is not None else None
    if plugin is not None:
        plugin.stop(batch)


class DaskPool:
    """Run report tasks on the Dask cluster of ``client``, one warm kernel per worker.

    ``run(tasks, on_result)`` returns ``{task name: result}``; on a ``KeyboardInterrupt``
    (or any exception raised while it waits, such as the batch's SIGTERM signal) it
    stops the batch on every worker first, keeps the results that arrived in
    :attr:`results`, and re-raises.
    """

    def __init__(
        self,
        client: Client,
        cwd: str | os.PathLike[str],
        env: dict[str, str] | None = None,
        timeout: float = CELL_TIMEOUT,
    ) -> None:
        self.client = client
        self.settings: dict[str, Any] = {
            "cwd": str(cwd),
            "timeout": timeout,
            "env": dict(env or {}),
        }
        self.results: dict[str, dict[str, object]] = {}
        self.batch = uuid.uuid4().hex
        self._futures: dict[Any, Task] = {}
        from coverage_analysis.cluster import describe

        self._described = describe(client)

    @property
    def name(self) -> str:
        """How the manifest names this executor."""
        return f"{EXECUTOR_NAME} ({self._described})"

    def _record(self, task: Task, future: Any, on_result: Callable | None) -> None:
        try:
            result = future.result()
        except Exception as exc:  # the cluster could not run it (KilledWorker, ...)
            result = _result(task, f"Dask task failed ({type(exc).__name__}: {exc})")
        self.results[task.name] = result
        if on_result is not None:
            on_result(result)

    def run(
        self,
        tasks: Sequence[Task],
        on_result: Callable[[dict[str, object]], None] | None = None,
    ) -> dict[str, dict[str, object]]:
        """Run ``tasks`` (queued in order) and return their results by name."""
        from coverage_analysis.cluster import ClusterError

        try:
            self.client.register_plugin(WarmKernelPlugin(self.settings), name=PLUGIN_NAME)
        except Exception as exc:  # a worker without this package, say: one line, no traceback
            raise ClusterError(
                f"the Dask workers could not take the warm-kernel plugin ({type(exc).__name__}: "
                f"{exc}); is coverage-analysis installed in the workers' environment?"
            ) from None
        try:
            for order, task in enumerate(tasks):
                future = self.client.submit(
                    run_report_task,
                    dataclasses.asdict(task),
                    self.batch,
                    key=f"report-{task.name}-{self.batch}",
                    priority=len(tasks) - order,  # first task first, as in the local pool
                    pure=False,
                )
                self._futures[future] = task
            try:
                for future in as_completed(list(self._futures), loop=self.client.loop):
                    self._record(self._futures.pop(future), future, on_result)
            except BaseException:
                self.stop()
                raise
        finally:
            with contextlib.suppress(Exception):
                self.client.unregister_worker_plugin(PLUGIN_NAME)
        return self.results

    def stop(self) -> None:
        """Abandon the batch on every worker; collect what ends within :data:`STOP_WAIT`."""
        with contextlib.suppress(Exception):
            self.client.run(_stop_batch, self.batch, on_error="ignore")
        pending = list(self._futures)
        if not pending:
            return
        deadline = time.monotonic() + STOP_WAIT
        while not all(f.done() for f in pending) and time.monotonic() < deadline:
            time.sleep(STOP_POLL)
        for future in pending:
            task = self._futures.pop(future)
            if future.done() and task.name not in self.results:
                self._record(task, future, None)
        if self._futures:
            with contextlib.suppress(Exception):
                self.client.cancel(list(self._futures))

    def close(self) -> None:
        """Disconnect from the scheduler (the cluster keeps running)."""
        with contextlib.suppress(Exception):
            self.client.close()


def _result(task: Task, status: str) -> dict[str, object]:
    return {"name": task.name, "status": status, "seconds": 0.0, "attempts": 0}
