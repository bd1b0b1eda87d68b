"""Legalization statistics of the State Revenue Department (DGD).

Layouts: wide (districts in rows, months in columns) with the measure named
by a column header, a ``Показатель`` column, a header row above the months or
the sheet title; and long (``Район``, ``Месяц``, one column per measure).
Quarter columns are rejected whole (``column`` ledger line). Amounts are
converted to tenge with the unit found in the header, the label or the title;
cumulative sheets (``нарастающим итогом``) are differenced; a split by kind of
property (деньги / недвижимость / иное имущество) is summed when no total
column exists.

Output records are long: ``district_id``, ``month``, ``measure``
(``applications`` or ``amount_kzt``), ``value`` and the source rows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from coverage_analysis.clean.common import (
    OUTSIDE_CAMPAIGN,
    Cleaned,
    Ledger,
    Lookups,
    SheetContext,
    map_parser,
    month_start,
    parse_required,
    text_values,
)
from coverage_analysis.clean.layout import Column, title_flag
from coverage_analysis.clean.wide import melt_values
from coverage_analysis.domain import CAMPAIGN_END, CAMPAIGN_START
from coverage_analysis.io.headers import HeaderVocabulary

log = logging.getLogger(__name__)

#: Words marking a cumulative ("running total") sheet.
CUMULATIVE_MARKERS: tuple[str, ...] = (
    "нарастающим итогом",
    "нарастающий итог",
    "с начала года",
    "cumulative",
)
#: Measure field of the header vocabulary -> output measure.
MEASURES: dict[str, str] = {"applications": "applications", "amount": "amount_kzt"}
#: Split components of an amount; ``total`` wins over their sum.
COMPONENTS: tuple[str, ...] = ("money", "realty", "other")
#: Columns of a legalization record.
RECORD_COLUMNS: tuple[str, ...] = (
    "district_id",
    "month",
    "measure",
    "value",
    "source_file",
    "source_sheet",
    "source_row",
    "rows",
)


def _header_row_number(ctx: SheetContext) -> int:
    return (ctx.header_rows[-1] + 1) if ctx.header_rows else 0


def _unit(texts: list[str]) -> float | None:
    from coverage_analysis.clean import parsers

    for t in texts:
        if t:
            m = parsers.unit_multiplier(t)
            if m is not None:
                return float(m)
    return None


def _parser_for(measure: str, multiplier: float) -> object:
    from coverage_analysis.clean import parsers

    if measure == "applications":

        def parse_app(v: object) -> tuple[object, object]:
            p = parsers.parse_count(v)
            if p.error is None and p.value is not None and float(p.value) != int(float(p.value)):
                return None, f"not a whole number of applications: {v!r}"
            return (None if p.value is None else float(p.value)), p.error

        return parse_app

    def parse_amount(v: object) -> tuple[object, object]:
        p = parsers.parse_number(v)
        if p.error is not None or p.value is None:
            return None, p.error
        return float(p.value) * multiplier, None

    return parse_amount


@dataclass(frozen=True)
class _Labels:
    """What the sheet's title, headers and ``Показатель`` column say, once per sheet."""

    cumulative: bool
    title_measure: str | None
    title_unit: float | None
    header_row: int
    label_col: int | None
    label_measure: np.ndarray  # per row: measure field named by the label, or None
    label_sub: np.ndarray  # per row: component (money/realty/other/total), or None
    label_unit: np.ndarray  # per row: unit multiplier named by the label, or None

    @classmethod
    def of(cls, frame: pd.DataFrame, ctx: SheetContext, vocab: HeaderVocabulary) -> _Labels:
        n = len(frame)
        texts = [ctx.title, *[c.name for c in ctx.columns]]
        label_col = ctx.column_of("measure")
        labels = (
            text_values(frame[label_col])
            if label_col is not None
            else np.full(n, None, dtype=object)
        )

        def per_label(f: Callable[[str], object]) -> np.ndarray:
            if label_col is None:
                return labels
            return np.array([f(t) if t else None for t in labels], dtype=object)

        return cls(
            cumulative=any(title_flag(t, *CUMULATIVE_MARKERS) for t in texts),
            title_measure=vocab.search("legalization", ctx.title, tuple(MEASURES)),
            title_unit=_unit([ctx.title]),
            header_row=_header_row_number(ctx),
            label_col=label_col,
            label_measure=per_label(lambda t: vocab.search("legalization", t, tuple(MEASURES))),
            label_sub=per_label(lambda t: vocab.search("legalization", t, (*COMPONENTS, "total"))),
            label_unit=per_label(lambda t: _unit([t])),
        )


def clean_legalization(
    frame: pd.DataFrame, rows: np.ndarray, ctx: SheetContext, lookups: Lookups
) -> Cleaned:
    """Long records of a DGD sheet, its ledger lines and the mask of rejected rows.

    The layout decides how values are found (:func:`_long_layout`: a month column;
    :func:`_wide_layout`: months in the headers); a cumulative sheet is then
    differenced (:func:`_difference`) and a split by kind of property summed
    (:func:`_combine_components`)."""
    ledger = Ledger()
    dvals, rejected = _districts(frame, rows, ctx, ledger, lookups.resolver)
    labels = _Labels.of(frame, ctx, lookups.vocab)
    if ctx.column_of("month") is not None:
        parts = _long_layout(frame, rows, ctx, ledger, labels, rejected)
    else:
        parts = _wide_layout(frame, rows, ctx, ledger, labels, rejected)
    long = _values(parts, dvals, rows, rejected)
    if labels.cumulative and len(long):
        long = _difference(long, ctx, ledger)
    records = _combine_components(long)
    records["source_file"] = ctx.file
    records["source_sheet"] = ctx.sheet
    rejected = _unproduced(records, rows, ctx, ledger, rejected)
    return Cleaned(records[list(RECORD_COLUMNS)], ledger.frame(), rejected)


def _districts(
    frame: pd.DataFrame, rows: np.ndarray, ctx: SheetContext, ledger: Ledger, resolver: object
) -> tuple[np.ndarray, np.ndarray]:
    """District ids of the rows and the mask of rows rejected for a missing or unknown
    district (a ``row`` ledger line each)."""
    n = len(frame)
    dcol = ctx.column_of("district")
    district_raw = frame[dcol] if dcol is not None else pd.Series([None] * n, dtype=object)
    dvals, derrs = map_parser(district_raw, lambda v: tuple(resolver.resolve(v)))
    err_s = pd.Series(derrs, dtype=object)
    bad = err_s.notna().to_numpy() | pd.isna(pd.Series(dvals, dtype=object)).to_numpy()
    reasons = err_s.where(err_s.notna(), "missing district").to_numpy()
    ledger.add_for(
        ctx,
        rows[bad],
        "district",
        district_raw[bad].to_numpy(),
        reasons[bad],
        "row",
    )
    return dvals, bad.copy()


def _long_layout(
    frame: pd.DataFrame,
    rows: np.ndarray,
    ctx: SheetContext,
    ledger: Ledger,
    labels: _Labels,
    rejected: np.ndarray,
) -> list[pd.DataFrame]:
    """One row per district and month, a column per measure. Rows with a missing, bad
    or out-of-campaign month are rejected (``rejected`` updated in place)."""
    months = _row_months(frame, rows, ctx, ledger, rejected)
    parts = []
    for c in ctx.columns:
        if c.field not in MEASURES or c.period is not None:
            continue
        measure = MEASURES[c.field]
        mult = (_unit([c.name]) or labels.title_unit or 1.0) if measure == "amount_kzt" else 1.0
        long = _melt(frame, rows, ctx, ledger, c.index, c.sub, c.field, mult, c.name, ~rejected)
        long["month"] = months.to_numpy()[long["pos"].to_numpy()]
        long["measure"] = measure
        parts.append(long.rename(columns={"key": "component"}))
    return parts


def _row_months(
    frame: pd.DataFrame, rows: np.ndarray, ctx: SheetContext, ledger: Ledger, rejected: np.ndarray
) -> pd.Series:
    """Month start of every row of a long sheet (rejecting, in place, rows without one
    and rows outside the campaign)."""
    from coverage_analysis.clean import parsers

    def parse_month_start(v: object) -> tuple[object, object]:
        value, error = parsers.parse_month(v)
        return month_start(value), error

    month_col = ctx.column_of("month")
    mvals = parse_required(frame, rows, ctx, ledger, "month", parse_month_start, rejected)
    months = pd.to_datetime(pd.Series(mvals, dtype=object))
    outside = (
        months.notna() & ((months < CAMPAIGN_START) | (months > CAMPAIGN_END))
    ).to_numpy() & ~rejected
    ledger.add_for(
        ctx,
        rows[outside],
        "month",
        frame[month_col][outside].to_numpy(),
        OUTSIDE_CAMPAIGN,
        "row",
    )
    rejected |= outside
    return months


def _wide_layout(
    frame: pd.DataFrame,
    rows: np.ndarray,
    ctx: SheetContext,
    ledger: Ledger,
    labels: _Labels,
    rejected: np.ndarray,
) -> list[pd.DataFrame]:
    """Districts in rows, months in columns; the measure from the column header, a
    ``Показатель`` column (:func:`_labelled_column`) or the title. Quarter and
    out-of-campaign columns are rejected whole."""
    n = len(frame)
    parts: list[pd.DataFrame] = []
    for c in ctx.columns:
        month = _column_month(c, ctx, ledger, labels.header_row)
        if month is None:
            continue
        if c.field in MEASURES:
            groups = [(np.ones(n, dtype=bool), c.field, c.sub, _unit([c.name]))]
        elif labels.label_col is not None:
            parts += _labelled_column(frame, rows, ctx, ledger, labels, rejected, c, month)
            continue
        elif labels.title_measure is not None:
            groups = [(np.ones(n, dtype=bool), labels.title_measure, c.sub, _unit([c.name]))]
        else:
            groups = []
        for mask, mfield, sub, unit in groups:
            measure = MEASURES[mfield]
            active = mask & ~rejected
            if not active.any():
                continue
            mult = (unit or labels.title_unit or 1.0) if measure == "amount_kzt" else 1.0
            long = _melt(frame, rows, ctx, ledger, c.index, sub, mfield, mult, c.name, active)
            long["month"] = month
            long["measure"] = measure
            parts.append(long.rename(columns={"key": "component"}))
    _check_measure_named(ctx, ledger, labels)
    return parts


def _column_month(
    c: Column, ctx: SheetContext, ledger: Ledger, header_row: int
) -> pd.Timestamp | None:
    """The month a wide column holds, or None: not a period column, or rejected whole
    (a ``column`` ledger line) as a quarter/year or outside the campaign."""
    if c.period is None:
        return None
    if c.period.kind != "month":
        reason = f"a {c.period.kind} column is not a month; column not used"
        ledger.reject_column(ctx, header_row, c.name, reason)
        return None
    month = c.period.start
    if month < CAMPAIGN_START or month > CAMPAIGN_END:
        ledger.reject_column(ctx, header_row, c.name, OUTSIDE_CAMPAIGN)
        return None
    return month


def _labelled_column(
    frame: pd.DataFrame,
    rows: np.ndarray,
    ctx: SheetContext,
    ledger: Ledger,
    labels: _Labels,
    rejected: np.ndarray,
    c: Column,
    month: pd.Timestamp,
) -> list[pd.DataFrame]:
    """A month column of a sheet with a ``Показатель`` column: each row's measure,
    unit and component come from its label (one melt per measure and unit)."""
    parts = []
    units = pd.Series(labels.label_unit, dtype=object)
    for mfield, measure in MEASURES.items():
        active = (labels.label_measure == mfield) & ~rejected
        if not active.any():
            continue
        for u in pd.unique(pd.Series(labels.label_unit[active], dtype=object)):
            sel = active & (units.eq(u).to_numpy() if u is not None else pd.isna(units).to_numpy())
            mult = (
                (u or _unit([c.name]) or labels.title_unit or 1.0)
                if measure == "amount_kzt"
                else 1.0
            )
            long = _melt(frame, rows, ctx, ledger, c.index, None, mfield, mult, c.name, sel)
            long["component"] = labels.label_sub[long["pos"].to_numpy()] if len(long) else []
            long["month"] = month
            long["measure"] = measure
            parts.append(long.drop(columns="key"))
    return parts


def _check_measure_named(ctx: SheetContext, ledger: Ledger, labels: _Labels) -> None:
    """A ``sheet`` ledger line when month columns exist but nothing names the measure."""
    if not any(c.period is not None and c.period.kind == "month" for c in ctx.columns):
        return
    if (
        not any(c.field in MEASURES for c in ctx.columns)
        and labels.label_col is None
        and labels.title_measure is None
    ):
        ledger.add_for(
            ctx,
            labels.header_row,
            "measure",
            "",
            "no measure named in a header, a Показатель column or the title",
            "sheet",
        )


def _melt(
    frame: pd.DataFrame,
    rows: np.ndarray,
    ctx: SheetContext,
    ledger: Ledger,
    index: int,
    key: object,
    mfield: str,
    mult: float,
    name: str,
    active: np.ndarray,
) -> pd.DataFrame:
    """:func:`melt_values` of one column of measure ``mfield`` (amounts times ``mult``)."""
    parse = _parser_for(mfield, mult)
    return melt_values(
        frame, rows, {index: key}, parse, ledger, ctx.file, ctx.sheet, ctx.kind, name, active
    )


def _values(
    parts: list[pd.DataFrame], dvals: np.ndarray, rows: np.ndarray, rejected: np.ndarray
) -> pd.DataFrame:
    """The melted values of the rows not rejected, with district and source row."""
    if parts:
        long = pd.concat(parts, ignore_index=True)
    else:
        long = pd.DataFrame(
            {
                "pos": pd.Series([], dtype=np.int64),
                "col": [],
                "component": [],
                "value": [],
                "month": [],
                "measure": [],
            }
        )
    long = long[~rejected[long["pos"].to_numpy().astype(np.int64)]] if len(long) else long
    long["district_id"] = dvals[long["pos"].to_numpy().astype(np.int64)] if len(long) else []
    long["source_row"] = rows[long["pos"].to_numpy().astype(np.int64)] if len(long) else []
    long["value"] = long["value"].astype(float)
    long["month"] = pd.to_datetime(long["month"])
    return long


def _unproduced(
    records: pd.DataFrame,
    rows: np.ndarray,
    ctx: SheetContext,
    ledger: Ledger,
    rejected: np.ndarray,
) -> np.ndarray:
    """The rejected mask, with every row that produced no record: one that was fine but
    carried no value at all gets its ``row`` ledger line here."""
    n = len(rows)
    produced = np.zeros(n, dtype=bool)
    if len(records):
        produced[
            np.searchsorted(
                rows, np.concatenate([np.asarray(r, dtype=np.int64) for r in records["rows"]])
            )
        ] = True
    empty = ~rejected & ~produced & ~_had_cell_ledger(ledger, rows)
    if empty.any():
        ledger.add_for(
            ctx,
            rows[empty],
            "value",
            "",
            "no value in any measure or month column",
            "row",
        )
    return rejected | ~produced


def _had_cell_ledger(ledger: Ledger, rows: np.ndarray) -> np.ndarray:
    """Rows of the sheet with a line in its (own) ledger."""
    hit: set[int] = set()
    for part in ledger.parts:
        hit.update(int(x) for x in part["source_row"] if x is not None and x == x)
    return np.isin(rows, list(hit))


def _difference(long: pd.DataFrame, ctx: SheetContext, ledger: Ledger) -> pd.DataFrame:
    """Monthly values from running totals, per district, measure and component."""
    long = long.copy()
    long["component"] = long["component"].astype(object).where(long["component"].notna(), "")
    long = long.sort_values(["district_id", "measure", "component", "month"], kind="stable")
    prev = long.groupby(["district_id", "measure", "component"], sort=False)["value"].shift(1)
    monthly = long["value"] - prev.fillna(0.0)
    bad = monthly < 0
    if bad.any():
        b = long[bad]
        ledger.add_for(
            ctx,
            b["source_row"].to_numpy(),
            "value",
            b["value"].to_numpy(),
            "cumulative series decreases",
            "cell",
        )
    long["value"] = monthly
    long = long[~bad]
    long["component"] = long["component"].replace("", None)
    return long.sort_index()


def _combine_components(long: pd.DataFrame) -> pd.DataFrame:
    """One value per district, month and measure: the total, else the sum of the split
    by kind of property.

    Only different kinds are added up. A row that repeats a district, month and kind
    already in the sheet is not added to it: each repetition is combined on its own
    (its ``instance``, the n-th time that key and kind appear) and becomes a record of
    its own, which :func:`~coverage_analysis.clean.duplicates.value_duplicates` then
    drops as a duplicate (same value) or rejects as a conflict (another value), naming
    the row it repeats -- as for a repetition in another file.

    >>> long = pd.DataFrame({"district_id": ["semey"] * 3, "month": ["2016-01"] * 3,
    ...     "measure": ["applications"] * 3, "component": [None] * 3,
    ...     "value": [5.0, 5.0, 7.0], "source_row": [2, 9, 10]})
    >>> out = _combine_components(long)
    >>> out["value"].tolist(), out["source_row"].tolist()
    ([5.0, 5.0, 7.0], [2, 9, 10])
    """
    if long.empty:
        return pd.DataFrame({c: [] for c in RECORD_COLUMNS})
    long = long.copy()
    long["is_part"] = long["component"].isin(COMPONENTS)
    keys = ["district_id", "month", "measure"]
    long["instance"] = long.groupby([*keys, "component"], sort=False, dropna=False).cumcount()
    keys = [*keys, "instance"]
    has_total = long.groupby(keys)["is_part"].transform(lambda s: (~s).any())
    use = long[~(has_total & long["is_part"])]
    grouped = use.groupby(keys, sort=False)
    out = grouped.agg(
        value=("value", "sum"),
        source_row=("source_row", "min"),
        rows=("source_row", lambda s: tuple(sorted(set(int(x) for x in s)))),
    )
    contributors = long.groupby(keys, sort=False)["source_row"].agg(
        lambda s: tuple(sorted(set(int(x) for x in s)))
    )
    out["rows"] = contributors.reindex(out.index)
    return out.reset_index().drop(columns="instance")


def finish_legalization(records: pd.DataFrame) -> pd.DataFrame:
    """District x month table: ``applications`` (Int64) and ``amount_kzt`` (tenge).

    >>> r = pd.DataFrame({"district_id": ["semey", "semey"], "month": pd.to_datetime(["2016-01-01"] * 2),
    ...     "measure": ["applications", "amount_kzt"], "value": [3.0, 1e6]})
    >>> finish_legalization(r).values.tolist()
    [['semey', Timestamp('2016-01-01 00:00:00'), 3, 1000000.0]]
    """
    if records.empty:
        wide = pd.DataFrame({"district_id": [], "month": [], "applications": [], "amount_kzt": []})
    else:
        wide = records.pivot_table(
            index=["district_id", "month"], columns="measure", values="value", aggfunc="first"
        ).reset_index()
    for m in MEASURES.values():
        if m not in wide.columns:
            wide[m] = np.nan
    wide["applications"] = (
        pd.array(np.round(wide["applications"].astype(float)), dtype="Int64")
        if len(wide)
        else pd.array([], dtype="Int64")
    )
    wide["amount_kzt"] = wide["amount_kzt"].astype(float)
    wide["month"] = pd.to_datetime(wide["month"])
    wide.columns.name = None
    return (
        wide[["district_id", "month", "applications", "amount_kzt"]]
        .sort_values(["district_id", "month"])
        .reset_index(drop=True)
    )
