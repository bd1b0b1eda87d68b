"""Files as analysts really get them: every format and encoding, awkward CSVs, error
cells, a zip bomb, link loops, hidden sheets, plan/fact headers, formula cells, and a
``clean`` killed while it switches the processed folder. Every file is written here,
by the software (or the byte layout) that produces it in the wild."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from test_clean_fixtures import REGISTRY_COUNTS, REGISTRY_LINES, write_xlsx

from coverage_analysis.clean import clean_folder
from coverage_analysis.io import generation as gen
from coverage_analysis.io.workbook_zip import MAX_SHARED_STRINGS_BYTES
from coverage_analysis.io.writers import FORMULA_PREFIXES
from coverage_analysis.schema import CLEANING_REPORT_FILE, TABLE_FILES
from coverage_analysis.tables import load_tables

#: Row outcomes (``rows_out_of_scope`` where the report has it).
OUTCOME_KEYS = (
    "rows_clean",
    "rows_rejected",
    "rows_duplicate",
    "rows_summary",
    "rows_blank",
    "rows_out_of_scope",
)
#: The registry rows as cells (header on row 3 of the sheet, as in the CSV).
REGISTRY_CELLS = [line.split(";") if line else [] for line in REGISTRY_LINES]
#: The command line of the package, run as a user runs it.
CLI = [sys.executable, "-m", "coverage_analysis.cli"]


def counts(report: dict, file: str, sheet: str = "") -> dict[str, int]:
    """The row counts of one sheet."""
    [s] = [s for s in report["sheets"] if s["file"] == file and s["sheet"] == sheet]
    return {k: v for k, v in s.items() if k.startswith("rows_")}


def assert_balanced(report: dict) -> None:
    for s in report["sheets"]:
        assert s["rows_read"] == sum(s.get(k, 0) for k in OUTCOME_KEYS), s
    t = report["totals"]
    assert t["rows_read"] == sum(t.get(k, 0) for k in OUTCOME_KEYS)


def registry_text(separator: str = ";", ends: tuple[str, ...] = ("\n",)) -> str:
    lines = [line.replace(";", separator) for line in REGISTRY_LINES]
    return "".join(line + ends[i % len(ends)] for i, line in enumerate(lines))


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize(
    ("encoding", "separator", "rule"),
    [
        ("utf-8", ";", "strict UTF-8"),
        ("utf-8-sig", ";", "byte-order mark"),
        ("utf-16", "\t", "byte-order mark"),  # Excel "Unicode text": UTF-16 LE BOM, tabs
        ("cp1251", ";", "cyrillic letters and case"),
        ("cp866", ";", "cyrillic letters and case"),
        ("koi8-r", ";", "cyrillic letters and case"),
    ],
)
def test__clean__every_encoding_is_detected_and_reported(
    tmp_path: Path, encoding: str, separator: str, rule: str
) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    text = registry_text(separator, ("\r\n",))
    if encoding == "koi8-r":
        text = text.replace("№", "N")  # KOI8-R has no numero sign
    data = text.encode(encoding)
    if encoding == "utf-16":
        assert data[:2] == b"\xff\xfe"  # little-endian with BOM, as Excel writes it
    (raw / "Реестр.csv").write_bytes(data)
    result = clean_folder(raw, tmp_path / "out")
    assert counts(result.report, "Реестр.csv") == REGISTRY_COUNTS
    entry = result.report["files"]["Реестр.csv"]
    assert (entry["encoding"], entry["encoding_rule"]) == (encoding, rule)
    assert result.report["encodings"] == {encoding: 1}
    assert f"CSV encodings: {encoding} 1" in result.summary_text()
    pubs = pd.read_parquet(tmp_path / "out" / "publications.parquet")
    assert pubs["title"].tolist() == ["О легализации", "Сюжет"]
    assert pubs["outlet"].tolist()[0] == "Аягоз жаршысы"


def test__clean__excel_unicode_text_export_as_txt_is_read_and_a_readme_skipped(
    tmp_path: Path,
) -> None:
    # Excel's "Save as: Unicode text" writes UTF-16 LE with a BOM and tabs, named .txt
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "Реестр.txt").write_bytes(registry_text("\t", ("\r\n",)).encode("utf-16"))
    (raw / "README.txt").write_text("Отчёты района за 2016 год\n", encoding="utf-8")
    result = clean_folder(raw, tmp_path / "out")
    assert counts(result.report, "Реестр.txt") == REGISTRY_COUNTS
    assert result.report["files"]["Реестр.txt"]["encoding"] == "utf-16"
    assert result.report["skipped_files"] == [{"file": "README.txt", "reason": "not a spreadsheet"}]
    pubs = pd.read_parquet(tmp_path / "out" / "publications.parquet")
    assert pubs["title"].tolist() == ["О легализации", "Сюжет"]


def test__clean__mixed_line_ends_keep_line_numbers(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "Реестр.csv").write_bytes(registry_text(";", ("\n", "\r\n", "\r")).encode("utf-8"))
    result = clean_folder(raw, tmp_path / "out")
    assert counts(result.report, "Реестр.csv") == REGISTRY_COUNTS
    pubs = pd.read_parquet(tmp_path / "out" / "publications.parquet")
    assert pubs["source_row"].tolist() == [4, 5]


def test__clean__unbalanced_quote_rejects_its_line_and_folds_nothing(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    lines = list(REGISTRY_LINES)
    lines[3] = lines[3].replace("О легализации", '"О легализации')  # the quote never closes
    lines.insert(5, '6;16.03.2016;Аягоз;газета;Z;"Заголовок;с переносом";;;;')  # a fine quote
    (raw / "Реестр.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = clean_folder(raw, tmp_path / "out")
    c = counts(result.report, "Реестр.csv")
    assert c["rows_read"] == REGISTRY_COUNTS["rows_read"] + 1
    assert_balanced(result.report)
    rejects = pd.read_csv(tmp_path / "out" / "rejects.csv", keep_default_na=False)
    [bad] = rejects[rejects["reason"].str.startswith("unbalanced quote")].itertuples()
    assert (bad.source_row, bad.field, bad.scope) == (4, "line", "row")
    assert bad.value == lines[3]  # the raw text of the line, whole
    pubs = pd.read_parquet(tmp_path / "out" / "publications.parquet")
    assert 4 not in pubs["source_row"].tolist()
    assert "Заголовок;с переносом" in pubs["title"].tolist()  # a closed quote is still read
    assert not pubs["title"].str.contains("\n").any()  # no line folded into a title
    assert {5, 6}.issubset(set(pubs["source_row"]))


def test__read__quote_left_open_at_the_end_of_the_file(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    lines = [
        *REGISTRY_LINES[:4],
        '9;15.03.2016;Аягоз;газета;"X;Y;;;;',
        "10;15.03.2016;Аягоз;ТВ;Z;T;;;;",
    ]
    (raw / "r.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = clean_folder(raw, tmp_path / "out")
    assert_balanced(result.report)
    rejects = pd.read_csv(tmp_path / "out" / "rejects.csv", keep_default_na=False)
    assert rejects.loc[rejects["field"] == "line", "source_row"].tolist() == [5]
    pubs = pd.read_parquet(tmp_path / "out" / "publications.parquet")
    assert pubs["source_row"].tolist() == [4, 6]


# --------------------------------------------------------------------------- formats


def _write_xls(path: Path, rows: list[list[object]], errors: dict[tuple[int, int], str]) -> None:
    xlwt = pytest.importorskip("xlwt")
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Реестр")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value != "":
                sheet.write(r, c, value)
    for (r, c), text in errors.items():
        sheet.row(r).set_cell_error(c, text)
    book.save(str(path))


def _write_ods(path: Path, rows: list[list[object]]) -> None:
    pytest.importorskip("odf")
    width = max(len(r) for r in rows)
    frame = pd.DataFrame([r + [None] * (width - len(r)) for r in rows])
    frame = frame.replace("", None)
    frame.to_excel(path, engine="odf", sheet_name="Реестр", header=False, index=False)


@pytest.mark.parametrize("suffix", [".xls", ".xlsm", ".ods"])
def test__clean__xls_xlsm_and_ods_are_read(tmp_path: Path, suffix: str) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    path = raw / f"Реестр{suffix}"
    if suffix == ".xls":
        _write_xls(path, REGISTRY_CELLS, {})
    elif suffix == ".ods":
        _write_ods(path, REGISTRY_CELLS)
    else:
        write_xlsx(path, {"Реестр": REGISTRY_CELLS})
    result = clean_folder(raw, tmp_path / "out")
    assert counts(result.report, path.name, "Реестр") == REGISTRY_COUNTS
    assert result.report["skipped_files"] == []


@pytest.mark.parametrize("suffix", [".xlsx", ".xls"])
def test__clean__excel_error_cells_become_cell_rejects(tmp_path: Path, suffix: str) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    rows = [list(r) for r in REGISTRY_CELLS]
    errors = {(3, 7): "#DIV/0!", (4, 7): "#REF!"}  # reach of the two clean rows (H4, H5)
    if suffix == ".xls":
        for r, c in errors:
            rows[r][c] = ""
        _write_xls(raw / "errors.xls", rows, errors)
    else:
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = "Реестр"
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value != "":
                    ws.cell(row=r, column=c, value=value)
        for (r, c), text in errors.items():
            cell = ws.cell(row=r + 1, column=c + 1, value=text)
            cell.data_type = "e"
        wb.save(raw / "errors.xlsx")
    result = clean_folder(raw, tmp_path / "out")
    assert counts(result.report, f"errors{suffix}", "Реестр") == REGISTRY_COUNTS
    rejects = pd.read_csv(tmp_path / "out" / "rejects.csv", keep_default_na=False)
    errors = rejects[rejects["value"].str.startswith("#")]
    assert sorted(
        zip(errors.source_row, errors.field, errors.value, errors.scope, strict=True)
    ) == [
        (4, "reach", "#DIV/0!", "cell"),
        (5, "reach", "#REF!", "cell"),
    ]
    pubs = pd.read_parquet(tmp_path / "out" / "publications.parquet")
    assert pubs["reach"].isna().all()


def test__clean__hidden_sheets_are_read_and_flagged(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    write_xlsx(raw / "book.xlsx", {"Видимый": REGISTRY_CELLS, "Скрытый": REGISTRY_CELLS})
    wb = openpyxl.load_workbook(raw / "book.xlsx")
    wb["Скрытый"].sheet_state = "hidden"
    wb.save(raw / "book.xlsx")
    result = clean_folder(raw, tmp_path / "out")
    sheets = {s["sheet"]: s for s in result.report["sheets"]}
    assert sheets["Скрытый"].get("hidden") is True and "hidden" not in sheets["Видимый"]
    assert counts(result.report, "book.xlsx", "Скрытый")["rows_read"] == 8
    assert result.report["hidden_sheets"] == [{"file": "book.xlsx", "sheet": "Скрытый"}]
    assert "hidden sheet (read): book.xlsx [sheet Скрытый]" in result.summary_text()


# --------------------------------------------------------------------------- limits

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Лист1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)
_SHEET = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<dimension ref="{ref}"/><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row>'
    "</sheetData></worksheet>"
)


def write_bomb_xlsx(path: Path, string_bytes: int, dimension: str = "A1") -> None:
    """A workbook whose one shared string is ``string_bytes`` of the same letter
    (small on disk, huge inflated), written part by part as Excel lays it out."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _ROOT_RELS)
        zf.writestr("xl/workbook.xml", _WORKBOOK)
        zf.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        zf.writestr("xl/worksheets/sheet1.xml", _SHEET.format(ref=dimension))
        with zf.open("xl/sharedStrings.xml", "w", force_zip64=True) as f:
            f.write(
                b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.'
                b'openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>'
            )
            block = b"a" * (1 << 20)
            for _ in range(string_bytes // len(block)):
                f.write(block)
            f.write(b"</t></si></sst>")


@pytest.mark.slow
def test__clean__zip_bomb_is_refused_in_one_line_and_the_rest_cleaned(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    write_bomb_xlsx(raw / "bomb.xlsx", 300 << 20)
    assert (raw / "bomb.xlsx").stat().st_size < 2 << 20  # small on disk
    assert MAX_SHARED_STRINGS_BYTES < 300 << 20
    (raw / "Реестр.csv").write_text(registry_text(), encoding="utf-8")
    # a hang fails the test by its timeout; a refusal takes well under a second
    done = subprocess.run(
        [*CLI, "clean", "--raw", str(raw), "--processed", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    [line] = [x for x in done.stdout.splitlines() if "bomb.xlsx" in x]
    assert "MAX_SHARED_STRINGS_BYTES" in line and "256 MiB" in line
    report = json.loads((tmp_path / "out" / CLEANING_REPORT_FILE).read_text("utf-8"))
    assert report["files"]["bomb.xlsx"]["status"] == "unreadable"
    assert counts(report, "Реестр.csv") == REGISTRY_COUNTS


def test__clean__sheet_beyond_the_cell_budget_is_refused_by_its_dimension(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    write_bomb_xlsx(raw / "wide.xlsx", 0, dimension="A1:XFD1048576")
    (raw / "Реестр.csv").write_text(registry_text(), encoding="utf-8")
    result = clean_folder(raw, tmp_path / "out")
    [sheet] = [s for s in result.report["sheets"] if s["file"] == "wide.xlsx"]
    assert sheet["status"] == "failed" and "MAX_SHEET_CELLS" in sheet["message"]
    [line] = [x for x in result.summary_text().splitlines() if "wide.xlsx" in x]
    assert line.strip().startswith("not read: wide.xlsx [sheet Лист1]") and "20,000,000" in line
    assert counts(result.report, "Реестр.csv") == REGISTRY_COUNTS


def test__clean__link_loops_and_unreadable_entries_are_named(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    (raw / "sub").mkdir(parents=True)
    (raw / "Реестр.csv").write_text(registry_text(), encoding="utf-8")
    (raw / "sub" / "up").symlink_to("..", target_is_directory=True)  # a folder loop
    (raw / "self.csv").symlink_to("self.csv")  # a link to itself
    (raw / "gone.xlsx").symlink_to("nowhere.xlsx")  # dangling
    os.mkfifo(raw / "pipe.csv")  # would block a reader forever
    result = clean_folder(raw, tmp_path / "out")
    reasons = {u["file"]: u["reason"] for u in result.report["unreadable_files"]}
    assert set(reasons) == {"sub/up", "self.csv", "gone.xlsx", "pipe.csv"}
    assert "loop" in reasons["sub/up"] and "loop" in reasons["self.csv"]
    assert "broken symbolic link" in reasons["gone.xlsx"]
    assert "FIFO" in reasons["pipe.csv"]
    assert counts(result.report, "Реестр.csv") == REGISTRY_COUNTS
    text = result.summary_text()
    assert all(f"unreadable: {name}" in text for name in reasons)


# --------------------------------------------------------------------------- media plan


@pytest.mark.parametrize(
    ("plan_header", "fact_header"),
    [
        ("I кв. 2016 план", "I кв. 2016 факт"),
        ("1 кв 2016 (план)", "1 кв 2016 (факт)"),
        ("План I кв. 2016", "Факт I кв. 2016"),
    ],
)
def test__clean__media_plan_period_and_word_in_one_cell_are_never_added(
    tmp_path: Path, plan_header: str, fact_header: str
) -> None:
    raw = tmp_path / "raw"
    write_xlsx(
        raw / "plan.xlsx",
        {
            "Медиаплан": [
                ["Медиаплан на 2016 год"],
                ["Район", "Вид СМИ", plan_header, fact_header],
                ["Аягоз", "газета", 30, 12],
                ["Аягоз", "телевидение", 9, 21],
            ]
        },
    )
    result = clean_folder(raw, tmp_path / "out")
    plan = result.tables["media_plan"]
    quarter = plan.groupby("channel")[["planned", "actual_reported"]].sum()
    # the cleaned plan is the plan column exactly, the fact the fact column: never their sum
    assert quarter.loc["print"].tolist() == pytest.approx([30.0, 12.0])
    assert quarter.loc["tv"].tolist() == pytest.approx([9.0, 21.0])
    assert sorted(plan["month"].dt.month.unique()) == [1, 2, 3]
    assert counts(result.report, "plan.xlsx", "Медиаплан")["rows_clean"] == 2


# --------------------------------------------------------------------------- formula cells


def test__every_csv_the_package_writes_neutralises_formula_cells(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    lines = list(REGISTRY_LINES)
    lines[5] = "3;15.03.2016;=HYPERLINK(1);газета;X;T;;;;"  # a district that is a formula
    lines[6] = "4;15.03.2016;Аягоз;газета;Аягоз жаршысы;О легализации;a.kz/1/;@SUM(1);\tнем;"
    lines.append("5;15.03.2016;-2+3;газета;X;T;;;;")
    lines.append("6;15.03.2016;+7;газета;X;T;;;;")
    (raw / "Реестр.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    clean_folder(raw, out)
    from coverage_analysis.report.export import write_csv as report_csv
    from coverage_analysis.report.runner import RATING_CSV

    report_csv(
        pd.DataFrame({"district": ["=cmd|' /C calc'!A0", "ok"], "n": [1, -2]}),
        tmp_path / RATING_CSV,
    )
    written = [out / "rejects.csv", out / "duplicates.csv", tmp_path / RATING_CSV]
    formula_cells = 0
    for path in written:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        for value in frame.to_numpy().ravel():
            assert not value.startswith(FORMULA_PREFIXES) or _is_number(value), (path.name, value)
            formula_cells += value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES)
    assert formula_cells >= 5  # the formula cells are there, neutralised, not dropped


def _is_number(text: str) -> bool:
    """A number the writer wrote as a number (``-2``): not a formula."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def test__only_the_writers_module_calls_to_csv() -> None:
    src = Path(__file__).resolve().parents[1] / "src" / "coverage_analysis"
    callers = sorted(
        p.relative_to(src).as_posix()
        for p in src.rglob("*.py")
        if ".to_csv(" in p.read_text("utf-8")
    )
    assert callers == ["io/writers.py"]


# --------------------------------------------------------------------------- generation


def _clean_cli(raw: Path, out: Path, pause: str | None = None) -> subprocess.Popen:
    env = {**os.environ}
    if pause:
        env[gen.PAUSE_ENV] = pause
    return subprocess.Popen(
        [*CLI, "clean", "--raw", str(raw), "--processed", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _files_generations(out: Path) -> set[str | None]:
    found = {gen.folder_generation(out)}
    for name in TABLE_FILES.values():
        if (out / name).is_file():
            found.add(gen.parquet_generation(out / name))
    return found


@pytest.mark.slow
@pytest.mark.parametrize("step", ["staged", "renamed", "linked", "switched"])
def test__clean_killed_during_the_switch_leaves_one_whole_generation(
    tmp_path: Path, step: str
) -> None:
    first, second, out = tmp_path / "first", tmp_path / "second", tmp_path / "out"
    first.mkdir()
    (first / "Реестр.csv").write_text(registry_text(), encoding="utf-8")
    old = clean_folder(first, out).report["generation"]
    shutil.copytree(first, second)
    write_xlsx(
        second / "plan.xlsx",
        {"Медиаплан": [["Район", "Вид СМИ", "I кв. 2016 план"], ["Аягоз", "газета", 3]]},
    )
    proc = _clean_cli(second, out, pause=step)
    try:
        line = proc.stderr.readline()  # the run says where it stopped, then waits
        assert line.strip() == f"paused at {step}", line
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    generations = _files_generations(out)
    assert len(generations) == 1, generations  # never tables of two runs side by side
    [now] = generations
    tables = load_tables(out)  # the folder passes its own consistency check
    assert tables.generation == now
    if step == "switched":
        assert now != old and tables.media_plan is not None
    else:
        assert now == old and tables.media_plan is None
    # the next run sweeps what the killed one left
    clean_folder(first, out)
    left = sorted(p.name for p in out.iterdir() if p.name.startswith("."))
    assert len([n for n in left if n.startswith(gen.GEN_PREFIX)]) == 1
    assert left == sorted([gen.CURRENT_LINK, *[n for n in left if n.startswith(gen.GEN_PREFIX)]])
    assert not (out / TABLE_FILES["media_plan"]).exists()


@pytest.mark.slow
def test__panel_model_and_report_refuse_files_of_two_runs(tmp_path: Path) -> None:
    raw, out, other = tmp_path / "raw", tmp_path / "out", tmp_path / "other"
    raw.mkdir()
    (raw / "Реестр.csv").write_text(registry_text(), encoding="utf-8")
    clean_folder(raw, other)
    clean_folder(raw, out)
    name = TABLE_FILES["publications"]
    (out / name).unlink()
    shutil.copy(other / name, out / name)  # a table of another run, copied in by hand
    for command in (["panel"], ["model"], ["report", "--out", str(tmp_path / "rep")]):
        done = subprocess.run(
            [*CLI, *command, "--processed", str(out)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode != 0
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "different runs" in lines[0], done.stderr
        assert "Traceback" not in done.stderr


def test__panel_records_its_generation_and_a_stale_panel_is_refused(tmp_path: Path) -> None:
    from coverage_analysis.errors import CoverageAnalysisError
    from coverage_analysis.models.summary import load_panel
    from coverage_analysis.panel import PANEL_FILE, write_panel

    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    (raw / "Реестр.csv").write_text(registry_text(), encoding="utf-8")
    first = clean_folder(raw, out).report["generation"]
    write_panel(out)
    assert gen.parquet_generation(out / PANEL_FILE) == first
    assert len(load_panel(out))
    time.sleep(0.01)
    clean_folder(raw, out)  # new tables: the panel on disk is now stale
    with pytest.raises(CoverageAnalysisError, match="run `coverage-analysis panel`"):
        load_panel(out)


def test__a_copied_folder_of_plain_files_is_adopted_and_switched(tmp_path: Path) -> None:
    raw, out, copy = tmp_path / "raw", tmp_path / "out", tmp_path / "copy"
    raw.mkdir()
    (raw / "Реестр.csv").write_text(registry_text(), encoding="utf-8")
    first = clean_folder(raw, out).report["generation"]
    shutil.copytree(out, copy)  # links resolved: plain files, as an older version wrote them
    assert not (copy / TABLE_FILES["publications"]).is_symlink()
    assert load_tables(copy).generation == first
    second = clean_folder(raw, copy).report["generation"]
    assert (copy / TABLE_FILES["publications"]).is_symlink()
    assert load_tables(copy).generation == second != first
    assert load_tables(out).generation == first  # the original is untouched
