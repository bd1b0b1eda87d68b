"""The national scope (issue 11): scope setting and refusal, the national reference and
region populations, district resolution within a region, the republic's rating of regions,
and a small synthetic republic cleaned and paneled against its truth. The whole
chain on a Dask cluster (clean, panel, model, the national overview, region and
district reports) is ``test_national_cluster.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from truth_ledgers import duplicates_and_truth, rejects_and_truth

from coverage_analysis import config
from coverage_analysis.errors import ParameterError
from coverage_analysis.reference import DISTRICTS_ENV
from coverage_analysis.reference.national import (
    national_reference,
    national_reference_path,
    region_names,
    region_population,
    write_national_reference,
)

ROOT = Path(__file__).resolve().parents[1]
REAL_FILE = ROOT / ".." / "shared" / "real" / "population_by_region_2000-2022.xlsx"
#: Registry rows of the small republic of the end-to-end test (about 250 a region).
SMALL_ROWS = 4_000
OUTCOMES = (
    "rows_clean",
    "rows_rejected",
    "rows_duplicate",
    "rows_summary",
    "rows_blank",
    "rows_out_of_scope",
)


@pytest.fixture
def national_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The national scope for one test; the environment is restored afterwards."""
    monkeypatch.setenv(config.SCOPE_ENV, "national")
    monkeypatch.setenv(DISTRICTS_ENV, str(national_reference_path()))


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k not in (config.SCOPE_ENV, DISTRICTS_ENV)}
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "coverage_analysis.cli", *args],
        capture_output=True,
        text=True,
        env=full,
        cwd=ROOT,
    )


# --------------------------------------------------------------------------- scope setting


def test_scope_resolution_and_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(config.SCOPE_ENV, raising=False)
    assert config.resolve_scope() == "region"
    monkeypatch.setenv(config.SCOPE_ENV, "national")
    assert config.resolve_scope() == "national"
    assert config.resolve_scope("region") == "region"  # the option wins over the variable
    with pytest.raises(ParameterError, match="unknown scope 'republic'"):
        config.resolve_scope("republic")
    with pytest.raises(ParameterError) as exc:
        config.check_scope("national", "region", "panel.parquet", "coverage-analysis panel")
    assert str(exc.value).count("\n") == 0
    assert "--scope region" in str(exc.value)


def test_activate_scope_switches_the_district_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    from coverage_analysis.reference import load_districts

    monkeypatch.delenv(DISTRICTS_ENV, raising=False)
    monkeypatch.delenv(config.SCOPE_ENV, raising=False)
    config.activate_scope("national")
    assert len(load_districts()) == 216
    config.activate_scope("region")  # back: East Kazakhstan again
    assert len(load_districts()) == 19


def test_cli_bad_scope_and_rows_without_national_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], national_env
) -> None:
    from coverage_analysis.cli import main

    with pytest.raises(SystemExit) as bad:
        main(["panel", "--scope", "republic", "--processed", str(tmp_path)])
    assert bad.value.code == 2 and "invalid choice" in capsys.readouterr().err
    assert main(["sample", "--scope", "region", "--raw", str(tmp_path / "r"), "--rows", "9"]) == 2
    err = capsys.readouterr().err
    assert err.strip().count("\n") == 0 and "--scope national" in err
    os.environ[config.SCOPE_ENV] = "nowhere"  # restored by national_env
    assert main(["panel", "--processed", str(tmp_path)]) == 2
    assert "unknown scope 'nowhere'" in capsys.readouterr().err


# --------------------------------------------------------------------------- reference data


def test_shipped_national_reference_is_the_fresh_build(tmp_path: Path) -> None:
    fresh = write_national_reference(tmp_path / "national_reference.csv")
    assert fresh.read_bytes() == national_reference_path().read_bytes()
    ref = national_reference()
    assert ref["district_id"].is_unique and len(ref) == 216
    own = pd.read_csv(ROOT / "src/coverage_analysis/reference/districts.csv", dtype=str)
    ek = ref[ref["region_id"] == "east_kazakhstan"]
    assert sorted(ek["district_id"]) == sorted(own["district_id"])
    assert ref.loc[ref["region_id"] != "east_kazakhstan", "population_2016"].isna().all()


@pytest.mark.skipif(not REAL_FILE.is_file(), reason="../shared/real not beside the project")
def test_region_population_is_the_bureau_series() -> None:
    real = pd.read_excel(REAL_FILE, sheet_name=0, header=None, engine="calamine")
    years = real.iloc[0].tolist()
    by_name = {str(r[0]).strip(): r for r in real.itertuples(index=False)}
    pop = region_population()
    assert len(pop) == 16 and set(pop["region_id"]) == set(region_names()["region_id"])
    for row in pop.itertuples():
        source = by_name[row.source_name]
        for year in (2014, 2015, 2016):
            column = next(i for i, y in enumerate(years) if str(y).startswith(str(year)))
            assert getattr(row, f"population_{year}") == int(source[column])
    republic = by_name["Республика Казахстан"]
    column = next(i for i, y in enumerate(years) if str(y).startswith("2016"))
    assert pop["population_2016"].sum() == int(republic[column])


# --------------------------------------------------------------------------- resolution


def test_city_and_district_of_one_name_are_told_apart_within_a_region() -> None:
    from coverage_analysis.clean.folder import region_resolver

    ref = national_reference()
    kostanay = region_resolver(ref[ref["region_id"] == "kostanay"])
    city = ref.loc[(ref["region_id"] == "kostanay") & (ref["kind"] == "city"), "district_id"]
    around = ref.loc[ref["name_ru"] == "Костанайский", "district_id"].item()
    assert kostanay.resolve("Костанай").value in set(city)
    assert kostanay.resolve("г. Костанай").value == kostanay.resolve("Костанай").value
    assert kostanay.resolve("Костанайский район").value == around
    assert kostanay.resolve("Костанайский").value == around
    assert kostanay.resolve("Семей").value is None  # another region's city
    # a marker word names the kind even where the bare name is the city's
    assert kostanay.resolve("Костанай ауданы").value == around
    assert kostanay.resolve("Қостанай ауданы").value == around
    # names of no unit of the region are rejected, never given the closest unit's id
    akmola = region_resolver(ref[ref["region_id"] == "akmola"])
    parsed = akmola.resolve("Глубокое и Уланский район")
    assert parsed.value is None and parsed.error.startswith("no district matches")


def test_national_file_rows_resolve_within_their_region(tmp_path: Path, national_env) -> None:
    from coverage_analysis.clean.folder import clean_folder

    raw = tmp_path / "raw"
    (raw / "national").mkdir(parents=True)
    lines = [
        "Область;Район;Месяц;Количество заявлений;Сумма легализованного имущества, тенге",
        "Карагандинская область;Абайский;01.2016;5;1000000",
        "Восточно-Казахстанская область;Абайский;01.2016;3;2000000",
        "Атлантида;Абайский;01.2016;1;10",
        "Восточно-Казахстанская область;Нигдеград;01.2016;2;20",
    ]
    (raw / "national" / "legalization.csv").write_bytes(
        ("\r\n".join(lines) + "\r\n").encode("cp1251")
    )
    result = clean_folder(raw, tmp_path / "processed", scope="national")
    leg = result.tables["legalization"].set_index("district_id")
    assert leg.loc["abai", "applications"] == 3  # East Kazakhstan's Abai district
    assert leg.loc["karaganda__abay", "applications"] == 5
    rejects = pd.read_csv(tmp_path / "processed" / "rejects.csv", dtype=str)
    row_rejects = rejects[rejects["scope"] == "row"].set_index("source_row")
    assert row_rejects.loc["4", "reason"] == "unknown region"
    assert "Нигдеград" in row_rejects.loc["5", "value"]
    report = json.loads((tmp_path / "processed" / "cleaning_report.json").read_text("utf-8"))
    assert report["scope"] == "national"
    (sheet,) = report["files"]["national/legalization.csv"]["sheets"]
    assert sheet["rows_read"] == sum(sheet[k] for k in OUTCOMES) == 4
    assert sheet["rows_clean"] == 2 and sheet["rows_rejected"] == 2


def test_national_registry_parses_once_but_names_districts_per_region(
    tmp_path: Path, national_env
) -> None:
    # a registry with a region column: dates, channels and reach are parsed once for the
    # whole sheet, but the same district text must resolve within each row's own region
    from coverage_analysis.clean.folder import clean_folder

    raw = tmp_path / "raw"
    (raw / "national").mkdir(parents=True)
    head = "Область;Дата публикации;Район;Вид СМИ;Наименование СМИ;Заголовок;Ссылка;Охват"
    rows = [
        ("Восточно-Казахстанская область", "Абайский район", "https://a.kz/1"),
        ("Карагандинская область", "Абайский район", "https://a.kz/2"),
        ("Восточно-Казахстанская область", "Абайский район", "https://a.kz/3"),
        ("Карагандинская область", "Абайский район", "https://a.kz/4"),
        ("Атлантида", "Абайский район", "https://a.kz/5"),
    ]
    lines = [head] + [
        f"{region};12.01.2016;{district};газета;Издание;Материал {url[-1]};{url};1 500"
        for region, district, url in rows
    ]
    (raw / "national" / "registry.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = clean_folder(raw, tmp_path / "processed", scope="national")
    pubs = result.tables["publications"].set_index("source_row")
    assert pubs["district_id"].astype(str).to_dict() == {
        2: "abai",
        3: "karaganda__abay",
        4: "abai",
        5: "karaganda__abay",
    }
    assert (pubs["reach"] == 1500).all() and (pubs["channel"].astype(str) == "print").all()
    rejects = pd.read_csv(tmp_path / "processed" / "rejects.csv", dtype=str)
    assert rejects.set_index("source_row").loc["6", "reason"] == "unknown region"


# --------------------------------------------------------------------------- rating of regions


def test_region_indicators_are_sums_over_districts() -> None:
    from coverage_analysis.metrics.republic import region_indicators

    rng = np.random.default_rng(3)
    ind = pd.DataFrame(
        {
            "district_id": list("abcdef"),
            "region_id": ["r1", "r1", "r1", "r2", "r2", "r3"],
            "population": rng.integers(5_000, 90_000, 6).astype(float),
            "materials": rng.integers(0, 50, 6),
            "internet_materials": rng.integers(0, 10, 6),
            "events": rng.integers(0, 5, 6),
            "materials_print": [3, 0, 0, 1, 0, 0],
            "materials_tv": [0, 0, 0, 0, 0, 0],
            "materials_targeted": rng.integers(0, 3, 6),
            "materials_testimonial": rng.integers(0, 3, 6),
            "has_internet": [True, False, None, True, True, False],
            "plan_fulfilment": [0.5, 1.0, None, 2.0, 1.0, 0.25],
            "planned_in_reported_months": [10.0, 20.0, None, 5.0, 5.0, 8.0],
            "months_reported": [28, 20, 0, 28, 28, 10],
            "months_in_period": [28] * 6,
        }
    )
    out = region_indicators(ind).set_index("region_id")
    reported = ind[ind["months_reported"] > 0]
    for region, part in ind.groupby("region_id"):
        pop = reported.loc[reported["region_id"] == region, "population"].sum()
        assert out.loc[region, "materials_per_10k"] == pytest.approx(
            part["materials"].sum() / pop * 10_000
        )
        planned = part["planned_in_reported_months"].sum()
        actual = (part["plan_fulfilment"] * part["planned_in_reported_months"]).sum()
        assert out.loc[region, "plan_fulfilment"] == pytest.approx(actual / planned)
        assert out.loc[region, "share_months_reported"] == pytest.approx(
            part["months_reported"].sum() / part["months_in_period"].sum()
        )
    assert out.loc["r1", "channels_used"] == 1 and out.loc["r3", "channels_used"] == 0
    assert out.loc["r1", "share_districts_internet"] == pytest.approx(0.5)  # unknown left out


# --------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def republic(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A small synthetic republic written, cleaned and paneled in the national scope."""
    from coverage_analysis.clean.folder import clean_folder
    from coverage_analysis.panel import write_panel
    from coverage_analysis.sample.national import write_national_sample

    base = tmp_path_factory.mktemp("republic")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(config.SCOPE_ENV, "national")
        mp.setenv(DISTRICTS_ENV, str(national_reference_path()))
        write_national_sample(base / "raw", seed=11, rows=SMALL_ROWS)
        clean_folder(base / "raw", base / "processed", scope="national")
        write_panel(base / "processed", scope="national")
        yield {"raw": base / "raw", "processed": base / "processed", "out": base / "reports"}


#: Tables of the national truth and the columns that identify a row.
TABLE_KEYS: dict[str, list[str]] = {
    "legalization": ["district_id", "month"],
    "media_plan": ["district_id", "month", "channel"],
    "social_reach": ["district_id", "month", "platform"],
    "population": ["district_id", "year"],
}


def _sheet_counts(report: dict) -> dict[tuple[str, str], dict[str, int]]:
    return {
        (s["file"], s["sheet"]): {k: s[k] for k in ("rows_read", *OUTCOMES)}
        for s in report["sheets"]
    }


def _table(path: Path) -> pd.DataFrame:
    frame = pd.read_parquet(path)
    for c in ("district_id", "channel", "platform"):
        if c in frame:
            frame[c] = frame[c].astype(str)
    if "month" in frame:
        frame["month"] = pd.to_datetime(frame["month"]).astype("datetime64[ns]")
    return frame


def _compare(want: pd.DataFrame, got: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """Rows of ``want`` and ``got`` (outer join on ``key``) that differ in a column."""
    cols = [c for c in want.columns if c in got.columns]
    both = want[cols].merge(got[cols], on=key, how="outer", suffixes=("_e", "_g"), indicator=True)
    differ = both["_merge"] != "both"
    for c in cols:
        if c in key:
            continue
        a, b = both[f"{c}_e"], both[f"{c}_g"]
        if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
            same = np.isclose(
                a.astype(float), b.astype(float), rtol=1e-9, atol=1e-6, equal_nan=True
            )
        else:
            same = ((a == b).fillna(False) | (a.isna() & b.isna())).to_numpy()
        differ |= ~same
    return both[differ]


@pytest.mark.slow
def test_republic_cleans_to_its_truth(republic: dict[str, Path], national_env) -> None:
    """Every file and sheet's cleaning report, every reject, every duplicate and every
    table equal the generator's truth, the planted faults included (a row repeated within
    its sheet, another region's unit, a bulletin unit of a name found in three regions)."""
    raw, processed = republic["raw"], republic["processed"]
    truth = json.loads((raw / "_truth" / "truth.json").read_text("utf-8"))
    report = json.loads((processed / "cleaning_report.json").read_text("utf-8"))
    assert report["scope"] == "national" and report["synthetic"] is True
    got = _sheet_counts(report)
    expected = {(f, sh): c for f, sheets in truth["files"].items() for sh, c in sheets.items()}
    assert set(got) == set(expected)
    for counts in got.values():  # nothing lost: every row in one outcome
        assert counts["rows_read"] == sum(counts[k] for k in OUTCOMES)
    wrong = {k: (expected[k], got[k]) for k in expected if expected[k] != got[k]}
    assert not wrong
    assert {f.split("/")[0] for f in truth["files"]} == {"national", *truth["regions"]}
    # every kind of planted line is there, with its expected outcome
    totals = {k: sum(c[k] for c in expected.values()) for k in OUTCOMES}
    assert all(totals[k] > 0 for k in OUTCOMES), totals

    got_r, want_r = rejects_and_truth(processed, truth)
    assert got_r == want_r
    reasons = {r["reason"] for r in truth["rejects"]}
    assert {"unknown region", "a unit of another region", "ambiguous district"} <= reasons
    got_d, want_d = duplicates_and_truth(processed, truth)
    assert got_d == want_d
    # duplicates across a region's file and a national file, both ways of the path order
    cross = {
        (d[0].split("/")[0], d[3].split("/")[0])
        for d in want_d
        if d[0].split("/")[0] != d[3].split("/")[0]
    }
    assert ("east_kazakhstan", "national") in cross and any(k == "national" for k, _ in cross)

    pubs = _table(processed / "publications.parquet")
    assert len(pubs) == truth["registry_rows"]
    keys = ["district_id", "channel", "month"]
    counted = pubs.groupby(keys).size().rename("n").reset_index()
    want = _table(raw / "_truth" / "expected_publication_counts.parquet")
    assert _compare(want, counted, keys).empty
    layout = pubs[
        pubs["source_file"].astype(str).str.split("/").str[0].isin(truth["layout_regions"])
    ]
    want = _table(raw / "_truth" / "expected_publications.parquet")
    diff = _compare(want, _table_of(layout), ["source_file", "source_sheet", "source_row"])
    assert diff.empty, diff.head()
    for name, key in TABLE_KEYS.items():
        diff = _compare(
            _table(raw / "_truth" / f"expected_{name}.parquet"),
            _table(processed / f"{name}.parquet"),
            key,
        )
        assert diff.empty, (name, diff.head())

    panel = pd.read_parquet(processed / "panel.parquet")
    assert panel["district_id"].nunique() == 216 and panel["population"].notna().all()
    assert config.recorded_scope(processed / "panel.parquet") == "national"


def _table_of(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for c in (
        "district_id",
        "channel",
        "source_file",
        "source_sheet",
        "outlet",
        "title",
        "url",
        "language",
        "format",
    ):
        if c in out:
            out[c] = out[c].astype(object).where(out[c].notna(), None)
    for c in ("date", "month"):
        out[c] = pd.to_datetime(out[c]).astype("datetime64[ns]")
    out["source_row"] = out["source_row"].astype("int64")
    return out


@pytest.mark.slow
def test_national_sample_is_deterministic(republic: dict[str, Path], tmp_path: Path) -> None:
    """The same seed and rows write byte-identical files (truth included)."""
    from coverage_analysis.sample.national import write_national_sample

    write_national_sample(tmp_path / "again", seed=11, rows=SMALL_ROWS)
    first = sorted(
        p.relative_to(republic["raw"]) for p in republic["raw"].rglob("*") if p.is_file()
    )
    second = sorted(
        p.relative_to(tmp_path / "again") for p in (tmp_path / "again").rglob("*") if p.is_file()
    )
    assert first == second and len(first) > 100
    differ = [
        p
        for p in first
        if (republic["raw"] / p).read_bytes() != (tmp_path / "again" / p).read_bytes()
    ]
    assert not differ


@pytest.mark.slow
def test_national_sample_has_every_layout(republic: dict[str, Path]) -> None:
    """Every variant family of the region sample, and the encodings the region sample does
    not write, are somewhere in the republic."""
    from coverage_analysis.sample.vocab import VARIANT_FAMILIES

    truth = json.loads((republic["raw"] / "_truth" / "truth.json").read_text("utf-8"))
    missing = set(VARIANT_FAMILIES) - set(truth["variants"])
    # region-level material (and its million-viewer TV) is left to the region sample
    assert missing <= {"region_rows", "reach_million"}, missing
    encodings = {m["encoding"] for m in truth["file_meta"].values() if m["container"] == "csv"}
    assert {"cp1251", "utf-8", "utf-8-sig", "cp866", "koi8-r", "utf-16"} <= encodings
    containers = {
        m["container"]
        for f, m in truth["file_meta"].items()
        if not f.startswith("east_kazakhstan/")
    }
    assert containers == {"csv", "xlsx"}


@pytest.mark.slow
def test_republic_panel_in_the_wrong_scope_is_refused(republic: dict[str, Path]) -> None:
    run = _cli("panel", "--processed", str(republic["processed"]))
    assert run.returncode == 2
    assert run.stderr.strip().count("\n") == 0
    assert "national scope, not region" in run.stderr


@pytest.mark.slow
def test_republic_rating_of_regions(republic: dict[str, Path], national_env) -> None:
    from coverage_analysis.metrics.republic import region_rating_table

    table = region_rating_table(republic["processed"])
    assert sorted(table["region_id"]) == sorted(region_names()["region_id"])  # every region
    ranks = table["rank"].astype(int)
    assert ranks.between(1, 16).all() and ranks.min() == 1 and ranks.is_monotonic_increasing
    assert (table["score"].diff().dropna() <= 1e-6).all()  # the better rank, the higher score
    assert ((table["rank_min"] <= ranks) & (ranks <= table["rank_max"])).all()
    # region sizes follow the Bureau's populations (mean over the campaign's 28 months)
    real = region_population().set_index("region_id")
    months = pd.date_range("2014-09-01", "2016-12-01", freq="MS")
    weights = pd.Series(months.year).value_counts() / len(months)
    mean_real = sum(real[f"population_{y}"] * w for y, w in weights.items())
    own = national_reference().query("region_id == 'east_kazakhstan'")["population_2016"].sum()
    mean_real["east_kazakhstan"] *= own / real.loc["east_kazakhstan", "population_2016"]
    sizes = table.set_index("region_id")["population"]  # East Kazakhstan: its own reference
    assert np.allclose(sizes / mean_real.reindex(sizes.index), 1.0, atol=0.01)
    ek = table.set_index("region_id").loc["east_kazakhstan"]
    assert ek["rank"] > 8  # the article's fact the sample is drawn to (region activity low)
