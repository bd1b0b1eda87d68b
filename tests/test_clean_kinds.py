"""The clean step on hand-made raw folders: every kind, bad inputs, row conservation."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from test_clean_fixtures import REGISTRY_COUNTS, REGISTRY_LINES, write_csv, write_xlsx

from coverage_analysis.clean import clean_folder
from coverage_analysis.errors import DataNotFoundError, SchemaError
from coverage_analysis.schema import validate

OUTCOME_KEYS = (
    "rows_clean",
    "rows_rejected",
    "rows_duplicate",
    "rows_summary",
    "rows_blank",
    "rows_out_of_scope",
)


def assert_balanced(report: dict) -> None:
    for s in report["sheets"]:
        assert s["rows_read"] == sum(s[k] for k in OUTCOME_KEYS), s


def sheet(report: dict, file: str, name: str = "") -> dict:
    [s] = [s for s in report["sheets"] if s["file"] == file and s["sheet"] == name]
    return s


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1251"])
def test__clean_folder__registry_rows_end_in_exactly_one_outcome(
    tmp_path: Path, encoding: str
) -> None:
    write_csv(tmp_path / "raw" / "Реестр.csv", REGISTRY_LINES, encoding=encoding)
    result = clean_folder(tmp_path / "raw", tmp_path / "out")
    counts = {k: v for k, v in sheet(result.report, "Реестр.csv").items() if k.startswith("rows_")}
    assert counts == REGISTRY_COUNTS
    pubs = pd.read_parquet(tmp_path / "out" / "publications.parquet")
    assert pubs["source_row"].tolist() == [4, 5]
    first, second = pubs.iloc[0], pubs.iloc[1]
    assert (first["district_id"], first["channel"], first["reach"], first["language"]) == (
        "ayagoz",
        "print",
        1500,
        "ru",
    )
    assert first["date"] == dt.date(2016, 3, 15)
    assert pd.isna(second["date"]) and second["month"] == dt.date(2016, 3, 1)  # month-only date
    assert (second["reach"], second["format"]) == (1500, "news")
    rejects = pd.read_csv(tmp_path / "out" / "rejects.csv", keep_default_na=False)
    by_row = {r.source_row: r for r in rejects.itertuples()}
    assert (
        by_row[6].field == "district" and by_row[6].scope == "row" and "ayagoz" in by_row[6].reason
    )
    assert by_row[9].reason == "outside the campaign period"
    assert set(rejects.loc[rejects.source_row == 7, "field"]) == {
        "reach",
        "language",
    }  # cells, row kept
    dups = pd.read_csv(tmp_path / "out" / "duplicates.csv")
    assert dups[["kept_row", "dropped_row", "matched_on"]].values.tolist() == [[4, 7, "url"]]
    coverage = pd.read_parquet(tmp_path / "out" / "registry_coverage.parquet")
    assert set(coverage["district_id"]) == {"ayagoz"}
    assert sorted(coverage["month"].astype(str)) == ["2016-01-01", "2016-02-01", "2016-03-01"]
    assert_balanced(result.report)
    assert result.anything_read


def test__clean_folder__material_id_is_stable_across_runs(tmp_path: Path) -> None:
    write_csv(tmp_path / "raw" / "r.csv", REGISTRY_LINES)
    a = (
        clean_folder(tmp_path / "raw", tmp_path / "o1")
        .tables["publications"]["material_id"]
        .tolist()
    )
    b = (
        clean_folder(tmp_path / "raw", tmp_path / "o2")
        .tables["publications"]["material_id"]
        .tolist()
    )
    assert a == b and len(set(a)) == len(a)


def test__clean_folder__legalization_layouts(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    write_xlsx(
        raw / "dgd.xlsx",
        {
            "wide": [
                ["Сведения о легализации имущества"],
                [
                    "№",
                    "Район",
                    "Количество заявлений",
                    None,
                    None,
                    "Сумма легализованного имущества, тыс. тенге",
                    None,
                    None,
                ],
                [
                    None,
                    None,
                    "Январь 2016",
                    "Февраль 2016",
                    "I кв. 2016",
                    "Январь 2016",
                    "Февраль 2016",
                    "I кв. 2016",
                ],
                [1, "г. Семей", 3, 5, 8, 100, "1 500,5", 1600.5],
                [2, "Аягозский район", 0, "-", 1, 0, 20, 20],
                [None, "Итого", 3, 5, 9, 100, 1520.5, 1620.5],
            ],
            "label": [
                ["Легализация нарастающим итогом"],
                ["Район", "Показатель", "янв.16", "фев.16", "мар.16"],
                ["Риддер", "Количество заявлений", 1, 3, 2],
                ["Риддер", "Сумма, млн тенге", 1, 2.5, 4],
            ],
            "split": [
                [
                    "Район",
                    "Месяц",
                    "Количество заявлений",
                    "Сумма легализованного имущества",
                    None,
                    None,
                ],
                [None, None, None, "деньги", "недвижимость", "иное имущество"],
                ["Жарма", "2016-05", 2, 10, 20, None],
                ["Жарма", "2013-05", 2, 10, 20, None],
            ],
        },
        merges={"wide": ["C2:E2", "F2:H2", "A2:A3", "B2:B3"], "split": ["D1:F1"]},
    )
    result = clean_folder(raw, tmp_path / "out")
    leg = result.tables["legalization"].set_index(["district_id", "month"])
    jan, feb, mar, may = (pd.Timestamp(2016, m, 1) for m in (1, 2, 3, 5))
    assert leg.loc[("semey", jan), "applications"] == 3
    assert leg.loc[("semey", feb), "amount_kzt"] == pytest.approx(
        1_500_500.0
    )  # тыс. тенге -> tenge
    assert pd.isna(leg.loc[("ayagoz", feb), "applications"])  # a dash is unknown, not zero
    assert leg.loc[("ridder", feb), "applications"] == 2  # cumulative 1, 3 -> 1, 2
    assert leg.loc[("ridder", feb), "amount_kzt"] == pytest.approx(1_500_000.0)
    assert ("ridder", mar) not in leg.index or pd.isna(leg.loc[("ridder", mar), "applications"])
    assert leg.loc[("zharma", may), "amount_kzt"] == pytest.approx(
        30.0
    )  # split summed, no total column
    rejects = pd.read_csv(tmp_path / "out" / "rejects.csv", keep_default_na=False)
    columns = rejects[rejects.scope == "column"]
    assert len(columns) == 2 and columns["value"].str.contains("I кв. 2016").all()
    assert "cumulative series decreases" in set(rejects["reason"])
    assert "outside the campaign period" in set(
        rejects.loc[rejects.source_sheet == "split", "reason"]
    )
    assert sheet(result.report, "dgd.xlsx", "wide")["rows_summary"] == 1
    assert_balanced(result.report)


def test__clean_folder__media_plan_quarters_spread_with_fact(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    write_xlsx(
        raw / "plan.xlsx",
        {
            "Медиаплан": [
                ["Медиаплан района на 2016 год"],
                ["Район", "Вид СМИ", "I кв. 2016", None, "Апрель 2016", None],
                [None, None, "план", "факт", "план", "факт"],
                ["Аягоз", "газета", 3, 6, 1, None],
                ["Аягоз", "телевидение", 6, "", 2, 2],
            ]
        },
        merges={"Медиаплан": ["C2:D2", "E2:F2"]},
    )
    result = clean_folder(raw, tmp_path / "out")
    plan = result.tables["media_plan"].set_index(["district_id", "month", "channel"])
    assert len(plan) == 8
    assert plan.loc[("ayagoz", pd.Timestamp(2016, 2, 1), "print"), "planned"] == pytest.approx(1.0)
    assert plan.loc[
        ("ayagoz", pd.Timestamp(2016, 2, 1), "print"), "actual_reported"
    ] == pytest.approx(2.0)
    assert plan.loc[("ayagoz", pd.Timestamp(2016, 4, 1), "tv"), "actual_reported"] == pytest.approx(
        2.0
    )
    assert pd.isna(plan.loc[("ayagoz", pd.Timestamp(2016, 4, 1), "print"), "actual_reported"])
    assert sheet(result.report, "plan.xlsx", "Медиаплан")["rows_clean"] == 2


def test__clean_folder__social_reach_per_post_and_aggregated(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    write_csv(
        raw / "agg.csv",
        [
            "Район,Месяц,Соцсеть,Количество постов,Охват пользователей",
            "Семей,март 2016,Facebook,10,1 000",
            "Семей,март 2016,Instagram,5,",
            "Семей,март 2016,Facebook,10,1 000",
            "Семей,март 2016,Facebook,11,1 000",
        ],
        delimiter=",",
    )
    write_csv(
        raw / "posts.csv",
        [
            "Дата;Район;Платформа;Ссылка;Просмотры",
            "01.04.2016;Риддер;VK;u1;100",
            "02.04.2016;Риддер;VK;u2;50",
        ],
        delimiter="\t",
        encoding="cp1251",
    )
    result = clean_folder(raw, tmp_path / "out")
    social = result.tables["social_reach"].set_index(["district_id", "month", "platform"])
    assert social.loc[
        ("ridder", pd.Timestamp(2016, 4, 1), "vk"), ["posts", "users_reached"]
    ].tolist() == [2, 150]
    assert social.loc[("semey", pd.Timestamp(2016, 3, 1), "facebook"), "posts"] == 10
    agg = sheet(result.report, "agg.csv")
    assert (agg["rows_clean"], agg["rows_duplicate"], agg["rows_rejected"]) == (2, 1, 1)
    rejects = pd.read_csv(tmp_path / "out" / "rejects.csv", keep_default_na=False)
    assert rejects.loc[rejects.source_row == 5, "reason"].item() == "conflicts with agg.csv row 2"
    conflict = rejects[rejects.source_row == 5].iloc[0]
    assert (conflict["field"], conflict["value"], conflict["scope"]) == (
        "2016-03 facebook",
        "11, 1000",
        "row",
    )


def test__clean_folder__population_wide(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    write_csv(
        raw / "pop.csv",
        [
            "Численность населения, чел.",
            "Район;2015;2016",
            "Семей;300000;313 726",
            "Риддер;49000;49695",
        ],
    )
    result = clean_folder(raw, tmp_path / "out")
    pop = result.tables["population"]
    assert pop.set_index(["district_id", "year"]).loc[("semey", 2016), "population"] == 313726
    assert len(pop) == 4


def test__clean_folder__bad_files_are_one_line_each_and_the_rest_cleans(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    raw = tmp_path / "raw"
    write_csv(raw / "ok.csv", REGISTRY_LINES)
    (raw / "broken.xlsx").write_bytes(b"PK\x03\x04 not a workbook")
    (raw / "binary.csv").write_bytes(bytes(range(256)) * 4)
    (raw / "empty.csv").write_bytes(b"")
    write_csv(raw / "unknown.csv", ["Фамилия;Имя", "Иванов;Иван"])
    write_xlsx(raw / "noheader.xlsx", {"Лист1": [["просто текст"], [1, 2, 3]]})
    (raw / "README.txt").write_text("notes", encoding="utf-8")
    result = clean_folder(raw, tmp_path / "out")
    assert len(result.tables["publications"]) == 2
    rejects = pd.read_csv(tmp_path / "out" / "rejects.csv", keep_default_na=False)
    unknown = rejects[rejects.kind == "unknown"]
    assert set(unknown["source_file"]) == {
        "broken.xlsx",
        "binary.csv",
        "empty.csv",
        "unknown.csv",
        "noheader.xlsx",
    }
    assert "'Фамилия'" in unknown.loc[unknown.source_file == "unknown.csv", "reason"].item()
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    for name in ("broken.xlsx", "binary.csv", "empty.csv", "unknown.csv", "noheader.xlsx"):
        assert sum(name in m for m in warned) == 1, name
        assert name in result.summary_text()
    assert result.report["skipped_files"] == [{"file": "README.txt", "reason": "not a spreadsheet"}]
    report = json.loads((tmp_path / "out" / "cleaning_report.json").read_text(encoding="utf-8"))
    assert report["totals"]["rows_read"] == sum(report["totals"][k] for k in OUTCOME_KEYS)
    assert_balanced(report)


def test__clean_folder__nothing_readable_and_missing_folder(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "broken.xlsx").write_bytes(b"PK\x03\x04")
    result = clean_folder(raw, tmp_path / "out")
    assert not result.anything_read
    with pytest.raises(DataNotFoundError):
        clean_folder(tmp_path / "nope", tmp_path / "out")


def test__clean_folder__stale_table_of_an_absent_kind_is_removed(tmp_path: Path) -> None:
    raw, out = tmp_path / "raw", tmp_path / "out"
    write_csv(raw / "r.csv", REGISTRY_LINES)
    out.mkdir()
    pd.DataFrame({"x": [1]}).to_parquet(out / "legalization.parquet")
    result = clean_folder(raw, out)
    assert not (out / "legalization.parquet").exists()
    assert result.report["tables_removed"] == ["legalization.parquet"]
    assert "legalization.parquet" in result.summary_text()


def test__validate__lists_every_failure() -> None:
    frame = pd.DataFrame(
        {
            "district_id": ["nowhere", "semey", "semey"],
            "year": [2016, 2016, 2016],
            "population": [-5, 1, 2],
            "source_file": ["f", "f", "f"],
            "source_sheet": ["", "", ""],
            "source_row": [1, 2, 3],
        }
    )
    with pytest.raises(SchemaError) as info:
        validate(frame, "population")
    text = str(info.value)
    assert "district_id" in text and "population" in text and "share a key" in text


def test__validate__finds_a_repeated_one_column_text_key(tmp_path: Path) -> None:
    # the key of publications is one Arrow text column, checked by Arrow's distinct values
    write_csv(tmp_path / "raw" / "r.csv", REGISTRY_LINES)
    pubs = clean_folder(tmp_path / "raw", tmp_path / "out").tables["publications"]
    assert validate(pubs, "publications") is pubs
    repeated = pubs.copy()
    repeated["material_id"] = pd.array(
        [pubs["material_id"].iloc[0]] * len(pubs), dtype=pubs["material_id"].dtype
    )
    with pytest.raises(SchemaError, match="share a key"):
        validate(repeated, "publications")


def test__clean_folder__a_table_failing_its_schema_switches_nothing_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the tables are written to the staging folder while they are validated: a failure
    # must leave the previous generation whole and current, and no staging folder behind
    import coverage_analysis.clean.folder as folder

    raw, out = tmp_path / "raw", tmp_path / "out"
    write_csv(raw / "r.csv", REGISTRY_LINES)
    before = clean_folder(raw, out).report["generation"]
    files = {p.name: p.read_bytes() for p in out.iterdir() if not p.name.startswith(".")}

    def failing(frame: pd.DataFrame, name: str) -> pd.DataFrame:
        raise SchemaError(f"table {name!r} fails its schema: injected")

    monkeypatch.setattr(folder, "validate", failing)
    with pytest.raises(SchemaError, match="injected"):
        clean_folder(raw, out)
    assert json.loads((out / "cleaning_report.json").read_text())["generation"] == before
    assert {p.name: p.read_bytes() for p in out.iterdir() if not p.name.startswith(".")} == files
    assert not [p for p in out.iterdir() if p.name.startswith(".staging-")]


def _sheet_input(path: Path) -> tuple:
    """The frame, row numbers and context of the first sheet of ``path``, as ``clean_folder``
    builds them (read, header found, kind recognised), and the run's lookups."""
    from coverage_analysis.clean.common import Lookups, SheetContext
    from coverage_analysis.clean.layout import recognize
    from coverage_analysis.io.headers import HeaderVocabulary, detect_header
    from coverage_analysis.io.readers import read_sheets
    from coverage_analysis.reference.districts import DistrictResolver

    vocab = HeaderVocabulary.load()
    [sheet] = read_sheets(path, path.name)
    header = detect_header(sheet, vocab)
    kind, columns = recognize(header, vocab)
    ctx = SheetContext(sheet.file, sheet.sheet, kind, header.title, columns, header.rows)
    frame, rows = sheet.data(header.data_start, len(header.names))
    return frame, rows, ctx, Lookups(DistrictResolver(), vocab)


def test__clean_legalization__frame_in_frames_out_and_input_untouched(tmp_path: Path) -> None:
    from coverage_analysis.clean.common import LEDGER_COLUMNS, Cleaned
    from coverage_analysis.clean.legalization import clean_legalization

    path = write_xlsx(
        tmp_path / "dgd.xlsx",
        {
            "wide": [
                ["Сведения о легализации имущества"],
                ["Район", "Количество заявлений", None, None],
                [None, "Январь 2016", "Февраль 2016", "I кв. 2016"],
                ["г. Семей", 3, "abc", 8],
                ["Неизвестный район", 1, 1, 2],
                ["Аягозский район", None, None, None],
            ]
        },
        merges={"wide": ["B2:D2", "A2:A3"]},
    )
    frame, rows, ctx, lookups = _sheet_input(path)
    before = frame.copy()
    cleaned = clean_legalization(frame, rows, ctx, lookups)
    assert isinstance(cleaned, Cleaned)
    pd.testing.assert_frame_equal(frame, before)  # the input frame is not written to
    assert cleaned.rejected.tolist() == [False, True, True]  # unknown district; no value
    assert cleaned.records["district_id"].tolist() == ["semey"]
    assert cleaned.records["value"].tolist() == [3.0]
    lines = cleaned.ledger
    assert list(lines.columns) == list(LEDGER_COLUMNS)
    by_scope = lines.groupby("scope")["source_row"].apply(list).to_dict()
    assert by_scope == {"cell": [4], "column": [3], "row": [5, 6]}
    again = clean_legalization(frame, rows, ctx, lookups)  # no state carried between calls
    pd.testing.assert_frame_equal(again.ledger, lines)
    pd.testing.assert_frame_equal(again.records, cleaned.records)


def test__clean_folder__legalization_row_repeated_in_its_sheet_is_never_added(
    tmp_path: Path,
) -> None:
    # a row repeated in the same sheet is a duplicate (same figures) or a conflict
    # (another figure), never added to the first; only the split by kind is summed
    raw = tmp_path / "raw"
    write_csv(
        raw / "ДГД_легализация.csv",
        [
            "Район;Месяц;Количество заявлений;Сумма, тенге",
            "Аягозский район;2016-01;6;114 095 000",
            "г. Семей;2016-01;19;2 000 000",
            "Аягозский район;2016-01;6;114 095 000",
            "г. Семей;2016-01;20;2 000 000",
        ],
    )
    write_xlsx(
        raw / "split.xlsx",
        {
            "split": [
                ["Район", "Месяц", "Количество заявлений", "Сумма", None],
                [None, None, None, "деньги", "недвижимость"],
                ["Жарма", "2016-05", 2, 10, 20],
                ["Жарма", "2016-05", 2, 10, 20],
            ]
        },
        merges={"split": ["D1:E1"]},
    )
    result = clean_folder(raw, tmp_path / "out")
    assert_balanced(result.report)
    leg = result.tables["legalization"].set_index(["district_id", "month"])
    jan, may = pd.Timestamp(2016, 1, 1), pd.Timestamp(2016, 5, 1)
    assert leg.loc[("ayagoz", jan), "applications"] == 6
    assert leg.loc[("ayagoz", jan), "amount_kzt"] == pytest.approx(114_095_000)
    assert leg.loc[("semey", jan), "applications"] == 19  # the first figure, not 39
    assert leg.loc[("zharma", may), "amount_kzt"] == pytest.approx(30.0)  # not 60
    assert leg.loc[("zharma", may), "applications"] == 2
    csv_counts = sheet(result.report, "ДГД_легализация.csv")
    assert (csv_counts["rows_clean"], csv_counts["rows_duplicate"]) == (2, 1)
    assert csv_counts["rows_rejected"] == 1
    split = sheet(result.report, "split.xlsx", "split")
    assert (split["rows_clean"], split["rows_duplicate"]) == (1, 1)
    rejects = pd.read_csv(tmp_path / "out" / "rejects.csv", keep_default_na=False, dtype=str)
    [conflict] = rejects[rejects.reason.str.startswith("conflicts with")].itertuples()
    assert (conflict.source_row, conflict.value, conflict.scope) == ("5", "20", "row")
    assert conflict.reason == "conflicts with ДГД_легализация.csv row 3"
    dups = pd.read_csv(tmp_path / "out" / "duplicates.csv", keep_default_na=False)
    pairs = set(zip(dups.kept_file, dups.kept_row, dups.dropped_row, strict=True))
    assert ("ДГД_легализация.csv", 2, 4) in pairs and ("split.xlsx", 3, 4) in pairs
