"""Social-media reach reports, aggregated (district, month, platform, posts,
users reached) or per post (date, district, platform, reach), both turned
into district x month x platform records (``posts``, ``users_reached``).
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
    map_parser,
    month_start,
    parse_required,
)
from coverage_analysis.domain import CAMPAIGN_END, CAMPAIGN_START

#: Columns of a social-reach record.
RECORD_COLUMNS: tuple[str, ...] = (
    "district_id",
    "month",
    "platform",
    "posts",
    "users_reached",
    "source_file",
    "source_sheet",
    "source_row",
    "rows",
)


def clean_social_reach(
    frame: pd.DataFrame, rows: np.ndarray, ctx: SheetContext, lookups: Lookups
) -> Cleaned:
    """Records of a social-reach sheet, its ledger lines and the mask of rejected rows."""
    from coverage_analysis.clean import parsers

    n = len(frame)
    ledger = Ledger()
    rejected = np.zeros(n, dtype=bool)
    districts = parse_required(
        frame, rows, ctx, ledger, "district", lambda v: tuple(lookups.resolver.resolve(v)), rejected
    )
    platforms = parse_required(
        frame, rows, ctx, ledger, "platform", lambda v: tuple(parsers.parse_platform(v)), rejected
    )
    months, rejected = _months(frame, rows, ctx, ledger, rejected)
    values = _counts(frame, rows, ctx, ledger, rejected)
    keep = ~rejected
    long = pd.DataFrame(
        {
            "district_id": districts[keep],
            "month": pd.to_datetime(pd.Series(months[keep], dtype=object)),
            "platform": platforms[keep],
            "posts": values["posts"][keep],
            "users_reached": values["users_reached"][keep],
            "source_row": rows[keep],
        }
    )
    out = _per_month(long) if ctx.column_of("posts") is None else _per_row(long)
    out["source_file"] = ctx.file
    out["source_sheet"] = ctx.sheet
    return Cleaned(out[list(RECORD_COLUMNS)], ledger.frame(), rejected)


def _months(
    frame: pd.DataFrame, rows: np.ndarray, ctx: SheetContext, ledger: Ledger, rejected: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Month starts of the rows (from a month column, else from a date column) and the
    rejected mask updated with missing, bad and out-of-campaign months."""
    from coverage_analysis.clean import parsers

    if ctx.column_of("month") is not None:
        mvals = parse_required(
            frame, rows, ctx, ledger, "month", lambda v: tuple(parsers.parse_month(v)), rejected
        )
        months = np.asarray([month_start(v) for v in mvals], dtype=object)
        month_field = "month"
    else:
        dvals = parse_required(
            frame, rows, ctx, ledger, "date", lambda v: tuple(parsers.parse_date(v)), rejected
        )
        months = np.asarray(
            [month_start(v.month) if v is not None else None for v in dvals], dtype=object
        )
        month_field = "date"
    m = pd.to_datetime(pd.Series(months, dtype=object))
    outside = (m.notna() & ((m < CAMPAIGN_START) | (m > CAMPAIGN_END))).to_numpy() & ~rejected
    mcol = ctx.column_of(month_field)
    if mcol is not None:
        ledger.add_for(
            ctx,
            rows[outside],
            month_field,
            frame[mcol][outside].to_numpy(),
            OUTSIDE_CAMPAIGN,
            "row",
        )
    rejected |= outside
    return months, rejected


def _counts(
    frame: pd.DataFrame, rows: np.ndarray, ctx: SheetContext, ledger: Ledger, rejected: np.ndarray
) -> dict[str, np.ndarray]:
    """``posts`` and ``users_reached`` of every row as floats (a bad count is unknown,
    with a ``cell`` ledger line; a per-post sheet counts one post a row)."""
    from coverage_analysis.clean import parsers

    n = len(frame)
    per_post = ctx.column_of("posts") is None
    values: dict[str, np.ndarray] = {}
    for name in ("posts", "users_reached"):
        i = ctx.column_of(name)
        if i is None:
            values[name] = np.full(n, 1.0 if (name == "posts" and per_post) else np.nan)
            continue
        vals, errs = map_parser(frame[i], lambda v: tuple(parsers.parse_count(v)))
        bad = pd.notna(pd.Series(errs, dtype=object)).to_numpy() & ~rejected
        ledger.add_for(
            ctx,
            rows[bad],
            name,
            frame[i][bad].to_numpy(),
            errs[bad],
            "cell",
        )
        vals = vals.copy()
        vals[bad] = None
        values[name] = pd.to_numeric(pd.Series(vals, dtype=object)).to_numpy(dtype=float)
    return values


def _per_month(long: pd.DataFrame) -> pd.DataFrame:
    """Per-post rows summed to district x month x platform (the rows kept as ``rows``)."""
    if not len(long):
        return long.assign(rows=[(int(r),) for r in long["source_row"]])
    grouped = long.groupby(["district_id", "month", "platform"], sort=False)
    return grouped.agg(
        posts=("posts", "sum"),
        users_reached=("users_reached", lambda s: s.sum(min_count=1)),
        source_row=("source_row", "min"),
        rows=("source_row", lambda s: tuple(int(x) for x in s)),
    ).reset_index()


def _per_row(long: pd.DataFrame) -> pd.DataFrame:
    """Aggregated rows as they are, each its own source."""
    return long.assign(rows=[(int(r),) for r in long["source_row"]])


def finish_social_reach(records: pd.DataFrame) -> pd.DataFrame:
    """Typed social-reach table (district x month x platform)."""
    out = records[
        [
            "district_id",
            "month",
            "platform",
            "posts",
            "users_reached",
            "source_file",
            "source_sheet",
            "source_row",
        ]
    ].copy()
    out["month"] = pd.to_datetime(out["month"])
    out["posts"] = pd.array(np.round(out["posts"].astype(float)), dtype="Int64")
    out["users_reached"] = pd.array(np.round(out["users_reached"].astype(float)), dtype="Int64")
    out["source_row"] = out["source_row"].astype("int64")
    return out.sort_values(["district_id", "month", "platform"]).reset_index(drop=True)
