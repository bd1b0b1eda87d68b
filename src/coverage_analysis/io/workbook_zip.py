"""A look inside an Office Open XML workbook (``.xlsx``/``.xlsm``) before calamine opens it.

Why: calamine inflates a whole sheet (and the whole shared-string table, when
the workbook is opened) into memory. A small file can expand to gigabytes
(one shared string of 300 MB of the same letter compresses to a few hundred
KB), and the run would hang or die with no message. The zip directory states
every part's uncompressed size, and a sheet's ``<dimension>`` element states its
cell range, so both can be checked against a budget *before* anything is
inflated. The same look finds each sheet's XML part (to read the error cells,
``t="e"``, that calamine returns as empty cells) without a second library.

Limits (named constants below) are per sheet and for the shared strings; a
workbook beyond a limit is refused in one line naming the file and the limit.
The sizes checked are the ones the zip directory declares.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from coverage_analysis.errors import InputFileError

#: Largest uncompressed XML of one sheet read (bytes; about 5M filled cells).
MAX_SHEET_XML_BYTES = 1 << 30
#: Largest uncompressed shared-string table (bytes); calamine loads it whole on opening.
MAX_SHARED_STRINGS_BYTES = 256 << 20
#: Largest number of cells (rows x columns of the sheet's ``<dimension>``) of one sheet.
MAX_SHEET_CELLS = 20_000_000
#: Largest uncompressed size of the small parts read here (workbook.xml and its rels).
MAX_INDEX_PART_BYTES = 16 << 20
#: Bytes inflated at a time when a sheet is scanned for error cells.
SCAN_CHUNK = 1 << 20
#: Bytes at the head of a sheet's XML where its ``<dimension>`` is looked for.
DIMENSION_HEAD = 4096

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')
_CELL_REF = re.compile(r"([A-Z]+)(\d+)")
#: The marker of an error cell in sheet XML (``<c r="B2" t="e"><v>#DIV/0!</v></c>``).
_ERROR_MARK = b't="e"'


def _mib(n: int) -> str:
    return f"{n / (1 << 20):,.0f} MiB"


def column_number(letters: str) -> int:
    """1-based column number of spreadsheet column letters.

    >>> column_number("A"), column_number("Z"), column_number("AA")
    (1, 26, 27)
    """
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - ord("A") + 1)
    return n


@dataclass(frozen=True)
class SheetPart:
    """One sheet of a workbook as the zip holds it."""

    name: str
    part: str
    xml_bytes: int
    cells: int | None


def _read_small(zf: zipfile.ZipFile, name: str, rel: str) -> bytes | None:
    try:
        info = zf.getinfo(name)
    except KeyError:
        return None
    if info.file_size > MAX_INDEX_PART_BYTES:
        raise InputFileError(
            rel,
            f"part {name} inflates to {_mib(info.file_size)}: beyond the limit of "
            f"{_mib(MAX_INDEX_PART_BYTES)} (MAX_INDEX_PART_BYTES)",
        )
    return zf.read(name)


def sheet_parts(zf: zipfile.ZipFile, rel: str) -> dict[str, SheetPart]:
    """Sheet name -> its XML part, declared size and cell count (from ``<dimension>``)."""
    workbook = _read_small(zf, "xl/workbook.xml", rel)
    rels = _read_small(zf, "xl/_rels/workbook.xml.rels", rel)
    if workbook is None or rels is None:
        return {}
    targets = {}
    for r in ElementTree.fromstring(rels).iter(f"{{{_PKG_REL_NS}}}Relationship"):
        target = r.get("Target", "")
        target = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
        targets[r.get("Id")] = posixpath.normpath(target)
    parts: dict[str, SheetPart] = {}
    for s in ElementTree.fromstring(workbook).iter(f"{{{_MAIN_NS}}}sheet"):
        part = targets.get(s.get(f"{{{_REL_NS}}}id"))
        if part is None or part not in zf.NameToInfo:
            continue
        size = zf.getinfo(part).file_size
        parts[s.get("name", "")] = SheetPart(s.get("name", ""), part, size, _cells(zf, part))
    return parts


def _cells(zf: zipfile.ZipFile, part: str) -> int | None:
    """Rows x columns of a sheet's ``<dimension>``, inflating only its first bytes."""
    with zf.open(part) as f:
        head = f.read(DIMENSION_HEAD)
    m = _DIMENSION.search(head)
    if m is None:
        return None
    c1, r1, c2, r2 = m.group(1), int(m.group(2)), m.group(3), m.group(4)
    if c2 is None:
        return 1
    rows = int(r2) - r1 + 1
    cols = column_number(c2.decode()) - column_number(c1.decode()) + 1
    return max(rows, 0) * max(cols, 0)


def check_workbook(path: Path, rel: str) -> dict[str, SheetPart]:
    """The sheets of an OOXML workbook, after checking the parts calamine inflates on
    opening (the shared strings). Raises :class:`InputFileError` naming the limit
    when the workbook is beyond it; the per-sheet limits are :func:`sheet_problem`'s."""
    try:
        with zipfile.ZipFile(path) as zf:
            sst = next(
                (i for i in zf.infolist() if i.filename.lower() == "xl/sharedstrings.xml"), None
            )
            if sst is not None and sst.file_size > MAX_SHARED_STRINGS_BYTES:
                raise InputFileError(
                    rel,
                    f"shared strings inflate to {_mib(sst.file_size)} "
                    f"({sst.compress_size:,} bytes on disk): beyond the limit of "
                    f"{_mib(MAX_SHARED_STRINGS_BYTES)} (MAX_SHARED_STRINGS_BYTES); file not read",
                )
            return sheet_parts(zf, rel)
    except zipfile.BadZipFile as exc:
        raise InputFileError(
            rel,
            f"not a readable {path.suffix.lower().lstrip('.')} workbook (not a zip archive: {exc})",
        ) from None
    except (ElementTree.ParseError, KeyError, ValueError) as exc:
        raise InputFileError(
            rel,
            f"not a readable {path.suffix.lower().lstrip('.')} workbook ({type(exc).__name__}: {exc})",
        ) from None


def sheet_problem(part: SheetPart) -> str | None:
    """Why a sheet is beyond the budget (one line naming the limit), or None."""
    if part.xml_bytes > MAX_SHEET_XML_BYTES:
        return (
            f"sheet XML inflates to {_mib(part.xml_bytes)}: beyond the limit of "
            f"{_mib(MAX_SHEET_XML_BYTES)} (MAX_SHEET_XML_BYTES); sheet not read"
        )
    if part.cells is not None and part.cells > MAX_SHEET_CELLS:
        return (
            f"sheet spans {part.cells:,} cells: beyond the limit of {MAX_SHEET_CELLS:,} "
            "(MAX_SHEET_CELLS); sheet not read"
        )
    return None


def error_cells(path: Path, part: SheetPart) -> list[tuple[int, int, str]]:
    """``(row, column, text)`` (0-based) of every error cell (``#DIV/0!``, ``#REF!`` ...) of
    a sheet. The XML is scanned in chunks for the error marker first and parsed only when
    it holds one, so a sheet without errors costs one streaming inflate."""
    with zipfile.ZipFile(path) as zf:
        with zf.open(part.part) as f:
            tail = b""
            found = False
            while chunk := f.read(SCAN_CHUNK):
                if _ERROR_MARK in tail + chunk:
                    found = True
                    break
                tail = chunk[-len(_ERROR_MARK) :]
        if not found:
            return []
        out: list[tuple[int, int, str]] = []
        with zf.open(part.part) as f:
            for _, el in ElementTree.iterparse(f, events=("end",)):
                if el.tag != f"{{{_MAIN_NS}}}c":
                    if el.tag == f"{{{_MAIN_NS}}}row":
                        el.clear()
                    continue
                if el.get("t") == "e":
                    m = _CELL_REF.fullmatch(el.get("r", ""))
                    v = el.find(f"{{{_MAIN_NS}}}v")
                    if m is not None and v is not None and v.text:
                        out.append((int(m.group(2)) - 1, column_number(m.group(1)) - 1, v.text))
        return out
