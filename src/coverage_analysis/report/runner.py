"""Batch execution of the report notebooks and their export.

``run_reports`` validates every parameter first, then runs
``region_overview``, ``model_diagnostics`` and one ``district_report`` per
district with papermill, ``jobs`` at a time.

Three layers, so another executor (Dask, issue 11) can reuse the middle one:

* this module builds the tasks, computes the shared work once, handles the
  batch's stop signals and writes the manifest and index;
* :mod:`~coverage_analysis.report.pool` schedules the tasks on worker processes, or,
  when a Dask scheduler is given (``scheduler``, ``COVERAGE_ANALYSIS_SCHEDULER``),
  :mod:`~coverage_analysis.report.dask_pool` on the cluster's workers (imported only
  then); both report each result as it arrives, so the progress bar and the
  manifest are the same;
* :mod:`~coverage_analysis.report.kernel_runner` runs one notebook in a warm
  kernel started with this interpreter: a kernel that dies is noticed within a
  second, replaced, and the notebook run once more (the first failure is kept in
  the manifest); a second death or a cell past the cell timeout fails that report.

Speed: each worker keeps one long-lived Jupyter kernel (IPC transport, so no
TCP port race) and executes its notebooks in it; the namespace is reset between
notebooks, but imports and the loaded report context stay warm. The shared work
(tables, panel, model fit) is computed once in the parent and cached on disk for
the kernels in ``<processed>/.report_cache`` (``sections.CACHE_ENV``), keyed by the
processed files' names, sizes and times, so a re-run reuses it.

Failures stay local: one report's failure never stops the others; it is recorded
in the manifest and the index, and ``Manifest.all_ok`` is false. A Ctrl-C or
SIGTERM stops every worker and kernel, still writes the manifest and index for
what finished (the rest is ``interrupted``) and raises :class:`BatchInterrupted`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from coverage_analysis import config
from coverage_analysis.errors import DataNotFoundError, ParameterError
from coverage_analysis.reference import load_districts
from coverage_analysis.report.kernel_runner import CELL_TIMEOUT, Task
from coverage_analysis.report.manifest import STATUS_INTERRUPTED, STATUS_OK, Manifest, ReportEntry
from coverage_analysis.report.params import ReportParams, validate_params
from coverage_analysis.report.pool import LocalPool

if TYPE_CHECKING:
    from coverage_analysis.report.dask_pool import DaskPool

log = logging.getLogger(__name__)

__all__ = ["CELL_TIMEOUT", "BatchInterrupted", "Task", "build_tasks", "run_reports"]

#: Folder inside the processed folder where the shared report context (tables, panel,
#: model fit) is cached between notebooks and runs, keyed by the folder's files and period.
CACHE_DIRNAME = ".report_cache"
#: Notebook templates.
REGION_NOTEBOOK = "region_overview.ipynb"
DIAGNOSTICS_NOTEBOOK = "model_diagnostics.ipynb"
DISTRICT_NOTEBOOK = "district_report.ipynb"
#: Notebook templates of the national scope: the republic's overview and one per region.
NATIONAL_NOTEBOOK = "national_overview.ipynb"
REGION_REPORT_NOTEBOOK = "region_report.ipynb"
#: Templates each scope needs.
SCOPE_NOTEBOOKS: dict[str, tuple[str, ...]] = {
    "region": (REGION_NOTEBOOK, DIAGNOSTICS_NOTEBOOK, DISTRICT_NOTEBOOK),
    "national": (NATIONAL_NOTEBOOK, REGION_REPORT_NOTEBOOK, DISTRICT_NOTEBOOK),
}
#: Signals that stop a batch cleanly (Ctrl-C and the usual ``kill``).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class BatchInterrupted(KeyboardInterrupt):
    """The batch was stopped by a signal; :attr:`manifest` records what finished."""

    def __init__(self, signal_name: str, manifest: Manifest | None = None) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name
        self.manifest = manifest

    @property
    def exit_status(self) -> int:
        """The shell's exit status for this signal (130 for SIGINT, 143 for SIGTERM)."""
        return 128 + int(signal.Signals[self.signal_name])


@contextlib.contextmanager
def _stop_signals() -> Iterator[None]:
    """While the batch runs: the first SIGINT or SIGTERM raises :class:`BatchInterrupted`
    in the main thread; later ones are ignored so the shutdown can finish. Outside the
    main thread (signals cannot be caught there) nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired: list[int] = []

    def handler(signum: int, _frame: object) -> None:
        if not fired:
            fired.append(signum)
            raise BatchInterrupted(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def validate_timeout(value: object) -> float:
    """``value`` as a positive number of seconds for one cell.

    >>> validate_timeout(30)
    30.0
    """
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        seconds = math.nan
    if isinstance(value, bool) or not math.isfinite(seconds) or seconds <= 0:
        raise ParameterError(f"timeout {value!r} is not a positive number of seconds")
    return seconds


# --------------------------------------------------------------------------------------------
# parent side


def _titles(params: ReportParams) -> dict[str | None, str]:
    from coverage_analysis.report.sections import TEXT

    words = TEXT[params.lang]
    ref = load_districts().set_index("district_id")
    column = "name_ru" if params.lang == "ru" else "name_en"
    out: dict[str | None, str] = {
        "region": words["region_title"],
        "diagnostics": words["diagnostics_title"],
        "national": words["national_title"],
    }
    for d in params.districts:
        out[d] = words["district_title"].format(name=ref.loc[d, column])
    return out


def _region_titles(regions: tuple[str, ...], lang: str) -> dict[str, str]:
    from coverage_analysis.reference.national import region_names
    from coverage_analysis.report.sections import TEXT

    column = "name_ru" if lang == "ru" else "name_en"
    names = region_names().set_index("region_id")[column]
    return {r: TEXT[lang]["region_report_title"].format(name=names[r]) for r in regions}


def build_tasks(
    params: ReportParams,
    processed_dir: Path,
    out_dir: Path,
    notebooks_dir: Path,
    figures_dir: Path | None,
    scope: str = "region",
    regions: tuple[str, ...] = (),
) -> list[Task]:
    """The notebook runs of a batch. Region scope: region overview, diagnostics, then each
    district. National scope: the national overview, one report per region of ``regions``
    (validated ids of the 2014-2016 division), then each district. File names are built
    only from validated ids."""
    titles = _titles(params)
    base = {
        "processed_dir": str(processed_dir),
        "start_month": params.start_month,
        "end_month": params.end_month,
        "lang": params.lang,
        "figures_dir": str(figures_dir) if figures_dir is not None else None,
    }
    runs: list[tuple[str, str, str | None, str, dict[str, str]]]
    if scope == "national":
        region_titles = _region_titles(regions, params.lang)
        runs = [("national_overview", NATIONAL_NOTEBOOK, None, titles["national"], {})]
        runs += [
            (f"region_{r}", REGION_REPORT_NOTEBOOK, None, region_titles[r], {"region_id": r})
            for r in regions
        ]
    else:
        runs = [
            ("region_overview", REGION_NOTEBOOK, None, titles["region"], {}),
            ("model_diagnostics", DIAGNOSTICS_NOTEBOOK, None, titles["diagnostics"], {}),
        ]
    runs += [(f"district_{d}", DISTRICT_NOTEBOOK, d, titles[d], {}) for d in params.districts]
    tasks = []
    for name, notebook, district, title, extra in runs:
        parameters = dict(base, **extra)
        if district is not None:
            parameters["district_id"] = district
        tasks.append(
            Task(
                name=name,
                notebook=notebook,
                district_id=district,
                parameters=parameters,
                title=title,
                input_path=str(notebooks_dir / notebook),
                output_path=str(out_dir / "notebooks" / f"{name}.ipynb"),
                html_path=str(out_dir / f"{name}.html") if "html" in params.formats else None,
                pdf_path=str(out_dir / f"{name}.pdf") if "pdf" in params.formats else None,
                lang=params.lang,
            )
        )
    return tasks


def _precompute(processed_dir: Path, params: ReportParams, cache_dir: Path) -> object | None:
    """Load the report context once (tables, panel, model fit) and cache it on disk."""
    from coverage_analysis.report import sections

    previous = os.environ.get(sections.CACHE_ENV)
    os.environ[sections.CACHE_ENV] = str(cache_dir)
    try:
        return sections.load_context(processed_dir, params.start_month, params.end_month)
    except Exception as exc:  # the notebooks will report it themselves
        log.warning("shared report context not precomputed: %s", exc)
        return None
    finally:
        if previous is None:
            os.environ.pop(sections.CACHE_ENV, None)
        else:
            os.environ[sections.CACHE_ENV] = previous


#: File name of the rating table written beside the reports (CSV, formula-safe).
RATING_CSV = "district_rating.csv"


def _write_tables(context: object | None, out: Path, lang: str) -> dict[str, str]:
    """Write the district rating (and, in the national scope, the regions' rating) as CSV
    (cells neutralised against formula injection)."""
    from coverage_analysis.metrics.republic import REGION_RATING_CSV
    from coverage_analysis.report import sections
    from coverage_analysis.report.export import write_csv

    if context is None or getattr(context, "summary", None) is None:
        return {}
    written: dict[str, str] = {}
    try:
        ctx = dataclasses.replace(context, lang=lang)  # type: ignore[type-var]
        table = sections.rating_table(ctx)
        table.insert(1, "name", table["district_id"].map(ctx.name))
        write_csv(table, out / RATING_CSV)
        written["district_rating"] = RATING_CSV
        regions = ctx.extras.get("region_rating")
        if getattr(ctx, "scope", "region") == "national" and regions is not None:
            write_csv(regions, out / REGION_RATING_CSV)
            written["region_rating"] = REGION_RATING_CSV
    except Exception as exc:
        log.warning("rating table not written: %s", exc)
    return written


def _pool(
    scheduler: str | None, jobs: int, cwd: Path, env: dict[str, str], timeout: float
) -> LocalPool | DaskPool:
    """The batch's executor: the Dask cluster at ``scheduler``, else the local pool."""
    if scheduler is None:
        return LocalPool(jobs, cwd=cwd, env=env, timeout=timeout)
    from coverage_analysis.cluster import connect
    from coverage_analysis.report.dask_pool import DaskPool

    return DaskPool(connect(scheduler), cwd=cwd, env=env, timeout=timeout)


def run_reports(
    processed_dir: str | os.PathLike[str] | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    districts: list[str] | tuple[str, ...] | None = None,
    jobs: int = 2,
    lang: str = "en",
    formats: tuple[str, ...] | list[str] = ("html", "pdf"),
    start_month: str | None = None,
    end_month: str | None = None,
    figures_dir: str | os.PathLike[str] | None = None,
    notebooks_dir: str | os.PathLike[str] | None = None,
    timeout: float = CELL_TIMEOUT,
    scheduler: str | None = None,
    scope: str | None = None,
    regions: list[str] | tuple[str, ...] | None = None,
) -> Manifest:
    """Run the region, diagnostics and district notebooks and export them.

    Every parameter is validated before any notebook runs
    (:class:`~coverage_analysis.errors.ParameterError` names the bad value). ``timeout``
    is the seconds one cell may run before its report fails. ``scheduler`` (else
    ``$COVERAGE_ANALYSIS_SCHEDULER``) runs the notebooks on that Dask cluster, whose
    workers must see the processed, notebook and output folders; ``jobs`` then does
    not apply (the cluster's workers do). Writes
    ``<out>/<name>.html``/``.pdf``, ``<out>/notebooks/<name>.ipynb``, ``index.html`` and
    ``manifest.json``; returns the :class:`Manifest`. A SIGINT (Ctrl-C) or SIGTERM
    stops the batch: the manifest and index are still written, unfinished reports are
    ``interrupted``, and :class:`BatchInterrupted` (a ``KeyboardInterrupt``) is raised
    with the manifest attached.

    ``scope`` (default ``$COVERAGE_ANALYSIS_SCOPE``, else ``region``): ``national`` runs
    the national overview, one report per region of ``regions`` (default all 16) and the
    district reports of ``districts`` (ids of the national reference; default all); a
    processed folder whose panel or model summary was made in another scope is refused in
    one line.
    """
    from coverage_analysis.report.national_sections import validate_region

    scope = config.activate_scope(config.resolve_scope(scope))
    params = validate_params(districts, lang, formats, start_month, end_month, jobs)
    if scope == "national":
        from coverage_analysis.reference.national import region_names

        chosen = regions if regions else region_names()["region_id"].tolist()
        region_ids = tuple(dict.fromkeys(validate_region(r) for r in chosen))
    elif regions:
        raise ParameterError("--region needs the national scope (--scope national)")
    else:
        region_ids = ()
    cell_timeout = validate_timeout(timeout)
    processed = config.processed_dir(processed_dir).resolve()
    if not processed.is_dir():
        raise DataNotFoundError(
            f"processed folder {processed} does not exist; run `coverage-analysis clean`"
        )
    from coverage_analysis.io.generation import check_generation

    check_generation(processed, panel=True, model=True)  # one run's files, or one line
    for made_by, file_name in (
        ("coverage-analysis clean", "cleaning_report.json"),
        ("coverage-analysis panel", "panel.parquet"),
        ("coverage-analysis model", "model_summary.json"),
    ):
        path = processed / file_name
        if path.is_file():
            config.check_scope(config.recorded_scope(path), scope, str(path), made_by)
    out = config.reports_dir(out_dir).resolve()
    nb_dir = config.notebooks_dir(notebooks_dir).resolve()
    missing = [n for n in SCOPE_NOTEBOOKS[scope] if not (nb_dir / n).is_file()]
    if missing:
        raise ParameterError(f"notebook templates {missing} not found in {nb_dir}")
    figs = Path(figures_dir).resolve() if figures_dir is not None else None
    (out / "notebooks").mkdir(parents=True, exist_ok=True)
    tasks = build_tasks(params, processed, out, nb_dir, figs, scope, region_ids)

    from coverage_analysis.report.sections import CACHE_ENV

    started = time.perf_counter()
    cache_dir = processed / CACHE_DIRNAME
    env = {CACHE_ENV: str(cache_dir), "MPLBACKEND": "Agg"}
    # the scope and its district reference go with every task (a Dask worker's process
    # has not seen this one's environment)
    from coverage_analysis.reference import DISTRICTS_ENV

    env.update({k: os.environ[k] for k in (config.SCOPE_ENV, DISTRICTS_ENV) if k in os.environ})
    pool = _pool(config.scheduler_address(scheduler), params.jobs, nb_dir, env, cell_timeout)
    context: object | None = None
    stopped: BatchInterrupted | None = None
    with _stop_signals(), contextlib.closing(pool):
        try:
            prestart = getattr(pool, "prestart", None)
            if prestart is not None:  # workers boot their kernels while the context is computed
                prestart()
            context = _precompute(processed, params, cache_dir)
            with tqdm(
                total=len(tasks), desc="reports", unit="report", file=sys.stderr, disable=None
            ) as bar:
                pool.run(tasks, on_result=lambda _result: bar.update(1))
        except KeyboardInterrupt as exc:  # BatchInterrupted, or a Ctrl-C outside our handler
            stopped = exc if isinstance(exc, BatchInterrupted) else BatchInterrupted("SIGINT")
            log.warning("batch stopped by %s; writing the manifest", stopped.signal_name)
        results = pool.results

        manifest = Manifest(
            out_dir=out,
            seconds=time.perf_counter() - started,
            parameters={
                "processed_dir": str(processed),
                "districts": list(params.districts),
                "jobs": params.jobs,
                "lang": params.lang,
                "formats": list(params.formats),
                "start_month": params.start_month,
                "end_month": params.end_month,
                "figures_dir": str(figs) if figs else None,
                "timeout": cell_timeout,
                "scope": scope,
                "regions": list(region_ids),
            },
            executor=pool.name,
            interrupted=stopped.signal_name if stopped else None,
        )
        unfinished = {"status": STATUS_INTERRUPTED if stopped else "not run", "seconds": 0.0}
        for task in tasks:
            res = results.get(task.name, unfinished)
            ok = res["status"] == STATUS_OK
            outputs = {}  # files this run wrote (a failed run may leave only its notebook)
            for kind, path in (
                ("notebook", task.output_path),
                ("html", task.html_path),
                ("pdf", task.pdf_path),
            ):
                if path is not None and (ok or (Path(path).is_file() and res is not unfinished)):
                    outputs[kind] = os.path.relpath(path, out)
            manifest.entries.append(
                ReportEntry(
                    name=task.name,
                    notebook=task.notebook,
                    district_id=task.district_id,
                    parameters=task.parameters,
                    outputs=outputs,
                    status=str(res["status"]),
                    title=task.title,
                    seconds=float(res["seconds"]),  # type: ignore[arg-type]
                    attempts=int(res.get("attempts", 0)),  # type: ignore[call-overload]
                    first_failure=res.get("first_failure"),  # type: ignore[arg-type]
                )
            )
        manifest.tables = _write_tables(context, out, params.lang)
        manifest.write(out, params.lang)
    log.info("reports: %s", manifest.summary_text())
    if stopped is not None:
        stopped.manifest = manifest
        raise stopped
    return manifest
