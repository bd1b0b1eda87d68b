"""The `coverage-analysis` command as a user runs it: real subprocesses, real files.

Bad input gives one line on standard error naming what is wrong, never a traceback.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

EXE = [sys.executable, "-m", "coverage_analysis.cli"]


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*EXE, *map(str, args)], capture_output=True, text=True, timeout=300, check=False
    )


def assert_one_line_error(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("coverage-analysis ")


@pytest.mark.slow
def test__cli__sample_clean_panel_model_end_to_end(tmp_path: Path) -> None:
    raw, processed = tmp_path / "raw", tmp_path / "processed"
    proc = run("sample", "--raw", raw, "--seed", "7")
    assert proc.returncode == 0, proc.stderr
    assert "Synthetic sample data" in proc.stdout

    proc = run("clean", "--raw", raw, "--processed", processed)
    assert proc.returncode == 0, proc.stderr
    for name in ("publications", "legalization", "media_plan", "social_reach"):
        assert (processed / f"{name}.parquet").is_file(), name
    report = json.loads((processed / "cleaning_report.json").read_text(encoding="utf-8"))
    assert report  # balance is checked in the cleaning tests; here: it exists and parses

    proc = run("panel", "--processed", processed)
    assert proc.returncode == 0, proc.stderr
    panel = pd.read_parquet(processed / "panel.parquet")
    assert len(panel) == 19 * 28

    proc = run("model", "--processed", processed)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((processed / "model_summary.json").read_text(encoding="utf-8"))
    text = json.dumps(summary)
    assert "coverage_effect" in text and "placebo_effect" in text


def test__cli__clean_of_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    assert_one_line_error(run("clean", "--raw", tmp_path / "nope", "--processed", tmp_path / "p"))


def test__cli__clean_of_nothing_readable_fails_with_one_line(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "broken.xlsx").write_bytes(b"PK\x03\x04 this is not a workbook")
    (raw / "binary.csv").write_bytes(bytes(range(256)) * 4)
    proc = run("clean", "--raw", raw, "--processed", tmp_path / "p")
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "broken.xlsx" in proc.stderr + proc.stdout
    assert "binary.csv" in proc.stderr + proc.stdout


def test__cli__panel_without_cleaned_tables_is_one_line(tmp_path: Path) -> None:
    assert_one_line_error(run("panel", "--processed", tmp_path / "empty"))


def test__cli__report_refuses_an_unknown_district_before_running(tmp_path: Path) -> None:
    proc = run(
        "report", "--processed", tmp_path, "--out", tmp_path / "out", "--district", "atlantis"
    )
    assert_one_line_error(proc)
    assert "atlantis" in proc.stderr
    assert not (tmp_path / "out" / "manifest.json").exists()


@pytest.mark.parametrize("command", ["sample", "clean", "panel", "model", "report"])
def test__cli__every_subcommand_has_help(command: str) -> None:
    proc = run(command, "--help")
    assert proc.returncode == 0
    assert "usage:" in proc.stdout
