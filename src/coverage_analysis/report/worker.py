"""A report worker process: ``python -m coverage_analysis.report.worker``.

Started by :class:`coverage_analysis.report.pool.LocalPool`. Reads its settings, then
one task at a time, as JSON lines on standard input; answers on standard output with
``{"kernel_pid": ...}`` whenever it starts a kernel and ``{"result": ...}`` per task.
Everything else a library or a kernel prints goes to standard error, never into the
protocol. SIGTERM (from the pool) abandons the running notebook, shuts the kernel down
and ends the worker; so does the death of the parent process. Kept out of the
package's imports so that ``-m`` runs it fresh.
"""

from __future__ import annotations

import json
import logging
import os
import select
import sys
from collections.abc import Callable
from typing import Any

#: jsonschema (which nbformat imports to validate notebooks) compiles the Lark grammars of
#: ``rfc3987-syntax`` whenever that package is importable (JupyterLab installs it): about
#: 1.4 s of every worker's start, for IRI format checks that notebook validation never
#: makes. A worker process makes it unimportable for itself, before anything imports
#: jsonschema (nothing has when ``-m`` starts this module; a worker imported elsewhere
#: leaves an imported copy alone).
if "jsonschema" not in sys.modules:
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]

from coverage_analysis.report.kernel_runner import (
    WATCH_INTERVAL,
    NotebookRunner,
    Task,
)

log = logging.getLogger(__name__)

#: Bytes read from standard input at a time.
READ_CHUNK = 65536


def _warm_imports() -> None:
    """Import the export stack (nbconvert, WeasyPrint) while a kernel boots."""
    from coverage_analysis.report.export import _html_exporter, _url_fetcher, report_css

    _html_exporter()
    _url_fetcher()
    report_css()


class _LineReader:
    """Lines from a file descriptor, waiting at most ``WATCH_INTERVAL`` at a time so a
    stop request or the parent's death is seen while idle."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = b""

    def readline(self, should_stop: Callable[[], bool]) -> bytes:
        while b"\n" not in self.buffer:
            if should_stop():
                return b""
            ready, _, _ = select.select([self.fd], [], [], WATCH_INTERVAL)
            if ready:
                chunk = os.read(self.fd, READ_CHUNK)
                if not chunk:
                    return b""
                self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line


def worker_main() -> int:
    """Entry point of a worker process: settings, then tasks, on standard input."""
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)  # whatever a library or kernel prints goes to stderr, not into the protocol
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    lines = _LineReader(sys.stdin.fileno())
    parent = os.getppid()

    def send(message: dict[str, Any]) -> None:
        protocol.write(json.dumps(message, default=str) + "\n")

    runner: NotebookRunner | None = None

    def should_stop() -> bool:
        if runner is not None and os.getppid() != parent:
            runner.request_stop("parent process died")
        return runner is not None and runner.stop_reason is not None

    first = lines.readline(should_stop)
    if not first:
        return 0
    settings = json.loads(first)
    runner = NotebookRunner(
        cwd=settings["cwd"],
        timeout=float(settings["timeout"]),
        on_kernel_start=lambda pid: send({"kernel_pid": pid}),
    )
    runner.install_signal_handlers()
    try:
        try:
            runner.start(while_booting=_warm_imports)
        except Exception as exc:  # retried by the first task
            log.warning("worker kernel not started yet: %s", exc)
        while True:
            line = lines.readline(should_stop)
            if not line:
                break
            result = runner.run(Task(**json.loads(line)))
            send({"result": result})
            if runner.stop_reason is not None:
                break
    finally:
        runner.close()
    return 0


if __name__ == "__main__":
    sys.exit(worker_main())
