"""Installed like any PyData package: a wheel in a fresh venv, run from another folder.

The wheel is built from this checkout and installed with ``pip install <wheel>`` (not
editable) into a new virtual environment without system site-packages; pip resolves the
dependencies itself (from its cache when warm). Then, from a temporary working directory
that is not the checkout, the installed ``coverage-analysis`` runs sample -> clean ->
panel -> model -> report (one district), and papermill's own CLI runs the installed
district template with no ``-k`` and no kernel registered: the notebook's standard
``python3`` kernelspec resolves to the venv's interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Seconds allowed for one installation or pipeline step (a cold pip cache downloads).
STEP_TIMEOUT = 900

pytestmark = pytest.mark.slow


def _run(args: list[str | Path], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, (
        f"{args} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    base = tmp_path_factory.mktemp("install")
    dist, env_dir, work = base / "dist", base / "venv", base / "work"
    work.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("COVERAGE_ANALYSIS_", "VIRTUAL_ENV", "PYTHONPATH", "JUPYTER"))
    }
    env["MPLBACKEND"] = "Agg"
    _run([sys.executable, "-m", "pip", "wheel", ROOT, "-w", dist, "--no-deps", "-q"], base, env)
    wheels = list(dist.glob("coverage_analysis-*.whl"))
    assert len(wheels) == 1, wheels
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env_dir)
    python = env_dir / "bin" / "python"
    _run([python, "-m", "pip", "install", "-q", "--no-compile", wheels[0]], base, env)
    env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env_dir, work, env


def test__wheel__pipeline_runs_from_another_directory(
    installed: tuple[Path, Path, dict[str, str]],
) -> None:
    env_dir, work, env = installed
    python, cli = env_dir / "bin" / "python", env_dir / "bin" / "coverage-analysis"
    where = _run(
        [python, "-c", "import coverage_analysis.config as c; print(c.packaged_notebooks_dir())"],
        work,
        env,
    ).strip()
    assert Path(where).is_relative_to(env_dir), f"templates found outside the venv: {where}"
    assert not Path(where).is_relative_to(ROOT)
    kernels = _run([python, "-m", "jupyter", "kernelspec", "list", "--json"], work, env)
    assert "coverage-analysis" not in json.loads(kernels)["kernelspecs"]
    _run([cli, "sample", "--raw", "raw"], work, env)
    _run([cli, "clean", "--raw", "raw", "--processed", "processed"], work, env)
    _run([cli, "panel", "--processed", "processed"], work, env)
    _run([cli, "model", "--processed", "processed"], work, env)
    out = _run(
        [
            cli,
            "report",
            "--processed",
            "processed",
            "--out",
            "reports",
            "--district",
            "ayagoz",
            "--jobs",
            "1",
            "--format",
            "html",
        ],
        work,
        env,
    )
    assert "failed" not in out.lower() or "0 failed" in out.lower(), out
    manifest = json.loads((work / "reports" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["all_ok"] is True
    assert (work / "reports" / "district_ayagoz.html").stat().st_size > 10_000

    template = Path(where) / "district_report.ipynb"
    _run(
        [
            env_dir / "bin" / "papermill",
            template,
            "out.ipynb",
            "-p",
            "processed_dir",
            str(work / "processed"),
            "-p",
            "district_id",
            "ayagoz",
            "--no-progress-bar",
        ],
        work,
        env,
    )
    executed = json.loads((work / "out.ipynb").read_text(encoding="utf-8"))
    assert executed["metadata"]["kernelspec"]["name"] == "python3"
    errors = [
        o
        for c in executed["cells"]
        if c["cell_type"] == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors
    html = [
        "".join(o["data"]["text/html"])
        for c in executed["cells"]
        for o in c.get("outputs", [])
        if "text/html" in o.get("data", {})
    ]
    assert any("Ayagoz" in h for h in html)
