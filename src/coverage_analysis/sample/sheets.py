"""Sheets as lines with a known outcome, and byte-deterministic writers.

A :class:`Sheet` holds title lines, header rows and data rows; each data row
knows what a correct cleaner must make of it (``clean``, ``rejected``,
``duplicate``, ``summary``, ``blank``; publication and statistics rows start as
``data`` and are resolved in file order by :mod:`coverage_analysis.sample.truth`).

>>> s = Sheet("Лист1", "publications", top=[["Реестр"], []], header=[["Дата"]])
>>> s.add([["01.03.2016"]][0]).number
4
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils import get_column_letter

#: Timestamp stamped into every workbook and zip entry (determinism).
FIXED_TIME = dt.datetime(2016, 4, 1, 9, 0, 0)
#: Column width used in every written sheet.
COLUMN_WIDTH = 18

#: Row outcomes (as clean/common.py OUTCOMES).
OUTCOMES = ("clean", "rejected", "duplicate", "summary", "blank", "out_of_scope")


@dataclass
class Row:
    """One line below the header."""

    cells: list[Any]
    outcome: str = "data"
    payload: Any = None
    ledger: list[dict[str, Any]] = field(default_factory=list)
    number: int = 0  # 1-based line/row number, set by Sheet.add


@dataclass
class Sheet:
    """One sheet (or a whole csv file)."""

    name: str
    kind: str
    top: list[list[Any]] = field(default_factory=list)
    header: list[list[Any]] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)
    period: tuple[Any, Any] | None = None  # first and last month named in title/file name
    named_district: str | None = None
    sheet_ledger: list[dict[str, Any]] = field(default_factory=list)  # column-scope rejects

    @property
    def first_row(self) -> int:
        return len(self.top) + len(self.header) + 1

    def add(self, cells: list[Any], outcome: str = "data", payload: Any = None, **kw: Any) -> Row:
        row = Row(cells=list(cells), outcome=outcome, payload=payload, **kw)
        row.number = self.first_row + len(self.rows)
        self.rows.append(row)
        return row

    def blank(self, width: int, number: object = None) -> Row:
        cells: list[Any] = [""] * width
        if number is not None and width:
            cells[0] = number
        return self.add(cells, outcome="blank")

    def counts(self) -> dict[str, int]:
        out = {f"rows_{o}": 0 for o in OUTCOMES}
        for r in self.rows:
            if r.outcome not in OUTCOMES:
                raise RuntimeError(f"row {r.number} of {self.name} unresolved: {r.outcome}")
            out[f"rows_{r.outcome}"] += 1
        out["rows_read"] = len(self.rows)
        return out

    def lines(self) -> list[list[Any]]:
        return [*self.top, *self.header, *(r.cells for r in self.rows)]


@dataclass
class FileSpec:
    """One raw file: an xlsx workbook or a csv."""

    path: str  # posix, relative to the raw folder
    sheets: list[Sheet]
    encoding: str | None = None  # csv only
    delimiter: str | None = None  # csv only
    variants: set[str] = field(default_factory=set)

    @property
    def is_csv(self) -> bool:
        return self.path.endswith(".csv")


def _xlsx_bytes(spec: FileSpec) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for sheet in spec.sheets:
        ws = wb.create_sheet(sheet.name)
        width = 0
        for r, line in enumerate(sheet.lines(), start=1):
            width = max(width, len(line))
            for c, value in enumerate(line, start=1):
                if value is None or value == "":
                    continue
                cell = ws.cell(row=r, column=c, value=value)
                if isinstance(value, dt.datetime):
                    cell.number_format = "DD.MM.YYYY"
        for r1, c1, r2, c2 in sheet.merges:
            ws.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)
        for c in range(1, width + 1):
            ws.column_dimensions[get_column_letter(c)].width = COLUMN_WIDTH
    wb.properties.creator = "coverage-analysis sample"
    wb.properties.created = FIXED_TIME
    buf = io.BytesIO()
    wb.save(buf)
    return _freeze_zip(buf.getvalue())


_CORE_TIME = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def _freeze_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed entry timestamps and fixed core-property times."""
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = _CORE_TIME.sub(lambda m: m.group(1) + stamp + m.group(3), body)
            zi = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            dst.writestr(zi, body)
    return out.getvalue()


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _csv_bytes(spec: FileSpec) -> bytes:
    (sheet,) = spec.sheets
    lines = sheet.lines()
    width = max(len(line) for line in lines)
    buf = io.StringIO()
    terminator = "\r\n" if spec.encoding == "cp1251" else "\n"
    writer = csv.writer(buf, delimiter=spec.delimiter or ";", lineterminator=terminator)
    for line in lines:
        if not line:  # a truly empty line
            buf.write(terminator)
            continue
        cells = [_csv_text(v) for v in line] + [""] * (width - len(line))
        if any("\n" in c or "\r" in c for c in cells):
            raise RuntimeError(f"{spec.path}: a csv value holds a line break")
        writer.writerow(cells)
    text = buf.getvalue()
    encoding = spec.encoding or "utf-8"
    return text.encode(encoding)


def write_file(raw_dir: Path, spec: FileSpec) -> Path:
    """Write ``spec`` under ``raw_dir``; returns the path."""
    path = raw_dir / spec.path
    path.parent.mkdir(parents=True, exist_ok=True)
    data = _csv_bytes(spec) if spec.is_csv else _xlsx_bytes(spec)
    path.write_bytes(data)
    return path
