"""Run one report notebook in a warm kernel, surviving a kernel that dies.

This is the per-report unit every executor calls (the local process pool of
:mod:`coverage_analysis.report.pool`, and the warm-kernel worker plugin of
:mod:`coverage_analysis.report.dask_pool` on a Dask cluster): a
:class:`NotebookRunner` owns one Jupyter kernel and runs :class:`Task` after
:class:`Task` in it, returning a plain ``dict`` result that never raises.

Why it is built this way:

* **The kernel is started with this interpreter** (``sys.executable -m
  ipykernel_launcher``), not a registered kernelspec, so the batch works in any
  venv or conda environment without ``ipykernel install``, whatever
  ``kernelspec.name`` a notebook declares.
* **Kernel death is noticed within a second.** nbclient waits for kernel output
  with ``get_msg(timeout=None)``; with a blocking kernel manager that call blocks
  the event loop, so nbclient's own liveness poll never runs and a dead kernel
  hangs the batch forever (issue 13). The runner therefore uses the asynchronous
  kernel manager and client, and runs the cells beside a watchdog task that
  polls the kernel process every :data:`WATCH_INTERVAL` seconds and cancels the
  execution when the kernel is gone, when a stop is requested (SIGTERM) or when
  the process that started this worker has died.
* **One retry, recorded.** A kernel that dies while a notebook runs is replaced
  by a fresh kernel and the notebook runs once more; the first failure is kept
  in the result (``first_failure``) for the manifest. A second death fails the
  report with both reasons. A cell running past the cell timeout fails the report
  at once (running it again would only double the wait), and the kernel, still
  busy with that cell, is replaced for the next report.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coverage_analysis.report.manifest import STATUS_INTERRUPTED, STATUS_OK

log = logging.getLogger(__name__)

#: Attempts to start a kernel before giving up on a report.
KERNEL_START_ATTEMPTS = 3
#: Seconds to wait for a kernel to answer after start.
KERNEL_START_TIMEOUT = 60
#: Default seconds a single notebook cell may run before its report fails.
CELL_TIMEOUT = 600
#: Seconds between two looks at the kernel process while a notebook runs.
WATCH_INTERVAL = 0.5
#: Runs of one notebook: the first, and one more in a fresh kernel after a kernel death.
RUNS_PER_REPORT = 2
#: Name under which the watched-kernel papermill engine is registered.
ENGINE_NAME = "coverage_analysis_watched"
#: Kernel name given to papermill: only selects the Python parameter translator; the
#: kernel itself is always this interpreter, whatever the notebook's kernelspec says.
PAPERMILL_KERNEL_NAME = "python3"
#: Command line of a kernel running under this interpreter.
KERNEL_ARGV = (sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}")
#: Code run in the kernel before each notebook (fresh namespace, no open figures).
RESET_CODE = "%reset -f\nimport matplotlib.pyplot as _p\n_p.close('all')\ndel _p"
#: Code run once when a kernel starts (warm imports).
WARMUP_CODE = "import coverage_analysis.report.sections, coverage_analysis.figures"


@dataclass(frozen=True)
class Task:
    """One notebook to run and export (JSON-serialisable: it crosses process borders)."""

    name: str
    notebook: str
    district_id: str | None
    parameters: dict[str, object]
    title: str
    input_path: str
    output_path: str
    html_path: str | None
    pdf_path: str | None
    lang: str


class KernelDied(RuntimeError):
    """The kernel process ended while a notebook ran in it."""


class CellTimedOut(RuntimeError):
    """A cell ran longer than the cell timeout."""


class StopRequested(Exception):
    """The worker was asked to stop (SIGTERM/SIGINT, or its parent process died)."""


def _signal_text(returncode: int | None) -> str:
    """``-9`` -> ``'killed by SIGKILL'``; ``1`` -> ``'exit code 1'``.

    >>> _signal_text(-9), _signal_text(1), _signal_text(None)
    ('killed by SIGKILL', 'exit code 1', 'exit status unknown')
    """
    if returncode is None:
        return "exit status unknown"
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


def error_text(exc: BaseException) -> str:
    """One line naming a failure: the notebook's own error name and value when it has them.

    >>> error_text(ValueError("bad month"))
    'ValueError: bad month'
    """
    ename = getattr(exc, "ename", None)
    evalue = getattr(exc, "evalue", None)
    if ename:
        return f"{ename}: {evalue}"
    if isinstance(exc, KernelDied | CellTimedOut):
        return str(exc)
    return f"{type(exc).__name__}: {exc}".strip()


def _kernel_spec_manager() -> object:
    """A kernelspec manager that answers every kernel name with this interpreter."""
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager

    class ThisInterpreter(KernelSpecManager):
        def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
            return KernelSpec(
                argv=list(KERNEL_ARGV),
                display_name=f"Python ({sys.executable})",
                language="python",
                resource_dir="",
            )

    return ThisInterpreter()


def _register_engine() -> None:
    """Register the papermill engine that executes in a :class:`NotebookRunner`'s kernel."""
    import papermill.engines as engines
    from papermill.clientwrap import PapermillNotebookClient

    class WatchedKernelEngine(engines.NBClientEngine):
        """papermill engine running the cells in an already started, watched kernel."""

        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man: Any,
            kernel_name: str,
            log_output: bool = False,
            stdout_file: object = None,
            stderr_file: object = None,
            start_timeout: int = KERNEL_START_TIMEOUT,
            execution_timeout: int | None = None,
            **kwargs: Any,
        ) -> Any:
            runner: NotebookRunner = kwargs.pop("runner")
            client = PapermillNotebookClient(
                nb_man,
                km=runner.kernel_manager,
                timeout=execution_timeout,
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log=logging.getLogger("papermill"),
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
            )
            return runner.execute_cells(client, nb_man)

    engines.papermill_engines.register(ENGINE_NAME, WatchedKernelEngine)


class NotebookRunner:
    """One warm Jupyter kernel and the rule for running reports in it.

    ``run(task)`` executes the notebook with papermill, exports it, and returns
    ``{"name", "status", "seconds", "attempts", "first_failure"}``; it never raises.
    ``close()`` shuts the kernel down. Not thread-safe: one runner per worker.
    ``on_kernel_start(pid)`` is called with each new kernel's process id (the local
    pool forwards it to the parent, which can then kill a kernel a dead worker left).
    ``env`` is added to the kernels' environment. ``watch_parent`` stops the runner
    when the process that started this one dies (a local pool worker whose batch is
    gone); a Dask worker's life is the cluster's business, so it passes ``False``.
    """

    def __init__(
        self,
        cwd: str | os.PathLike[str] | None = None,
        timeout: float = CELL_TIMEOUT,
        on_kernel_start: Callable[[int], None] | None = None,
        env: dict[str, str] | None = None,
        watch_parent: bool = True,
    ) -> None:
        self.cwd = str(cwd) if cwd is not None else os.getcwd()
        self.timeout = timeout
        self.on_kernel_start = on_kernel_start
        self.env = dict(env or {})
        self.watch_parent = watch_parent
        self.stop_reason: str | None = None
        self._loop = asyncio.new_event_loop()
        self._km: Any = None
        self._kernel_dir: str | None = None
        self._cell = 0
        self._output_path: str | None = None
        self._parent_pid = os.getppid()
        _register_engine()

    # ---------------------------------------------------------------- stop requests

    def request_stop(self, reason: str = "stop requested") -> None:
        """Ask the runner to abandon the notebook it runs (safe from a signal handler)."""
        self.stop_reason = self.stop_reason or reason

    def clear_stop(self) -> None:
        """Forget a stop request, so the runner takes the next notebook (a long-lived
        Dask worker after its batch was stopped)."""
        self.stop_reason = None

    def _parent_died(self) -> bool:
        return self.watch_parent and os.getppid() != self._parent_pid

    def install_signal_handlers(self) -> None:
        """Turn SIGTERM and SIGINT into :meth:`request_stop` (call from the main thread)."""

        def handler(signum: int, _frame: object) -> None:
            self.request_stop(signal.Signals(signum).name)

        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, handler)

    def _check_stop(self) -> None:
        if self.stop_reason is None and self._parent_died():
            self.request_stop("parent process died")
        if self.stop_reason is not None:
            raise StopRequested(self.stop_reason)

    # ---------------------------------------------------------------- kernel lifecycle

    @property
    def kernel_manager(self) -> Any:
        """The current kernel's (asynchronous) kernel manager, or ``None``."""
        return self._km

    @property
    def kernel_pid(self) -> int | None:
        """Process id of the current kernel, or ``None``."""
        provisioner = getattr(self._km, "provisioner", None)
        return getattr(provisioner, "pid", None)

    def _kernel_exit(self) -> str:
        provisioner = getattr(self._km, "provisioner", None)
        process = getattr(provisioner, "process", None)
        return _signal_text(process.poll() if process is not None else None)

    def start(self, while_booting: Callable[[], None] | None = None) -> None:
        """Start the kernel now (it is otherwise started by the first task); run
        ``while_booting`` between launching the kernel process and waiting for it."""
        self._ensure_kernel(while_booting)

    def _ensure_kernel(self, while_booting: Callable[[], None] | None = None) -> None:
        if self._km is not None and self._loop.run_until_complete(self._km.is_alive()):
            return
        if self._km is not None:
            log.warning(
                "kernel %s ended between two notebooks; starting a new one", self.kernel_pid
            )
        self._discard_kernel()
        last: BaseException | None = None
        for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
            self._check_stop()
            try:
                self._loop.run_until_complete(self._start_kernel(while_booting))
                if self.on_kernel_start is not None and self.kernel_pid is not None:
                    self.on_kernel_start(self.kernel_pid)
                return
            except Exception as exc:
                last = exc
                log.warning(
                    "kernel start failed (attempt %d/%d): %s", attempt, KERNEL_START_ATTEMPTS, exc
                )
                self._discard_kernel()
                while_booting = None
                time.sleep(0.5 * attempt)
        raise RuntimeError(f"could not start a Jupyter kernel: {last}")

    async def _start_kernel(self, while_booting: Callable[[], None] | None) -> None:
        from jupyter_client import AsyncKernelManager

        self._kernel_dir = tempfile.mkdtemp(prefix="ca-kernel-")
        self._km = AsyncKernelManager(
            kernel_name=PAPERMILL_KERNEL_NAME,
            kernel_spec_manager=_kernel_spec_manager(),
            transport="ipc",  # no TCP port race between workers (papermill issue #511)
            ip=os.path.join(self._kernel_dir, "k"),
        )
        await self._km.start_kernel(cwd=self.cwd, env={**os.environ, **self.env})
        if while_booting is not None:
            while_booting()
        await self._in_client(WARMUP_CODE)

    async def _in_client(self, code: str) -> None:
        """Run ``code`` in the kernel through a short-lived client."""
        kc = self._km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=KERNEL_START_TIMEOUT)
            reply = await kc.execute_interactive(
                code, timeout=KERNEL_START_TIMEOUT, output_hook=lambda _msg: None
            )
            if reply["content"]["status"] != "ok":
                content = reply["content"]
                raise RuntimeError(f"{content.get('ename')}: {content.get('evalue')}")
        finally:
            kc.stop_channels()

    def _discard_kernel(self) -> None:
        """Shut the kernel down (killing it if it is busy) and remove its files."""
        km, self._km = self._km, None
        if km is not None:
            with contextlib.suppress(Exception):
                self._loop.run_until_complete(km.shutdown_kernel(now=True))
        if self._kernel_dir:
            shutil.rmtree(self._kernel_dir, ignore_errors=True)
            self._kernel_dir = None

    def close(self) -> None:
        """Shut the kernel down and close the event loop."""
        self._discard_kernel()
        with contextlib.suppress(Exception):
            self._cancel_leftover_tasks()
        self._loop.close()

    # ---------------------------------------------------------------- execution

    def execute_cells(self, client: Any, nb_man: Any) -> Any:
        """Called by the papermill engine: run the notebook's cells under the watchdog.
        When the run is cut short (kernel death, timeout, stop) the notebook as far as
        it got is written to the output path, so the failing cell can be seen."""
        from papermill.iorw import write_ipynb

        try:
            return self._loop.run_until_complete(self._watched(self._cells(client, nb_man)))
        except (KernelDied, CellTimedOut, StopRequested):
            if self._output_path is not None:
                with contextlib.suppress(Exception):
                    write_ipynb(nb_man.nb, self._output_path)
            raise
        finally:
            self._cancel_leftover_tasks()

    async def _cells(self, client: Any, nb_man: Any) -> Any:
        from nbclient.exceptions import CellExecutionError

        client.reset_execution_trackers()
        await client.async_start_new_kernel_client()
        try:
            reply = await client.kc.execute_interactive(
                RESET_CODE, timeout=KERNEL_START_TIMEOUT, output_hook=lambda _msg: None
            )
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"namespace reset failed: {reply['content'].get('evalue')}")
            for index, cell in enumerate(client.nb.cells):
                self._cell = index
                try:
                    nb_man.cell_start(cell, index)
                    await client.async_execute_cell(cell, index)
                except CellExecutionError as exc:
                    nb_man.cell_exception(client.nb.cells[index], cell_index=index, exception=exc)
                    break
                finally:
                    nb_man.cell_complete(client.nb.cells[index], cell_index=index)
            info = await client.async_wait_for_reply(client.kc.kernel_info())
            if info is not None:
                client.nb.metadata["language_info"] = info["content"]["language_info"]
            client.set_widgets_metadata()
        finally:
            client.kc.stop_channels()
        return client.nb

    async def _watch(self) -> str:
        """Return ``"dead"`` when the kernel process ends, ``"stop"`` on a stop request."""
        while True:
            await asyncio.sleep(WATCH_INTERVAL)
            if self.stop_reason is None and self._parent_died():
                self.request_stop("parent process died")
            if self.stop_reason is not None:
                return "stop"
            if not await self._km.is_alive():
                return "dead"

    async def _watched(self, work: Coroutine[Any, Any, Any]) -> Any:
        """Run ``work`` until it ends, the kernel dies or a stop is requested."""
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        job = asyncio.ensure_future(work)
        watch = asyncio.ensure_future(self._watch())
        await asyncio.wait({job, watch}, return_when=asyncio.FIRST_COMPLETED)
        where = f"while running cell {self._cell + 1}"
        if job.done():
            watch.cancel()
            try:
                return job.result()
            except DeadKernelError:
                raise KernelDied(f"kernel died ({self._kernel_exit()}) {where}") from None
            except CellTimeoutError:
                raise CellTimedOut(
                    f"timed out: cell {self._cell + 1} ran longer than {self.timeout:g} s"
                ) from None
        job.cancel()
        with contextlib.suppress(BaseException):
            await job
        if watch.result() == "dead":
            raise KernelDied(f"kernel died ({self._kernel_exit()}) {where}")
        raise StopRequested(self.stop_reason or "stop requested")

    def _cancel_leftover_tasks(self) -> None:
        """Cancel tasks nbclient left in the loop (its kernel-alive poll after a cancel)."""
        pending = [t for t in asyncio.all_tasks(self._loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))

    def _execute(self, task: Task) -> None:
        import papermill as pm

        self._ensure_kernel()
        self._check_stop()
        self._output_path = task.output_path
        pm.execute_notebook(
            task.input_path,
            task.output_path,
            parameters=task.parameters,
            engine_name=ENGINE_NAME,
            kernel_name=PAPERMILL_KERNEL_NAME,
            runner=self,
            progress_bar=False,
            request_save_on_cell_execute=False,
            execution_timeout=self.timeout,
        )

    def run(self, task: Task) -> dict[str, object]:
        """Run and export one notebook; never raises. ``status`` is ``"ok"``,
        ``"interrupted"`` or one line naming the failure."""
        from coverage_analysis.report.export import export_notebook

        started = time.perf_counter()
        for stale in (task.output_path, task.html_path, task.pdf_path):  # never beside a failure
            if stale is not None:
                Path(stale).unlink(missing_ok=True)
        first_failure: str | None = None
        attempts = 0
        executed = False
        status = STATUS_OK
        try:
            for attempt in range(1, RUNS_PER_REPORT + 1):
                attempts = attempt
                try:
                    self._execute(task)
                    executed = True
                    break
                except KernelDied as exc:
                    self._discard_kernel()
                    if attempt == RUNS_PER_REPORT:
                        status = (
                            f"kernel died twice: {first_failure}; then, in a fresh kernel, {exc}"
                        )
                        raise
                    first_failure = str(exc)
                    log.warning("%s: %s; running it once more in a fresh kernel", task.name, exc)
            export_notebook(task.output_path, task.html_path, task.pdf_path, task.title, task.lang)
        except StopRequested:
            self._discard_kernel()
            status = STATUS_INTERRUPTED
        except KernelDied:
            pass  # status set above
        except CellTimedOut as exc:
            self._discard_kernel()  # still busy with the cell
            status = str(exc)
        except Exception as exc:
            status = error_text(exc)
            log.debug("report %s failed:\n%s", task.name, traceback.format_exc())
            if not executed and not getattr(exc, "ename", None):
                self._discard_kernel()  # not the notebook's own error: the next report gets a fresh kernel
        return {
            "name": task.name,
            "status": status,
            "seconds": time.perf_counter() - started,
            "attempts": attempts,
            "first_failure": first_failure,
        }
