"""Readers of raw spreadsheets: every sheet of an ``.xlsx``, every ``.csv``.

A reader returns :class:`RawSheet` objects: the cells of the top of the sheet
(for header detection, as plain Python values) and a way to take the rows
below the header as a frame of positional columns. Nothing is interpreted
here: Excel date cells and serial numbers are passed through as they are,
CSV cells are strings.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "a.csv"
>>> _ = p.write_bytes("Реестр\\nДата;Район\\n01.03.2016;Аягоз\\n".encode("cp1251"))
>>> [s] = read_csv_sheets(p, "a.csv")
>>> s.encoding, s.delimiter, s.top[1]
('cp1251', ';', ['Дата', 'Район'])
>>> frame, rows = s.data(2)
>>> frame.iloc[0].tolist(), rows.tolist()
(['01.03.2016', 'Аягоз'], [3])
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from coverage_analysis.errors import InputFileError

log = logging.getLogger(__name__)

#: Rows at the top of a sheet searched for the header (titles, blank lines, header rows).
HEADER_SCAN_ROWS = 40
#: Bytes looked at to tell a text file from a binary one.
SNIFF_BYTES = 4096
#: Bytes at the head of a CSV on which its encoding and delimiter are decided.
HEAD_BYTES = 1 << 20
#: Rows looked at per step when trimming blank rows at the end of a sheet.
TAIL_BLOCK = 1024
#: Candidate CSV delimiters, in order of preference on a tie.
CSV_DELIMITERS: tuple[str, ...] = (";", ",", "\t")
#: Encodings tried, in order (a BOM selects UTF-8 directly).
CSV_ENCODINGS: tuple[str, ...] = ("utf-8", "cp1251")
#: Control bytes that never occur in a text CSV (NUL and the like).
_BINARY_BYTES = bytes(range(0, 9)) + bytes(range(14, 32))

#: A merged range: first row, first column, last row, last column (0-based, inclusive).
MergedRange = tuple[int, int, int, int]


@dataclass
class RawSheet:
    """One sheet (or one CSV file) as read, before any interpretation.

    ``top`` holds the first :data:`HEADER_SCAN_ROWS` rows (row ``i`` is the
    person-visible row ``i + 1``); ``data(n)`` returns the rows after the first
    ``n`` rows as a frame with positional column labels ``0..width-1`` and the
    1-based row numbers of those rows.
    """

    file: str
    sheet: str
    top: list[list[object]]
    merged: list[MergedRange] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None
    _data: Callable[[int, int], tuple[pd.DataFrame, np.ndarray]] | None = None

    def data(self, skip: int, width: int | None = None) -> tuple[pd.DataFrame, np.ndarray]:
        """Rows below the first ``skip`` rows, up to the last non-empty one."""
        if self._data is None:
            return pd.DataFrame(), np.array([], dtype=np.int64)
        if width is None:
            width = max((len(r) for r in self.top), default=0)
        return self._data(skip, width)


def _trim_trailing_blank(frame: pd.DataFrame, rows: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Drop blank rows after the last non-empty one."""
    end = len(frame)
    n = 0
    while end > 0:  # look at the tail only, a block at a time
        start = max(0, end - TAIL_BLOCK)
        chunk = frame.iloc[start:end]
        filled = np.zeros(len(chunk), dtype=bool)
        for col in chunk.columns:
            filled |= is_filled(chunk[col]).to_numpy()
        if filled.any():
            n = start + int(np.flatnonzero(filled)[-1]) + 1
            break
        end = start
    if n == len(frame):
        return frame, rows
    return frame.iloc[:n].reset_index(drop=True), rows[:n]


def is_filled(values: pd.Series) -> pd.Series:
    """True where a cell holds something (not None/NaN, not only whitespace).

    >>> is_filled(pd.Series(["a", "", "  ", None, 0.0])).tolist()
    [True, False, False, False, True]
    """
    if isinstance(values.dtype, pd.StringDtype) and hasattr(values.array, "_pa_array"):
        import pyarrow.compute as pc

        arr = values.array._pa_array
        # non-empty and not only whitespace (utf8_is_space: every character is a space)
        # (byte length: read from the offsets, where a character count scans the text)
        filled = pc.fill_null(
            pc.and_(pc.greater(pc.binary_length(arr), 0), pc.invert(pc.utf8_is_space(arr))), False
        )
        return pd.Series(filled.to_numpy(zero_copy_only=False), index=values.index)
    if isinstance(values.dtype, pd.StringDtype):
        return (values.str.strip().str.len() > 0).fillna(False).astype(bool)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    ok = np.array([_cell_filled(u) for u in uniques] + [False], dtype=bool)
    return pd.Series(ok[codes], index=values.index)


def _cell_filled(value: object) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and np.isnan(value):
        return False
    return not (isinstance(value, str) and not value.strip())


# --------------------------------------------------------------------------- xlsx


def read_xlsx_sheets(path: Path, rel: str) -> list[RawSheet]:
    """Every sheet of a workbook, read with python-calamine (values and merged ranges).

    Raises :class:`InputFileError` when the file is not a readable workbook.
    """
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        names = list(workbook.sheet_names)
    except Exception as exc:  # calamine raises several unrelated types on corrupt files
        raise InputFileError(
            rel, f"not a readable xlsx workbook ({type(exc).__name__}: {exc})"
        ) from None
    sheets: list[RawSheet] = []
    for name in names:
        try:
            sheet = workbook.get_sheet_by_name(name)
            grid = sheet.to_python(skip_empty_area=False)
            merged = [(a[0], a[1], b[0], b[1]) for a, b in (sheet.merged_cell_ranges or [])]
        except Exception as exc:
            raise InputFileError(
                rel, f"cannot read sheet ({type(exc).__name__}: {exc})", sheet=name
            ) from None
        sheets.append(_grid_sheet(rel, name, grid, merged))
    return sheets


def _grid_sheet(
    rel: str, name: str, grid: list[list[object]], merged: list[MergedRange]
) -> RawSheet:
    def data(skip: int, width: int) -> tuple[pd.DataFrame, np.ndarray]:
        body = grid[skip:]
        if not body:
            return pd.DataFrame(columns=range(width)), np.array([], dtype=np.int64)
        frame = pd.DataFrame(body, dtype=object)
        frame.columns = range(frame.shape[1])
        rows = np.arange(skip + 1, skip + 1 + len(frame), dtype=np.int64)
        return _trim_trailing_blank(frame, rows)

    return RawSheet(rel, name, [list(r) for r in grid[:HEADER_SCAN_ROWS]], merged, _data=data)


# --------------------------------------------------------------------------- csv


def decode_csv_bytes(raw: bytes, rel: str) -> tuple[str, str]:
    """The text of a CSV file and the encoding it was in.

    >>> decode_csv_bytes("Дата".encode("utf-8-sig"), "x.csv")
    ('Дата', 'utf-8-sig')
    >>> decode_csv_bytes("Дата".encode("cp1251"), "x.csv")[1]
    'cp1251'
    """
    head = raw[:SNIFF_BYTES]
    if any(b in _BINARY_BYTES for b in head):
        raise InputFileError(rel, "binary content, not a text CSV")
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    for enc in CSV_ENCODINGS:
        try:
            return raw.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise InputFileError(rel, "text in none of UTF-8, UTF-8 with BOM, Windows-1251")


def _parse_lines(lines: list[str], delimiter: str) -> list[list[object]]:
    return [list(r) for r in csv.reader(io.StringIO("".join(lines)), delimiter=delimiter)]


def read_csv_sheets(
    path: Path,
    rel: str,
    choose_delimiter: Callable[[dict[str, list[list[object]]]], str] | None = None,
) -> list[RawSheet]:
    """A CSV file as one :class:`RawSheet` (sheet name ``""``).

    The encoding is detected among UTF-8, UTF-8 with BOM and Windows-1251; the
    delimiter among ``;`` ``,`` tab by ``choose_delimiter`` (given the top rows
    parsed with each candidate; default: the one giving the widest consistent
    rows).
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputFileError(rel, f"cannot read file: {exc}") from None
    if not raw[:SNIFF_BYTES].strip() and not raw.strip():
        raise InputFileError(rel, "empty file")
    head = raw
    if len(raw) > HEAD_BYTES:  # detect on the head; the body is checked when it is read
        head = raw[: raw.rfind(b"\n", 0, HEAD_BYTES) + 1] or raw[:HEAD_BYTES]
    text, encoding = decode_csv_bytes(head, rel)
    head_lines = text.splitlines(keepends=True)[: HEADER_SCAN_ROWS * 2]
    candidates = {d: _parse_lines(head_lines, d)[:HEADER_SCAN_ROWS] for d in CSV_DELIMITERS}
    delimiter = (choose_delimiter or default_delimiter)(candidates)
    top = candidates[delimiter]
    sheet = RawSheet(rel, "", top, [], encoding, delimiter)

    def data(skip: int, width: int) -> tuple[pd.DataFrame, np.ndarray]:
        if sheet.encoding == "cp1251":
            utf8 = raw.decode("cp1251").encode("utf-8")
        else:
            utf8 = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
        try:
            return _csv_body(utf8, delimiter, skip, width, rel)
        except UnicodeDecodeError:
            # the head was UTF-8 but the body is not: decide on the whole file
            text, sheet.encoding = decode_csv_bytes(raw, rel)
            log.info("%s: encoding is %s (not UTF-8 below the first lines)", rel, sheet.encoding)
            return _csv_body(text.encode("utf-8"), delimiter, skip, width, rel)

    sheet._data = data
    return [sheet]


def default_delimiter(candidates: dict[str, list[list[object]]]) -> str:
    """The delimiter whose parse gives the most rows of the modal width > 1.

    >>> default_delimiter({";": [["a", "b"], ["1", "2"]], ",": [["a;b"], ["1;2"]], "\\t": [["a;b"]]})
    ';'
    """
    best, best_score = CSV_DELIMITERS[0], -1
    for d, rows in candidates.items():
        widths = [len(r) for r in rows if len(r) > 1]
        if not widths:
            continue
        modal = max(set(widths), key=widths.count)
        score = widths.count(modal) * modal
        if score > best_score:
            best, best_score = d, score
    return best


def _skip_lines_offset(data: bytes, skip_records: int, delimiter: str) -> tuple[int, int]:
    """Byte offset and 1-based line number after ``skip_records`` CSV records."""
    text_head = data[: max(SNIFF_BYTES * 64, 1)].decode("utf-8", errors="ignore")
    reader = csv.reader(io.StringIO(text_head), delimiter=delimiter)
    for _ in range(skip_records):
        try:
            next(reader)
        except StopIteration:
            break
    lines = reader.line_num
    offset = 0
    for _ in range(lines):
        nxt = data.find(b"\n", offset)
        if nxt < 0:
            return len(data), lines
        offset = nxt + 1
    return offset, lines


def _csv_body(
    data: bytes, delimiter: str, skip: int, width: int, rel: str
) -> tuple[pd.DataFrame, np.ndarray]:
    offset, lines_before = _skip_lines_offset(data, skip, delimiter)
    body = memoryview(data)[offset:]  # no copy of the file's bytes
    width = max(width, 1)
    frame = _csv_body_fast(body, delimiter, width)
    if frame is not None:
        rows = np.arange(lines_before + 1, lines_before + 1 + len(frame), dtype=np.int64)
    else:
        log.debug("%s: irregular CSV rows, reading line by line", rel)
        frame, rows = _csv_body_slow(str(body, "utf-8"), delimiter, width, lines_before)
    return _trim_trailing_blank(frame, rows)


def _only_space(body: memoryview) -> bool:
    """Whether ``body`` holds nothing but whitespace (the head decides most files)."""
    return not bytes(body[:SNIFF_BYTES]).strip() and not bytes(body).strip()


def _csv_body_fast(body: memoryview, delimiter: str, width: int) -> pd.DataFrame | None:
    """pyarrow's multithreaded reader; None when a row is irregular (then the slow path)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = [str(i) for i in range(width)]
    bad: list[int] = []

    def on_bad(_row: object) -> str:
        bad.append(1)
        return "skip"

    if _only_space(body):
        return pd.DataFrame({i: pd.Series([], dtype=object) for i in range(width)})
    try:
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(body)),
            read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, ignore_empty_lines=False, invalid_row_handler=on_bad
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.large_string()),  # pandas' own type
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        if "utf8" in str(exc).lower() or "utf-8" in str(exc).lower():
            str(body, "utf-8")  # raises UnicodeDecodeError: the caller re-decides the encoding
        return None
    if bad:
        return None
    dtype = pd.StringDtype("pyarrow")
    frame = pd.DataFrame(
        {i: pd.arrays.ArrowStringArray(table.column(i)) for i in range(width)},
        columns=range(width),
        copy=False,
    )
    if not all(frame[i].dtype == dtype for i in range(width)):
        frame = table.to_pandas(types_mapper={pa.large_string(): dtype}.get)
        frame.columns = range(width)
    if width == 1 and bytes(body[-2:]) == b"\n\n":
        return None  # pyarrow and csv disagree on trailing empty lines of one-column files
    return frame


def _csv_body_slow(
    text: str, delimiter: str, width: int, lines_before: int
) -> tuple[pd.DataFrame, np.ndarray]:
    records: list[list[str]] = []
    rows: list[int] = []
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    last_line = 0
    for rec in reader:
        rows.append(lines_before + last_line + 1)
        last_line = reader.line_num
        records.append(rec)
    wide = max([width, *(len(r) for r in records)])
    padded = [r + [""] * (wide - len(r)) for r in records]
    frame = (
        pd.DataFrame(padded, columns=range(wide), dtype=object)
        if padded
        else pd.DataFrame(columns=range(wide))
    )
    return frame, np.asarray(rows, dtype=np.int64)


def read_sheets(path: Path, rel: str) -> list[RawSheet]:
    """Sheets of a raw file by extension (``.xlsx`` or ``.csv``)."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        if path.stat().st_size == 0:
            raise InputFileError(rel, "empty file")
        return read_xlsx_sheets(path, rel)
    if suffix == ".csv":
        return read_csv_sheets(path, rel)
    raise InputFileError(rel, "not a spreadsheet")
