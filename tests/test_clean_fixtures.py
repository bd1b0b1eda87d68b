"""Hand-made raw files for the cleaning tests (written into tmp_path by each test)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl


def write_csv(path: Path, lines: list[str], encoding: str = "utf-8", delimiter: str = ";") -> Path:
    """Write ``lines`` (cells separated by ';') as a CSV in ``encoding`` with ``delimiter``."""
    text = "\n".join(line.replace(";", delimiter) for line in lines) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def write_xlsx(
    path: Path, sheets: dict[str, list[list[object]]], merges: dict[str, list[str]] | None = None
) -> Path:
    """Write a workbook: sheet name -> rows (row 1 first); merges: sheet -> ['A1:C1', ...]."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None and value != "":
                    ws.cell(row=r, column=c, value=value)
        for rng in (merges or {}).get(name, []):
            ws.merge_cells(rng)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


REGISTRY_LINES = [
    "Реестр публикаций по освещению легализации Аягозского района за I квартал 2016 г.",
    "",
    "№ п/п;Дата публикации;Район;Вид СМИ;Наименование СМИ;Заголовок;Ссылка;Охват;Язык;Формат",
    "1;15.03.2016;Аягозский район;газета;Аягоз жаршысы;О легализации;http://a.kz/1;1 500;рус;новость",
    "2;03.2016;Аягоз;ТВ;;Сюжет;;1,5 тыс.;каз;",
    "3;15.03.2016;Аякоз;газета;X;T;;;;",
    "4;15.03.2016;Аягоз;газета;Аягоз жаршысы;О легализации;a.kz/1/;abc;нем;",
    ";;;;;;;;;",
    "5;15.03.2013;Аягоз;газета;Y;Z;;;;",
    ";Итого;;;;;;;;",
    "Исп. Петров;;;;;;;;;",
]
#: Outcome of each line of REGISTRY_LINES below the header (lines 4..12).
REGISTRY_COUNTS = {
    "rows_read": 8,
    "rows_clean": 2,
    "rows_rejected": 2,
    "rows_duplicate": 1,
    "rows_summary": 2,
    "rows_blank": 1,
    "rows_out_of_scope": 0,
}

DATE = dt.datetime
