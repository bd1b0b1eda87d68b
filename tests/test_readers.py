"""Readers and header detection on real files written into tmp_path."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from test_clean_fixtures import write_csv, write_xlsx

from coverage_analysis.errors import InputFileError
from coverage_analysis.io.headers import HeaderVocabulary, detect_header
from coverage_analysis.io.readers import read_csv_sheets, read_sheets, read_xlsx_sheets
from coverage_analysis.io.writers import write_json, write_parquet

LINES = [
    "Реестр публикаций за I квартал 2016 г.",
    "",
    "№ п/п;Дата;Район;Вид СМИ;Охват",
    "1;15.03.2016;Аягоз;газета;1 500",
    "2;16.03.2016;г. Семей;ТВ;",
]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1251"])
@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test__read_csv__every_encoding_and_delimiter(
    tmp_path: Path, encoding: str, delimiter: str
) -> None:
    path = write_csv(tmp_path / "r.csv", LINES, encoding=encoding, delimiter=delimiter)
    [sheet] = read_csv_sheets(path, "r.csv")
    assert sheet.delimiter == delimiter
    assert sheet.encoding == encoding
    header = detect_header(sheet, HeaderVocabulary.load())
    assert header is not None
    assert header.rows == [2]
    assert header.names == ["№ п/п", "Дата", "Район", "Вид СМИ", "Охват"]
    assert header.title == "Реестр публикаций за I квартал 2016 г."
    frame, rows = sheet.data(header.data_start, len(header.names))
    assert rows.tolist() == [4, 5]
    assert frame[2].tolist() == ["Аягоз", "г. Семей"]
    assert frame[4].tolist() == ["1 500", ""]


def test__read_csv__quoted_line_break_and_short_footer_keep_line_numbers(tmp_path: Path) -> None:
    text = 'Заголовок\n"Дата\nпубликации";Район;Вид СМИ\n01.03.2016;Аягоз;газета\n\n"02.03.2016";"Семей";ТВ\nИсп. Петров\n\n'
    path = tmp_path / "q.csv"
    path.write_text(text, encoding="utf-8")
    [sheet] = read_csv_sheets(path, "q.csv")
    header = detect_header(sheet, HeaderVocabulary.load())
    assert header is not None and header.names[0] == "Дата\nпубликации"
    frame, rows = sheet.data(header.data_start, 3)
    # lines as a person counts them: the header spans lines 2-3
    assert rows.tolist() == [4, 5, 6, 7]
    assert frame[0].tolist() == ["01.03.2016", "", "02.03.2016", "Исп. Петров"]


def test__read_xlsx__merged_two_row_header_and_raw_date_cells(tmp_path: Path) -> None:
    rows = [
        ["Сведения о легализации"],
        [],
        ["Район", "Сумма легализованного имущества", None, None],
        [None, "деньги", "недвижимость", "иное имущество"],
        ["Семей", dt.datetime(2016, 1, 1), 42450, "1 500"],
    ]
    path = write_xlsx(tmp_path / "m.xlsx", {"Лист1": rows}, merges={"Лист1": ["B3:D3", "A3:A4"]})
    [sheet] = read_xlsx_sheets(path, "m.xlsx")
    header = detect_header(sheet, HeaderVocabulary.load())
    assert header is not None
    assert header.rows == [2, 3]
    assert header.names == [
        "Район",
        "Сумма легализованного имущества | деньги",
        "Сумма легализованного имущества | недвижимость",
        "Сумма легализованного имущества | иное имущество",
    ]
    frame, numbers = sheet.data(header.data_start, 4)
    assert numbers.tolist() == [5]
    assert frame.iloc[0, 1] == dt.date(2016, 1, 1)  # a date cell, passed through raw to the parsers
    assert frame.iloc[0, 2] == 42450


def test__read_xlsx__every_sheet(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "s.xlsx", {"A": [["Район"]], "B": [["Дата"]], "C": []})
    assert [s.sheet for s in read_xlsx_sheets(path, "s.xlsx")] == ["A", "B", "C"]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.csv", b"", "empty file"),
        ("binary.csv", bytes(range(256)), "binary content"),
        ("broken.xlsx", b"PK\x03\x04 not a workbook", "not a readable xlsx"),
        ("empty.xlsx", b"", "empty file"),
    ],
)
def test__read_sheets__bad_files_raise_input_file_error(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputFileError) as info:
        read_sheets(path, name)
    assert name in str(info.value) and reason in str(info.value)


def test__detect_header__none_without_known_labels(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "u.csv", ["Фамилия;Имя", "Иванов;Иван"])
    [sheet] = read_csv_sheets(path, "u.csv")
    assert detect_header(sheet, HeaderVocabulary.load()) is None


def test__writers__atomic_leave_no_temporary_files(tmp_path: Path) -> None:
    import pandas as pd

    write_parquet(pd.DataFrame({"a": [1, 2]}), tmp_path / "t.parquet")
    write_json({"ключ": 1}, tmp_path / "r.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json", "t.parquet"]
    assert pd.read_parquet(tmp_path / "t.parquet")["a"].tolist() == [1, 2]
    assert "ключ" in (tmp_path / "r.json").read_text(encoding="utf-8")


def test__read_csv__encoding_re_decided_when_the_body_is_not_utf8(tmp_path: Path) -> None:
    from coverage_analysis.io import readers

    head = b"date;district\n"  # ASCII: the head alone reads as UTF-8
    filler = b"01.03.2016;Ayagoz\n" * (
        readers.HEAD_BYTES // 18 + 10
    )  # ASCII: UTF-8 and cp1251 alike
    tail = "02.03.2016;Аягоз\n".encode("cp1251")
    path = tmp_path / "mixed.csv"
    path.write_bytes(head + filler + tail)
    [sheet] = read_csv_sheets(path, "mixed.csv")
    frame, _ = sheet.data(1, 2)
    assert frame[1].iloc[-1] == "Аягоз"
    assert sheet.encoding == "cp1251"
