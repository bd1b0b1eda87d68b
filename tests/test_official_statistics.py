"""Official statistics: bulletin-like workbooks (written here with openpyxl, merged cells,
nested rows, a name repeated in regions), the real region-level file of ``../shared/real``,
KATO codes, the boundary lineage and the ``out_of_scope`` accounting."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from coverage_analysis.clean.folder import clean_folder
from coverage_analysis.reference import district_by_kato, load_districts, load_lineage
from coverage_analysis.reference.districts import DistrictResolver

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / ".." / "shared"
REAL_FILE = SHARED / "real" / "population_by_region_2000-2022.xlsx"
OUTCOME_KEYS = (
    "rows_clean",
    "rows_rejected",
    "rows_duplicate",
    "rows_summary",
    "rows_blank",
    "rows_out_of_scope",
)
TOTAL = "Барлық халық\nВсе население"

#: Sheet 01 of the test bulletin: (name, total, men, women, expected outcome).
ROWS_01: list[tuple[object, object, object, object, str]] = [
    ("Қазақстан Республикасы", 20033842.0, 9781000.0, 10252842.0, "summary"),
    (None, None, None, None, "blank"),
    ("Абай", 603000.0, 295000.0, 308000.0, "summary"),
    ("Семей қ.ә.", 350000.0, 170000.0, 180000.0, "clean"),  # + Жаңасемей -> semey
    ("Семей қаласы", 320000.0, 155000.0, 165000.0, "out_of_scope"),
    ("Шүлбі к.", 5000.0, 2400.0, 2600.0, "out_of_scope"),
    ("Курчатов қ.ә.", 12000.0, 5900.0, 6100.0, "clean"),
    ("Абай ауданы", 16000.0, 8000.0, 8000.0, "clean"),
    ("Қарауыл а.", 6000.0, "x", "x", "out_of_scope"),
    ("Ақсуат ауданы", 20000.0, 10000.0, 10000.0, "clean"),  # + Тарбағатай -> tarbagatai
    ("Жаңасемей ауданы", 9000.0, 4500.0, 4500.0, "clean"),
    ("Көкпекті ауданы", 20000.0, 10000.0, 10000.0, "clean"),  # + Самар -> kokpekty
    ("Үржар ауданы", 60000.0, 30000.0, 30000.0, "rejected"),  # summed with Мақаншы: 'x'
    ("Мақаншы ауданы", "x", "x", "x", "rejected"),
    (None, None, None, None, "blank"),
    ("Қарағанды", 1134000.0, 540000.0, 594000.0, "out_of_scope"),
    ("Абай ауданы", 50000.0, 24000.0, 26000.0, "out_of_scope"),  # Karaganda's Abai
    ("Теміртау қ.ә.", 180000.0, 86000.0, 94000.0, "out_of_scope"),
    (None, None, None, None, "blank"),
    ("Алматы қаласы", 2200000.0, 1050000.0, 1150000.0, "out_of_scope"),
    ("Абай ауданы", 210000.0, 100000.0, 110000.0, "out_of_scope"),  # Almaty's Abai
    (None, None, None, None, "blank"),
    ("Шығыс  Қазақстан", 730000.0, 350000.0, 380000.0, "summary"),
    ("Өскемен қ.ә.", 370000.0, 175000.0, 195000.0, "clean"),
    ("Өскемен қаласы", 360000.0, 170000.0, 190000.0, "out_of_scope"),
    ("Алтай ауданы", 60000.0, 29000.0, 31000.0, "clean"),  # renamed Zyryanovsk
    ("Самар ауданы", 10000.0, 5000.0, 5000.0, "clean"),
    ("Тарбағатай ауданы", 25000.0, 12000.0, 13000.0, "clean"),
    ("Глубокое ауданы", "...", "...", "...", "rejected"),
    ("Мұнайшы а.", "-", "-", "-", "out_of_scope"),
    ("1) Жаңа аудандар 2022 жылы құрылды", None, None, None, "summary"),
]


def _write_bulletin(path: Path, rows: list[tuple] = ROWS_01) -> None:
    """A workbook laid out as the Bureau's bulletin (official-statistics.md)."""
    wb = openpyxl.Workbook()
    cover = wb.active
    cover.title = "Мұқаба"
    cover["B3"] = "Қазақстан Республикасы Ұлттық статистика бюросы"
    cover["B4"] = "Бюро национальной статистики Республики Казахстан"
    cover["B8"] = "Халық саны / Численность населения"
    legend = wb.create_sheet("Шартты белгілер")
    legend["A1"] = "Шартты белгілер\nУсловные обозначения"
    for i, (code, text) in enumerate(
        [("-", "құбылыс жоқ / явление отсутствует"), ("x", "деректер құпия / конфиденциально"),
         ("...", "деректер жоқ / нет данных"), ("0,0", "елеусіз шама / незначительная величина")],
        start=3,
    ):  # fmt: skip
        legend.cell(i, 1, code)
        legend.cell(i, 2, text)
    contents = wb.create_sheet("Мазмұны")
    contents["A1"] = "Мазмұны\nСодержание"
    contents["A3"] = "1. Халық саны .................................. 4"
    contents["A4"] = "2. Аудандар бойынша ............................. 7"
    data = wb.create_sheet("01")
    data["A1"] = (
        "Қазақстан Республикасының облыстары, қалалары мен аудандары бойынша "
        "2023 жылғы 1 қаңтарға халық саны\nЧисленность населения Республики Казахстан "
        "по областям, городам и районам на 1 января 2023 года"
    )
    data.merge_cells("A1:D1")
    data["D2"] = "адам" + " " * 30 + "человек"
    data["B3"] = TOTAL
    data.merge_cells("B3:B4")
    data["C3"] = "соның ішінде:\nв том числе:"
    data.merge_cells("C3:D3")
    data["C4"] = "ерлер\nмужчины"
    data["D4"] = "әйелдер\nженщины"
    for i, row in enumerate(rows, start=5):
        for j, value in enumerate(row[:4], start=1):
            if value is not None:
                data.cell(i, j, value)
    wb.save(path)


def _report(processed: Path) -> dict:
    return json.loads((processed / "cleaning_report.json").read_text(encoding="utf-8"))


def _sheet(report: dict, name: str) -> dict:
    return next(s for s in report["sheets"] if s["sheet"] == name)


@pytest.fixture(scope="module")
def bulletin_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    base = tmp_path_factory.mktemp("bulletin")
    raw = base / "raw"
    raw.mkdir()
    _write_bulletin(raw / "bulletin_2023.xlsx")
    clean_folder(raw, base / "processed")
    return base / "processed", _report(base / "processed")


def test__bulletin__every_row_has_the_expected_outcome(bulletin_run: tuple[Path, dict]) -> None:
    _, report = bulletin_run
    s = _sheet(report, "01")
    expected = {f"rows_{o}": 0 for o in ("clean", "rejected", "duplicate", "summary", "blank")}
    expected["rows_out_of_scope"] = 0
    for *_, outcome in ROWS_01:
        expected[f"rows_{outcome}"] += 1
    assert {k: s[k] for k in OUTCOME_KEYS} == expected
    assert s["rows_read"] == len(ROWS_01) == sum(s[k] for k in OUTCOME_KEYS)
    assert s["header_row"] == 4
    assert s["reference_date"] == "2023-01-01"


def test__bulletin__cover_legend_contents_are_accounted_not_errors(
    bulletin_run: tuple[Path, dict],
) -> None:
    _, report = bulletin_run
    roles = {s["sheet"]: (s["status"], s.get("bulletin")) for s in report["sheets"]}
    assert roles["Мұқаба"] == ("not data", "cover")
    assert roles["Шартты белгілер"] == ("not data", "legend")
    assert roles["Мазмұны"] == ("not data", "contents")
    assert report["unrecognised_sheets"] == []
    assert report["unreadable_files"] == []


def test__bulletin__units_summed_within_their_campaign_district(
    bulletin_run: tuple[Path, dict],
) -> None:
    processed, report = bulletin_run
    pop = pd.read_parquet(processed / "population.parquet").set_index("district_id")
    got = pop["population"].to_dict()
    assert got == {
        "semey": 350000 + 9000,  # administration + Zhanasemey (2022, from old Semey)
        "kurchatov": 12000,
        "abai": 16000,  # Abai region's, not Karaganda's or Almaty's
        "tarbagatai": 20000 + 25000,  # Aksuat (Abai region) + Tarbagatai (East Kazakhstan)
        "kokpekty": 20000 + 10000,  # Kokpekty + Samar
        "ust_kamenogorsk": 370000,
        "zyryanovsk": 60000,  # Altai, renamed
    }
    assert set(pop["year"]) == {2023}
    summed = {(s["district_id"], tuple(s["rows"])) for s in report["summed_units"]}
    row = {name: i for i, (name, *_) in enumerate(ROWS_01, start=5) if name}
    assert ("semey", (row["Семей қ.ә."], row["Жаңасемей ауданы"])) in summed
    assert ("kokpekty", (row["Көкпекті ауданы"], row["Самар ауданы"])) in summed


def test__bulletin__legend_codes_are_reasons_never_zero(bulletin_run: tuple[Path, dict]) -> None:
    processed, _ = bulletin_run
    rejects = pd.read_csv(processed / "rejects.csv", keep_default_na=False, dtype=str)
    rows = rejects[rejects.scope == "row"].set_index("source_row")["reason"].to_dict()
    row = {name: str(i) for i, (name, *_) in enumerate(ROWS_01, start=5) if name}
    assert "'x'" in rows[row["Мақаншы ауданы"]] and "unknown" in rows[row["Мақаншы ауданы"]]
    assert "summed with row" in rows[row["Үржар ауданы"]]
    assert "'...'" in rows[row["Глубокое ауданы"]]
    pop = pd.read_parquet(processed / "population.parquet")
    assert not pop["district_id"].isin(["urzhar", "glubokoe"]).any()
    columns = rejects[rejects.scope == "column"]["field"].tolist()
    assert any("мужчины" in c for c in columns) and any("женщины" in c for c in columns)


def test__bulletin__out_of_scope_counted_per_region(bulletin_run: tuple[Path, dict]) -> None:
    _, report = bulletin_run
    s = _sheet(report, "01")
    assert s["out_of_scope_by_region"] == {
        "Abay": 3,  # Семей қаласы, Шүлбі к., Қарауыл а.
        "Almaty (city)": 2,
        "East Kazakhstan": 2,  # Өскемен қаласы, Мұнайшы а.
        "Karagandy": 3,
    }
    assert report["out_of_scope_by_region"] == s["out_of_scope_by_region"]
    assert report["totals"]["rows_out_of_scope"] == sum(s["out_of_scope_by_region"].values())
    t = report["totals"]
    assert t["rows_read"] == sum(t[k] for k in OUTCOME_KEYS)


def test__bulletin__kato_column_is_the_key(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "02"
    ws["A1"] = "2024 жылғы 1 қаңтарға халық саны\nЧисленность населения на 1 января 2024 года"
    ws["B3"], ws["C3"] = "КАТО", TOTAL
    lines = [
        ("Шығыс  Қазақстан", "630000000", 728000.0),
        ("Самар ауданы", "635600000", 10100.0),
        ("Көне атауы ауданы", "634000000", 61000.0),  # unknown name, known code: Glubokoe
        ("Абай", "100000000", 602000.0),
    ]
    for i, line in enumerate(lines, start=4):
        for j, v in enumerate(line, start=1):
            ws.cell(i, j, v)
    (tmp_path / "raw").mkdir()
    wb.save(tmp_path / "raw" / "kato.xlsx")
    clean_folder(tmp_path / "raw", tmp_path / "out")
    pop = pd.read_parquet(tmp_path / "out" / "population.parquet")
    assert dict(zip(pop.district_id, pop.population, strict=True)) == {
        "kokpekty": 10100,
        "glubokoe": 61000,
    }
    assert set(pop["year"]) == {2024}
    s = _sheet(_report(tmp_path / "out"), "02")
    assert (s["rows_clean"], s["rows_summary"], s["rows_read"]) == (2, 2, 4)


# --------------------------------------------------------------------------- real file


@pytest.fixture(scope="module")
def real_report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    if not REAL_FILE.is_file():
        pytest.skip(f"real bulletin {REAL_FILE} not present beside the project")
    base = tmp_path_factory.mktemp("real")
    (base / "raw").mkdir()
    (base / "raw" / REAL_FILE.name).write_bytes(REAL_FILE.read_bytes())
    result = clean_folder(base / "raw", base / "processed")
    assert result.anything_read
    assert "nothing could be read" not in result.summary_text()
    return _report(base / "processed")


def test__real_region_file__every_sheet_read_and_balanced(real_report: dict) -> None:
    got = {
        s["sheet"]: (s["status"], s["header_row"], *(s[k] for k in ("rows_read", *OUTCOME_KEYS)))
        for s in real_report["sheets"]
    }
    # republic + Abai + East Kazakhstan rows are the region of study's totals (summary);
    # 15 other regions and 3 cities are out of scope; sub-headings and the footnote summary
    assert got == {
        "Все население": ("read", 1, 21, 0, 0, 0, 3, 0, 18),
        "Мужчины": ("read", 6, 64, 0, 0, 0, 13, 0, 51),
        "Женщины": ("read", 6, 64, 0, 0, 0, 13, 0, 51),
    }
    assert real_report["totals"]["rows_out_of_scope"] == 120
    by_region = real_report["out_of_scope_by_region"]
    assert len(by_region) == 18 and "East Kazakhstan" not in by_region and "Abay" not in by_region
    assert by_region["Karagandy"] == 7 and by_region["Astana (city)"] == 5


# --------------------------------------------------------------------------- KATO, lineage


def test__district_reference__kato_codes_resolve() -> None:
    ref = load_districts()
    assert ref["kato"].notna().all() and ref["kato"].is_unique
    codes = district_by_kato()
    assert codes["632800000"] == "semey" and len(codes) == 19
    r = DistrictResolver()
    assert r.resolve("633400000").value == "ayagoz"
    assert "not a district" in r.resolve("999999999").error


def test__resolver__abai_region_is_not_abai_district() -> None:
    r = DistrictResolver()
    assert r.resolve("Абайская область").value is None
    assert "region" in r.resolve("Абайская область").error
    assert r.resolve("Абай облысы").value is None
    assert r.resolve("Абайский район").value == "abai"
    assert r.resolve("Восточно-Казахстанская область").value == "region"


def test__lineage__every_later_unit_maps_to_one_district_or_straddles() -> None:
    lin = load_lineage()
    later = lin[lin.year == 2024]
    assert set(later.later_region_kato) == {"10", "63"}
    assert len(later.later_kato.unique()) == 23  # 12 Abai region + 11 East Kazakhstan units
    for _, group in later.groupby("later_kato"):
        if (group.status == "inside").all():
            assert len(group) == 1 and group.overlap_share.item() >= 0.95
        else:
            assert (group.status == "straddles").all() and len(group) > 1
    # every campaign district is covered by the 2024 units
    assert set(later.campaign_district_id) == set(load_districts().district_id)
    mapped = later.set_index("later_name_en").campaign_district_id
    assert mapped["Altay"] == "zyryanovsk"
    assert mapped["Samar"] == "kokpekty" and mapped["Zharasemey"] == "semey"
    assert mapped["Aqsuat"] == "tarbagatai" and mapped["Maqanshy"] == "urzhar"


def test__lineage__shipped_csv_keeps_the_attribution() -> None:
    from coverage_analysis.reference import reference_path

    for name in ("boundary_lineage.csv", "regions.csv"):
        first = reference_path(name).read_text(encoding="utf-8").splitlines()[0]
        assert "geokz (A. Rodionov), CC BY 4.0" in first


@pytest.mark.slow
def test__lineage__regenerates_identically_from_the_polygons(tmp_path: Path) -> None:
    pytest.importorskip("shapefile", reason="the geo extra (pyshp, shapely) is not installed")
    pytest.importorskip("shapely", reason="the geo extra (pyshp, shapely) is not installed")
    if not (SHARED / "geo" / "kaz_admbnda_adm2_2024.shp").is_file():
        pytest.skip("../shared/geo shapefiles not present beside the project")
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_lineage.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    from coverage_analysis.reference import reference_path

    for name in ("boundary_lineage.csv", "regions.csv"):
        assert (tmp_path / name).read_text("utf-8") == reference_path(name).read_text("utf-8")


def test__bulletin__russian_forms_and_breakdown_sections(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Таблица 3"
    ws["A1"] = "Численность населения Восточно-Казахстанской области на 1 января 2016 года"
    ws["C2"] = "человек"
    ws["B3"], ws["C3"] = "Все население", "мужчины"
    lines = [
        ("Республика Казахстан", 17670000.0, 8600000.0, "summary"),
        ("Восточно-Казахстанская область", 1390000.0, 660000.0, "summary"),
        ("Семей Г.А.", 340000.0, 160000.0, "clean"),
        ("г. Семей", 320000.0, 150000.0, "out_of_scope"),
        ("Аягозский район", 74000.0, 36000.0, "clean"),
        ("п. Шульбинск", 5000.0, 2400.0, "out_of_scope"),
        ("Павлодарская область", 757000.0, 360000.0, "out_of_scope"),
        ("Майский район", 9000.0, 4500.0, "out_of_scope"),
        (None, None, None, "blank"),
        ("Городское население", None, None, "summary"),
        ("Восточно-Казахстанская область", 830000.0, 390000.0, "summary"),
        ("Семей Г.А.", 320000.0, 150000.0, "summary"),  # a breakdown subtotal, not data
        ("Абайский  район", 0.0, "0,0", "summary"),
    ]
    for i, (name, total, men, _) in enumerate(lines, start=4):
        for j, v in enumerate((name, total, men), start=1):
            if v is not None:
                ws.cell(i, j, v)
    (tmp_path / "raw").mkdir()
    wb.save(tmp_path / "raw" / "ru.xlsx")
    clean_folder(tmp_path / "raw", tmp_path / "out")
    s = _sheet(_report(tmp_path / "out"), "Таблица 3")
    expected = {k: 0 for k in OUTCOME_KEYS}
    for *_, outcome in lines:
        expected[f"rows_{outcome}"] += 1
    assert {k: s[k] for k in OUTCOME_KEYS} == expected
    assert s["out_of_scope_by_region"] == {"East Kazakhstan": 2, "Pavlodar": 2}
    pop = pd.read_parquet(tmp_path / "out" / "population.parquet")
    assert sorted(zip(pop.district_id, pop.year, pop.population, strict=True)) == [
        ("ayagoz", 2016, 74000),
        ("semey", 2016, 340000),
    ]
