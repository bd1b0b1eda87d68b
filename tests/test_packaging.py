"""Fast start: what the command line and the report process import, and what they need."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "coverage_analysis"
#: Heavy modules the CLI's --help must not import.
NOT_IN_HELP = ("pandas", "numpy", "matplotlib", "papermill", "nbformat")
#: Modules the report runner must not import (not needed to run reports).
NOT_IN_RUNNER = ("jupyterlab", "jupyter_server", "statsmodels", "rfc3987_syntax", "matplotlib")


def _imported_after(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return {m.split(".")[0] for m in json.loads(done.stdout.strip().splitlines()[-1])}


def test__cli_help__imports_nothing_heavy() -> None:
    loaded = _imported_after(
        "import contextlib, io\nfrom coverage_analysis import cli\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "    cli.main(['--help'])"
    )
    assert "coverage_analysis" in loaded
    assert not loaded & set(NOT_IN_HELP), sorted(loaded & set(NOT_IN_HELP))


def test__report_runner__imports_no_lab_server_or_statsmodels() -> None:
    loaded = _imported_after("import coverage_analysis.report.runner")
    assert not loaded & set(NOT_IN_RUNNER), sorted(loaded & set(NOT_IN_RUNNER))


def test__pyproject__jupyterlab_and_statsmodels_are_extras_and_pandas_3_allowed() -> None:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = {re.split(r"[<>=~ ;\[]", d)[0].lower(): d for d in meta["dependencies"]}
    assert "jupyterlab" not in runtime and "statsmodels" not in runtime
    assert any(d.startswith("jupyterlab") for d in meta["optional-dependencies"]["lab"])
    assert any(d.startswith("statsmodels") for d in meta["optional-dependencies"]["dev"])
    assert runtime["pandas"].replace(" ", "") == "pandas>=2.2"
    assert runtime["papermill"].startswith("papermill~=2.7")


def test__src__never_imports_statsmodels_or_jupyterlab() -> None:
    pattern = re.compile(r"^\s*(from|import)\s+(statsmodels|jupyterlab)\b", re.MULTILINE)
    offenders = [
        p.relative_to(ROOT) for p in SRC.rglob("*.py") if pattern.search(p.read_text("utf-8"))
    ]
    assert not offenders
