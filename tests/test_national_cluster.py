"""The republic end to end on a Dask cluster (issue 11's acceptance).

A small synthetic republic written by the package, then ``clean``, ``panel``, ``model``
and ``report`` run as a user runs them: the real command in its own process, with
``--scope national`` and ``--scheduler`` the session's ``LocalCluster`` (two worker
processes started by the tests, with no national scope in their environment: the scope
must travel with the work). The batch is the national overview, two region reports and
four district reports (two of East Kazakhstan, two of other regions), in HTML and PDF.
Every output's invariants are checked as for the region: each sheet of the cleaning
report balances; the tables equal a local clean byte for byte; one generation across
tables, panel and model summary; the model summary passes its schema; every report is
ok with its files, no code in HTML, embedded figures, the attribution on every map;
the rating tables are complete and formula-safe; no kernel is left on the workers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pypdf
import pytest
from cluster_outputs import table_bytes, worker_kernels

from coverage_analysis import config
from coverage_analysis.io.generation import GENERATION_KEY
from coverage_analysis.reference import DISTRICTS_ENV
from coverage_analysis.report.sections import MAX_UNREPORTED_LISTED
from coverage_analysis.schema import TABLE_FILES

pytestmark = pytest.mark.slow

#: Seed and registry rows of the small republic (about 250 rows a region).
SEED, ROWS = "11", "4000"
#: The batch: two region reports and four district reports.
REGIONS = ("east_kazakhstan", "karaganda")
DISTRICTS = ("ayagoz", "semey", "karaganda__abay", "almaty_city__medeu")
#: Row outcomes of a sheet in the cleaning report (they add up to the rows read).
OUTCOMES = ("clean", "rejected", "duplicate", "summary", "blank", "out_of_scope")
#: Districts and months of the republic's panel (the 2018 reference, Sep 2014-Dec 2016).
N_DISTRICTS, N_MONTHS, N_REGIONS = 216, 28, 16
#: Markers of code cells in nbconvert HTML.
CODE_MARKERS = ("load_context(", "jp-InputArea", "input_area", "In&nbsp;[")
#: Characters that make a spreadsheet read a CSV cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@")


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """The command in its own process, with no scope or district reference in the
    environment (``--scope national`` on the command line is what sets it)."""
    env = {k: v for k, v in os.environ.items() if k not in (config.SCOPE_ENV, DISTRICTS_ENV)}
    proc = subprocess.run(
        [sys.executable, "-m", "coverage_analysis.cli", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, (args[0], proc.stdout[-2000:], proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr
    return proc


@pytest.fixture(scope="module")
def republic(tmp_path_factory: pytest.TempPathFactory, dask_cluster: object) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("republic_on_cluster")
    raw, processed, local = base / "raw", base / "processed", base / "processed_local"
    out, figures = base / "reports", base / "figures"
    scheduler = ("--scope", "national", "--scheduler", dask_cluster.scheduler_address)
    _run("sample", "--scope", "national", "--raw", raw, "--seed", SEED, "--rows", ROWS)
    _run("clean", "--raw", raw, "--processed", processed, *scheduler)
    _run("clean", "--raw", raw, "--processed", local, "--scope", "national")
    _run("panel", "--processed", processed, "--scope", "national")
    _run("model", "--processed", processed, "--scope", "national")
    places = [a for r in REGIONS for a in ("--region", r)]
    places += [a for d in DISTRICTS for a in ("--district", d)]
    batch = _run(
        *("report", "--processed", processed, "--out", out, "--figures", figures),
        *(*places, "--format", "html,pdf", *scheduler),
    )
    return {
        "raw": raw,
        "processed": processed,
        "local": local,
        "out": out,
        "figures": figures,
        "printed": batch.stdout,
    }


def test_clean_on_the_cluster_balances_and_equals_the_local_clean(republic) -> None:
    processed = republic["processed"]
    report = json.loads((processed / "cleaning_report.json").read_text("utf-8"))
    assert report["scope"] == "national"
    sheets = [s for entry in report["files"].values() for s in entry["sheets"]]
    assert len(sheets) >= N_REGIONS  # every region's files were read
    for sheet in sheets:  # nothing lost: every row in exactly one outcome
        assert sheet["rows_read"] == sum(sheet[f"rows_{k}"] for k in OUTCOMES), sheet
    totals = report["totals"]
    assert totals["rows_read"] == sum(totals[f"rows_{k}"] for k in OUTCOMES)
    assert totals["rows_read"] == sum(s["rows_read"] for s in sheets)
    names = sorted(p.name for p in processed.glob("*.parquet"))
    assert names and "publications.parquet" in names
    for name in names:
        if name in TABLE_FILES.values() or name == "publications.parquet":
            assert table_bytes(processed / name) == table_bytes(republic["local"] / name), name


def test_one_generation_across_tables_panel_and_model(republic) -> None:
    import pyarrow.parquet as pq

    processed = republic["processed"]
    generation = json.loads((processed / "cleaning_report.json").read_text("utf-8"))["generation"]
    for path in processed.glob("*.parquet"):
        meta = pq.read_schema(path).metadata or {}
        assert meta.get(GENERATION_KEY, b"").decode() == generation, path.name
    summary = json.loads((processed / "model_summary.json").read_text("utf-8"))
    assert summary["generation"] == generation


def test_panel_is_every_district_and_month_of_the_republic(republic) -> None:
    panel = pd.read_parquet(republic["processed"] / "panel.parquet")
    assert len(panel) == N_DISTRICTS * N_MONTHS
    assert not panel.duplicated(["district_id", "month"]).any()
    assert panel["district_id"].nunique() == N_DISTRICTS
    assert (panel["population"] > 0).all()
    assert config.recorded_scope(republic["processed"] / "panel.parquet") == "national"


def test_model_of_all_districts_passes_its_schema_with_an_interval(republic) -> None:
    from coverage_analysis.models.summary import read_model_summary

    summary = read_model_summary(republic["processed"])  # validated against the schema
    assert summary["scope"] == "national" and summary["status"] == "ok"
    effect = summary["coverage_effect"]
    assert effect["ci_low"] <= effect["estimate"] <= effect["ci_high"]
    assert 0.0 <= effect["p_value"] <= 1.0
    assert 2 <= summary["effective_clusters"] <= summary["n_clusters"] <= N_DISTRICTS
    assert summary["n_clusters"] > N_DISTRICTS - 10  # a few may be dropped, with reasons
    assert summary["placebo_effect"]["p_value"] is not None


def test_batch_on_the_cluster_every_report_ok_with_its_files(republic) -> None:
    out = republic["out"]
    data = json.loads((out / "manifest.json").read_text("utf-8"))
    assert data["executor"].startswith("dask distributed (tcp://")
    assert data["parameters"]["scope"] == "national"
    names = [e["name"] for e in data["reports"]]
    assert names == [
        "national_overview",
        *(f"region_{r}" for r in REGIONS),
        *(f"district_{d}" for d in DISTRICTS),
    ]
    index = (out / "index.html").read_text("utf-8")
    for entry in data["reports"]:
        assert entry["status"] == "ok", entry
        assert set(entry["outputs"]) == {"notebook", "html", "pdf"}
        for rel in entry["outputs"].values():
            assert (out / rel).is_file() and (out / rel).stat().st_size > 0, rel
        assert f'href="{entry["outputs"]["pdf"]}"' in index
    for name in names:
        html = (out / f"{name}.html").read_text("utf-8")
        assert not any(marker in html for marker in CODE_MARKERS), name
        assert "data:image/png;base64," in html, name
        assert "Synthetic sample data" in html, name
    assert not worker_kernels()  # the worker plugin shut every kernel down


def test_national_overview_says_where_east_kazakhstan_stands(republic) -> None:
    out = republic["out"]
    overview = (out / "national_overview.html").read_text("utf-8")
    assert "Where East Kazakhstan Region stands" in overview
    section = overview.split("Association by region</h2>", 1)[1].split("</section>", 1)[0]
    assert "All regions pooled" in section and section.count("<tr>") >= 3
    assert "Holm" in section and "associated" in section
    assert "Association by district" not in overview  # 216 districts: by region instead
    region = (out / "region_karaganda.html").read_text("utf-8")
    assert "Rank in the region" in region
    forest = region.split("Association by district</h2>", 1)[1].split("</section>", 1)[0]
    assert "republic's pooled estimate" in forest and "data:image/png;base64," in forest
    assert (republic["figures"] / "region_karaganda_forest.svg").is_file()
    # data quality: the districts with most unreported months named, the rest counted
    panel = pd.read_parquet(republic["processed"] / "panel.parquet")
    unreported = panel.loc[~panel["is_reported"].astype(bool)].groupby("district_id").size()
    quality = overview.split("Data quality</h2>", 1)[1].split("</section>", 1)[0]
    assert f"{int(unreported.sum())} of {len(panel)}" in quality
    if len(unreported) > MAX_UNREPORTED_LISTED:
        assert f"and {len(unreported) - MAX_UNREPORTED_LISTED} other districts" in quality
    text = "\n".join(
        p.extract_text() or "" for p in pypdf.PdfReader(out / "national_overview.pdf").pages
    )
    assert "Synthetic sample data" in text and "Association by region" in text


def test_rating_tables_complete_and_formula_safe(republic) -> None:
    out = republic["out"]
    regions = pd.read_csv(out / "region_rating.csv", encoding="utf-8-sig")
    assert len(regions) == N_REGIONS and sorted(regions["rank"]) == list(range(1, N_REGIONS + 1))
    districts = pd.read_csv(out / "district_rating.csv", encoding="utf-8-sig")
    assert len(districts) == N_DISTRICTS and districts["district_id"].is_unique
    for frame in (regions, districts):
        for column in [c for c in frame if not pd.api.types.is_numeric_dtype(frame[c])]:
            cells = frame[column].dropna().astype(str)
            assert not cells.str.startswith(FORMULA_STARTS).any(), column
    maps = sorted(republic["figures"].glob("national_*map.svg"))
    assert [p.name for p in maps] == ["national_district_map.svg", "national_region_map.svg"]
    for path in maps:  # the boundaries' attribution on every map (text kept in the SVG)
        assert "CC BY 4.0" in path.read_text("utf-8"), path.name
        assert path.with_suffix(".png").stat().st_size > 0
