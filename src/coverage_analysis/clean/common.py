"""Shared pieces of the per-kind cleaners: the sheet context, the rejects
ledger, row outcomes and column-wise parsing.

Parsers are mapped over the *unique* values of a column, never row by row:

>>> import pandas as pd
>>> values, errors = map_parser(pd.Series(["1", "x", "1"]), lambda v: (int(v), None) if v.isdigit() else (None, "bad"))
>>> values.tolist(), errors.tolist()
([1, None, 1], [None, 'bad', None])
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from coverage_analysis.clean import fastpath
from coverage_analysis.clean.fastpath import is_arrow_string
from coverage_analysis.clean.layout import Column

if TYPE_CHECKING:
    from coverage_analysis.io.headers import HeaderVocabulary
    from coverage_analysis.reference.districts import DistrictResolver

#: Columns of ``rejects.csv`` (docs/cleaning-conventions.md).
LEDGER_COLUMNS: tuple[str, ...] = (
    "source_file",
    "source_sheet",
    "source_row",
    "kind",
    "field",
    "value",
    "reason",
    "scope",
)
#: Reason of a row or column whose month lies outside 2014-09 .. 2016-12.
OUTSIDE_CAMPAIGN = "outside the campaign period"

# Row outcomes (docs/cleaning-conventions.md); every row ends in exactly one.
CLEAN, REJECTED, DUPLICATE, SUMMARY, BLANK = "clean", "rejected", "duplicate", "summary", "blank"
#: A row that is neither data nor a reject: another region's unit, or a part (city proper,
#: settlement) of a unit already counted (official statistics bulletins).
OUT_OF_SCOPE = "out_of_scope"
OUTCOMES: tuple[str, ...] = (CLEAN, REJECTED, DUPLICATE, SUMMARY, BLANK, OUT_OF_SCOPE)


@dataclass
class SheetContext:
    """Where rows come from and how the sheet is laid out."""

    file: str
    sheet: str
    kind: str
    title: str
    columns: list[Column]
    header_rows: list[int] = field(default_factory=list)

    def column_of(self, name: str) -> int | None:
        """Index of the first column naming field ``name`` (and no period), or None."""
        for c in self.columns:
            if c.field == name and c.period is None:
                return c.index
        return None


class Ledger:
    """Lines of ``rejects.csv``, collected as frames (cheap for many rows)."""

    def __init__(self) -> None:
        self.parts: list[pd.DataFrame] = []

    def add(
        self,
        ctx_file: str,
        ctx_sheet: str,
        rows: object,
        kind: str,
        field_name: str,
        values: object,
        reason: object,
        scope: str,
    ) -> None:
        """Add one line per element of ``rows`` (scalars broadcast)."""
        rows_arr = np.atleast_1d(np.asarray(rows, dtype=object))
        n = len(rows_arr)
        if n == 0:
            return
        frame = pd.DataFrame(
            {
                "source_file": ctx_file,
                "source_sheet": ctx_sheet,
                "source_row": rows_arr,
                "kind": kind,
                "field": field_name,
                "value": _as_text(values, n),
                "reason": _as_text(reason, n),
                "scope": scope,
            }
        )
        self.parts.append(frame)

    def add_for(
        self,
        ctx: SheetContext,
        rows: object,
        field_name: str,
        values: object,
        reason: object,
        scope: str,
    ) -> None:
        """:meth:`add` for rows of the sheet ``ctx`` (its file, sheet and kind)."""
        self.add(ctx.file, ctx.sheet, rows, ctx.kind, field_name, values, reason, scope)

    def reject_column(self, ctx: SheetContext, header_row: int, name: str, reason: str) -> None:
        """One ``column`` line: the column ``name`` of the sheet ``ctx`` (at its header row)
        is not used, for ``reason``."""
        self.add_for(ctx, header_row, name, name, reason, "column")

    def frame(self) -> pd.DataFrame:
        """All lines, in the order added."""
        if not self.parts:
            return pd.DataFrame(columns=list(LEDGER_COLUMNS))
        out = pd.concat(self.parts, ignore_index=True)
        out["source_row"] = pd.array(out["source_row"], dtype="Int64")
        return out[list(LEDGER_COLUMNS)]

    def extend(self, lines: pd.DataFrame) -> None:
        """Append the lines of a cleaner's :attr:`Cleaned.ledger` (in their order)."""
        if len(lines):  # row numbers as objects, like the lines :meth:`add` makes
            self.parts.append(lines.assign(source_row=lines["source_row"].astype(object)))


@dataclass(frozen=True)
class Lookups:
    """What a cleaner consults besides its sheet: the district resolver and the header
    vocabulary, passed as one object (the same for every sheet of a run)."""

    resolver: DistrictResolver
    vocab: HeaderVocabulary


@dataclass
class Cleaned:
    """What a cleaner returns for one sheet (frame in, frames out): its records, its
    ledger lines (the columns of ``rejects.csv``, in the order found) and the mask of
    its rows that were rejected (over the rows it was given). The folder loop
    concatenates these; no cleaner writes into shared state."""

    records: pd.DataFrame
    ledger: pd.DataFrame
    rejected: np.ndarray


def _as_text(values: object, n: int) -> object:
    if isinstance(values, str) or values is None:
        return "" if values is None else values
    arr = np.asarray(values, dtype=object)
    if arr.ndim == 0:
        return display(arr.item())
    codes, uniq = pd.factorize(pd.Series(arr, dtype=object), use_na_sentinel=True)
    shown = np.asarray([display(u) for u in uniq] + [""], dtype=object)
    return shown[codes]


def display(value: object) -> str:
    """A raw cell value as text for the ledger.

    >>> display(1500.0), display(None), display(" a ")
    ('1500', '', 'a')
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat") and not isinstance(value, str):
        return value.isoformat()[:10]
    return str(value).strip()


def map_parser(
    values: pd.Series, parse: Callable[[object], tuple[object, object]]
) -> tuple[np.ndarray, np.ndarray]:
    """Apply ``parse`` (returning ``(value, error)``) once per unique value of ``values``."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    results = [parse(u) for u in uniques]
    try:
        none_result = parse(None)  # an empty cell (NaN/None)
    except Exception:  # a parser that does not take None: empty is no value, no error
        none_result = (None, None)
    vals = np.empty(len(results) + 1, dtype=object)
    errs = np.empty(len(results) + 1, dtype=object)
    for i, (v, e) in enumerate([*results, none_result]):
        vals[i] = v
        errs[i] = e
    return vals[codes], errs[codes]


def parse_unique(
    values: pd.Series,
    parse: Callable[[object], tuple[object, object]],
    active: np.ndarray | None = None,
    factorized: Future | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``parse`` applied once per unique value of ``values`` (as :func:`map_parser`),
    without expanding to rows: ``(codes, values, errors)`` where row ``i`` has value
    ``values[codes[i]]``; an empty cell has code ``-1``, i.e. the last entry (the
    parse of ``None``). With ``active``, only the values of the active rows are
    parsed (the others' entries are None and must not be used). ``factorized``: the
    pending ``pd.factorize(values)`` of an Arrow string column (begun in a thread).

    >>> codes, vals, errs = parse_unique(pd.Series(["1", None, "x", "1"]),
    ...     lambda v: (None, None) if v is None else ((int(v), None) if v.isdigit() else (None, "bad")))
    >>> codes.tolist(), vals[codes].tolist(), errs[codes].tolist()
    ([0, -1, 1, 0], [1, None, None, 1], [None, None, 'bad', None])
    """
    wanted = None
    whole = factorized is not None and is_arrow_string(values)
    if active is None or active.all():
        codes, uniques = (
            factorized.result() if whole else pd.factorize(values, use_na_sentinel=True)
        )
        codes = np.asarray(codes, dtype=np.intp)
    elif is_arrow_string(values):
        # text compares exactly: one factorization of the whole column, parse what is active
        codes, uniques = (
            factorized.result() if whole else pd.factorize(values, use_na_sentinel=True)
        )
        codes = np.asarray(codes, dtype=np.intp)
        seen = np.zeros(len(uniques) + 1, dtype=bool)
        seen[codes[active]] = True
        wanted = np.flatnonzero(seen[:-1])
    else:  # objects (1 == 1.0 == True): factorize the active rows alone, as they are
        sub_codes, uniques = pd.factorize(values[active], use_na_sentinel=True)
        codes = np.full(len(values), -1, dtype=np.intp)
        codes[active] = sub_codes
    vals = np.full(len(uniques) + 1, None, dtype=object)
    errs = np.full(len(uniques) + 1, None, dtype=object)
    if wanted is None:
        for i, u in enumerate(uniques):
            vals[i], errs[i] = parse(u)
    else:
        texts = list(uniques)  # (indexing an Index one value at a time is slow)
        for i in wanted:
            vals[i], errs[i] = parse(texts[i])
    try:
        vals[-1], errs[-1] = parse(None)  # an empty cell (NaN/None)
    except Exception:  # a parser that does not take None: empty is no value, no error
        vals[-1], errs[-1] = None, None
    return codes, vals, errs


def split_pairs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two object arrays from an array of ``(a, b)`` pairs (None -> both None).

    >>> [x.tolist() for x in split_pairs(np.array([(1, 2), None], dtype=object))]
    [[1, None], [2, None]]
    """
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    first = np.asarray([u[0] for u in uniques] + [None], dtype=object)
    second = np.asarray([u[1] for u in uniques] + [None], dtype=object)
    return first[codes], second[codes]


def filter_rows(
    frame: pd.DataFrame, mask: np.ndarray, columns: list[object] | None = None
) -> pd.DataFrame:
    """Rows of ``frame`` where ``mask`` holds (only ``columns``, when given), index reset;
    Arrow string columns are filtered by Arrow (:func:`fastpath.filter_frame`), the
    frame is returned as is when every row and column is kept.

    >>> f = pd.DataFrame({0: pd.array(["a", "b"], dtype="string[pyarrow]"), 1: [1, 2]})
    >>> filter_rows(f, np.array([False, True])).values.tolist()
    [['b', 2]]
    >>> filter_rows(f, np.array([True, True]), columns=[1]).values.tolist()
    [[1], [2]]
    """
    every = bool(mask.all())
    if every and columns is None:
        return frame.reset_index(drop=True) if not isinstance(frame.index, pd.RangeIndex) else frame
    labels = frame.columns if columns is None else pd.Index(columns)
    out = fastpath.filter_frame(frame, mask, labels, every)
    # the arrays are fresh (or shared with a frame the caller is done with): no copy
    result = pd.DataFrame(out, columns=labels, index=pd.RangeIndex(int(mask.sum())), copy=False)
    if every:  # as ``frame.drop(columns=...)`` would: the frame's attrs carry over
        result.attrs = copy.deepcopy(frame.attrs)
    return result


def as_datetime(values: pd.Series) -> pd.Series:
    """``pd.to_datetime(values)``, without the pass when the column already holds
    ``datetime64[ns]`` (the same values, not a copy).

    >>> as_datetime(pd.Series(["2016-03-01", None])).tolist()
    [Timestamp('2016-03-01 00:00:00'), NaT]
    """
    if values.dtype == "datetime64[ns]":
        return values
    return pd.to_datetime(values)


def object_array(values: list[object]) -> np.ndarray:
    """A 1-D object array of ``values`` (tuples stay elements, never a second axis).

    >>> object_array([(1, 2), None]).shape
    (2,)
    """
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        out[i] = v
    return out


def split_dates(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two ``datetime64[ns]`` arrays from an array of ``(day, month)`` pairs (None -> NaT).

    >>> d, m = split_dates(np.array([(pd.Timestamp("2016-03-15"), pd.Timestamp("2016-03-01")), None], dtype=object))
    >>> d.astype(str).tolist(), m.astype(str).tolist()
    (['2016-03-15T00:00:00.000000000', 'NaT'], ['2016-03-01T00:00:00.000000000', 'NaT'])
    """
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    nat = np.datetime64("NaT", "ns")
    first = np.array(
        [nat if u[0] is None else np.datetime64(u[0], "ns") for u in uniques] + [nat],
        dtype="datetime64[ns]",
    )
    second = np.array(
        [nat if u[1] is None else np.datetime64(u[1], "ns") for u in uniques] + [nat],
        dtype="datetime64[ns]",
    )
    return first[codes], second[codes]


def text_array(values: pd.Series) -> object:
    """Cells as stripped text, missing when empty: an Arrow string array for CSV
    columns (no Python objects), else an object array.

    >>> list(text_array(pd.Series([" a ", "", "b"], dtype="string[pyarrow]")))
    ['a', <NA>, 'b']
    """
    if isinstance(values.dtype, pd.StringDtype):
        s = values.str.strip()
        return s.mask(s == "").array
    return text_values(values)


def text_values(values: pd.Series) -> np.ndarray:
    """Cells as stripped text (None when empty), computed per unique value."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    shown = np.asarray([display(u) or None for u in uniques] + [None], dtype=object)
    return shown[codes]


def month_start(value: object) -> pd.Timestamp | None:
    """A month start from a date-like value (or a parser value carrying ``.month``)."""
    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        return None
    if pd.isna(ts):
        return None
    return ts.to_period("M").to_timestamp()


def parse_required(
    frame: pd.DataFrame,
    rows: np.ndarray,
    ctx: SheetContext,
    ledger: Ledger,
    name: str,
    parse: object,
    rejected: np.ndarray,
) -> np.ndarray:
    """Parse the required field ``name`` of every row with ``parse``; a row whose value is
    missing or does not parse gets a ``row`` ledger line and is marked in ``rejected``
    (in place; rows already rejected are not reported twice). Returns the parsed values."""
    i = ctx.column_of(name)
    raw = frame[i] if i is not None else pd.Series([None] * len(frame), dtype=object)
    vals, errs = map_parser(raw, parse)
    err_s = pd.Series(errs, dtype=object)
    bad = (err_s.notna() | pd.isna(pd.Series(vals, dtype=object))).to_numpy() & ~rejected
    ledger.add_for(
        ctx,
        rows[bad],
        name,
        raw[bad].to_numpy(),
        err_s.where(err_s.notna(), f"missing {name}").to_numpy()[bad],
        "row",
    )
    rejected |= bad
    return vals
