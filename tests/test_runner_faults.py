"""A report batch that survives a dying kernel, a cell past its timeout, and a stop signal.

Real kernels, real worker processes, the real ``coverage-analysis report`` command run
as a subprocess on the cleaned sample. The district notebook is the real template with
one extra cell written by the test: for one "victim" district it writes the kernel's
process id to a marker file and sleeps, which makes "while it runs a report"
deterministic. The region and diagnostics templates are small real notebooks written
by the test, to keep these batches short. Processes are checked in the process table
(psutil): kernels are the descendants of the batch whose command line names ipykernel.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest
from cluster_outputs import worker_kernels
from notebook_templates import district_templates

from coverage_analysis.report import Manifest, ReportEntry
from coverage_analysis.report.manifest import STATUS_INTERRUPTED

#: Districts of the fault batches: the victim and one that must come out ok.
VICTIM = "semey"
OTHERS = ("ayagoz",)
#: Seconds the victim's extra cell sleeps (far past any limit below: a batch that waits
#: for it, or for the default 600 s cell timeout, fails the test).
VICTIM_SLEEP = 900
#: Longest wait for the victim to start (a loaded 2-core machine starts kernels slowly).
START_LIMIT = 600
#: After a kill the victim must be running again within this many seconds: from then on
#: the batch does what a normal batch does, so it ends within this of the normal time.
KILL_TO_RERUN_LIMIT = 60
#: The batch must end within this many seconds of a SIGINT/SIGTERM.
SIGNAL_TO_END_LIMIT = 60
#: Cell timeout of the timeout batch (the real district cells take a few seconds).
SHORT_TIMEOUT = 30
#: What Python's resource tracker prints about semaphores a killed pool left behind.
LEAK_WARNING = "leaked semaphore"


#: A kernelspec no Jupyter installation has: the runner must not need it.
UNREGISTERED_KERNEL = {
    "name": "some-kernel-nobody-registered",
    "display_name": "not registered anywhere",
    "language": "python",
}


def _templates(folder: Path, marker: Path, victim_always: bool = False) -> Path:
    """Templates: small region/diagnostics notebooks and the real district notebook with
    a sleeping cell for the victim (first run only, unless ``victim_always``)."""
    first_only = "True" if victim_always else "not _marker.exists()"
    return district_templates(
        folder,
        "import os, pathlib, time\n"
        f"_marker = pathlib.Path({str(marker)!r})\n"
        f"if district_id == {VICTIM!r}:\n"
        f"    if {first_only}:\n"
        "        _marker.write_text(str(os.getpid()))\n"
        f"        time.sleep({VICTIM_SLEEP})\n"
        "    else:\n"
        "        _marker.with_suffix('.rerun').write_text(str(time.time()))",
        UNREGISTERED_KERNEL,
    )


def _start_batch(processed: Path, out: Path, templates: Path, *extra: str) -> subprocess.Popen[str]:
    districts = [a for d in (*OTHERS, VICTIM) for a in ("--district", d)]
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "coverage_analysis.cli", "report"),
            *("--processed", str(processed), "--out", str(out), "--figures", str(out / "fig")),
            *(*districts, "--jobs", "2", "--format", "html", *extra),
        ],
        env={**os.environ, "COVERAGE_ANALYSIS_NOTEBOOKS": str(templates)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(path: Path, batch: subprocess.Popen[str], limit: float = START_LIMIT) -> None:
    deadline = time.monotonic() + limit
    while not path.exists():
        assert batch.poll() is None, f"batch ended before {path.name}: {batch.communicate()}"
        assert time.monotonic() < deadline, f"{path.name} not written in {limit} s"
        time.sleep(0.2)


def _still_running(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            if proc.status() != psutil.STATUS_ZOMBIE:
                alive.add(pid)
        except psutil.NoSuchProcess:
            continue
    return alive


def _finish(batch: subprocess.Popen[str], limit: float) -> tuple[int, str, str, float]:
    started = time.monotonic()
    out, err = batch.communicate(timeout=limit)
    return batch.returncode, out, err, time.monotonic() - started


def _manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


@pytest.mark.slow
def test__report_batch__kernel_killed_mid_report_is_restarted_and_recorded(
    sample_processed: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "victim.pid"
    out = tmp_path / "out"
    batch = _start_batch(sample_processed, out, _templates(tmp_path / "nb", marker))
    children = set()
    try:
        _wait_for(marker, batch)
        kernel = int(marker.read_text())
        children = {p.pid for p in psutil.Process(batch.pid).children(recursive=True)}
        assert kernel in worker_kernels(batch.pid), "the victim's kernel is not one of the batch's"
        os.kill(kernel, signal.SIGKILL)  # as the OOM killer would
        killed_at = time.time()
        code, stdout, stderr, _ = _finish(batch, limit=START_LIMIT)
    finally:
        if batch.poll() is None:
            batch.kill()
    assert code == 0, stderr
    rerun_after = float(marker.with_suffix(".rerun").read_text()) - killed_at
    assert 0 < rerun_after < KILL_TO_RERUN_LIMIT, f"victim ran again {rerun_after:.0f} s after"
    data = _manifest(out)
    status = {r["name"]: r for r in data["reports"]}
    assert all(r["status"] == "ok" for r in data["reports"]), stdout
    victim = status[f"district_{VICTIM}"]
    assert victim["attempts"] == 2
    assert "kernel died" in victim["first_failure"] and "SIGKILL" in victim["first_failure"]
    assert all(status[f"district_{d}"]["attempts"] == 1 for d in OTHERS)
    assert (out / f"district_{VICTIM}.html").is_file()
    assert "ran once more after" in (out / "index.html").read_text(encoding="utf-8")
    assert f"RAN TWICE district_{VICTIM}" in stdout
    assert not _still_running(children), "a worker or kernel outlived the batch"
    assert LEAK_WARNING not in stderr


@pytest.mark.slow
def test__report_batch__cell_past_the_timeout_fails_that_report_only(
    sample_processed: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "victim.pid"
    out = tmp_path / "out"
    templates = _templates(tmp_path / "nb", marker, victim_always=True)
    batch = _start_batch(sample_processed, out, templates, "--timeout", str(SHORT_TIMEOUT))
    try:
        _wait_for(marker, batch)
        kernels = worker_kernels(batch.pid)
        code, stdout, stderr, _ = _finish(batch, limit=START_LIMIT)
    finally:
        if batch.poll() is None:
            batch.kill()
    assert code == 1, stderr
    data = _manifest(out)
    assert data["parameters"]["timeout"] == SHORT_TIMEOUT
    status = {r["name"]: r["status"] for r in data["reports"]}
    assert status.pop(f"district_{VICTIM}") == (
        f"timed out: cell {_victim_cell(out)} ran longer than {SHORT_TIMEOUT} s"
    )
    assert set(status.values()) == {"ok"}, status
    assert not (out / f"district_{VICTIM}.html").exists()
    victim = next(r for r in data["reports"] if r["name"] == f"district_{VICTIM}")
    assert victim["outputs"] == {
        "notebook": f"notebooks/district_{VICTIM}.ipynb"
    }  # as far as it got
    assert f"FAILED district_{VICTIM}: timed out" in stdout
    assert not _still_running(kernels), "the kernel stuck in the cell was not shut down"
    assert LEAK_WARNING not in stderr


def _victim_cell(out: Path) -> int:
    """1-based position of the sleeping cell in the executed victim notebook."""
    nb = nbformat.read(out / "notebooks" / f"district_{VICTIM}.ipynb", as_version=4)
    return next(i for i, c in enumerate(nb.cells, 1) if "time.sleep" in c.source)


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test__report_batch__stop_signal_writes_index_and_manifest_and_leaves_no_process(
    sample_processed: Path, tmp_path: Path, signum: signal.Signals
) -> None:
    marker = tmp_path / "victim.pid"
    out = tmp_path / "out"
    batch = _start_batch(sample_processed, out, _templates(tmp_path / "nb", marker))
    try:
        _wait_for(marker, batch)
        _wait_for(out / "region_overview.html", batch)
        started = {p.pid for p in psutil.Process(batch.pid).children(recursive=True)}
        kernels = worker_kernels(batch.pid)
        assert kernels and started > kernels
        batch.send_signal(signum)
        code, _, stderr, after_signal = _finish(batch, limit=SIGNAL_TO_END_LIMIT * 3)
    finally:
        if batch.poll() is None:
            batch.kill()
    assert after_signal < SIGNAL_TO_END_LIMIT
    assert code == 128 + signum, stderr
    assert f"stopped by {signum.name}" in stderr
    assert LEAK_WARNING not in stderr and "Traceback" not in stderr, stderr
    assert not _still_running(started), "a worker or kernel outlived the batch"
    data = _manifest(out)
    assert data["interrupted"] == signum.name and data["all_ok"] is False
    status = {r["name"]: r["status"] for r in data["reports"]}
    assert status["region_overview"] == "ok"
    assert status[f"district_{VICTIM}"] == STATUS_INTERRUPTED
    assert set(status.values()) <= {"ok", STATUS_INTERRUPTED}
    for report in data["reports"]:
        if report["status"] == "ok":
            assert (out / report["outputs"]["html"]).is_file()
        else:
            assert "html" not in report["outputs"]
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "interrupted" in index and 'href="region_overview.html"' in index


def test__manifest__interrupted_and_retried_reports_in_summary_and_index() -> None:
    entries = [
        ReportEntry("region_overview", "region_overview.ipynb", None, {}, {"html": "r.html"}),
        ReportEntry(
            "district_semey",
            "district_report.ipynb",
            "semey",
            {},
            {"html": "s.html"},
            attempts=2,
            first_failure="kernel died (killed by SIGKILL) while running cell 4",
        ),
        ReportEntry("district_ridder", "district_report.ipynb", "ridder", {}, {}, "interrupted"),
        ReportEntry("district_abai", "district_report.ipynb", "abai", {}, {}, "timed out: x"),
    ]
    manifest = Manifest(entries=entries, interrupted="SIGTERM", executor="local pool")
    lines = manifest.summary_text().splitlines()
    assert lines[0] == "4 report(s): 2 ok, 1 failed, 1 interrupted"
    assert "batch stopped by SIGTERM" in lines
    assert "FAILED district_abai: timed out: x" in lines
    assert not any("FAILED district_ridder" in line for line in lines)
    assert "RAN TWICE district_semey: kernel died (killed by SIGKILL) while running cell 4" in lines
    assert not manifest.all_ok
    data = manifest.to_dict()
    assert data["interrupted"] == "SIGTERM" and data["executor"] == "local pool"
    assert data["reports"][1]["first_failure"].startswith("kernel died")
    index = manifest.index_html("ru")
    assert "прервано" in index and "Пакет остановлен (SIGTERM)" in index
    assert "повторный запуск после: kernel died" in index


@pytest.mark.parametrize("bad", [0, -5, "soon", float("nan"), True])
def test__run_reports__bad_timeout_refused_before_anything_runs(
    bad: object, tmp_path: Path
) -> None:
    from coverage_analysis.errors import ParameterError
    from coverage_analysis.report import run_reports

    with pytest.raises(ParameterError, match="timeout"):
        run_reports(tmp_path, tmp_path / "out", timeout=bad)  # type: ignore[arg-type]
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test__notebook_runner__second_kernel_death_fails_the_report_and_the_next_runs(
    tmp_path: Path,
) -> None:
    """The per-report unit an executor calls, on its own (no pool): a notebook that kills
    its kernel every time fails with both reasons; the next notebook gets a fresh kernel."""
    from coverage_analysis.report.kernel_runner import NotebookRunner, Task

    def task(name: str, source: str) -> Task:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
        nbformat.write(nb, tmp_path / f"{name}.ipynb")
        return Task(
            name=name,
            notebook=f"{name}.ipynb",
            district_id=None,
            parameters={},
            title=name,
            input_path=str(tmp_path / f"{name}.ipynb"),
            output_path=str(tmp_path / f"{name}.out.ipynb"),
            html_path=str(tmp_path / f"{name}.html"),
            pdf_path=None,
            lang="en",
        )

    runner = NotebookRunner(cwd=tmp_path, timeout=SHORT_TIMEOUT)
    try:
        dying = runner.run(task("dying", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"))
        fine = runner.run(task("fine", "print('fine')"))
        kernels = worker_kernels(os.getpid())
    finally:
        runner.close()
    assert dying["attempts"] == 2
    assert dying["first_failure"] == "kernel died (killed by SIGKILL) while running cell 1"
    assert dying["status"] == (
        "kernel died twice: kernel died (killed by SIGKILL) while running cell 1; "
        "then, in a fresh kernel, kernel died (killed by SIGKILL) while running cell 1"
    )
    assert not (tmp_path / "dying.html").exists()
    assert (fine["status"], fine["attempts"], fine["first_failure"]) == ("ok", 1, None)
    assert "fine" in (tmp_path / "fine.html").read_text(encoding="utf-8")
    assert len(kernels) == 1 and not _still_running(kernels)
