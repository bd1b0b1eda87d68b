"""District media plans: rows district x channel, columns months or quarters
of planned counts (``план``), sometimes a ``факт`` column beside each.

A quarter's plan (and fact) is spread evenly over its three months, so
``planned`` is a float. Records: ``district_id``, ``month``, ``channel``,
``planned``, ``actual_reported`` and the source row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from coverage_analysis.clean.common import (
    OUTSIDE_CAMPAIGN,
    Cleaned,
    Ledger,
    Lookups,
    SheetContext,
    parse_required,
)
from coverage_analysis.clean.wide import melt_values
from coverage_analysis.domain import CAMPAIGN_END, CAMPAIGN_START

#: Columns of a media-plan record.
RECORD_COLUMNS: tuple[str, ...] = (
    "district_id",
    "month",
    "channel",
    "planned",
    "actual_reported",
    "source_file",
    "source_sheet",
    "source_row",
    "rows",
)


def clean_media_plan(
    frame: pd.DataFrame, rows: np.ndarray, ctx: SheetContext, lookups: Lookups
) -> Cleaned:
    """Records of a media-plan sheet, its ledger lines and the mask of rejected rows (frame in,
    frames out: the ledger is the sheet's own)."""
    ledger = Ledger()
    resolver = lookups.resolver
    from coverage_analysis.clean import parsers

    n = len(frame)
    rejected = np.zeros(n, dtype=bool)
    districts = parse_required(
        frame, rows, ctx, ledger, "district", lambda v: tuple(resolver.resolve(v)), rejected
    )
    channels = parse_required(
        frame, rows, ctx, ledger, "channel", lambda v: tuple(parsers.parse_channel(v)), rejected
    )
    header_row = (ctx.header_rows[-1] + 1) if ctx.header_rows else 0

    def parse_plan(v: object) -> tuple[object, object]:
        p = parsers.parse_number(v)
        if p.error is None and p.value is not None and p.value < 0:
            return None, f"negative count {v!r}"
        return p.value, p.error

    parts: list[pd.DataFrame] = []
    for c in ctx.columns:
        if c.period is None or c.period.kind not in ("month", "quarter"):
            continue
        months = [m for m in c.period.months if CAMPAIGN_START <= m <= CAMPAIGN_END]
        if not months:
            ledger.reject_column(ctx, header_row, c.name, OUTSIDE_CAMPAIGN)
            continue
        measure = "actual_reported" if c.sub == "fact" else "planned"
        long = melt_values(
            frame,
            rows,
            {c.index: measure},
            parse_plan,
            ledger,
            ctx.file,
            ctx.sheet,
            ctx.kind,
            c.name,
            ~rejected,
        )
        if long.empty:
            continue
        share = 1.0 / len(c.period.months)
        spread = long.loc[long.index.repeat(len(months))].reset_index(drop=True)
        spread["month"] = np.tile(np.asarray(months, dtype="datetime64[ns]"), len(long))
        spread["value"] = spread["value"].astype(float) * share
        parts.append(spread)
    if parts:
        long = pd.concat(parts, ignore_index=True)
        pos = long["pos"].to_numpy().astype(np.int64)
        long["district_id"] = districts[pos]
        long["channel"] = channels[pos]
        long["source_row"] = rows[pos]
        wide = long.pivot_table(
            index=["district_id", "month", "channel", "source_row"],
            columns="key",
            values="value",
            aggfunc="sum",
        ).reset_index()
        wide.columns.name = None
    else:
        wide = pd.DataFrame(
            columns=["district_id", "month", "channel", "source_row", "planned", "actual_reported"]
        )
    for m in ("planned", "actual_reported"):
        if m not in wide.columns:
            wide[m] = np.nan
    wide["rows"] = [(int(r),) for r in wide["source_row"]]
    wide["source_file"] = ctx.file
    wide["source_sheet"] = ctx.sheet
    produced = np.isin(rows, wide["source_row"].to_numpy().astype(np.int64))
    empty = ~rejected & ~produced
    if empty.any():
        ledger.add_for(
            ctx,
            rows[empty],
            "planned",
            "",
            "no planned or reported value in any month column",
            "row",
        )
    rejected |= ~produced
    return Cleaned(wide[list(RECORD_COLUMNS)], ledger.frame(), rejected)


def finish_media_plan(records: pd.DataFrame) -> pd.DataFrame:
    """Typed media-plan table (one row per district, month and channel)."""
    out = records[
        [
            "district_id",
            "month",
            "channel",
            "planned",
            "actual_reported",
            "source_file",
            "source_sheet",
            "source_row",
        ]
    ].copy()
    out["month"] = pd.to_datetime(out["month"])
    out["planned"] = out["planned"].astype(float)
    out["actual_reported"] = out["actual_reported"].astype(float)
    out["source_row"] = out["source_row"].astype("int64")
    return out.sort_values(["district_id", "month", "channel"]).reset_index(drop=True)
