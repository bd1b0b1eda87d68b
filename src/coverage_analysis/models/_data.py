"""From a district x month panel to the arrays the models use.

Everything the models need is derived here from the panel columns of the
contract (``district_id``, ``month``, ``population``, ``materials``,
``materials_<channel>``, ``applications``, ``amount_kzt``, ``is_reported``):
materials per 10,000 residents, the coverage index with carry-over, and the
rows whose carry-over is known.

Missing data. A month with ``is_reported`` false (or materials missing, or
no panel row at all) has *unknown* coverage, not zero. Its own row is never
used; and because the carry-over of later months contains it, a later row is
also dropped while the unknown month still weighs at least
``CARRYOVER_UNKNOWN_WEIGHT`` in its carry-over (``decay**k >= 0.25`` for a
month ``k`` months back). Beyond that window the unknown month enters the
carry-over at the district's median reported rate (a guess whose weight has
decayed below a quarter). The guess uses only earlier months (median of the
district's reported rates before the unknown month, 0 before any), so a fit
on past months never sees the future. A missing outcome is dropped, never read as zero.
If the panel starts after the campaign start, the months before it are
unknown in the same way.

>>> from coverage_analysis.models.simulate import simulate_panel
>>> prep = prepare_panel(simulate_panel("null", seed=0), "applications")
>>> prep.x.shape, int(np.isnan(prep.x).sum()) == int((~prep.reported).sum())
((19, 28), True)
>>> window_lags(0.0), window_lags(0.4), window_lags(0.8)
(1, 2, 7)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from coverage_analysis.domain import CAMPAIGN_START, CHANNELS, PER_RESIDENTS
from coverage_analysis.errors import SchemaError
from coverage_analysis.models.adstock import coverage_index

#: An unknown month makes later carry-over unknown while its weight
#: ``decay**k`` is at least this (a quarter of a fresh month's material).
CARRYOVER_UNKNOWN_WEIGHT = 0.25
#: Outcomes the coverage model accepts.
OUTCOMES: tuple[str, ...] = ("applications", "amount_kzt")
#: Panel columns the models read.
REQUIRED_COLUMNS: tuple[str, ...] = (
    "district_id",
    "month",
    "population",
    "materials",
    "is_reported",
)

#: Channel groups for the by-channel models: rare channels pooled by kind.
CHANNEL_GROUPS: dict[str, tuple[str, ...]] = {
    "print": ("print", "print_handout"),
    "tv_radio": ("tv", "radio", "interview"),
    "online_social": ("online", "social"),
    "events": ("seminar", "round_table", "open_day", "briefing"),
    "other": ("outdoor", "transport"),
}
assert sorted(c for g in CHANNEL_GROUPS.values() for c in g) == sorted(CHANNELS)


def window_lags(decay: float) -> int:
    """Number of months (this one included) over which an unknown month makes
    the carry-over unknown: the ``k`` with ``decay**k >= CARRYOVER_UNKNOWN_WEIGHT``."""
    if decay < CARRYOVER_UNKNOWN_WEIGHT:
        return 1
    return math.floor(math.log(CARRYOVER_UNKNOWN_WEIGHT) / math.log(decay) + 1e-9) + 1


@dataclass
class PreparedPanel:
    """District x month arrays (districts in rows, months in columns)."""

    outcome: str
    districts: list[str]
    months: pd.DatetimeIndex
    population: np.ndarray  # (G, T) residents
    x: np.ndarray  # (G, T) materials per 10k, NaN = unknown
    channels: dict[str, np.ndarray]  # group -> (G, T) per 10k, NaN = unknown
    y: np.ndarray  # (G, T) outcome, NaN = missing
    reported: np.ndarray  # (G, T) coverage known
    starts_at_campaign: bool
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def shape(self) -> tuple[int, int]:
        return self.x.shape

    def impute(self, x: np.ndarray) -> np.ndarray:
        """``x`` with each unknown month set to the median of the district's
        known values in EARLIER months (0 when there are none): only feeds the
        carry-over of later months, and never uses a later month.

        >>> from coverage_analysis.models.simulate import simulate_panel
        >>> prep = prepare_panel(simulate_panel("null", seed=0), "applications")
        >>> prep.impute(np.array([[np.nan, 1.0, 3.0, np.nan, np.nan, 9.0]])).tolist()
        [[0.0, 1.0, 3.0, 2.0, 2.0, 9.0]]
        """
        out = x.copy()
        for i in range(out.shape[0]):
            row = out[i]
            missing = np.nonzero(np.isnan(row))[0]
            for t in missing:
                past = x[i, :t]
                past = past[~np.isnan(past)]
                row[t] = float(np.median(past)) if past.size else 0.0
        return out

    def index(self, decay: float, x: np.ndarray | None = None) -> np.ndarray:
        """Coverage index ``log2(1 + adstock)`` of ``x`` (default all materials;
        cached per decay, read-only)."""
        key = ("index", float(decay))
        if x is None and key in self._cache:
            return self._cache[key]
        src = self.impute(self.x if x is None else x)
        out = np.vstack([coverage_index(row, decay) for row in src])
        if x is None:
            out.flags.writeable = False
            self._cache[key] = out
        return out

    def known(self, decay: float) -> np.ndarray:
        """(G, T) mask: the coverage index at ``decay`` is known."""
        key = ("known", float(decay))
        if key in self._cache:
            return self._cache[key].copy()
        lags = window_lags(decay)
        ok = self.reported.copy()
        _g, t = ok.shape
        for k in range(1, lags):
            shifted = np.zeros_like(ok) if not self.starts_at_campaign else np.ones_like(ok)
            if k < t:
                shifted[:, k:] = self.reported[:, : t - k]
            ok &= shifted
        self._cache[key] = ok.copy()
        return ok

    def lead_index(self, decay: float, lead: int) -> np.ndarray:
        """Coverage index ``lead`` months AFTER each month (NaN when unknown
        or past the panel's end): the placebo regressor."""
        idx = np.where(self.known(decay), self.index(decay), np.nan)
        out = np.full(idx.shape, np.nan)
        out[:, :-lead] = idx[:, lead:]
        return out

    def lead_flow(self) -> np.ndarray:
        """Next month's new materials as ``log2(1 + x[t+1])`` (NaN when unknown)."""
        out = np.full(self.x.shape, np.nan)
        out[:, :-1] = np.log2(1.0 + self.x[:, 1:])
        return out

    def usable(self, decay: float) -> np.ndarray:
        """Rows for the model at ``decay``: coverage known, outcome known, residents > 0."""
        return self.known(decay) & ~np.isnan(self.y) & (self.population > 0)


def _as_float(series: pd.Series) -> np.ndarray:
    return (
        pd.to_numeric(series, errors="coerce")
        .astype("Float64")
        .to_numpy(dtype=float, na_value=np.nan)
    )


def prepare_panel(panel: pd.DataFrame, outcome: str) -> PreparedPanel:
    """Check the panel and put it on the full district x month grid.

    Raises :class:`~coverage_analysis.errors.SchemaError` naming missing columns.
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}, got {outcome!r}")
    missing = [c for c in (*REQUIRED_COLUMNS, outcome) if c not in panel.columns]
    if missing:
        raise SchemaError(f"panel lacks columns {missing}")
    frame = panel.copy()
    frame["month"] = pd.to_datetime(frame["month"]).dt.to_period("M").dt.to_timestamp()
    frame = frame[frame["district_id"].astype(str) != "region"]
    if frame.empty:
        raise SchemaError("panel has no district rows")
    if frame.duplicated(["district_id", "month"]).any():
        raise SchemaError("panel has more than one row per district and month")
    districts = list(dict.fromkeys(frame["district_id"].astype(str)))
    months = pd.date_range(frame["month"].min(), frame["month"].max(), freq="MS")
    grid = pd.MultiIndex.from_product([districts, months], names=["district_id", "month"])
    frame["district_id"] = frame["district_id"].astype(str)
    frame = frame.set_index(["district_id", "month"]).reindex(grid)
    shape = (len(districts), len(months))

    pop = _as_float(frame["population"]).reshape(shape)
    # population is a district attribute: fill months absent from the panel
    pop = pd.DataFrame(pop).T.ffill().bfill().T.to_numpy()
    rep_col = frame["is_reported"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    materials = _as_float(frame["materials"])
    reported = (rep_col & ~np.isnan(materials)).reshape(shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        per10k = PER_RESIDENTS / pop

    x = np.where(reported, materials.reshape(shape) * per10k, np.nan)
    channels: dict[str, np.ndarray] = {}
    for group, members in CHANNEL_GROUPS.items():
        cols = [f"materials_{c}" for c in members if f"materials_{c}" in frame.columns]
        if not cols:
            continue
        total = np.zeros(shape)
        for c in cols:
            v = _as_float(frame[c]).reshape(shape)
            total += np.nan_to_num(v, nan=0.0)  # a channel not reported in a reported month: none
        channels[group] = np.where(reported, total * per10k, np.nan)
    y = _as_float(frame[outcome]).reshape(shape)
    y = np.where(y < 0, np.nan, y)
    return PreparedPanel(
        outcome=outcome,
        districts=districts,
        months=months,
        population=pop,
        x=x,
        channels=channels,
        y=y,
        reported=reported,
        starts_at_campaign=bool(months[0] <= CAMPAIGN_START),
    )


def mean_scale(y: np.ndarray) -> float:
    """What a model design divides a rescaled outcome (amounts) by: its mean when
    positive, else 1 (slopes do not depend on the scale). One rule for the full design
    (:func:`~coverage_analysis.models.coverage.make_design`) and for every jackknife
    replicate, which divides by the mean over its own rows.

    >>> mean_scale(np.array([2.0, 4.0])), mean_scale(np.zeros(2)), mean_scale(np.zeros(0))
    (3.0, 1.0, 1.0)
    """
    return float(y.mean()) if len(y) and y.mean() > 0 else 1.0
