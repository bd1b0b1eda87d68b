"""Readers of raw spreadsheets: every sheet of a workbook, every ``.csv``.

A reader returns :class:`RawSheet` objects: the cells of the top of the sheet
(for header detection, as plain Python values) and a way to take the rows
below the header as a frame of positional columns. Nothing is interpreted
here: Excel date cells and serial numbers are passed through as they are,
CSV cells are strings. Why the CSV rules look as they do (encodings decided by
rules before any detector, line ends, quotes left open) and the workbook limits:
README, "Real files: formats, encodings, limits, the processed folder".

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
import re
import weakref
from collections.abc import Callable, Iterator
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
#: Control bytes that never occur in a text CSV (NUL and the like).
_BINARY_BYTES = bytes(range(0, 9)) + bytes(range(14, 32))

#: Bytes of CSV text parsed into one piece of rows (:meth:`RawSheet.pieces`): a longer
#: file is cut at line ends and cleaned piece by piece, so peak memory does not grow
#: with the file (a 1,000,000-row registry, about 200 MB, is still one piece).
STREAM_BYTES = 1 << 28

#: A merged range: first row, first column, last row, last column (0-based, inclusive).
MergedRange = tuple[int, int, int, int]
#: Rows of a sheet as read: positional columns and the 1-based row numbers.
Piece = tuple[pd.DataFrame, np.ndarray]


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
    encoding_rule: str | None = None
    #: The workbook marks the sheet hidden (it is read all the same, and flagged).
    hidden: bool = False
    #: Why the sheet is not read (beyond a size limit); None when it is read.
    problem: str | None = None
    #: Lines the reader rejected: 1-based line number -> (reason, raw text of the line).
    bad_lines: dict[int, tuple[str, str]] = field(default_factory=dict)
    _data: Callable[[int, int], tuple[pd.DataFrame, np.ndarray]] | None = None
    _pieces: Callable[[int, int], Iterator[Piece | None]] | None = None

    def data(self, skip: int, width: int | None = None) -> tuple[pd.DataFrame, np.ndarray]:
        """Rows below the first ``skip`` rows, up to the last non-empty one."""
        if self._data is None:
            return pd.DataFrame(), np.array([], dtype=np.int64)
        if width is None:
            width = max((len(r) for r in self.top), default=0)
        return self._data(skip, width)

    def pieces(self, skip: int, width: int | None = None) -> Iterator[Piece | None]:
        """The rows of :meth:`data`, in consecutive pieces of at most about
        :data:`STREAM_BYTES` of CSV text each (one piece for a workbook or a smaller CSV),
        so that a long registry is never held as one frame of every column.

        A piece is ``(frame, rows)`` as :meth:`data` returns them, except that trailing
        blank rows are not trimmed (a caller trims the end with :func:`filled_length`).
        ``None`` means "start over": a later piece showed that the file must be read
        another way (an encoding that is not UTF-8 after all); what was yielded before is
        void and the pieces that follow cover the whole sheet again."""
        if width is None:
            width = max((len(r) for r in self.top), default=0)
        if self._pieces is None:
            yield self.data(skip, width)
            return
        yield from self._pieces(skip, width)


def _trim_trailing_blank(frame: pd.DataFrame, rows: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Drop blank rows after the last non-empty one."""
    n = filled_length(frame)
    if n == len(frame):
        return frame, rows
    return frame.iloc[:n].reset_index(drop=True), rows[:n]


def filled_length(frame: pd.DataFrame) -> int:
    """The number of rows up to the last one with a filled cell (the tail is looked at
    a block at a time: a sheet whose last row is filled costs one block).

    >>> filled_length(pd.DataFrame({0: ["a", "", "b", " ", None]}))
    3
    """
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
    return n


def is_filled(values: pd.Series) -> pd.Series:
    """True where a cell holds something (not None/NaN, not only whitespace).

    >>> is_filled(pd.Series(["a", "", "  ", None, 0.0])).tolist()
    [True, False, False, False, True]
    """
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        import pyarrow.compute as pc

        arr = values.array.__arrow_array__()  # public: the column's own Arrow data
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


#: Workbook formats calamine reads (Excel 2007+, with macros, binary, 97-2003; OpenDocument).
WORKBOOK_SUFFIXES: frozenset[str] = frozenset({".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"})
#: Extensions of delimited text tables. Excel saves its "Unicode text" export (UTF-16 with
#: a byte-order mark, tab-separated) as ``.txt``; a ``.txt`` is read only when it starts
#: with a UTF-16 byte-order mark (:func:`is_unicode_text`), so a README stays skipped.
TEXT_SUFFIXES: frozenset[str] = frozenset({".csv", ".txt"})


def is_unicode_text(path: Path) -> bool:
    """True for a ``.txt`` file that starts with a UTF-16 byte-order mark: Excel's
    "Unicode text" export, read as a CSV.

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "export.txt"
    >>> _ = p.write_bytes("Район;Дата".encode("utf-16"))
    >>> is_unicode_text(p), is_unicode_text(p.with_name("none.txt"))
    (True, False)
    """
    try:
        with open(path, "rb") as handle:
            return handle.read(2) in (b"\xff\xfe", b"\xfe\xff")
    except OSError:
        return False


#: Workbook formats that are zip archives of XML parts (checked against the size limits).
OOXML_SUFFIXES: frozenset[str] = frozenset({".xlsx", ".xlsm"})


def read_xlsx_sheets(path: Path, rel: str) -> list[RawSheet]:
    """Every sheet of a workbook (``.xlsx``, ``.xlsm``, ``.xlsb``, ``.xls``, ``.ods``), read
    with python-calamine (values, merged ranges, visibility).

    An Office Open XML workbook is first checked against the size limits of
    :mod:`coverage_analysis.io.workbook_zip` (nothing is inflated before that); a sheet
    beyond them comes back with its :attr:`RawSheet.problem` set and is not read. Error
    cells (``#DIV/0!`` ...) that calamine returns empty are put back as their text (from
    the sheet XML of ``.xlsx``/``.xlsm``, with xlrd for ``.xls``).
    Raises :class:`InputFileError` when the file is not a readable workbook.
    """
    from python_calamine import CalamineWorkbook, SheetVisibleEnum

    from coverage_analysis.io import workbook_zip

    ooxml = path.suffix.lower() in OOXML_SUFFIXES
    parts = workbook_zip.check_workbook(path, rel) if ooxml else {}
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        metadata = list(workbook.sheets_metadata)
    except Exception as exc:  # calamine raises several unrelated types on corrupt files
        raise InputFileError(
            rel,
            f"not a readable {path.suffix.lower().lstrip('.')} workbook ({type(exc).__name__}: {exc})",
        ) from None
    xls_errors = _xls_error_cells(path, rel) if path.suffix.lower() == ".xls" else {}
    sheets: list[RawSheet] = []
    for meta in metadata:
        name = meta.name
        hidden = meta.visible != SheetVisibleEnum.Visible
        part = parts.get(name)
        problem = workbook_zip.sheet_problem(part) if part is not None else None
        if problem is not None:
            sheets.append(RawSheet(rel, name, [], hidden=hidden, problem=problem))
            continue
        try:
            sheet = workbook.get_sheet_by_name(name)
            grid = sheet.to_python(skip_empty_area=False)
            merged = [(a[0], a[1], b[0], b[1]) for a, b in (sheet.merged_cell_ranges or [])]
            if part is not None:
                _put_errors(grid, workbook_zip.error_cells(path, part))
            _put_errors(grid, xls_errors.get(name, []))
        except Exception as exc:
            raise InputFileError(
                rel, f"cannot read sheet ({type(exc).__name__}: {exc})", sheet=name
            ) from None
        raw_sheet = _grid_sheet(rel, name, grid, merged)
        raw_sheet.hidden = hidden
        sheets.append(raw_sheet)
    return sheets


def _xls_error_cells(path: Path, rel: str) -> dict[str, list[tuple[int, int, str]]]:
    """``(row, column, text)`` (0-based) of the error cells of each sheet of an Excel
    97-2003 workbook, read with xlrd (calamine returns them as empty cells)."""
    import xlrd

    try:
        book = xlrd.open_workbook(str(path), on_demand=True)
    except Exception as exc:  # xlrd raises its own and struct errors on damaged files
        log.warning("%s: error cells not checked (%s: %s)", rel, type(exc).__name__, exc)
        return {}
    out: dict[str, list[tuple[int, int, str]]] = {}
    try:
        for name in book.sheet_names():
            sheet = book.sheet_by_name(name)
            found = []
            for r in range(sheet.nrows):
                types = sheet.row_types(r)
                if xlrd.XL_CELL_ERROR in types:
                    values = sheet.row_values(r)
                    for c, t in enumerate(types):
                        if t == xlrd.XL_CELL_ERROR:
                            text = xlrd.error_text_from_code.get(values[c], f"#ERR{values[c]}")
                            found.append((r, c, text))
            if found:
                out[name] = found
            book.unload_sheet(name)
    finally:
        book.release_resources()
    return out


def _put_errors(grid: list[list[object]], errors: list[tuple[int, int, str]]) -> None:
    """Write error cells' texts into ``grid`` (which calamine left empty there)."""
    for r, c, text in errors:
        while len(grid) <= r:
            grid.append([""] * (len(grid[0]) if grid else 0))
        row = grid[r]
        if len(row) <= c:
            row.extend([""] * (c + 1 - len(row)))
        if row[c] in ("", None):
            row[c] = text


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


#: Byte-order marks and the encoding each selects (longest first: UTF-32 LE starts like UTF-16 LE).
BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
#: Cyrillic single-byte code pages told apart by :func:`cyrillic_score` (Windows, DOS, KOI8).
CYRILLIC_CODEPAGES: tuple[str, ...] = ("cp1251", "cp866", "koi8-r")
#: Share of the non-ASCII characters that must be Cyrillic letters for a code page to win.
MIN_CYRILLIC_SHARE = 0.8
#: Bytes of the head given to the fallback detector (charset-normalizer).
DETECTOR_BYTES = 1 << 16


def cyrillic_score(text: str) -> tuple[float, int]:
    """How plausible ``text`` is as Russian/Kazakh text: the share of its non-ASCII
    characters that are Cyrillic letters, and a case score (lower-case letters and
    capitals that open a word count for, capitals inside a lower-case word against).

    A single-byte file decoded with the wrong Cyrillic code page yields box-drawing
    characters and punctuation (cp866 read as cp1251 and back) or the right letters
    in the wrong case (KOI8-R and cp1251 swap the two halves), so the two numbers
    separate the three code pages.

    >>> share, case = cyrillic_score("Аягозский район")
    >>> share, case > 0
    (1.0, True)
    >>> cyrillic_score("аЯГОЗСКИЙ РАЙОН")[1] < 0
    True
    """
    non_ascii = letters = case = 0
    prev = " "
    for ch in text:
        if ch >= "\x80":
            non_ascii += 1
            if "\u0400" <= ch <= "\u04ff":
                letters += 1
                if ch.islower():
                    case += 1
                elif prev.isalpha() and prev.islower():
                    case -= 3  # a capital after a lower-case letter: the case is swapped
                elif not prev.isalpha():
                    case += 1
        prev = ch
    return (letters / non_ascii if non_ascii else 1.0), case


def detect_encoding(raw: bytes, rel: str) -> tuple[str, str]:
    """The encoding of a text file's bytes and the rule that decided it.

    Rules, in order: a byte-order mark (UTF-8, UTF-16, UTF-32); a strict UTF-8
    decode; the best-scoring Cyrillic code page (:func:`cyrillic_score`: windows-1251,
    cp866, KOI8-R) when its text is mostly Cyrillic letters; charset-normalizer as the
    last resort. Raises :class:`InputFileError` for binary content or an undecidable text.

    >>> detect_encoding("Район".encode("cp866"), "x.csv")
    ('cp866', 'cyrillic letters and case')
    >>> detect_encoding("Район".encode("koi8-r"), "x.csv")
    ('koi8-r', 'cyrillic letters and case')
    >>> detect_encoding("Район".encode("utf-16"), "x.csv")
    ('utf-16', 'byte-order mark')
    """
    for bom, encoding in BOMS:
        if raw.startswith(bom):
            return encoding, "byte-order mark"
    head = raw[:SNIFF_BYTES]
    if any(b in _BINARY_BYTES for b in head):
        raise InputFileError(rel, "binary content, not a text CSV")
    try:
        raw.decode("utf-8")
        return "utf-8", "strict UTF-8"
    except UnicodeDecodeError:
        pass
    scored = []
    for encoding in CYRILLIC_CODEPAGES:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        share, case = cyrillic_score(text)
        scored.append((share >= MIN_CYRILLIC_SHARE, case, share, encoding))
    if scored:
        ok, _, _, encoding = max(scored)
        if ok:
            return encoding, "cyrillic letters and case"
    from charset_normalizer import from_bytes

    best = from_bytes(raw[:DETECTOR_BYTES]).best()
    if best is not None and best.encoding:
        try:
            raw.decode(best.encoding)
            return best.encoding, "charset-normalizer"
        except (UnicodeDecodeError, LookupError):
            pass
    raise InputFileError(
        rel, "text in no recognised encoding (tried UTF-8/16/32, windows-1251, cp866, KOI8-R)"
    )


def decode_csv_bytes(raw: bytes, rel: str) -> tuple[str, str]:
    """The text of a CSV file and the encoding it was in (:func:`detect_encoding`).

    >>> decode_csv_bytes("Дата".encode("utf-8-sig"), "x.csv")
    ('Дата', 'utf-8-sig')
    >>> decode_csv_bytes("Дата".encode("cp1251"), "x.csv")[1]
    'cp1251'
    """
    encoding, _ = detect_encoding(raw, rel)
    return decode_text(raw, encoding, rel), encoding


def decode_text(raw: bytes, encoding: str, rel: str) -> str:
    """``raw`` decoded as ``encoding`` (a BOM dropped); a byte that does not decode is
    one clear :class:`InputFileError` naming its offset and value."""
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        bad = raw[exc.start : exc.end]
        raise InputFileError(
            rel, f"byte {bad!r} at offset {exc.start} is not valid {encoding}"
        ) from None


#: Line ends other than LF (bare CR of old Mac files, CRLF of Windows), made LF before parsing.
_CR = re.compile(rb"\r\n?")


def normalise_line_ends(data: bytes) -> bytes:
    """``data`` with CR and CRLF line ends made LF when the file mixes line ends
    (a file with CRLF only is parsed as it is).

    >>> normalise_line_ends(b"a\\r\\nb\\rc\\n")
    b'a\\nb\\nc\\n'
    """
    if b"\r" not in data:  # one memchr: most files
        return data
    if data.count(b"\r") == data.count(b"\r\n"):
        return data
    return _CR.sub(b"\n", data)


def _parse_lines(lines: list[str], delimiter: str) -> list[list[object]]:
    return [list(r) for r in csv.reader(io.StringIO("".join(lines)), delimiter=delimiter)]


def read_csv_sheets(
    path: Path,
    rel: str,
    choose_delimiter: Callable[[dict[str, list[list[object]]]], str] | None = None,
) -> list[RawSheet]:
    """A CSV file as one :class:`RawSheet` (sheet name ``""``).

    The encoding is detected by :func:`detect_encoding` (BOM, strict UTF-8, Cyrillic
    code pages, charset-normalizer); mixed line ends are made LF; the delimiter is
    chosen among ``;`` ``,`` tab by ``choose_delimiter`` (given the top rows parsed with
    each candidate; default: the one giving the widest consistent rows). A line whose
    quote is never closed becomes a rejected line (:attr:`RawSheet.bad_lines`), never
    part of another line's value.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputFileError(rel, f"cannot read file: {exc}") from None
    if not raw[:SNIFF_BYTES].strip() and not raw.strip():
        raise InputFileError(rel, "empty file")
    sniff = raw
    if len(raw) > HEAD_BYTES:  # decide on whole lines of the head; the body is checked when read
        sniff = raw[: raw.rfind(b"\n", 0, HEAD_BYTES) + 1] or raw[:HEAD_BYTES]
    encoding, rule = detect_encoding(sniff, rel)
    if encoding not in ("utf-8", "utf-8-sig"):  # the body is parsed as UTF-8 bytes
        raw = decode_text(raw, encoding, rel).encode("utf-8")
    elif encoding == "utf-8-sig":
        raw = raw[3:]
    raw = normalise_line_ends(raw)
    head = raw
    if len(raw) > HEAD_BYTES:  # the delimiter is decided on the head
        head = raw[: raw.rfind(b"\n", 0, HEAD_BYTES) + 1] or raw[:HEAD_BYTES]
    text = head.decode("utf-8", errors="replace")
    head_lines = text.splitlines(keepends=True)[: HEADER_SCAN_ROWS * 2]
    candidates = {d: _parse_lines(head_lines, d)[:HEADER_SCAN_ROWS] for d in CSV_DELIMITERS}
    delimiter = (choose_delimiter or default_delimiter)(candidates)
    top = candidates[delimiter]
    sheet = RawSheet(rel, "", top, [], encoding, delimiter, encoding_rule=rule)
    # the readers below hold the file's bytes: they refer to their sheet weakly, so that
    # the bytes go with the sheet (a reference cycle would keep them until a collection)
    sheet_ref = weakref.ref(sheet)
    bad_lines = sheet.bad_lines

    def redecide() -> None:
        # the head was UTF-8 but the body is not: decide on the whole file
        nonlocal raw
        original = path.read_bytes()
        found, found_rule = detect_encoding(original, rel)
        log.info("%s: encoding is %s (not UTF-8 below the first lines)", rel, found)
        owner = sheet_ref()
        if owner is not None:
            owner.encoding, owner.encoding_rule = found, found_rule
        text = decode_text(original, found, rel)
        raw = normalise_line_ends(text.encode("utf-8"))
        bad_lines.clear()

    def data(skip: int, width: int) -> tuple[pd.DataFrame, np.ndarray]:
        try:
            return _csv_body(raw, delimiter, skip, width, rel, bad_lines)
        except UnicodeDecodeError:
            redecide()
            return _csv_body(raw, delimiter, skip, width, rel, bad_lines)

    def pieces(skip: int, width: int) -> Iterator[Piece | None]:
        given = False
        try:
            for piece in _csv_pieces(raw, delimiter, skip, width, rel, bad_lines):
                given = True
                yield piece
            return
        except UnicodeDecodeError:
            redecide()
        if given:
            yield None  # start over: the pieces already given were read as UTF-8
        yield from _csv_pieces(raw, delimiter, skip, width, rel, bad_lines)

    sheet._data = data
    sheet._pieces = pieces
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
    data: bytes,
    delimiter: str,
    skip: int,
    width: int,
    rel: str,
    bad_lines: dict[int, tuple[str, str]] | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    offset, lines_before = _skip_lines_offset(data, skip, delimiter)
    width = max(width, 1)
    frame = _csv_rows_fast(data, offset, len(data), delimiter, width)
    if frame is not None:
        rows = np.arange(lines_before + 1, lines_before + 1 + len(frame), dtype=np.int64)
    else:
        log.debug("%s: quoted or irregular CSV rows, reading line by line", rel)
        body = str(memoryview(data)[offset:], "utf-8")
        frame, rows = _csv_body_slow(body, delimiter, width, lines_before, bad_lines)
    return _trim_trailing_blank(frame, rows)


def _physical_lines(data: bytes, start: int, end: int) -> int:
    """Physical lines of ``data[start:end]`` (a last line without its line end counts).

    >>> _physical_lines(b"a\\nb\\nc", 0, 5), _physical_lines(b"a\\nb\\n", 0, 4), _physical_lines(b"", 0, 0)
    (3, 2, 0)
    """
    if end <= start:
        return 0
    return data.count(b"\n", start, end) + (0 if data[end - 1 : end] == b"\n" else 1)


def _csv_rows_fast(
    data: bytes, start: int, end: int, delimiter: str, width: int
) -> pd.DataFrame | None:
    """``data[start:end]`` parsed by pyarrow (:func:`_csv_body_fast`, no copy of the
    bytes), or None when it must be read line by line: an irregular row, or a text
    holding a quote that did not give one row per physical line (a quoted cell may span
    lines, and an unbalanced quote folds lines into one cell)."""
    frame = _csv_body_fast(memoryview(data)[start:end], delimiter, width)
    if (
        frame is not None
        and data.find(b'"', start, end) >= 0
        and len(frame) != _physical_lines(data, start, end)
    ):
        return None
    return frame


def _csv_pieces(
    data: bytes,
    delimiter: str,
    skip: int,
    width: int,
    rel: str,
    bad_lines: dict[int, tuple[str, str]] | None = None,
) -> Iterator[Piece]:
    """:func:`_csv_body` in pieces of about :data:`STREAM_BYTES`, cut at line ends.

    Each piece is parsed by pyarrow's reader and checked as the whole body is: when it
    holds a quote, it must give one row per physical line. The first piece that does
    not (a quote left open, a cell with line breaks, an irregular row) and everything
    after it are read line by line (:func:`_csv_body_slow`), so that an unbalanced
    quote is found and rejected exactly as in a file read at once. Trailing blank rows
    are left to the caller (:func:`filled_length`)."""
    offset, lines_before = _skip_lines_offset(data, skip, delimiter)
    if len(data) - offset <= STREAM_BYTES or width <= 1:
        yield _csv_body(data, delimiter, skip, width, rel, bad_lines)
        return
    view = memoryview(data)  # no copy of the file's bytes
    start, line = offset, lines_before
    while start < len(data):
        end = len(data)
        if start + STREAM_BYTES < len(data):
            cut = data.rfind(b"\n", start, start + STREAM_BYTES)
            if cut < 0:  # one line longer than a piece
                cut = data.find(b"\n", start + STREAM_BYTES)
            end = len(data) if cut < 0 else cut + 1
        frame = _csv_rows_fast(data, start, end, delimiter, width)
        if frame is None:
            log.debug("%s: quoted or irregular CSV rows, reading line by line", rel)
            yield _csv_body_slow(str(view[start:], "utf-8"), delimiter, width, line, bad_lines)
            return
        yield frame, np.arange(line + 1, line + 1 + len(frame), dtype=np.int64)
        line += _physical_lines(data, start, end)
        start = end


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


#: Most physical lines one CSV record may span (a cell with line breaks) before the
#: record is taken for a quote that was never closed.
MAX_LINES_PER_RECORD = 8
#: Reason written to the ledger for a line whose quote is never closed.
UNBALANCED_QUOTE = "unbalanced quote: the quote opened on this line is never closed (line not read)"


def _csv_body_slow(
    text: str,
    delimiter: str,
    width: int,
    lines_before: int,
    bad_lines: dict[int, tuple[str, str]] | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Records line by line with the csv module, watching the physical lines each
    record takes: a record that folds what look like whole rows into one cell (a
    continuation line holding a row's worth of delimiters, more than
    :data:`MAX_LINES_PER_RECORD` lines, or a quote still open at the end of the file)
    is an unbalanced quote. Its first line is put in ``bad_lines`` with its raw text
    (and, whole, in the first cell of its row); reading resumes on the next line."""
    physical = text.split("\n")
    if physical and physical[-1] == "":
        physical.pop()
    records: list[list[str]] = []
    rows: list[int] = []
    start = 0  # index of the next physical line to read
    while start < len(physical):
        lines = (line + "\n" for line in physical[start:])
        reader = csv.reader(lines, delimiter=delimiter)
        consumed = 0
        restart = None
        for rec in reader:
            first = start + consumed
            consumed = reader.line_num
            span = start + consumed - first
            if span > 1 and _folded(physical[first : first + span], delimiter, width):
                restart = first
                break
            rows.append(lines_before + first + 1)
            records.append(rec)
        if restart is None:
            break
        line_no = lines_before + restart + 1
        if bad_lines is not None:
            bad_lines[line_no] = (UNBALANCED_QUOTE, physical[restart])
        rows.append(line_no)
        records.append([physical[restart]])  # kept as a filled row (never trimmed as blank)
        start = restart + 1
    wide = max([width, *(len(r) for r in records)])
    padded = [r + [""] * (wide - len(r)) for r in records]
    frame = (
        pd.DataFrame(padded, columns=range(wide), dtype=object)
        if padded
        else pd.DataFrame(columns=range(wide))
    )
    return frame, np.asarray(rows, dtype=np.int64)


def _folded(lines: list[str], delimiter: str, width: int) -> bool:
    """Whether a record spanning ``lines`` is a quote left open rather than a cell with
    line breaks."""
    if len(lines) > MAX_LINES_PER_RECORD:
        return True
    if sum(line.count('"') for line in lines) % 2:  # still open at the end of the file
        return True
    row_like = max(width - 1, 1)
    return any(line.count(delimiter) >= row_like for line in lines[1:])


def read_sheets(path: Path, rel: str) -> list[RawSheet]:
    """Sheets of a raw file by extension (a workbook of :data:`WORKBOOK_SUFFIXES`, or a
    delimited text of :data:`TEXT_SUFFIXES`)."""
    suffix = path.suffix.lower()
    if suffix in WORKBOOK_SUFFIXES:
        if path.stat().st_size == 0:
            raise InputFileError(rel, "empty file")
        return read_xlsx_sheets(path, rel)
    if suffix in TEXT_SUFFIXES:
        return read_csv_sheets(path, rel)
    raise InputFileError(rel, "not a spreadsheet")
