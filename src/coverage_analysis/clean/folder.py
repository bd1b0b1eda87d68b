"""The ``clean`` step: every raw file of a folder in, validated tables out.

Load (read every sheet, find its header, recognise its kind), process (drop
blank and total lines, clean per kind, find duplicates and conflicts across
the whole folder), save (validate, write atomically). Nothing is dropped
silently: every line below a header ends as clean, rejected, duplicate,
summary or blank, and ``cleaning_report.json`` shows that the five add up for
every sheet.
"""

from __future__ import annotations

import logging
import os
import re
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from coverage_analysis.clean.common import (
    BLANK,
    CLEAN,
    DUPLICATE,
    LEDGER_COLUMNS,
    OUTCOMES,
    REJECTED,
    SUMMARY,
    Ledger,
    SheetContext,
    as_datetime,
    display,
    filter_rows,
)
from coverage_analysis.clean.layout import recognize
from coverage_analysis.clean.rows import classify_rows
from coverage_analysis.errors import CoverageAnalysisError, DataNotFoundError, InputFileError
from coverage_analysis.io.headers import HeaderVocabulary, detect_header, headers_found
from coverage_analysis.io.readers import RawSheet, read_sheets
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
#: Extensions read as spreadsheets; every other file is skipped (and listed).
SPREADSHEET_SUFFIXES: frozenset[str] = frozenset({".xlsx", ".csv"})
#: Columns of ``duplicates.csv``.
DUPLICATE_COLUMNS: tuple[str, ...] = (
    "kind",
    "matched_on",
    "kept_file",
    "kept_sheet",
    "kept_row",
    "dropped_file",
    "dropped_sheet",
    "dropped_row",
)
#: Value columns compared when the same district x month (x ...) comes twice.
VALUE_COLUMNS: dict[str, tuple[str, ...]] = {
    "legalization": ("value",),
    "media_plan": ("planned", "actual_reported"),
    "social_reach": ("posts", "users_reached"),
    "population": ("population",),
}
#: Key columns of the non-publication kinds (record level, before the final pivot).
RECORD_KEYS: dict[str, tuple[str, ...]] = {
    "legalization": ("district_id", "month", "measure"),
    "media_plan": ("district_id", "month", "channel"),
    "social_reach": ("district_id", "month", "platform"),
    "population": ("district_id", "year"),
}
#: Relative tolerance within which two reported values are the same value.
SAME_VALUE_RTOL = 1e-9


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

    def counts(self) -> dict[str, int]:
        """rows_read and the five outcomes."""
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
            )
        for f in r["unreadable_files"]:
            lines.append(f"  unreadable: {f['file']}: {f['reason']}")
        for s in r["unrecognised_sheets"]:
            where = s["file"] + (f" [sheet {s['sheet']}]" if s["sheet"] else "")
            lines.append(f"  not recognised: {where}: {s['message']}")
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


def list_inputs(raw_dir: Path) -> tuple[list[tuple[Path, str]], list[dict[str, str]]]:
    """Spreadsheets under ``raw_dir`` in POSIX path order, and the skipped other files."""
    inputs, skipped = [], []
    for path in sorted(
        (p for p in raw_dir.rglob("*") if p.is_file()),
        key=lambda p: p.relative_to(raw_dir).as_posix(),
    ):
        rel = path.relative_to(raw_dir).as_posix()
        if path.suffix.lower() in SPREADSHEET_SUFFIXES:
            inputs.append((path, rel))
        else:
            skipped.append({"file": rel, "reason": "not a spreadsheet"})
    return inputs, skipped


class _Run:
    """State of one clean run (records per kind, ledger, outcomes)."""

    def __init__(self) -> None:
        from coverage_analysis.reference.districts import DistrictResolver

        self.vocab = HeaderVocabulary.load()
        self.resolver = DistrictResolver()
        self.ledger = Ledger()
        self.records: dict[str, list[pd.DataFrame]] = {}
        self.sheets: list[SheetOutcome] = []
        self.unreadable: list[dict[str, str]] = []
        self.titles: dict[int, str] = {}
        self.header_parts: set[str] = set()

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
        for sheet in sheets:
            try:
                self.clean_sheet(sheet)
            except CoverageAnalysisError as exc:
                self._sheet_failed(sheet, str(exc))
            except Exception as exc:  # a bug or a layout we did not foresee: say where, keep going
                log.debug("sheet failed", exc_info=True)
                self._sheet_failed(sheet, f"could not be cleaned ({type(exc).__name__}: {exc})")
        if all(s.status == "empty" for s in self.sheets[outcomes_before:]):
            reason = (
                "empty file"
                if path.suffix.lower() == ".csv"
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
        frame, rows = sheet.data(header.data_start, len(header.names))
        sid = len(self.sheets)
        self.titles[sid] = header.title
        self.header_parts.update(str(p) for parts in header.parts for p in parts)
        rownum = next((c.index for c in columns if c.field == "rownum"), None)
        ahead = _factorize_ahead(frame, ctx) if kind == "publications" else {}
        status = classify_rows(
            frame, rownum_col=rownum, key_col=ctx.column_of("district"), factorized=ahead
        )
        data = status == ""
        if kind == "publications":  # long sheets: the cleaner passes over the other rows itself
            records, rejected = self._clean_kind(kind, frame, rows, ctx, active=data, ahead=ahead)
        else:
            records, rejected = self._clean_kind(kind, filter_rows(frame, data), rows[data], ctx)
        outcome = status.copy()
        sub = np.full(int(data.sum()), CLEAN, dtype=object)
        sub[rejected] = REJECTED
        outcome[data] = sub
        records["_sid"] = sid  # records are the cleaner's own fresh frame
        self.records.setdefault(kind, []).append(records)
        self.sheets.append(
            SheetOutcome(
                sheet.file, sheet.sheet, kind, "read", "", header.rows[-1] + 1, rows, outcome
            )
        )
        log.info("%s [%s]: %s, %d rows", sheet.file, sheet.sheet, kind, len(rows))

    def _clean_kind(
        self,
        kind: str,
        frame: pd.DataFrame,
        rows: np.ndarray,
        ctx: SheetContext,
        active: np.ndarray | None = None,
        ahead: dict[object, Future] | None = None,
    ) -> tuple[pd.DataFrame, np.ndarray]:
        from coverage_analysis.clean.legalization import clean_legalization
        from coverage_analysis.clean.media_plan import clean_media_plan
        from coverage_analysis.clean.population import clean_population
        from coverage_analysis.clean.publications import clean_publications
        from coverage_analysis.clean.social_reach import clean_social_reach

        if kind == "legalization":
            return clean_legalization(frame, rows, ctx, self.ledger, self.resolver, self.vocab)
        if kind == "publications":
            return clean_publications(frame, rows, ctx, self.ledger, self.resolver, active, ahead)
        cleaner = {
            "publications": clean_publications,
            "media_plan": clean_media_plan,
            "social_reach": clean_social_reach,
            "population": clean_population,
        }[kind]
        return cleaner(frame, rows, ctx, self.ledger, self.resolver)


#: Fields of a registry parsed once per distinct cell (their columns are factorised ahead).
PARSED_FIELDS: tuple[str, ...] = ("date", "district", "channel", "reach", "language", "format")


def _factorize_ahead(frame: pd.DataFrame, ctx: SheetContext) -> dict[object, Future]:
    """``pd.factorize`` of the parsed Arrow string columns of a registry, begun in two
    worker threads (Arrow hashes without the GIL) while the rows are classified."""
    from coverage_analysis.clean.common import is_arrow_string

    pool = ThreadPoolExecutor(max_workers=2)
    ahead: dict[object, Future] = {}
    for name in PARSED_FIELDS:
        i = ctx.column_of(name)
        if i is not None and i not in ahead and is_arrow_string(frame[i]):
            ahead[i] = pool.submit(pd.factorize, frame[i], use_na_sentinel=True)
    pool.shutdown(wait=False)
    return ahead


# --------------------------------------------------------------------------- duplicates


#: Whitespace that needs collapsing (two spaces, tabs, line breaks, no-break spaces).
_ODD_SPACE = "\\s\\s|[\\t\\n\\r\u00a0]"


def _arrow_text(values: pd.Series) -> object:
    """The cells as an Arrow string array (the column's own when it is Arrow-backed)."""
    import pyarrow as pa

    if isinstance(values.dtype, pd.StringDtype) and hasattr(values.array, "_pa_array"):
        return values.array._pa_array
    return pa.array(values, type=pa.string(), from_pandas=True)


def _norm_text(arr: object) -> object:
    """Lower-case, ``ё``→``е``, whitespace collapsed and trimmed (an Arrow array);
    a kernel that would change nothing is skipped."""
    import pyarrow.compute as pc

    from coverage_analysis.clean.publications import _may_need_trim

    arr = pc.utf8_lower(arr)
    if _contains(arr, _YO_BYTES + _ODD_SPACE_BYTES):  # one look at the text: usually neither
        if _contains(arr, _YO_BYTES):
            arr = pc.replace_substring(arr, "ё", "е")
        if (
            _contains(arr, _ODD_SPACE_BYTES)
            and pc.any(pc.match_substring_regex(arr, _ODD_SPACE)).as_py()
        ):
            arr = pc.replace_substring_regex(arr, r"\s+", " ")
    return pc.utf8_trim_whitespace(arr) if _may_need_trim(arr) else arr


def _norm_url(arr: object) -> object:
    """A URL without scheme, ``www.`` and trailing slashes."""
    import pyarrow.compute as pc

    arr = pc.replace_substring_regex(_norm_text(arr), r"^(?:[a-z][a-z0-9+.-]*://)?(?:www\.)?", "")
    if pc.any(pc.ends_with(arr, "/")).as_py():
        arr = pc.utf8_rtrim(arr, characters="/")
    return arr


def _codes(arr: object) -> np.ndarray:
    """Integer code per distinct text (-1 for missing or empty); only equal codes mean
    anything, not their order."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(arr, pa.ChunkedArray):  # one hash table, not one per chunk unified after
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    encoded = arr.dictionary_encode()
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    empty = pc.index(encoded.dictionary, "").as_py()
    if empty >= 0:
        codes[codes == empty] = -1
    return codes


def _contains(arr: object, needles: tuple[bytes, ...]) -> bool:
    """Whether any of ``needles`` may occur in ``arr`` (an Arrow string array): a byte
    search of its data buffers (which may hold more than the array: never a false no).

    >>> import pyarrow as pa
    >>> _contains(pa.array(["a b", "c"]), (b"  ", b"\\t")), _contains(pa.array(["a  b"]), (b"  ",))
    (False, True)
    """
    import pyarrow as pa

    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    for chunk in chunks:
        if not pa.types.is_string(chunk.type) and not pa.types.is_large_string(chunk.type):
            return True
        data = chunk.buffers()[2]
        if data is None:
            continue
        raw = data.to_pybytes()
        if any(n in raw for n in needles):
            return True
    return False


#: Bytes without which ``ё`` cannot occur in lower-cased text (its last byte; rare in
#: lower-case Cyrillic, found by ``memchr`` where a two-byte search crawls).
_YO_BYTES = (b"\x91",)
#: Bytes without which ``_ODD_SPACE`` cannot match (``\s`` is ``[\t\n\f\r ]``; the
#: no-break space ends in 0xA0), single bytes first.
_ODD_SPACE_BYTES = (b"\t", b"\n", b"\r", b"\x0c", b"\xa0", b"  ")


def _string_array(arr: object) -> pd.api.extensions.ExtensionArray:
    import pyarrow as pa

    if not isinstance(arr, pa.ChunkedArray):
        arr = pa.chunked_array([arr])
    return pd.arrays.ArrowStringArray(arr)


#: A column with fewer distinct values than this share of a sample is normalised per value.
_FEW_DISTINCT = 0.2
_SAMPLE = 20_000


def _norm_codes(values: pd.Series, norm: object) -> np.ndarray:
    """``_codes(norm(values))``; a column of few distinct values (outlets) is
    normalised once per distinct value."""
    import pyarrow.compute as pc

    arr = _arrow_text(values)
    head = arr.slice(0, _SAMPLE)
    if len(arr) > _SAMPLE and pc.count_distinct(head).as_py() < _FEW_DISTINCT * len(head):
        codes, uniques = pd.factorize(_string_array(arr), use_na_sentinel=True)
        ucodes = _codes(norm(uniques._pa_array))
        return np.append(ucodes, -1)[codes]
    return _codes(norm(arr))


def publication_duplicates(records: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Mask of later copies of a material (same URL, or same outlet, title and date)
    and the pairs (kept, dropped) for ``duplicates.csv``.

    >>> r = pd.DataFrame({"url": ["http://a.kz/1", "a.kz/1/", None], "outlet": ["X", "y", "X"],
    ...     "title": ["T", "T", "t "], "date": [pd.Timestamp("2016-01-02")] * 3, "month": [pd.Timestamp("2016-01-01")] * 3,
    ...     "source_file": ["f", "f", "g"], "source_sheet": ["", "", ""], "source_row": [2, 3, 4]})
    >>> mask, pairs = publication_duplicates(r)
    >>> mask.tolist(), pairs["matched_on"].tolist(), pairs["kept_row"].tolist()
    ([False, True, True], ['url', 'outlet, title and date'], [2, 2])
    """
    n = len(records)
    dup = np.zeros(n, dtype=bool)
    first_of = np.full(n, -1, dtype=np.int64)
    matched = np.full(n, "", dtype=object)
    if n == 0:
        return dup, pd.DataFrame(columns=list(DUPLICATE_COLUMNS))
    pos = np.arange(n)
    # Arrow's kernels release the GIL: the two long columns are hashed side by side
    with ThreadPoolExecutor(max_workers=2) as pool:
        url_codes = pool.submit(_norm_codes, records["url"], _norm_url)
        title_codes = pool.submit(_norm_codes, records["title"], _norm_text)
        when = (
            as_datetime(records["date"])
            .fillna(as_datetime(records["month"]))
            .to_numpy("datetime64[ns]")
            .view(np.int64)
        )
        outlet = _norm_codes(records["outlet"], _norm_text)
        url, title = url_codes.result(), title_codes.result()
    keys = (
        ("url", url >= 0, [url]),
        ("outlet, title and date", title >= 0, [outlet, title, when]),
    )
    for name, has, parts in keys:
        if not has.any():
            continue
        frame = pd.DataFrame({i: p[has] for i, p in enumerate(parts)})
        later = frame.duplicated(keep="first").to_numpy()
        if not later.any():
            continue
        firsts = (
            pd.Series(pos[has])
            .groupby([frame[c].to_numpy() for c in frame.columns], sort=False)
            .transform("min")
            .to_numpy()
        )
        idx = pos[has][later]
        new = ~dup[idx]
        dup[idx[new]] = True
        first_of[idx[new]] = firsts[later][new]
        matched[idx[new]] = name
    d = np.flatnonzero(dup)
    k = first_of[d]
    pairs = pd.DataFrame(
        {
            "kind": "publications",
            "matched_on": matched[d],
            "kept_file": records["source_file"].to_numpy()[k],
            "kept_sheet": records["source_sheet"].to_numpy()[k],
            "kept_row": records["source_row"].to_numpy()[k],
            "dropped_file": records["source_file"].to_numpy()[d],
            "dropped_sheet": records["source_sheet"].to_numpy()[d],
            "dropped_row": records["source_row"].to_numpy()[d],
        }
    )
    return dup, pairs


def value_duplicates(
    records: pd.DataFrame, kind: str
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """For keyed kinds: masks of later records repeating an earlier key with the same
    value (duplicate) or a different value (conflict), and the duplicate pairs."""
    n = len(records)
    keys = list(RECORD_KEYS[kind])
    if n == 0:
        return np.zeros(0, bool), np.zeros(0, bool), pd.DataFrame(columns=list(DUPLICATE_COLUMNS))
    pos = np.arange(n)
    first = (
        pd.Series(pos)
        .groupby([records[k].to_numpy() for k in keys], sort=False, dropna=False)
        .transform("min")
        .to_numpy()
    )
    later = first != pos
    same = np.ones(n, dtype=bool)
    for col in VALUE_COLUMNS[kind]:
        a = records[col].to_numpy(dtype=float)
        b = a[first]
        same &= np.isclose(a, b, rtol=SAME_VALUE_RTOL, equal_nan=True)
    dup = later & same
    conflict = later & ~same
    d = np.flatnonzero(dup)
    k = first[d]
    pairs = pd.DataFrame(
        {
            "kind": kind,
            "matched_on": ", ".join(keys),
            "kept_file": records["source_file"].to_numpy()[k],
            "kept_sheet": records["source_sheet"].to_numpy()[k],
            "kept_row": records["source_row"].to_numpy()[k],
            "dropped_file": records["source_file"].to_numpy()[d],
            "dropped_sheet": records["source_sheet"].to_numpy()[d],
            "dropped_row": records["source_row"].to_numpy()[d],
        }
    )
    conflict_with = first[conflict]
    records_first = records.iloc[conflict_with]
    reasons = [
        f"conflicts with {f} [{s}] row {int(r)}" if s else f"conflicts with {f} row {int(r)}"
        for f, s, r in zip(
            records_first["source_file"],
            records_first["source_sheet"],
            records_first["source_row"],
            strict=True,
        )
    ]
    records.attrs["conflict_reasons"] = reasons
    return dup, conflict, pairs


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
            p = resolver.resolve(phrase)
            if p.error is None and p.value is not None and p.value != REGION_ID:
                found.add(p.value)
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
    raw_dir: str | os.PathLike[str], processed_dir: str | os.PathLike[str]
) -> CleaningResult:
    """Clean every spreadsheet under ``raw_dir`` into ``processed_dir``.

    Raises :class:`DataNotFoundError` when ``raw_dir`` does not exist; any
    problem with a single file or sheet is reported and the rest is cleaned.
    """
    from coverage_analysis.clean import parsers
    from coverage_analysis.clean.legalization import finish_legalization
    from coverage_analysis.clean.media_plan import finish_media_plan
    from coverage_analysis.clean.population import finish_population
    from coverage_analysis.clean.publications import finish_publications
    from coverage_analysis.clean.social_reach import finish_social_reach

    raw, out_dir = Path(raw_dir), Path(processed_dir)
    if not raw.is_dir():
        raise DataNotFoundError(f"raw folder {raw} does not exist")
    inputs, skipped = list_inputs(raw)
    run = _Run()
    for path, rel in inputs:
        run.read_file(path, rel)

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
        if kind == "publications":
            dup, pairs = publication_duplicates(records)
            status = np.where(dup, "dup", "kept")
            all_pubs = records.loc[~dup, ["_sid", "month", "district_id"]]
        else:
            dup, conflict, pairs = value_duplicates(records, kind)
            status = np.where(dup, "dup", np.where(conflict, "conflict", "kept"))
            reasons = records.attrs.get("conflict_reasons", [])
            c = records[conflict]
            for (_, rec), reason in zip(c.iterrows(), reasons, strict=True):
                run.ledger.add(
                    rec["source_file"],
                    rec["source_sheet"],
                    int(rec["source_row"]),
                    kind,
                    _conflict_field(rec, kind),
                    ", ".join(display(rec[v]) for v in VALUE_COLUMNS[kind]),
                    reason,
                    "cell",
                )
        _set_outcomes(run, records, status)
        dup_parts.append(pairs)
        keep = status == "kept"
        kept = filter_rows(records, keep, [c for c in records.columns if c != "_sid"])
        tables[kind] = finishers[kind](kept)
    if all_pubs is not None:
        tables["registry_coverage"] = registry_coverage(
            all_pubs, run.sheets, run.titles, run.resolver
        )

    out_dir.mkdir(parents=True, exist_ok=True)
    # the Arrow tables are built while the frames are validated (Arrow hashes without
    # the GIL); nothing is written unless every table passes
    written: dict[str, int] = {}
    with ThreadPoolExecutor(max_workers=1) as pool:
        converted = {
            name: pool.submit(
                arrow_table,
                table,
                tuple(f.name for f in SCHEMAS[name].fields if f.dtype == "date"),
            )
            for name, table in tables.items()
        }
        try:
            for name, table in tables.items():
                validate(table, name)
        except BaseException:
            for future in converted.values():
                future.cancel()
            raise
        for name, table in tables.items():
            write_arrow_table(converted.pop(name).result(), out_dir / TABLE_FILES[name])
            written[name] = len(table)
    removed = []
    for name, fname in TABLE_FILES.items():
        if name not in tables and (out_dir / fname).exists():
            (out_dir / fname).unlink()
            removed.append(fname)
            log.info("removed stale %s (its kind is absent from %s)", fname, raw)
    ledger = run.ledger.frame()
    ledger = _fix_conflict_scope(ledger, run)
    from coverage_analysis.clean.rejects import attach_district_ids

    write_csv(
        attach_district_ids(ledger[list(LEDGER_COLUMNS)], run.resolver), out_dir / REJECTS_FILE
    )
    dup_parts = [p for p in dup_parts if len(p)]
    duplicates = (
        pd.concat(dup_parts, ignore_index=True)
        if dup_parts
        else pd.DataFrame(columns=list(DUPLICATE_COLUMNS))
    )
    write_csv(duplicates, out_dir / DUPLICATES_FILE)

    report = _report(run, raw, out_dir, skipped, written, removed, len(ledger), parsers)
    write_json(report, out_dir / CLEANING_REPORT_FILE)
    anything = any(s.kind is not None for s in run.sheets)
    return CleaningResult(raw, out_dir, tables, report, anything)


def _conflict_field(record: pd.Series, kind: str) -> str:
    """What a conflicting value is for: its key without the district (``amount_kzt 2016-07``)."""
    parts = []
    for k in RECORD_KEYS[kind]:
        if k == "district_id":
            continue
        v = record[k]
        parts.append(v.strftime("%Y-%m") if isinstance(v, pd.Timestamp) else str(v))
    return " ".join(parts)


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
        ),
        0,
    )
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
        if s.message:
            entry["message"] = s.message
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


_unused = (BLANK, SUMMARY)
