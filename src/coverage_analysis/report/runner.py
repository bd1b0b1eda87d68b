"""Batch execution of the report notebooks and their export.

``run_reports`` validates every parameter first, then runs
``region_overview``, ``model_diagnostics`` and one ``district_report`` per
district with papermill in a pool of ``jobs`` worker processes.

Speed: each worker keeps one long-lived Jupyter kernel (IPC transport, so no
TCP port race, papermill issue #511) and executes its notebooks in it
through a papermill engine that reuses the kernel; the namespace is reset
between notebooks, but imports and the loaded report context stay warm. The
shared work (tables, panel, model fit) is computed once in the parent and
cached on disk for the kernels in ``<processed>/.report_cache`` (``sections.CACHE_ENV``),
keyed by the processed files' names, sizes and times, so a re-run reuses it. A kernel that fails
to start is retried; a kernel that dies is restarted and the notebook run
once more. One report's failure never stops the others: it is recorded in
the manifest and the index, and ``Manifest.all_ok`` is false.
"""

from __future__ import annotations

import atexit
import concurrent.futures as cf
import contextlib
import dataclasses
import logging
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from coverage_analysis import config
from coverage_analysis.errors import DataNotFoundError, ParameterError
from coverage_analysis.reference import load_districts
from coverage_analysis.report.manifest import STATUS_OK, Manifest, ReportEntry
from coverage_analysis.report.params import ReportParams, validate_params

log = logging.getLogger(__name__)

#: Jupyter kernel the notebooks run in (installed by ``make setup``); falls back to python3.
KERNEL_NAME = "coverage-analysis"
#: Attempts to start a worker kernel before giving up.
KERNEL_START_ATTEMPTS = 3
#: Seconds to wait for a kernel to answer after start.
KERNEL_START_TIMEOUT = 60
#: Seconds a single notebook cell may run.
CELL_TIMEOUT = 600
#: Name under which the kernel-reusing papermill engine is registered.
ENGINE_NAME = "coverage_analysis_reuse"
#: Folder inside the processed folder where the shared report context (tables, panel,
#: model fit) is cached between notebooks and runs, keyed by the folder's files and period.
CACHE_DIRNAME = ".report_cache"
#: Notebook templates.
REGION_NOTEBOOK = "region_overview.ipynb"
DIAGNOSTICS_NOTEBOOK = "model_diagnostics.ipynb"
DISTRICT_NOTEBOOK = "district_report.ipynb"
#: Code run in a worker kernel before each notebook (fresh namespace, no open figures).
RESET_CODE = "%reset -f\nimport matplotlib.pyplot as _p\n_p.close('all')\ndel _p"
#: Code run once when a worker kernel starts (warm imports).
WARMUP_CODE = "import coverage_analysis.report.sections, coverage_analysis.figures"


@dataclass(frozen=True)
class Task:
    """One notebook to run and export."""

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


# --------------------------------------------------------------------------------------------
# worker side


_STATE: dict[str, object] = {}


def _kernel_name() -> str:
    from jupyter_client.kernelspec import KernelSpecManager

    names = KernelSpecManager().find_kernel_specs()
    return KERNEL_NAME if KERNEL_NAME in names else "python3"


def _register_engine() -> None:
    import papermill.engines as engines
    from papermill.clientwrap import PapermillNotebookClient

    class ReusedKernelEngine(engines.NBClientEngine):
        """papermill engine executing in an already started kernel (``km=`` argument)."""

        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man: object,
            kernel_name: str,
            log_output: bool = False,
            stdout_file: object = None,
            stderr_file: object = None,
            start_timeout: int = KERNEL_START_TIMEOUT,
            execution_timeout: int | None = None,
            **kwargs: object,
        ) -> object:
            km = kwargs.pop("km")
            client = PapermillNotebookClient(
                nb_man,
                km=km,
                timeout=execution_timeout,
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log=logging.getLogger("papermill"),
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
            )
            try:
                return client.execute()
            finally:
                if client.kc is not None:
                    client.kc.stop_channels()

    engines.papermill_engines.register(ENGINE_NAME, ReusedKernelEngine)


def _warm_imports() -> None:
    """Import the export stack (nbconvert, WeasyPrint) while a kernel boots."""
    from coverage_analysis.report.export import _html_exporter, _url_fetcher, report_css

    _html_exporter()
    _url_fetcher()
    report_css()


def _start_kernel(while_booting: Callable[[], None] | None = None) -> object:
    """Start this worker's kernel (IPC transport), retrying a failed start; run
    ``while_booting`` between launching the kernel process and waiting for it."""
    from jupyter_client import KernelManager

    last: Exception | None = None
    for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
        folder = tempfile.mkdtemp(prefix="ca-kernel-")
        km = KernelManager(
            kernel_name=str(_STATE["kernel_name"]), transport="ipc", ip=os.path.join(folder, "k")
        )
        try:
            km.start_kernel(cwd=str(_STATE.get("cwd") or os.getcwd()))
            if while_booting is not None:
                while_booting()
                while_booting = None
            kc = km.client()
            kc.start_channels()
            try:
                kc.wait_for_ready(timeout=KERNEL_START_TIMEOUT)
                kc.execute_interactive(WARMUP_CODE, timeout=KERNEL_START_TIMEOUT)
            finally:
                kc.stop_channels()
            _STATE["kernel_dir"] = folder
            return km
        except Exception as exc:
            last = exc
            log.warning(
                "kernel start failed (attempt %d/%d): %s", attempt, KERNEL_START_ATTEMPTS, exc
            )
            with contextlib.suppress(Exception):
                km.shutdown_kernel(now=True)
            shutil.rmtree(folder, ignore_errors=True)
            time.sleep(0.5 * attempt)
    raise RuntimeError(f"could not start a Jupyter kernel: {last}")


def _shutdown_kernel() -> None:
    km = _STATE.pop("km", None)
    if km is not None:
        with contextlib.suppress(Exception):
            km.shutdown_kernel(now=True)  # type: ignore[attr-defined]
    folder = _STATE.pop("kernel_dir", None)
    if folder:
        shutil.rmtree(str(folder), ignore_errors=True)


def _init_worker(kernel_name: str, env: dict[str, str], cwd: str) -> None:
    os.environ.update(env)
    _STATE.update(kernel_name=kernel_name, cwd=cwd)
    _register_engine()
    atexit.register(_shutdown_kernel)
    try:  # start the kernel now, importing the export stack while it boots
        _STATE["km"] = _start_kernel(while_booting=_warm_imports)
    except Exception as exc:  # retried per task; never break the pool here
        log.warning("worker kernel not started yet: %s", exc)


def _kernel() -> object:
    km = _STATE.get("km")
    if km is None or not km.is_alive():  # type: ignore[attr-defined]
        _shutdown_kernel()
        _STATE["km"] = km = _start_kernel()
    return km


def _reset_namespace(km: object) -> None:
    kc = km.client()  # type: ignore[attr-defined]
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=KERNEL_START_TIMEOUT)
        kc.execute_interactive(RESET_CODE, timeout=KERNEL_START_TIMEOUT)
    finally:
        kc.stop_channels()


def _execute(task: Task) -> None:
    import papermill as pm
    from nbclient.exceptions import DeadKernelError

    for attempt in (1, 2):
        km = _kernel()
        try:
            _reset_namespace(km)
            pm.execute_notebook(
                task.input_path,
                task.output_path,
                parameters=task.parameters,
                engine_name=ENGINE_NAME,
                kernel_name=str(_STATE["kernel_name"]),
                km=km,
                progress_bar=False,
                request_save_on_cell_execute=False,
                execution_timeout=CELL_TIMEOUT,
            )
            return
        except (DeadKernelError, RuntimeError, TimeoutError) as exc:
            if attempt == 2 or isinstance(exc, pm.PapermillExecutionError):
                raise
            log.warning("%s: kernel problem (%s); restarting the kernel once", task.name, exc)
            _shutdown_kernel()


def _run_task(task: Task) -> dict[str, object]:
    """Run and export one notebook in a worker; never raises."""
    from coverage_analysis.report.export import export_notebook

    started = time.perf_counter()
    for stale in (task.html_path, task.pdf_path):  # never leave an old report beside a failure
        if stale is not None:
            Path(stale).unlink(missing_ok=True)
    try:
        _execute(task)
        export_notebook(task.output_path, task.html_path, task.pdf_path, task.title, task.lang)
        status = STATUS_OK
    except Exception as exc:
        status = _error_text(exc)
        log.debug("report %s failed:\n%s", task.name, traceback.format_exc())
    return {"name": task.name, "status": status, "seconds": time.perf_counter() - started}


def _error_text(exc: BaseException) -> str:
    ename = getattr(exc, "ename", None)
    evalue = getattr(exc, "evalue", None)
    if ename:
        return f"{ename}: {evalue}"
    return f"{type(exc).__name__}: {exc}".strip()


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
    }
    for d in params.districts:
        out[d] = words["district_title"].format(name=ref.loc[d, column])
    return out


def build_tasks(
    params: ReportParams,
    processed_dir: Path,
    out_dir: Path,
    notebooks_dir: Path,
    figures_dir: Path | None,
) -> list[Task]:
    """The notebook runs of a batch: region, diagnostics, then each district.
    File names are built only from validated district ids."""
    titles = _titles(params)
    base = {
        "processed_dir": str(processed_dir),
        "start_month": params.start_month,
        "end_month": params.end_month,
        "lang": params.lang,
        "figures_dir": str(figures_dir) if figures_dir is not None else None,
    }
    runs: list[tuple[str, str, str | None, str]] = [
        ("region_overview", REGION_NOTEBOOK, None, titles["region"]),
        ("model_diagnostics", DIAGNOSTICS_NOTEBOOK, None, titles["diagnostics"]),
    ]
    runs += [(f"district_{d}", DISTRICT_NOTEBOOK, d, titles[d]) for d in params.districts]
    tasks = []
    for name, notebook, district, title in runs:
        parameters = dict(base)
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
    """Write the district rating as CSV (cells neutralised against formula injection)."""
    from coverage_analysis.report import sections
    from coverage_analysis.report.export import write_csv

    if context is None or getattr(context, "summary", None) is None:
        return {}
    try:
        ctx = dataclasses.replace(context, lang=lang)  # type: ignore[type-var]
        table = sections.rating_table(ctx)
        table.insert(1, "name", table["district_id"].map(ctx.name))
        write_csv(table, out / RATING_CSV)
    except Exception as exc:
        log.warning("rating table not written: %s", exc)
        return {}
    return {"district_rating": RATING_CSV}


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
) -> Manifest:
    """Run the region, diagnostics and district notebooks and export them.

    Every parameter is validated before any notebook runs
    (:class:`~coverage_analysis.errors.ParameterError` names the bad value). Writes
    ``<out>/<name>.html``/``.pdf``, ``<out>/notebooks/<name>.ipynb``, ``index.html`` and
    ``manifest.json``; returns the :class:`Manifest`.
    """
    params = validate_params(districts, lang, formats, start_month, end_month, jobs)
    processed = config.processed_dir(processed_dir).resolve()
    if not processed.is_dir():
        raise DataNotFoundError(
            f"processed folder {processed} does not exist; run `coverage-analysis clean`"
        )
    from coverage_analysis.io.generation import check_generation

    check_generation(processed, panel=True, model=True)  # one run's files, or one line
    out = config.reports_dir(out_dir).resolve()
    nb_dir = config.notebooks_dir(notebooks_dir).resolve()
    missing = [
        n
        for n in (REGION_NOTEBOOK, DIAGNOSTICS_NOTEBOOK, DISTRICT_NOTEBOOK)
        if not (nb_dir / n).is_file()
    ]
    if missing:
        raise ParameterError(f"notebook templates {missing} not found in {nb_dir}")
    figs = Path(figures_dir).resolve() if figures_dir is not None else None
    (out / "notebooks").mkdir(parents=True, exist_ok=True)
    tasks = build_tasks(params, processed, out, nb_dir, figs)

    started = time.perf_counter()
    cache_dir = processed / CACHE_DIRNAME
    context = _precompute(processed, params, cache_dir)
    from coverage_analysis.report.sections import CACHE_ENV

    env = {CACHE_ENV: str(cache_dir), "MPLBACKEND": "Agg"}
    results: dict[str, dict[str, object]] = {}
    ctx = multiprocessing.get_context("spawn")
    workers = min(params.jobs, len(tasks))
    with cf.ProcessPoolExecutor(
        workers,
        mp_context=ctx,
        initializer=_init_worker,
        initargs=(_kernel_name(), env, str(nb_dir)),
    ) as pool:
        futures = {pool.submit(_run_task, t): t for t in tasks}
        with tqdm(
            total=len(tasks), desc="reports", unit="report", file=sys.stderr, disable=None
        ) as bar:
            for fut in cf.as_completed(futures):
                task = futures[fut]
                try:
                    results[task.name] = fut.result()
                except Exception as exc:  # a worker process that died
                    results[task.name] = {"status": _error_text(exc), "seconds": 0.0}
                bar.update(1)

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
        },
    )
    for task in tasks:
        res = results.get(task.name, {"status": "not run", "seconds": 0.0})
        outputs = {}  # files this run wrote (a failed run may leave only its notebook)
        for kind, path in (
            ("notebook", task.output_path),
            ("html", task.html_path),
            ("pdf", task.pdf_path),
        ):
            if path is not None and (res["status"] == STATUS_OK or Path(path).is_file()):
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
                seconds=float(res["seconds"]),
            )
        )
    manifest.tables = _write_tables(context, out, params.lang)
    manifest.write(out, params.lang)
    log.info("reports: %s", manifest.summary_text())
    return manifest
