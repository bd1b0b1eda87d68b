"""The report batch and the per-file cleaning on a real Dask cluster.

One ``distributed.LocalCluster`` with two worker processes (one thread each) is
started for the session (``conftest.dask_cluster``). The batches run through the real ``coverage-analysis``
command (in this process) with ``--scheduler`` on the cleaned sample; the report
templates are the real ones, the district notebook with one extra cell written by the
test that fails one district and kills the kernel of another on its first run.
Kernels are found in the process table (psutil): descendants of this process (the
cluster's workers are its children) whose command line names ipykernel.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest
from cluster_outputs import table_bytes, worker_kernels
from notebook_templates import district_templates

from coverage_analysis import cli, cluster, config
from coverage_analysis.report import Manifest, ReportEntry
from coverage_analysis.report.kernel_runner import Task
from coverage_analysis.schema import TABLE_FILES


def _distributed() -> object:
    """``distributed``, imported by the tests that start a cluster (its import takes
    seconds; collecting this file for the fast suite should not pay it)."""
    return pytest.importorskip("distributed")


#: Districts of the report batch: two that must come out ok, one whose kernel is
#: killed on its first run (rerun once, then ok), one whose notebook fails.
OK_DISTRICTS = ("ayagoz",)
KILLED = "ridder"
FAILING = "abai"
#: Error the failing district's notebook raises (with characters HTML must escape).
BOOM = "<boom> on purpose"
#: Seconds a worker waits for the scheduler in the unreachable-scheduler test.
SHORT_CONNECT = 2
#: Seconds the victim's cell sleeps (far past any limit below).
VICTIM_SLEEP = 900
#: Longest wait for the victim to start (a loaded 2-core machine starts kernels slowly).
START_LIMIT = 300
#: The batch must end within this many seconds of a SIGTERM.
SIGNAL_TO_END_LIMIT = 60
#: Keys of the cleaning report that name the run, not its content.
RUN_KEYS = ("processed_dir", "generation", "generation_files")


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name.startswith("coverage_analysis")
    ]


@pytest.mark.slow
def test__clean__byte_identical_tables_local_and_on_the_cluster(
    sample_raw: Path,
    dask_cluster: object,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    raw, local, remote = tmp_path / "raw", tmp_path / "local", tmp_path / "cluster"
    shutil.copytree(sample_raw, raw)
    (raw / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")  # a named warning
    caplog.set_level(logging.WARNING)
    assert cli.main(["clean", "--raw", str(raw), "--processed", str(local)]) == 0
    local_warnings = _warnings(caplog)
    caplog.clear()
    address = dask_cluster.scheduler_address
    args = ["clean", "--raw", str(raw), "--processed", str(remote), "--scheduler", address]
    assert cli.main(args) == 0
    assert _warnings(caplog) == local_warnings  # the workers' warnings, logged here, in order
    assert any("broken.xlsx" in w for w in local_warnings)
    capsys.readouterr()

    for name in TABLE_FILES.values():
        if (local / name).exists():
            assert table_bytes(remote / name) == table_bytes(local / name), name
    for name in ("rejects.csv", "duplicates.csv"):
        assert (remote / name).read_bytes() == (local / name).read_bytes(), name
    reports = [json.loads((f / "cleaning_report.json").read_text()) for f in (local, remote)]
    for report in reports:
        for key in RUN_KEYS:
            report.pop(key)
    assert reports[0] == reports[1]  # counts, sheets, encodings, unused vocabulary
    assert reports[1]["totals"]["rows_read"] > 0


def _templates(folder: Path, marker: Path) -> Path:
    """Small region and diagnostics notebooks (the batch is what is tested here) and
    the real district notebook with a cell that raises for ``FAILING`` and kills its
    own kernel for ``KILLED`` on the first run only."""
    return district_templates(
        folder,
        "import os, pathlib, signal\n"
        f"_marker = pathlib.Path({str(marker)!r})\n"
        f"if district_id == {FAILING!r}:\n"
        f"    raise RuntimeError({BOOM!r})\n"
        f"if district_id == {KILLED!r} and not _marker.exists():\n"
        "    _marker.write_text(str(os.getpid()))\n"
        "    os.kill(os.getpid(), signal.SIGKILL)",
    )


@pytest.mark.slow
def test__report__batch_on_the_cluster_with_a_kernel_death_and_a_failure(
    sample_processed: Path,
    dask_cluster: object,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    marker = tmp_path / "killed.pid"
    monkeypatch.setenv("COVERAGE_ANALYSIS_NOTEBOOKS", str(_templates(tmp_path / "nb", marker)))
    monkeypatch.setenv(config.SCHEDULER_ENV, dask_cluster.scheduler_address)  # no --scheduler
    out = tmp_path / "out"
    districts = [a for d in (*OK_DISTRICTS, KILLED, FAILING) for a in ("--district", d)]
    status = cli.main(
        [
            *("report", "--processed", str(sample_processed), "--out", str(out)),
            *(*districts, "--format", "html", "--figures", str(tmp_path / "fig")),
        ]
    )
    printed = capsys.readouterr().out
    assert status == cli.EXIT_FAILURE  # one report failed
    assert f"FAILED district_{FAILING}" in printed

    data = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert data["executor"].startswith("dask distributed (tcp://")
    shape = Manifest(entries=[ReportEntry("r", "r.ipynb", None, {}, {}, "ok")]).to_dict()
    assert set(data) == set(shape)  # the same manifest as the local pool writes
    assert all(set(e) == set(shape["reports"][0]) for e in data["reports"])
    names = [e["name"] for e in data["reports"]]
    assert names == [
        "region_overview",
        "model_diagnostics",
        *(f"district_{d}" for d in (*OK_DISTRICTS, KILLED, FAILING)),
    ]
    entries = {e["name"]: e for e in data["reports"]}
    for name in ("region_overview", "model_diagnostics", *(f"district_{d}" for d in OK_DISTRICTS)):
        assert entries[name]["status"] == "ok", entries[name]
        assert entries[name]["attempts"] == 1
        for rel in entries[name]["outputs"].values():
            assert (out / rel).is_file() and (out / rel).stat().st_size > 0
        assert set(entries[name]["outputs"]) == {"notebook", "html"}
    killed = entries[f"district_{KILLED}"]
    assert killed["status"] == "ok" and killed["attempts"] == 2
    assert "kernel died (killed by SIGKILL)" in killed["first_failure"]
    assert (out / killed["outputs"]["html"]).is_file()
    failed = entries[f"district_{FAILING}"]
    assert "RuntimeError" in failed["status"] and BOOM in failed["status"]
    assert "html" not in failed["outputs"] and not (out / f"district_{FAILING}.html").exists()
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "&lt;boom&gt;" in index and "<boom>" not in index
    assert not worker_kernels()  # the plugin shut every kernel down


@pytest.mark.slow
def test__dask_pool__one_result_per_task_as_it_arrives_and_no_kernel_left(
    dask_cluster: object, tmp_path: Path
) -> None:
    from coverage_analysis.report.dask_pool import DaskPool

    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("n = 0")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("print(n * 2)")]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, tmp_path / "tiny.ipynb")
    (tmp_path / "notebooks").mkdir()
    tasks = [
        Task(
            name=f"tiny_{n}",
            notebook="tiny.ipynb",
            district_id=None,
            parameters={"n": n},
            title=f"tiny {n}",
            input_path=str(tmp_path / "tiny.ipynb"),
            output_path=str(tmp_path / "notebooks" / f"tiny_{n}.ipynb"),
            html_path=None,
            pdf_path=None,
            lang="en",
        )
        for n in range(3)
    ]
    arrived: list[str] = []
    pool = DaskPool(_distributed().Client(dask_cluster.scheduler_address), cwd=tmp_path)
    try:
        results = pool.run(tasks, on_result=lambda r: arrived.append(str(r["name"])))
    finally:
        pool.close()
    assert sorted(arrived) == sorted(t.name for t in tasks)  # the progress bar's ticks
    assert {n: r["status"] for n, r in results.items()} == {t.name: "ok" for t in tasks}
    for n in range(3):
        executed = nbformat.read(tmp_path / "notebooks" / f"tiny_{n}.ipynb", as_version=4)
        assert executed.cells[-1].outputs[0]["text"] == f"{n * 2}\n"
    assert not worker_kernels()


def test__scheduler__unreachable_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", SHORT_CONNECT)
    raw = tmp_path / "raw"
    raw.mkdir()
    address = f"tcp://127.0.0.1:{port}"
    status = cli.main(
        ["clean", "--raw", str(raw), "--processed", str(tmp_path / "p"), "--scheduler", address]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert status == cli.EXIT_FAILURE
    assert len(err) == 1 and "cannot reach the Dask scheduler at" in err[0] and address in err[0]


def test__scheduler_address__option_then_environment_then_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(config.SCHEDULER_ENV, raising=False)
    assert config.scheduler_address(None) is None
    monkeypatch.setenv(config.SCHEDULER_ENV, " tcp://10.1.2.3:8786 ")
    assert config.scheduler_address(None) == "tcp://10.1.2.3:8786"
    assert config.scheduler_address("tcp://other:8786") == "tcp://other:8786"
    monkeypatch.setenv(config.SCHEDULER_ENV, "")
    assert config.scheduler_address("") is None


@pytest.mark.slow
def test__report__sigterm_stops_the_batch_on_the_cluster_and_its_kernels(
    sample_processed: Path, dask_cluster: object, tmp_path: Path
) -> None:
    marker = tmp_path / "victim.pid"
    templates = district_templates(
        tmp_path / "nb",
        "import os, pathlib, time\n"
        f"if district_id == {OK_DISTRICTS[0]!r}:\n"
        f"    pathlib.Path({str(marker)!r}).write_text(str(os.getpid()))\n"
        f"    time.sleep({VICTIM_SLEEP})",
    )
    out = tmp_path / "out"
    batch = subprocess.Popen(
        [
            *(sys.executable, "-m", "coverage_analysis.cli", "report"),
            *("--processed", str(sample_processed), "--out", str(out), "--format", "html"),
            *("--district", OK_DISTRICTS[0], "--scheduler", dask_cluster.scheduler_address),
        ],
        env={**os.environ, "COVERAGE_ANALYSIS_NOTEBOOKS": str(templates)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + START_LIMIT
        while not marker.exists():
            assert batch.poll() is None, batch.communicate()
            assert time.monotonic() < deadline, "the victim never started"
            time.sleep(0.2)
        kernel = int(marker.read_text())
        stopped = time.monotonic()
        batch.send_signal(signal.SIGTERM)
        _, err = batch.communicate(timeout=SIGNAL_TO_END_LIMIT)
    finally:
        if batch.poll() is None:
            batch.kill()
    assert time.monotonic() - stopped < SIGNAL_TO_END_LIMIT
    assert batch.returncode == 128 + signal.SIGTERM, err
    data = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert data["interrupted"] == "SIGTERM"
    entries = {e["name"]: e for e in data["reports"]}
    assert entries[f"district_{OK_DISTRICTS[0]}"]["status"] == "interrupted"
    assert not psutil.pid_exists(kernel) or psutil.Process(kernel).status() == "zombie"
    assert not worker_kernels()
    with _distributed().Client(dask_cluster.scheduler_address) as client:  # the cluster lives on
        assert len(client.run(os.getpid)) == 2


def test__distributed__imported_only_when_a_scheduler_is_given() -> None:
    probe = (
        "import contextlib, io, json, sys\n"
        "from coverage_analysis import cli\n"
        "import coverage_analysis.report.runner, coverage_analysis.clean\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "    cli.main(['report', '--help'])\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = {m.split(".")[0] for m in json.loads(done.stdout.strip().splitlines()[-1])}
    assert "coverage_analysis" in loaded
    assert not loaded & {"distributed", "dask"}, sorted(loaded & {"distributed", "dask"})
