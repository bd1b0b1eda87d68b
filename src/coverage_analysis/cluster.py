"""Dask distributed for the two batch steps that fan out: reports and per-file cleaning.

Why Dask distributed: a national batch (about 220 reports, hundreds of input files)
outgrows one machine, and Dask gives a scheduler the analysts can start on a laptop,
on SLURM/PBS (dask-jobqueue) or on Kubernetes (dask-kubernetes) with the same
``tcp://host:8786`` address. It is an optional extra (``pip install
'coverage-analysis[dask]'``) and imported only when a scheduler is given, so the
command line and the local pool start as fast as before.

This module connects to the scheduler (:func:`connect`) and runs the per-file work
of :func:`coverage_analysis.clean.clean_folder` on the workers
(:class:`DaskFileMapper`). The report batch's executor is
:mod:`coverage_analysis.report.dask_pool`.

The workers must see the raw folder at the same path as the client (a shared
filesystem); a file a worker cannot see is named as unreadable, with that reason.
What a file's cleaning logs on a worker (a warning naming a bad file) is sent back
and logged here, and the vocabulary entries it matched are merged into this
process's vocabularies, so the cleaning report is the one a local run writes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coverage_analysis.errors import CoverageAnalysisError

if TYPE_CHECKING:
    from distributed import Client

    from coverage_analysis.clean.folder import FilePart

log = logging.getLogger(__name__)

#: Seconds to wait for the scheduler to answer before giving up.
CONNECT_TIMEOUT = 30
#: How to install the optional dependency.
INSTALL_HINT = "pip install 'coverage-analysis[dask]'"
#: Logger whose warnings a worker sends back with each file's result.
PACKAGE_LOGGER = "coverage_analysis"
#: Vocabularies whose matched entries the cleaning report lists as used (clean/parsers.py).
TRACKED_VOCABULARIES = ("channel", "language", "format", "platform")

#: One file's cleaning at a time per worker process: the vocabularies' record of
#: matched entries and the captured log lines are per process.
_FILE_LOCK = threading.Lock()


class ClusterError(CoverageAnalysisError):
    """The Dask scheduler cannot be used (not installed, not reachable)."""


def connect(address: str) -> Client:
    """A Dask client connected to the scheduler at ``address`` (``tcp://host:8786``);
    one clear line when ``distributed`` is missing or the scheduler does not answer."""
    try:
        from distributed import Client
    except ImportError as exc:
        raise ClusterError(
            f"--scheduler {address} needs Dask distributed ({exc}); install it: {INSTALL_HINT}"
        ) from None
    try:
        return Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(
            f"cannot reach the Dask scheduler at {address} within {CONNECT_TIMEOUT} s ({exc})"
        ) from None


def describe(client: Client) -> str:
    """``tcp://127.0.0.1:8786, 2 workers`` (for the manifest and the logs)."""
    workers = client.scheduler_info().get("workers", {})
    return f"{client.scheduler.address}, {len(workers)} workers"


# ------------------------------------------------------------------ per-file cleaning


class _WarningsOfThisThread(logging.Handler):
    """Collects the package's warnings logged by the current thread."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.lines: list[tuple[str, int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.lines.append((record.name, record.levelno, record.getMessage()))


def _unreadable(rel: str, reason: str) -> FilePart:
    """The part of a file that could not be read at all (one ledger line, as locally)."""
    from coverage_analysis.clean.common import Ledger
    from coverage_analysis.clean.folder import FilePart

    ledger = Ledger()
    ledger.add(rel, "", None, "unknown", "", "", reason, "file")
    return FilePart([], {}, ledger.parts, [{"file": rel, "reason": reason}], {}, set(), {}, set())


def _clean_file_on_worker(
    item: tuple[Path, str], fn: Callable[[tuple[Path, str]], FilePart]
) -> tuple[FilePart, list[tuple[str, int, str]], dict[str, set[int]]]:
    """Run ``fn(item)`` on a worker; return its part, its warnings and the vocabulary
    entries it matched."""
    from coverage_analysis.clean import parsers

    path, rel = item
    if not Path(path).exists():
        from distributed import get_worker

        reason = (
            f"not found on Dask worker {get_worker().address}: the workers must see the "
            f"raw folder at the same path ({path}) as the client (a shared filesystem)"
        )
        return _unreadable(rel, reason), [(__name__, logging.WARNING, f"{rel}: {reason}")], {}
    with _FILE_LOCK:
        vocabularies = {name: parsers.vocabulary(name) for name in TRACKED_VOCABULARIES}
        before = {name: v._used for name, v in vocabularies.items()}
        for v in vocabularies.values():
            v._used = set()
        capture = _WarningsOfThisThread()
        logger = logging.getLogger(PACKAGE_LOGGER)
        logger.addHandler(capture)
        try:
            part = fn(item)
        finally:
            logger.removeHandler(capture)
            used = {name: v._used for name, v in vocabularies.items()}
            for name, v in vocabularies.items():
                v._used = before[name] | used[name]
    return part, capture.lines, used


class DaskFileMapper:
    """The per-file executor of :func:`~coverage_analysis.clean.clean_folder` on Dask:
    one task per input file, the parts yielded in the files' order.

    A task that fails on the cluster (its worker died under it three times, say) makes
    its file unreadable with that reason; the rest of the folder is still cleaned.
    """

    def __init__(self, client: Client) -> None:
        self.client = client

    def __call__(
        self, fn: Callable[[tuple[Path, str]], FilePart], items: Sequence[tuple[Path, str]]
    ) -> Iterator[FilePart]:
        from coverage_analysis.clean import parsers

        items = list(items)
        futures: list[Any] = self.client.map(_clean_file_on_worker, items, fn=fn, pure=False)
        try:
            for index, (_path, rel) in enumerate(items):
                future = futures[index]
                try:
                    part, lines, used = future.result()
                except Exception as exc:
                    reason = f"not cleaned: the Dask task failed ({type(exc).__name__}: {exc})"
                    log.warning("%s: %s", rel, reason)
                    yield _unreadable(rel, reason)
                    continue
                finally:
                    futures[index] = None  # its result leaves the cluster's memory
                for name, level, message in lines:
                    logging.getLogger(name).log(level, "%s", message)
                for name, entries in used.items():
                    parsers.vocabulary(name)._used.update(entries)
                yield part
        finally:
            left = [f for f in futures if f is not None]
            if left:
                self.client.cancel(left)
