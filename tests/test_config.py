"""Paths resolve from options, then environment variables, then the project root;
the district reference loads from the package or from a user's own file."""

from __future__ import annotations

from pathlib import Path

import pytest

from coverage_analysis import config
from coverage_analysis.errors import InputFileError
from coverage_analysis.reference import DISTRICT_COLUMNS, district_ids, load_districts


def test__resolve_dir__explicit_beats_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("COVERAGE_ANALYSIS_RAW", str(tmp_path / "env"))
    assert config.raw_dir(tmp_path / "opt") == tmp_path / "opt"
    assert config.raw_dir() == tmp_path / "env"


def test__resolve_dir__default_under_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("COVERAGE_ANALYSIS_PROCESSED", raising=False)
    monkeypatch.setenv("COVERAGE_ANALYSIS_ROOT", str(tmp_path))
    assert config.processed_dir() == tmp_path.resolve() / "data" / "processed"
    assert config.reports_dir() == tmp_path.resolve() / "reports"


def test__project_root__found_from_a_subfolder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COVERAGE_ANALYSIS_ROOT", raising=False)
    repo = Path(__file__).resolve().parents[1]
    monkeypatch.chdir(repo / "tests")
    assert config.project_root() == repo


def test__resolve_dir__unknown_kind() -> None:
    with pytest.raises(KeyError, match="unknown folder kind"):
        config.resolve_dir("nowhere")


def test__load_districts__shipped_reference_matches_spec() -> None:
    spec = Path(__file__).resolve().parents[2] / "shared" / "spec" / "districts.csv"
    shipped = load_districts()
    assert set(DISTRICT_COLUMNS) <= set(shipped.columns)
    assert shipped["kato"].astype(str).str.fullmatch(r"\d{9}").all()
    assert len(shipped) == 19
    assert "region" not in district_ids()
    if spec.exists():  # beside the project in the workplace and in CI
        import pandas as pd

        pd.testing.assert_frame_equal(shipped, pd.read_csv(spec))


def test__load_districts__users_own_reference(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text(
        ",".join(DISTRICT_COLUMNS)
        + "\nnorth,district,Северный,Солтүстік,North,Север,1000,x,50,80\n"
        + "south,city,Южный,Оңтүстік,South,Юг,2000,x,45,81\n",
        encoding="utf-8",
    )
    assert district_ids(path) == ["north", "south"]


def test__load_districts__bad_reference_names_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("district_id,name_ru\nx,Икс\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="lacks columns"):
        load_districts(path)
