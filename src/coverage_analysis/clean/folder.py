"""The ``clean`` step: every raw file of a folder in, validated tables out.

Load (read every sheet, find its header, recognise its kind), process (drop
blank and total lines, clean per kind, find duplicates and conflicts across
the whole folder), save (validate, write atomically). Nothing is dropped
silently: every line below a header ends as clean, rejected, duplicate,
summary, blank or out of scope (official statistics: other regions, parts of units
already counted; :mod:`coverage_analysis.clean.bulletin`), and
``cleaning_report.json`` shows that the six add up for every sheet.
"""

from __future__ import annotations

import errno
import functools
import logging
import os
import re
import stat
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from coverage_analysis.clean import fastpath
from coverage_analysis.clean.common import (
    BLANK,
    CLEAN,
    DUPLICATE,
    LEDGER_COLUMNS,
    OUT_OF_SCOPE,
    OUTCOMES,
    REJECTED,
    SUMMARY,
    Cleaned,
    Ledger,
    Lookups,
    SheetContext,
    as_datetime,
    display,
    filter_rows,
)
from coverage_analysis.clean.duplicates import (
    DUPLICATE_COLUMNS,
    publication_duplicates,
    value_duplicates,
)
from coverage_analysis.clean.layout import recognize
from coverage_analysis.clean.publications import PARSED_FIELDS
from coverage_analysis.clean.rows import classify_rows
from coverage_analysis.errors import CoverageAnalysisError, DataNotFoundError, InputFileError
from coverage_analysis.io.generation import FILES_KEY as GENERATION_FILES_KEY
from coverage_analysis.io.generation import GENERATION_KEY, Staging
from coverage_analysis.io.generation import REPORT_KEY as GENERATION_REPORT_KEY
from coverage_analysis.io.headers import Header, HeaderVocabulary, detect_header, headers_found
from coverage_analysis.io.readers import (
    TEXT_SUFFIXES,
    WORKBOOK_SUFFIXES,
    RawSheet,
    filled_length,
    is_unicode_text,
    read_sheets,
)
from coverage_analysis.io.writers import arrow_table, write_arrow_table, write_csv, write_json
from coverage_analysis.schema import (
    CLEANING_REPORT_FILE,
    DUPLICATES_FILE,
    REJECTS_FILE,
    SCHEMAS,
    TABLE_FILES,
    validate,
)

log = logging.getLogger(__name__)

#: The sample generator's answer key: a raw folder holding it is synthetic sample data.
SAMPLE_TRUTH_MARKER = "_truth/truth.json"
#: Extensions read as spreadsheets (workbooks calamine reads, CSV); a ``.txt`` is read
#: too when it is Excel's "Unicode text" export (:func:`is_unicode_text`); every other
#: file is skipped (and listed).
SPREADSHEET_SUFFIXES: frozenset[str] = WORKBOOK_SUFFIXES | {".csv"}


@dataclass
class SheetOutcome:
    """Row accounting of one sheet."""

    file: str
    sheet: str
    kind: str | None
    status: str
    message: str = ""
    header_row: int | None = None
    rows: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64))
    outcome: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))
    #: Rows set aside as out of scope, per region (official statistics bulletins).
    out_of_scope_by_region: dict[str, int] = field(default_factory=dict)
    #: Extra facts for the report (a bulletin's reference date, role).
    extra: dict[str, object] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """rows_read and the six outcomes."""
        seen = pd.Series(self.outcome, dtype=object).value_counts()  # one pass, not five
        c = {f"rows_{o}": int(seen.get(o, 0)) for o in OUTCOMES}
        c["rows_rejected"] = c.pop(f"rows_{REJECTED}")
        c["rows_duplicate"] = c.pop(f"rows_{DUPLICATE}")
        return {"rows_read": len(self.outcome), **c}


@dataclass
class CleaningResult:
    """What one ``clean`` run did: the tables, the report and where things went."""

    raw_dir: Path
    processed_dir: Path
    tables: dict[str, pd.DataFrame]
    report: dict[str, object]
    anything_read: bool

    def summary_text(self) -> str:
        """A short human summary (the CLI prints it)."""
        r = self.report
        lines = [f"cleaned {r['raw_dir']} -> {r['processed_dir']}"]
        if r.get("synthetic"):
            lines.append("Synthetic sample data (the package's generator wrote this raw folder)")
        lines.append(
            f"files read: {r['files_read']} ({r['sheets_read']} sheets); unreadable: {len(r['unreadable_files'])}; "
            f"skipped (not spreadsheets): {len(r['skipped_files'])}"
        )
        for kind, t in r["totals_by_kind"].items():
            lines.append(
                f"  {kind:<13} read {t['rows_read']:>8}  clean {t['rows_clean']:>8}  rejected {t['rows_rejected']:>6}  "
                f"duplicate {t['rows_duplicate']:>6}  summary {t['rows_summary']:>5}  blank {t['rows_blank']:>5}"
                + (f"  out of scope {t['rows_out_of_scope']:>5}" if t["rows_out_of_scope"] else "")
            )
        if r.get("encodings"):
            lines.append(
                "CSV encodings: " + ", ".join(f"{k} {v}" for k, v in r["encodings"].items())
            )
        for h in r.get("hidden_sheets", []):
            lines.append(f"  hidden sheet (read): {h['file']} [sheet {h['sheet']}]")
        if r.get("out_of_scope_by_region"):
            shown = ", ".join(f"{k} {v}" for k, v in r["out_of_scope_by_region"].items())
            lines.append(f"  set aside as out of scope, by region: {shown}")
        for f in r["unreadable_files"]:
            lines.append(f"  unreadable: {f['file']}: {f['reason']}")
        for s in r["unrecognised_sheets"]:
            where = s["file"] + (f" [sheet {s['sheet']}]" if s["sheet"] else "")
            label = "not read" if s["status"] == "failed" else "not recognised"
            lines.append(f"  {label}: {where}: {s['message']}")
        if r["tables_written"]:
            lines.append(
                "tables: " + ", ".join(f"{k} ({v} rows)" for k, v in r["tables_written"].items())
            )
        if r["tables_removed"]:
            lines.append(
                "removed stale tables of kinds absent from this run: "
                + ", ".join(r["tables_removed"])
            )
        lines.append(
            f"rejects: {r['ledger_lines']} ledger lines in {self.processed_dir / REJECTS_FILE}"
        )
        unused = {k: len(v) for k, v in r["unused_vocabulary"].items() if v}
        if unused:
            shown = ", ".join(f"{k} {n}" for k, n in unused.items())
            lines.append(f"vocabulary entries never matched (see {CLEANING_REPORT_FILE}): {shown}")
        if not self.anything_read:
            lines.append("nothing could be read: no sheet of a known kind in the raw folder")
        return "\n".join(lines)


def list_inputs(
    raw_dir: Path, problems: list[dict[str, str]] | None = None
) -> tuple[list[tuple[Path, str]], list[dict[str, str]]]:
    """Spreadsheets under ``raw_dir`` in POSIX path order, and the skipped other files.

    Symbolic links are followed, once: a link back to a folder already walked (a loop)
    and a link that cannot be resolved are named in ``problems`` (file and reason), as
    are entries that cannot be read (a folder without permission, a FIFO or device named
    like a spreadsheet).
    """
    inputs: list[tuple[Path, str]] = []
    skipped: list[dict[str, str]] = []
    found: list[dict[str, str]] = []

    def rel_of(p: Path) -> str:
        return p.relative_to(raw_dir).as_posix()

    seen: set[tuple[int, int]] = set()
    pending = [raw_dir]
    while pending:
        folder = pending.pop()
        try:
            st = folder.stat()
            if (st.st_dev, st.st_ino) in seen:
                target = os.path.realpath(folder)
                reason = f"symbolic link loop or second link to a folder already read ({target})"
                found.append({"file": rel_of(folder), "reason": reason + "; not read again"})
                continue
            seen.add((st.st_dev, st.st_ino))
            entries = sorted(folder.iterdir())
        except OSError as exc:
            found.append({"file": rel_of(folder) or ".", "reason": _os_reason(exc)})
            continue
        for path in entries:
            rel = rel_of(path)
            try:
                st = path.stat()
            except OSError as exc:  # a dangling link, a link loop, no permission
                found.append({"file": rel, "reason": _os_reason(exc, path)})
                continue
            if stat.S_ISDIR(st.st_mode):
                pending.append(path)
            elif not stat.S_ISREG(st.st_mode):
                what = "FIFO" if stat.S_ISFIFO(st.st_mode) else "special file"
                found.append({"file": rel, "reason": f"not a regular file ({what}); not read"})
            elif path.suffix.lower() in SPREADSHEET_SUFFIXES or (
                path.suffix.lower() == ".txt" and is_unicode_text(path)
            ):
                if not os.access(path, os.R_OK):
                    found.append({"file": rel, "reason": "permission denied"})
                else:
                    inputs.append((path, rel))
            else:
                skipped.append({"file": rel, "reason": "not a spreadsheet"})
    inputs.sort(key=lambda item: item[1])
    skipped.sort(key=lambda item: item["file"])
    if problems is not None:
        problems.extend(sorted(found, key=lambda item: item["file"]))
    return inputs, skipped


def _os_reason(exc: OSError, path: Path | None = None) -> str:
    """One line for an entry of the raw folder that cannot be opened."""
    if exc.errno == errno.ELOOP:
        return "symbolic link loop; not read"
    if path is not None and path.is_symlink() and exc.errno == errno.ENOENT:
        return f"broken symbolic link (to {os.readlink(path)}); not read"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied; not read"
    return f"cannot be opened ({exc.strerror or exc}); not read"


#: An executor of the per-file work: maps a function over ``(path, relative name)``
#: items and yields the results in the items' order (the builtin ``map`` is one).
FileMapper = Callable[
    [Callable[[tuple[Path, str]], "FilePart"], Sequence[tuple[Path, str]]], Iterable["FilePart"]
]


@dataclass
class FilePart:
    """What reading and cleaning one input file produced (sheet numbers start at 0),
    to be combined into the run in file order by :meth:`_Run.absorb`."""

    sheets: list[SheetOutcome]
    records: dict[str, list[pd.DataFrame]]
    ledger: list[pd.DataFrame]
    unreadable: list[dict[str, str]]
    titles: dict[int, str]
    header_parts: set[str]
    encodings: dict[str, dict[str, str | None]]
    hidden: set[tuple[str, str]]


def read_input_file(item: tuple[Path, str], scope: str = "region") -> FilePart:
    """Read and clean one input file ``(path, relative name)`` on its own, in ``scope``
    (made this process's scope: a Dask worker has not seen the client's setting): the
    unit of work an executor of :func:`clean_folder` runs."""
    from coverage_analysis import config

    path, rel = item
    run = _Run(config.activate_scope(scope))
    run.read_file(path, rel)
    return FilePart(
        run.sheets,
        run.records,
        run.ledger.parts,
        run.unreadable,
        run.titles,
        run.header_parts,
        run.encodings,
        run.hidden,
    )


class _Run:
    """State of one clean run (records per kind, ledger, outcomes)."""

    def __init__(self, scope: str = "region") -> None:
        from coverage_analysis.reference.districts import DistrictResolver
        from coverage_analysis.reference.regions import RegionNames

        self.scope = scope
        self.vocab = HeaderVocabulary.load()
        self.resolver = DistrictResolver()
        self.regions = RegionNames()
        self.lookups = Lookups(self.resolver, self.vocab)
        #: National scope: the districts of each region (a name repeats across regions,
        #: so a row's district is resolved within its region).
        self.national = NationalLookups(self.vocab) if scope == "national" else None
        self.ledger = Ledger()
        self.records: dict[str, list[pd.DataFrame]] = {}
        self.sheets: list[SheetOutcome] = []
        self.unreadable: list[dict[str, str]] = []
        self.titles: dict[int, str] = {}
        self.header_parts: set[str] = set()
        self.encodings: dict[str, dict[str, str | None]] = {}
        self.hidden: set[tuple[str, str]] = set()

    def absorb(self, part: FilePart) -> None:
        """Append one file's :class:`FilePart` as if :meth:`read_file` had read it here."""
        offset = len(self.sheets)
        for kind, frames in part.records.items():
            for frame in frames:
                frame["_sid"] += offset
            self.records.setdefault(kind, []).extend(frames)
        self.sheets.extend(part.sheets)
        self.ledger.parts.extend(part.ledger)
        self.unreadable.extend(part.unreadable)
        self.titles.update({sid + offset: title for sid, title in part.titles.items()})
        self.header_parts.update(part.header_parts)
        self.encodings.update(part.encodings)
        self.hidden.update(part.hidden)

    def file_problem(self, rel: str, reason: str, sheet: str = "", scope: str = "file") -> None:
        where = rel + (f" [sheet {sheet}]" if sheet else "")
        log.warning("%s: %s", where, reason)
        self.ledger.add(rel, sheet, None, "unknown", "", "", reason, scope)

    def read_file(self, path: Path, rel: str) -> None:
        try:
            sheets = read_sheets(path, rel)
        except InputFileError as exc:
            self.unreadable.append({"file": rel, "reason": exc.reason})
            self.file_problem(rel, exc.reason)
            return
        except Exception as exc:  # never a traceback for a bad file
            reason = f"cannot be read ({type(exc).__name__}: {exc})"
            self.unreadable.append({"file": rel, "reason": reason})
            self.file_problem(rel, reason)
            return
        outcomes_before = len(self.sheets)
        if self.national is not None:  # a region's folder: its own districts
            self.lookups = self.national.for_path(rel)
        for sheet in sheets:
            if sheet.hidden:
                self.hidden.add((rel, sheet.sheet))
            if sheet.problem:  # beyond a size limit: named, not read
                self._sheet_failed(sheet, sheet.problem)
                continue
            try:
                self.clean_sheet(sheet)
            except CoverageAnalysisError as exc:
                self._sheet_failed(sheet, str(exc))
            except Exception as exc:  # a bug or a layout we did not foresee: say where, keep going
                log.debug("sheet failed", exc_info=True)
                self._sheet_failed(sheet, f"could not be cleaned ({type(exc).__name__}: {exc})")
            if sheet.encoding:  # (after the body is read: it may have decided another encoding)
                self.encodings[rel] = {"encoding": sheet.encoding, "rule": sheet.encoding_rule}
        if all(s.status == "empty" for s in self.sheets[outcomes_before:]):
            reason = (
                "empty file"
                if path.suffix.lower() in TEXT_SUFFIXES
                else "empty workbook: no sheet holds any value"
            )
            self.unreadable.append({"file": rel, "reason": reason})
            self.file_problem(rel, reason)

    def _sheet_failed(self, sheet: RawSheet, message: str) -> None:
        self.sheets.append(SheetOutcome(sheet.file, sheet.sheet, None, "failed", message))
        self.file_problem(sheet.file, message, sheet.sheet, "sheet")

    def clean_sheet(self, sheet: RawSheet) -> None:
        if not any(str(c).strip() for row in sheet.top for c in row if c is not None):
            frame, _ = sheet.data(0)
            if frame.empty:
                self.sheets.append(
                    SheetOutcome(sheet.file, sheet.sheet, None, "empty", "no value in any cell")
                )
                return
        if self._clean_bulletin(sheet):
            return
        header = detect_header(sheet, self.vocab)
        if header is None:
            message = f"no recognisable header; found {headers_found(sheet)}"
            self.sheets.append(SheetOutcome(sheet.file, sheet.sheet, None, "unrecognised", message))
            self.file_problem(sheet.file, message, sheet.sheet, "sheet" if sheet.sheet else "file")
            return
        kind, columns = recognize(header, self.vocab)
        if kind is None:
            shown = ", ".join(repr(n) for n in header.names if n)
            message = f"kind not recognised from the headers found: {shown}"
            self.sheets.append(
                SheetOutcome(
                    sheet.file, sheet.sheet, None, "unrecognised", message, header.rows[-1] + 1
                )
            )
            self.file_problem(sheet.file, message, sheet.sheet, "sheet" if sheet.sheet else "file")
            return
        ctx = SheetContext(sheet.file, sheet.sheet, kind, header.title, columns, header.rows)
        sid = len(self.sheets)
        self.titles[sid] = header.title
        self.header_parts.update(str(p) for parts in header.parts for p in parts)
        rownum = next((c.index for c in columns if c.field == "rownum"), None)
        region_col = (
            self.national.region_column(header.names) if self.national is not None else None
        )
        if kind == "publications":  # registries: piece by piece, never all columns at once
            parts, rows, outcome = self._clean_registry(sheet, header, ctx, rownum, region_col)
        else:
            frame, rows = sheet.data(header.data_start, len(header.names))
            status = classify_rows(frame, rownum_col=rownum, key_col=ctx.column_of("district"))
            if sheet.bad_lines:  # lines the reader could not split (an unbalanced quote)
                self._reject_bad_lines(sheet, ctx, rows, status)
            data = status == ""
            if region_col is not None:  # a national file: each row's district within its region
                cleaned = self.national.clean_by_region(
                    self._clean_kind, kind, filter_rows(frame, data), rows[data], ctx, region_col
                )
            else:
                cleaned = self._clean_kind(kind, filter_rows(frame, data), rows[data], ctx)
            self.ledger.extend(cleaned.ledger)
            parts = [cleaned.records]
            outcome = _outcome(status, cleaned.rejected)
        for records in parts:
            records["_sid"] = sid  # records are the cleaner's own fresh frame
            self.records.setdefault(kind, []).append(records)
        self.sheets.append(
            SheetOutcome(
                sheet.file, sheet.sheet, kind, "read", "", header.rows[-1] + 1, rows, outcome
            )
        )
        log.info("%s [%s]: %s, %d rows", sheet.file, sheet.sheet, kind, len(rows))

    def _clean_registry(
        self,
        sheet: RawSheet,
        header: Header,
        ctx: SheetContext,
        rownum: int | None,
        region_col: int | None = None,
    ) -> tuple[list[pd.DataFrame], np.ndarray, np.ndarray]:
        """A publication registry, cleaned piece by piece (:meth:`RawSheet.pieces`): the
        records of each piece (only the columns a publication keeps), the sheet's row
        numbers and their outcomes. Only one piece's raw columns are held at a time;
        distinct texts are parsed once for the whole sheet (``memo``); the ledger lines
        come out in the order of a sheet cleaned at once (:func:`merge_ledgers`)."""
        from coverage_analysis.clean.publications import clean_publications, merge_ledgers

        memo: dict[str, dict[str, object]] = {}
        done: list[tuple[pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray, int]] = []
        bad_lines = Ledger()
        for piece in sheet.pieces(header.data_start, len(header.names)):
            if piece is None:  # the reader starts over (see RawSheet.pieces)
                done, bad_lines = [], Ledger()
                continue
            frame, rows = piece
            ahead = fastpath.factorize_ahead(frame, [ctx.column_of(f) for f in PARSED_FIELDS])
            status = classify_rows(
                frame, rownum_col=rownum, key_col=ctx.column_of("district"), factorized=ahead
            )
            if sheet.bad_lines:  # lines the reader could not split (an unbalanced quote)
                self._reject_bad_lines(sheet, ctx, rows, status, bad_lines)
            data = status == ""  # the cleaner passes over the other rows itself
            if region_col is not None:  # a national registry: districts within each row's region
                cleaned = self.national.clean_by_region(
                    self._clean_kind,
                    "publications",
                    filter_rows(frame, data),
                    rows[data],
                    ctx,
                    region_col,
                    memo,
                )
            else:
                cleaned = clean_publications(frame, rows, ctx, self.lookups, data, ahead, memo)
            outcome = _outcome(status, cleaned.rejected)
            done.append((cleaned.records, cleaned.ledger, rows, outcome, filled_length(frame)))
            del frame, ahead, piece
            # give the piece's Arrow buffers back (the pool keeps freed memory otherwise)
            pa.default_memory_pool().release_unused()
        self.ledger.extend(bad_lines.frame())
        self.ledger.extend(merge_ledgers([d[1] for d in done]))
        # blank lines after the last filled one are not rows of the sheet (as in data())
        end = total = 0
        for _, _, rows, _, filled in done:
            if filled:
                end = total + filled
            total += len(rows)
        rows = np.concatenate([d[2] for d in done]) if done else np.array([], dtype=np.int64)
        outcome = np.concatenate([d[3] for d in done]) if done else np.array([], dtype=object)
        return [d[0] for d in done], rows[:end], outcome[:end]

    def _reject_bad_lines(
        self,
        sheet: RawSheet,
        ctx: SheetContext,
        rows: np.ndarray,
        status: np.ndarray,
        ledger: Ledger | None = None,
    ) -> None:
        """Mark the reader's rejected lines among ``rows`` rejected (ledger lines, in
        ``ledger`` or the run's: the reason and the raw line)."""
        ledger = self.ledger if ledger is None else ledger
        for line, (reason, text) in sorted(sheet.bad_lines.items()):
            at = np.flatnonzero(rows == line)
            if len(at):
                status[at] = REJECTED
                ledger.add(sheet.file, sheet.sheet, line, ctx.kind, "line", text, reason, "row")

    def _clean_bulletin(self, sheet: RawSheet) -> bool:
        """Read ``sheet`` as an official statistics bulletin sheet when it is one."""
        from coverage_analysis.clean.bulletin import KIND, read_bulletin

        within = self.national.resolver_of_region_code if self.national is not None else None
        result = read_bulletin(sheet, self.resolver, self.regions, within)
        if result is None:
            return False
        if result.role != "data" and detect_header(sheet, self.vocab) is not None:
            return False  # a table of another kind that merely mentions "статистика"
        if len(result.ledger):
            self.ledger.extend(result.ledger)
        extra: dict[str, object] = {"bulletin": result.role}
        if result.reference_date:
            extra["reference_date"] = result.reference_date
        if result.role != "data":
            self.sheets.append(
                SheetOutcome(sheet.file, sheet.sheet, None, "not data", result.message, extra=extra)
            )
            return True
        sid = len(self.sheets)
        self.titles[sid] = result.title
        records = result.records.assign(_sid=sid)
        self.records.setdefault(KIND, []).append(records)
        self.sheets.append(
            SheetOutcome(
                sheet.file,
                sheet.sheet,
                KIND,
                "read",
                "",
                result.header_row,
                result.rows,
                result.outcome,
                result.out_of_scope_by_region,
                extra,
            )
        )
        return True

    def _clean_kind(
        self,
        kind: str,
        frame: pd.DataFrame,
        rows: np.ndarray,
        ctx: SheetContext,
        active: np.ndarray | None = None,
        ahead: dict[object, Future] | None = None,
        lookups: Lookups | None = None,
        memo: dict[str, dict[str, object]] | None = None,
    ) -> Cleaned:
        from coverage_analysis.clean.legalization import clean_legalization
        from coverage_analysis.clean.media_plan import clean_media_plan
        from coverage_analysis.clean.population import clean_population
        from coverage_analysis.clean.publications import clean_publications
        from coverage_analysis.clean.social_reach import clean_social_reach

        lookups = lookups or self.lookups
        if kind == "publications":
            return clean_publications(frame, rows, ctx, lookups, active, ahead, memo)
        if kind == "legalization":
            return clean_legalization(frame, rows, ctx, lookups)
        if kind == "social_reach":
            return clean_social_reach(frame, rows, ctx, lookups)
        if kind == "media_plan":
            return clean_media_plan(frame, rows, ctx, lookups)
        return clean_population(frame, rows, ctx, lookups)


# --------------------------------------------------------------------------- national scope

#: Key of a registry's parse memo under which each region keeps its own district names.
_REGION_DISTRICTS = "districts by region"

#: Header labels of the region column of a national file (folded to lower case).
REGION_COLUMN_LABELS: tuple[str, ...] = ("область", "регион", "облыс", "region")
#: Reason of a national file's row whose region cell names no region of the republic.
UNKNOWN_REGION_REASON = "unknown region"


#: Words that make a unit name a city's (``г. Костанай``) or a district's (``Костанайский
#: район``), normalised; they tell apart a city and the district around it of one name.
CITY_WORDS: frozenset[str] = frozenset({"г", "город", "гор", "қ", "қала", "қаласы"})
DISTRICT_WORDS: frozenset[str] = frozenset({"район", "р-н", "ауданы", "аудан"})


def region_resolver(units: pd.DataFrame) -> object:
    """A :class:`DistrictResolver` over one region's units that also tells apart a city
    and the district of the same name (``Костанай`` / ``Костанайский``, ``г. Павлодар`` /
    ``Павлодарский район``): where the name matches both, the unit of the kind its marker
    word names (``г.``, ``район``, ``ауданы``), else the one whose name is written exactly,
    wins; otherwise the row stays ambiguous (rejected, naming both)."""
    from coverage_analysis.clean.vocab import Parsed, normalize_text
    from coverage_analysis.reference.districts import DistrictResolver

    def words_of(text: str) -> list[str]:
        return [w for w in re.split(r"[\s.,]+", normalize_text(text)) if w]

    kinds = dict(zip(units["district_id"], units["kind"], strict=True))
    exact: list[dict[str, set[str]]] = []  # by name column, Russian first
    for col in ("name_ru", "name_kk", "name_en"):
        names: dict[str, set[str]] = {}
        for did, name in zip(units["district_id"], units[col], strict=True):
            if isinstance(name, str):
                key = " ".join(w for w in words_of(name) if w not in CITY_WORDS | DISTRICT_WORDS)
                names.setdefault(key, set()).add(did)
        exact.append(names)

    class _RegionResolver(DistrictResolver):
        def _resolve(self, raw: object, explain: bool = True) -> Parsed:
            parsed = super()._resolve(raw, explain)
            if parsed.value is not None or parsed.error is None:
                return parsed
            candidates = self.candidates(raw)  # never the closest names of a reject
            if len(candidates) < 2:
                return parsed
            words = words_of(str(raw))
            kind = (
                "city"
                if CITY_WORDS & set(words)
                else "district"
                if DISTRICT_WORDS & set(words)
                else None
            )
            # the kind a marker word names first (``Костанай ауданы`` is the district),
            # else the unit whose name is written exactly (``Костанай`` is the city)
            pick = {i for i in candidates if kind and kinds.get(i) == kind}
            if len(pick) != 1:
                core = " ".join(w for w in words if w not in CITY_WORDS | DISTRICT_WORDS)
                for names in exact:
                    pick = names.get(core, set()) & candidates
                    if len(pick) == 1:
                        break
            return Parsed(pick.pop(), None) if len(pick) == 1 else parsed

    return _RegionResolver(units)


class NationalLookups:
    """District lookups of the national scope: one resolver per 2014-2016 region over
    that region's units of the national reference, built on first use."""

    def __init__(self, vocab: HeaderVocabulary) -> None:
        from coverage_analysis.reference import load_districts
        from coverage_analysis.reference.regions import RegionNames

        self.vocab = vocab
        self.reference = load_districts()
        if "region_id" not in self.reference.columns:
            raise DataNotFoundError(
                "the national scope needs the national district reference (a region_id column)"
            )
        self.region_ids = set(self.reference["region_id"])
        self._by_region: dict[str, Lookups] = {}
        self._whole: Lookups | None = None
        self._names = RegionNames()
        camp = pd.read_csv(reference_path_of("campaign_regions.csv"), dtype=str)
        #: Two-digit KATO (2018 and campaign era) -> region id.
        self.by_code = {
            k[:2]: r for k, r in zip(camp.region_kato_2018, camp.campaign_region_id, strict=True)
        }
        self.by_code.update(
            {
                k[:2]: r
                for k, r in zip(camp.campaign_region_kato, camp.campaign_region_id, strict=True)
            }
        )

    def region(self, region_id: str) -> Lookups:
        """The lookups of one region (its units only)."""
        if region_id not in self._by_region:
            units = self.reference[self.reference["region_id"] == region_id]
            self._by_region[region_id] = Lookups(region_resolver(units), self.vocab)
        return self._by_region[region_id]

    def resolver_of_region_code(self, code: str) -> object | None:
        """The resolver of the campaign region whose KATO prefix is ``code`` (a bulletin's
        region heading), None for a prefix of no campaign region (a post-2022 region)."""
        region_id = self.by_code.get(str(code)[:2])
        return self.region(region_id).resolver if region_id in self.region_ids else None

    def whole(self) -> Lookups:
        """Lookups over every unit of the republic (a name of two regions is ambiguous)."""
        from coverage_analysis.reference.districts import DistrictResolver

        if self._whole is None:
            self._whole = Lookups(DistrictResolver(self.reference), self.vocab)
        return self._whole

    def for_path(self, rel: str) -> Lookups:
        """A file under ``<region_id>/`` resolves within that region, any other against
        the whole republic."""
        top = rel.replace("\\", "/").split("/", 1)[0]
        return self.region(top) if "/" in rel and top in self.region_ids else self.whole()

    def region_column(self, names: list[object]) -> int | None:
        """Index of the header's region column, if any."""
        for i, name in enumerate(names):
            if str(name or "").strip().lower() in REGION_COLUMN_LABELS:
                return i
        return None

    def region_of(self, text: object) -> str | None:
        """Region id named by a region cell (``Карагандинская область``, ``г. Астана``)."""
        if text is None or (isinstance(text, float) and np.isnan(text)):
            return None
        code = self._names.match(str(text))
        return None if code is None else self.by_code.get(str(code)[:2])

    def clean_by_region(
        self,
        clean_kind: object,
        kind: str,
        frame: pd.DataFrame,
        rows: np.ndarray,
        ctx: SheetContext,
        region_col: int,
        memo: dict[str, dict[str, object]] | None = None,
    ) -> Cleaned:
        """Clean the rows of a national sheet region by region (each with its region's
        districts); a row naming no known region is a row reject. The records and ledger
        lines come back in one :class:`Cleaned` over the rows given. Each distinct region
        cell is resolved once. ``memo`` (publications only): the parses of a registry's
        earlier pieces and regions, by field and text (``remembered``), shared by every
        region except the district names, which each region resolves in its own memo."""
        column = frame.iloc[:, region_col]
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
        named = [self.region_of(v) or "" for v in uniques]
        regions = np.array([*named, ""], dtype=object)[codes]  # (code -1: an empty cell)
        rejected = np.zeros(len(frame), dtype=bool)
        records: list[pd.DataFrame] = []
        ledgers: list[pd.DataFrame] = []
        bad = np.flatnonzero(regions == "")
        if len(bad):
            rejected[bad] = True
            lines = Ledger()
            for i in bad:
                lines.add(
                    ctx.file,
                    ctx.sheet,
                    int(rows[i]),
                    kind,
                    "region",
                    display(column.iloc[i]),
                    UNKNOWN_REGION_REASON,
                    "row",
                )
            ledgers.append(lines.frame())
        for region_id in sorted(set(named) - {""}):
            mask = regions == region_id
            extra = {}
            if memo is not None:  # district names by region, every other field shared
                districts = memo.setdefault(_REGION_DISTRICTS, {}).setdefault(region_id, {})
                extra["memo"] = {**memo, "district": districts}
            part = clean_kind(  # type: ignore[operator]
                kind,
                filter_rows(frame, mask),
                rows[mask],
                ctx,
                lookups=self.region(region_id),
                **extra,
            )
            records.append(part.records)
            if len(part.ledger):
                ledgers.append(part.ledger)
            sub = rejected[mask]
            sub[part.rejected] = True
            rejected[mask] = sub
        if records:
            merged = pd.concat(records, ignore_index=True)
        else:
            merged = clean_kind(  # type: ignore[operator]
                kind, filter_rows(frame, np.zeros(len(frame), bool)), rows[:0], ctx
            ).records
        ledger = pd.concat(ledgers, ignore_index=True) if ledgers else Ledger().frame()
        return Cleaned(merged, ledger, rejected)


def reference_path_of(name: str) -> object:
    """Path of a shipped reference file (imported late: the reference package is heavy)."""
    from coverage_analysis.reference import reference_path

    return reference_path(name)


def _outcome(status: np.ndarray, rejected: np.ndarray) -> np.ndarray:
    """Row outcomes of a sheet: its row statuses (blank, summary, rejected lines), with
    the data rows (status ``""``) clean or, where the cleaner rejected them, rejected."""
    at = np.flatnonzero(status == "")
    outcome = status.copy()
    outcome[at] = CLEAN  # (one object, not an array of them)
    outcome[at[rejected]] = REJECTED
    return outcome


# --------------------------------------------------------------------------- registry coverage

_TOKEN_SPLIT = re.compile(r"[\s_,.;:()\[\]«»\"]+")


def _districts_named(text: str, resolver: object) -> set[str]:
    from coverage_analysis.domain import REGION_ID

    found: set[str] = set()
    words = [w for w in _TOKEN_SPLIT.split(text) if len(w) > 1]
    for i in range(len(words)):
        for span in (2, 1):
            if i + span > len(words):
                continue
            phrase = " ".join(words[i : i + span])
            district = resolver.district_of(phrase)
            if district is not None and district != REGION_ID:
                found.add(district)
                break
    return found


def registry_coverage(
    pubs: pd.DataFrame, sheets: list[SheetOutcome], titles: dict[int, str], resolver: object
) -> pd.DataFrame:
    """District x months each publication sheet reports on (docs/cleaning-conventions.md)."""
    from coverage_analysis.clean import parsers
    from coverage_analysis.domain import CAMPAIGN_END, CAMPAIGN_START, REGION_ID

    parts = []
    sids = pubs["_sid"].to_numpy()
    for sid, sheet in enumerate(sheets):
        if sheet.kind != "publications":
            continue
        title = titles.get(sid, "")
        stem = Path(sheet.file).stem
        sel = sids == sid
        mine = pubs if sel.all() else pubs[sel]
        period = None
        for text in (title, stem):
            p = parsers.parse_period(text)
            if p.error is None and p.value is not None:
                period = p.value
                break
        if period is not None:
            months = pd.date_range(pd.Timestamp(period[0]), pd.Timestamp(period[-1]), freq="MS")
        elif len(mine):
            m = as_datetime(mine["month"])
            months = pd.date_range(m.min(), m.max(), freq="MS")
        else:
            continue
        months = months[(months >= CAMPAIGN_START) & (months <= CAMPAIGN_END)]
        districts = _districts_named(title, resolver) or _districts_named(stem, resolver)
        if not districts:
            districts = set(pd.unique(mine["district_id"])) - {REGION_ID}
        for d in sorted(districts):
            parts.append(
                pd.DataFrame(
                    {
                        "district_id": d,
                        "month": months,
                        "source_file": sheet.file,
                        "source_sheet": sheet.sheet,
                    }
                )
            )
    if not parts:
        return pd.DataFrame(
            {
                "district_id": pd.Series([], dtype=object),
                "month": pd.Series([], dtype=object),
                "source_file": pd.Series([], dtype=object),
                "source_sheet": pd.Series([], dtype=object),
            }
        )
    return pd.concat(parts, ignore_index=True).drop_duplicates().reset_index(drop=True)


# --------------------------------------------------------------------------- the step


def _set_outcomes(run: _Run, records: pd.DataFrame, status: np.ndarray) -> None:
    """Row outcomes from record statuses: any kept record -> clean; else any conflict -> rejected; else duplicate."""
    if "rows" in records.columns:
        exploded = records[["_sid", "rows"]].assign(_status=status).explode("rows")
        sid = exploded["_sid"].to_numpy(dtype=np.int64)
        row_no = exploded["rows"].to_numpy(dtype=np.int64)
        st = exploded["_status"].to_numpy()
    else:
        sid = records["_sid"].to_numpy(dtype=np.int64)
        row_no = records["source_row"].to_numpy(dtype=np.int64)
        st = np.asarray(status)
    rank = {"kept": 0, "conflict": 1, "dup": 2}
    r = np.full(len(st), np.nan)
    for name, value in rank.items():
        r[st == name] = value
    # only rows with a record not kept can change: the rest stay clean
    bad = r > 0
    if not bad.any():
        return
    key = sid * (int(row_no.max()) + 1) + row_no
    touched = np.isin(key, np.unique(key[bad]))
    table = pd.DataFrame({"sid": sid[touched], "row": row_no[touched], "r": r[touched]})
    best = table.groupby(["sid", "row"], sort=False)["r"].min()
    for sid_, group in best.groupby(level=0):
        sheet = run.sheets[sid_]
        rows = group.index.get_level_values(1).to_numpy()
        idx = np.searchsorted(sheet.rows, rows)
        values = group.to_numpy()
        sheet.outcome[idx[values == 1]] = REJECTED
        sheet.outcome[idx[values == 2]] = DUPLICATE


def clean_folder(
    raw_dir: str | os.PathLike[str],
    processed_dir: str | os.PathLike[str],
    executor: FileMapper | None = None,
    scope: str | None = None,
) -> CleaningResult:
    """Clean every spreadsheet under ``raw_dir`` into ``processed_dir``.

    Raises :class:`DataNotFoundError` when ``raw_dir`` does not exist; any
    problem with a single file or sheet is reported and the rest is cleaned.
    ``executor`` (like the builtin ``map``: a function and the files, results in the
    files' order) runs the per-file reading and cleaning elsewhere, e.g. on Dask
    workers (:class:`coverage_analysis.cluster.DaskFileMapper`); the duplicates, the
    tables and the report are made here from the combined parts, so they are the same
    whichever executor ran the files. ``None`` reads the files here, one by one.
    ``scope`` (default ``$COVERAGE_ANALYSIS_SCOPE``, else ``region``): ``national``
    resolves districts against the republic's reference, each file of a region's folder
    (``<raw>/<region_id>/...``) within its region and each row of a national file (a
    region column) within the region it names; the scope is recorded in
    ``cleaning_report.json``.
    """
    from coverage_analysis import config
    from coverage_analysis.clean import parsers
    from coverage_analysis.clean.legalization import finish_legalization
    from coverage_analysis.clean.media_plan import finish_media_plan
    from coverage_analysis.clean.population import finish_population
    from coverage_analysis.clean.publications import finish_publications
    from coverage_analysis.clean.social_reach import finish_social_reach

    raw, out_dir = Path(raw_dir), Path(processed_dir)
    if not raw.is_dir():
        raise DataNotFoundError(f"raw folder {raw} does not exist")
    problems: list[dict[str, str]] = []
    inputs, skipped = list_inputs(raw, problems)
    scope = config.activate_scope(config.resolve_scope(scope))
    run = _Run(scope)
    for p in problems:
        run.unreadable.append(p)
        run.file_problem(p["file"], p["reason"])
    if executor is None:
        for path, rel in inputs:
            run.read_file(path, rel)
    else:  # each file read and cleaned on its own (a Dask worker, say), combined in file order
        for part in executor(functools.partial(read_input_file, scope=scope), inputs):
            run.absorb(part)

    finishers = {
        "publications": finish_publications,
        "legalization": finish_legalization,
        "media_plan": finish_media_plan,
        "social_reach": finish_social_reach,
        "population": finish_population,
    }
    tables: dict[str, pd.DataFrame] = {}
    dup_parts: list[pd.DataFrame] = []
    all_pubs = None
    for kind, parts in run.records.items():
        nonempty = [p for p in parts if len(p)] or parts[:1]
        records = nonempty[0] if len(nonempty) == 1 else pd.concat(nonempty, ignore_index=True)
        del nonempty
        if kind == "publications":
            # a long registry is held three times over at most (parts, records, kept):
            # drop each as soon as it is done with (the population parts are reported later)
            parts.clear()
            dup, pairs = publication_duplicates(records)
            status = np.where(dup, "dup", "kept")
            all_pubs = records.loc[~dup, ["_sid", "month", "district_id"]]
        else:
            dup, conflict, pairs, conflicts = value_duplicates(records, kind)
            status = np.where(dup, "dup", np.where(conflict, "conflict", "kept"))
            run.ledger.extend(conflicts)
        _set_outcomes(run, records, status)
        dup_parts.append(pairs)
        keep = status == "kept"
        kept = filter_rows(records, keep, [c for c in records.columns if c != "_sid"])
        del records
        tables[kind] = finishers[kind](kept)
        del kept
    if all_pubs is not None:
        tables["registry_coverage"] = registry_coverage(
            all_pubs, run.sheets, run.titles, run.resolver
        )

    # every output goes to a staging folder, switched in as a whole (io/generation.py)
    staging = Staging(out_dir)
    try:
        report = _write_generation(run, raw, out_dir, staging, tables, skipped, dup_parts, parsers)
        staging.commit()
    except BaseException:
        staging.abandon()
        raise
    anything = any(s.kind is not None for s in run.sheets)
    return CleaningResult(raw, out_dir, tables, report, anything)


def _write_generation(
    run: _Run,
    raw: Path,
    out_dir: Path,
    staging: Staging,
    tables: dict[str, pd.DataFrame],
    skipped: list[dict[str, str]],
    dup_parts: list[pd.DataFrame],
    parsers: object,
) -> dict[str, object]:
    """Write every output of the run into ``staging``; returns the cleaning report."""
    meta = {GENERATION_KEY: staging.id.encode()}
    date_columns = {
        name: tuple(f.name for f in SCHEMAS[name].fields if f.dtype == "date") for name in tables
    }

    def convert_and_write(name: str) -> None:
        table = arrow_table(tables[name], date_columns[name])
        write_arrow_table(table, staging.path(TABLE_FILES[name]), meta)

    # the tables are converted and written to the staging folder in a worker thread (Arrow
    # and Parquet release the GIL) while they are validated and the ledgers written here;
    # a table that fails its schema fails the run before anything is switched in (the
    # staging folder is abandoned, see clean_folder)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = {name: pool.submit(convert_and_write, name) for name in tables}
        try:
            for name, table in tables.items():
                validate(table, name)
            ledger_lines = _write_ledgers(run, staging, dup_parts)
        except BaseException:
            for future in pending.values():
                future.cancel()
            wait(pending.values())  # nothing may still be writing into the staging folder
            raise
        for future in pending.values():
            future.result()
    written = {name: len(table) for name, table in tables.items()}
    removed = []
    for name, fname in TABLE_FILES.items():
        if name not in tables and (out_dir / fname).exists():
            removed.append(fname)  # not in the new generation: gone when it is switched in
            log.info("removing stale %s (its kind is absent from %s)", fname, raw)
    report = _report(run, raw, out_dir, skipped, written, removed, ledger_lines, parsers)
    report[GENERATION_REPORT_KEY] = staging.id
    report["scope"] = run.scope
    staged = [TABLE_FILES[n] for n in tables] + [REJECTS_FILE, DUPLICATES_FILE]
    report[GENERATION_FILES_KEY] = staging.digests(staged)
    write_json(report, staging.path(CLEANING_REPORT_FILE))
    return report


def _write_ledgers(run: _Run, staging: Staging, dup_parts: list[pd.DataFrame]) -> int:
    """Write ``rejects.csv`` and ``duplicates.csv`` into ``staging``; returns the number
    of ledger lines."""
    from coverage_analysis.clean.rejects import attach_district_ids

    ledger = _fix_conflict_scope(run.ledger.frame(), run)
    write_csv(
        attach_district_ids(ledger[list(LEDGER_COLUMNS)], run.resolver),
        staging.path(REJECTS_FILE),
    )
    dup_parts = [p for p in dup_parts if len(p)]
    duplicates = (
        pd.concat(dup_parts, ignore_index=True)
        if dup_parts
        else pd.DataFrame(columns=list(DUPLICATE_COLUMNS))
    )
    write_csv(duplicates, staging.path(DUPLICATES_FILE))
    return len(ledger)


def _fix_conflict_scope(ledger: pd.DataFrame, run: _Run) -> pd.DataFrame:
    """A conflict that leaves its row with nothing clean is a row reject."""
    if ledger.empty:
        return ledger
    conflict = ledger["reason"].astype(str).str.startswith("conflicts with")
    if not conflict.any():
        return ledger
    rejected = {
        (s.file, s.sheet, int(r))
        for s in run.sheets
        if len(s.rows)
        for r in s.rows[s.outcome == REJECTED]
    }
    keys = zip(
        ledger.loc[conflict, "source_file"],
        ledger.loc[conflict, "source_sheet"],
        ledger.loc[conflict, "source_row"],
        strict=True,
    )
    ledger.loc[conflict, "scope"] = [
        "row" if (f, s, int(r)) in rejected else "cell" for f, s, r in keys
    ]
    return ledger


def _report(
    run: _Run,
    raw: Path,
    out_dir: Path,
    skipped: list[dict[str, str]],
    written: dict[str, int],
    removed: list[str],
    ledger_lines: int,
    parsers: object,
) -> dict[str, object]:
    sheets = []
    totals = dict.fromkeys(
        (
            "rows_read",
            "rows_clean",
            "rows_rejected",
            "rows_duplicate",
            "rows_summary",
            "rows_blank",
            "rows_out_of_scope",
        ),
        0,
    )
    set_aside: dict[str, int] = {}
    by_kind: dict[str, dict[str, int]] = {}
    for s in run.sheets:
        counts = s.counts()
        entry = {
            "file": s.file,
            "sheet": s.sheet,
            "kind": s.kind,
            "status": s.status,
            "header_row": s.header_row,
            **counts,
        }
        if s.out_of_scope_by_region:
            entry["out_of_scope_by_region"] = s.out_of_scope_by_region
            for region, n in s.out_of_scope_by_region.items():
                set_aside[region] = set_aside.get(region, 0) + n
        entry.update(s.extra)
        if s.message:
            entry["message"] = s.message
        if (s.file, s.sheet) in run.hidden:
            entry["hidden"] = True
        sheets.append(entry)
        for k, v in counts.items():
            totals[k] += v
            if s.kind:
                by_kind.setdefault(s.kind, dict.fromkeys(totals, 0))[k] += v
    files: dict[str, dict[str, object]] = {}
    for entry in sheets:
        f = files.setdefault(entry["file"], {"status": "read", "sheets": []})
        f["sheets"].append({k: v for k, v in entry.items() if k != "file"})
    for u in run.unreadable:
        files.setdefault(u["file"], {"sheets": []}).update(
            {"status": "unreadable", "reason": u["reason"]}
        )
    for rel, enc in run.encodings.items():
        files.setdefault(rel, {"sheets": []}).update(
            {"encoding": enc["encoding"], "encoding_rule": enc["rule"]}
        )
    encodings: dict[str, int] = {}
    for enc in run.encodings.values():
        encodings[str(enc["encoding"])] = encodings.get(str(enc["encoding"]), 0) + 1
    unused: dict[str, list[list[str]]] = {
        "headers": run.vocab.unused(run.header_parts) if run.sheets else []
    }
    for name in ("channel", "language", "format", "platform"):
        try:
            unused[name] = [list(e) for e in parsers.vocabulary(name).unused()]
        except Exception:  # a vocabulary that cannot say is not a cleaning failure
            unused[name] = []
    return {
        "raw_dir": str(raw),
        "processed_dir": str(out_dir),
        "synthetic": (raw / SAMPLE_TRUTH_MARKER).is_file(),
        "files_read": len({s.file for s in run.sheets}),
        "sheets_read": sum(1 for s in run.sheets if s.status == "read"),
        "sheets": sheets,
        "files": files,
        "totals": totals,
        "totals_by_kind": by_kind,
        "encodings": dict(sorted(encodings.items())),
        "hidden_sheets": [{"file": f, "sheet": sh} for f, sh in sorted(run.hidden)],
        "out_of_scope_by_region": dict(sorted(set_aside.items())),
        "summed_units": _summed(run),
        "skipped_files": skipped,
        "unreadable_files": run.unreadable,
        "unrecognised_sheets": [e for e in sheets if e["status"] in ("unrecognised", "failed")],
        "unused_vocabulary": unused,
        "tables_written": written,
        "tables_removed": removed,
        "rejects_file": REJECTS_FILE,
        "duplicates_file": DUPLICATES_FILE,
        "ledger_lines": ledger_lines,
    }


def _summed(run: _Run) -> list[dict[str, object]]:
    """Records made of several rows (later units summed into a campaign district)."""
    out = []
    for p in run.records.get("population", []):
        if len(p):
            many = p[[len(r) > 1 for r in p["rows"]]]
            for rec in many.itertuples():
                out.append(
                    {
                        "file": rec.source_file,
                        "sheet": rec.source_sheet,
                        "district_id": rec.district_id,
                        "year": int(rec.year),
                        "rows": [int(r) for r in rec.rows],
                    }
                )
    return out


_unused = (BLANK, SUMMARY, OUT_OF_SCOPE)
