"""Registries cleaned piece by piece (``RawSheet.pieces``) give exactly the outputs of
the same file cleaned at once: the same tables, the same ``rejects.csv`` and
``duplicates.csv`` byte for byte, the same ledger balance. The piece size is made
small here (a few kilobytes) so that a small real CSV is cut into many pieces."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coverage_analysis.clean import clean_folder
from coverage_analysis.io import readers

HEADER = "№ п/п;Дата публикации;Район;Вид СМИ;Наименование СМИ;Заголовок;Ссылка;Охват;Язык;Формат"
#: Cells the rows are drawn from: good values, spellings to normalise, bad ones.
DATES = ["15.03.2016", "2015-07-01", "03.2016", "1 марта 2016", "31.02.2016", "", "01.01.2013"]
DISTRICTS = ["Аягозский район", "г. Семей", "Неизвестный район", "", "УК", "Зыряновский район"]
CHANNELS = ["газета", "ТВ", "сайт акимата", "", "голубиная почта"]
REACH = ["1 500", "1,2 млн", "много", "", "-"]
#: Size of a piece in these tests (bytes): the files below are cut into several.
SMALL_PIECE = 4096


def registry_lines(n: int, seed: int = 7) -> list[str]:
    """``n`` registry rows with every outcome: clean, rejected, duplicate, blank, summary."""
    rng = np.random.default_rng(seed)
    pick = lambda values: values[int(rng.integers(0, len(values)))]  # noqa: E731
    lines = []
    for i in range(n):
        r = rng.random()
        if r < 0.03:
            lines.append(";;;;;;;;;")
            continue
        if r < 0.04:
            lines.append(f"{i + 1};;;;;;;;;")  # a row number alone is a blank row
            continue
        if r < 0.05:
            lines.append("Итого;;;;;;;;;")
            continue
        url = f"https://news.kz/{i if rng.random() > 0.1 else 0}"
        lines.append(
            f"{i + 1};{pick(DATES)};{pick(DISTRICTS)};{pick(CHANNELS)};Издание {i % 7};"
            f'"Материал {i % 50}; о легализации";{url};{pick(REACH)};рус;новость'
        )
    return lines


def clean_both(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    data: bytes,
    skip: int = 3,
    width: int = 10,
    piece: int = SMALL_PIECE,
) -> tuple[Path, Path, int]:
    """Clean ``data`` (one CSV) at once and in small pieces; the two processed folders
    and the number of pieces the reader gives (below ``skip`` lines, ``width`` columns)."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "registry.csv").write_bytes(data)
    whole = tmp_path / "whole"
    clean_folder(raw, whole)
    monkeypatch.setattr(readers, "STREAM_BYTES", piece)
    [sheet] = readers.read_csv_sheets(raw / "registry.csv", "registry.csv")
    pieces = sum(1 for p in sheet.pieces(skip, width))  # (a restart counts too)
    cut = tmp_path / "pieces"
    clean_folder(raw, cut)
    return whole, cut, pieces


def assert_same_outputs(a: Path, b: Path) -> dict:
    for name in ("publications.parquet", "registry_coverage.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(a / name), pd.read_parquet(b / name))
    for name in ("rejects.csv", "duplicates.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    ra, rb = (json.loads((p / "cleaning_report.json").read_text()) for p in (a, b))
    assert ra["sheets"] == rb["sheets"]
    assert ra["totals"] == rb["totals"]
    return rb


def test__clean__registry_in_pieces_same_outputs_as_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = ["Реестр публикаций", "", HEADER, *registry_lines(600), "", "Исп. Иванова;;;;;;;;;"]
    text = "\n".join(lines) + "\n\n\n"  # blank lines at the end are not rows of the sheet
    whole, cut, pieces = clean_both(tmp_path, monkeypatch, text.encode("utf-8"))
    assert pieces > 5
    report = assert_same_outputs(whole, cut)
    t = report["totals"]
    assert t["rows_read"] == 600 + 2  # the rows, a blank line and the footer
    assert t["rows_read"] == sum(
        t[k] for k in t if k.startswith("rows_") and k != "rows_read"
    )  # the ledger balances
    assert min(t["rows_clean"], t["rows_rejected"], t["rows_duplicate"], t["rows_blank"]) > 0


def test__clean__unbalanced_quote_in_a_later_piece_rejected_as_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = registry_lines(300, seed=3)
    rows[250] = '251;15.03.2016;г. Семей;ТВ;Издание;"Заголовок без конца;x;1;рус;новость'
    text = "\n".join(["Реестр", "", HEADER, *rows]) + "\n"
    whole, cut, pieces = clean_both(tmp_path, monkeypatch, text.encode("cp1251"))
    assert pieces > 2
    assert_same_outputs(whole, cut)
    rejects = pd.read_csv(cut / "rejects.csv", dtype=str)
    [bad] = rejects[rejects["reason"].str.startswith("unbalanced quote")].itertuples()
    assert (bad.source_file, bad.source_row) == ("registry.csv", str(254))
    assert bad.value.startswith('251;15.03.2016;г. Семей;ТВ;Издание;"Заголовок без конца')


def test__clean__pieces_start_over_when_a_later_piece_is_not_utf8(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ASCII for the first megabyte (decided UTF-8 on the head), windows-1251 below it
    header = "date;district;channel;outlet;title;link;reach;language;format"
    filler = [
        f"15.03.2016;Ayagoz;TV;X;T {i};u{i};1;ru;news" for i in range(readers.HEAD_BYTES // 35 + 10)
    ]
    tail = ["16.03.2016;г. Семей;ТВ;Издание;Заголовок;https://a.kz/z;1 500;рус;новость"]
    data = ("\n".join(["Registry", header, *filler, *tail]) + "\n").encode("cp1251")
    whole, cut, pieces = clean_both(tmp_path, monkeypatch, data, skip=2, width=9, piece=1 << 18)
    assert pieces > 2
    report = assert_same_outputs(whole, cut)
    assert report["files"]["registry.csv"]["encoding"] == "cp1251"
    pubs = pd.read_parquet(cut / "publications.parquet")
    assert "semey" in set(pubs["district_id"])
