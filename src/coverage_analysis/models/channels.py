"""By-channel coverage models: which kinds of material go with applications?

Channels are pooled into groups (:data:`~coverage_analysis.models._data.CHANNEL_GROUPS`:
print, tv/radio, online/social, events, other) because single rare channels
(open days, transport ads) are mostly zero. Each group gets its own coverage
index; all groups with enough variation enter one PPML model together (so
each slope is "holding the other channels fixed"), with the same district
and month effects, estimand and decay as the main model (the decay is taken
from it, never searched per channel), and cluster jackknife (CV3) intervals.
Several slopes are tested at once, so p-values are also Holm-adjusted, and the
channel indices are often collinear (districts that publish more do so
everywhere), so the result reports correlations and VIFs after removing
district and month means.

>>> from coverage_analysis.models.simulate import simulate_panel
>>> res = fit_channel_models(simulate_panel("null", seed=4), n_boot=99, decay=0.4)
>>> sorted(res.channels)[:2], len(res.warnings) >= 1
(['events', 'online_social'], True)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from coverage_analysis.models import _ppml
from coverage_analysis.models._data import CHANNEL_GROUPS, PreparedPanel, prepare_panel
from coverage_analysis.models.coverage import (
    DEFAULT_ESTIMAND,
    DEFAULT_N_BOOT,
    DEFAULT_SEED,
    EFFECT_UNITS,
    _jsonable,
    fit_coverage,
    fixed_decay_effects,
)

log = logging.getLogger(__name__)

#: A channel group enters the model only if at least this share of the
#: reported district-months have any material of it.
MIN_NONZERO_SHARE = 0.10
#: Below this variance (after removing district and month means) an index
#: carries no information about its slope.
MIN_WITHIN_VARIANCE = 1e-6
#: A variance inflation factor above this marks a channel's slope as unstable.
VIF_WARN = 5.0
#: Significance level for the Holm procedure's verdicts.
ALPHA = 0.05

MULTIPLE_COMPARISONS_WARNING = (
    "{k} channel slopes are tested at once: read the Holm-adjusted p-values; with unadjusted "
    "p-values about one channel in twenty looks 'significant' by chance."
)


def holm(p_values: list[float]) -> list[float]:
    """Holm step-down adjusted p-values (same order as given).

    >>> [round(p, 3) for p in holm([0.01, 0.04, 0.03])]
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p)
    k = len(p)
    adjusted = np.empty(k)
    running = 0.0
    for rank, idx in enumerate(order):
        running = max(running, min(1.0, (k - rank) * p[idx]))
        adjusted[idx] = running
    return adjusted.tolist()


def within(values: np.ndarray, d: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Residuals of each column of ``values`` after district and month means
    (two-way fixed effects by least squares; works on unbalanced rows), by the
    HDFE elimination of :func:`_ppml.partial_out` with unit weights -- not a
    dense least squares on G + T dummy columns (seconds at 216 districts).

    >>> v = np.array([[1.0], [2.0], [4.0], [7.0]])
    >>> within(v, np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])).ravel().round(6).tolist()
    [0.5, -0.5, -0.5, 0.5]
    """
    values = np.asarray(values, dtype=float).reshape(len(d), -1)
    none, ones = np.zeros((len(d), 0)), np.ones(len(d))
    return np.column_stack(
        [_ppml.partial_out(values[:, j], none, d, m, ones) for j in range(values.shape[1])]
    )


def channel_collinearity(
    prep: PreparedPanel, decay: float, groups: list[str] | None = None
) -> dict[str, Any]:
    """Correlations and VIFs of the channel coverage indices after removing
    district and month means, on rows where coverage is known."""
    groups = groups or list(prep.channels)
    rows = prep.known(decay) & (prep.population > 0)
    g, t = prep.shape
    d = np.repeat(np.arange(g), t).reshape(g, t)[rows]
    m = np.tile(np.arange(t), g).reshape(g, t)[rows]
    mat = np.column_stack([prep.index(decay, prep.channels[c])[rows] for c in groups])
    w = within(mat, d, m)
    sd = w.std(axis=0)
    ok = sd > np.sqrt(MIN_WITHIN_VARIANCE)
    names = [c for c, keep in zip(groups, ok, strict=True) if keep]
    corr = np.corrcoef(w[:, ok], rowvar=False) if ok.sum() > 1 else np.ones((1, 1))
    try:
        vif = np.diag(np.linalg.inv(np.atleast_2d(corr)))
    except np.linalg.LinAlgError:
        vif = np.full(len(names), np.inf)
    return {
        "channels": names,
        "correlation_within": {
            a: {b: float(np.atleast_2d(corr)[i, j]) for j, b in enumerate(names)}
            for i, a in enumerate(names)
        },
        "vif": {a: float(v) for a, v in zip(names, np.atleast_1d(vif), strict=True)},
        "note": "after removing district and month means; VIF > 5 marks an unstable slope",
    }


@dataclass
class ChannelModelResult:
    """Per-channel-group slopes from one joint model."""

    outcome: str
    decay: float
    channels: dict[str, dict[str, Any]]
    excluded: dict[str, str]
    collinearity: dict[str, Any]
    effect_unit: str
    method: str
    warnings: list[str]
    n_obs: int
    n_clusters: int
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return _jsonable({k: getattr(self, k) for k in self.__dataclass_fields__})

    def table(self) -> pd.DataFrame:
        """One row per included channel group (for display)."""
        return pd.DataFrame(
            [
                {"channel": c, **{k: v for k, v in e.items() if k != "members"}}
                for c, e in self.channels.items()
            ]
        )


def fit_channel_models(
    panel: pd.DataFrame,
    outcome: str = "applications",
    *,
    decay: float | None = None,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = DEFAULT_SEED,
    estimand: str = DEFAULT_ESTIMAND,
) -> ChannelModelResult:
    """Joint PPML of ``outcome`` on the coverage index of every channel group
    with enough variation; same effects and estimand as
    :func:`~coverage_analysis.models.fit_coverage_model`, at the decay of the
    all-materials model (the middle of its decay grid when not given; never
    searched per channel). Slopes get CV3 jackknife intervals and t(G*-1)
    p-values, Holm-adjusted. ``n_boot`` and ``seed`` are kept for callers."""
    prep = prepare_panel(panel, outcome)
    if decay is None:
        decay = fit_coverage(prep, outcome, estimand=estimand).decay
    rows = prep.usable(decay)
    excluded: dict[str, str] = {}
    included: list[str] = []
    indices: list[np.ndarray] = []
    g, t = prep.shape
    d_all = np.repeat(np.arange(g), t).reshape(g, t)
    m_all = np.tile(np.arange(t), g).reshape(g, t)
    for group in CHANNEL_GROUPS:
        if group not in prep.channels:
            excluded[group] = "no column in the panel"
            continue
        raw = prep.channels[group][rows]
        share = float(np.mean(raw > 0)) if raw.size else 0.0
        if share < MIN_NONZERO_SHARE:
            excluded[group] = (
                f"material in only {share:.0%} of district-months (< {MIN_NONZERO_SHARE:.0%})"
            )
            continue
        idx = prep.index(decay, prep.channels[group])
        w = within(idx[rows][:, None], d_all[rows], m_all[rows])
        if float(np.var(w)) < MIN_WITHIN_VARIANCE:
            excluded[group] = "no variation within districts and months"
            continue
        included.append(group)
        indices.append(idx)
    warnings: list[str] = []
    channels: dict[str, dict[str, Any]] = {}
    n_obs = n_clusters = 0
    if included:
        effects, fit, des = fixed_decay_effects(
            prep, indices, rows, estimand, name=f"{outcome} channel model"
        )
        n_obs, n_clusters = int(fit.keep.sum()), len(np.unique(des.d[fit.keep]))
        adjusted = holm([e["p_value"] for e in effects])
        for group, eff, p_adj in zip(included, effects, adjusted, strict=True):
            channels[group] = {
                **_jsonable(eff),
                "p_value_holm": p_adj,
                "significant_after_holm": bool(p_adj < ALPHA),
                "members": list(CHANNEL_GROUPS[group]),
            }
        if len(included) > 1:
            warnings.append(MULTIPLE_COMPARISONS_WARNING.format(k=len(included)))
    else:
        warnings.append("No channel group has enough variation for a model.")
    collinearity = channel_collinearity(prep, decay, included) if included else {}
    high = [c for c, v in collinearity.get("vif", {}).items() if v > VIF_WARN]
    if high:
        warnings.append(
            f"Channel indices are collinear (VIF > {VIF_WARN:g}: {', '.join(high)}); their "
            "separate slopes are unstable even if the total is not."
        )
    method = (
        f"One PPML model (estimand '{estimand}') with district and month effects, with one "
        "coverage index log2(1 + carry-over materials per 10,000) per channel group "
        f"(decay {decay:g}, taken from the all-materials model, not searched per channel); each "
        "slope holds the other groups fixed. Cluster jackknife (CV3) intervals with t(G*-1), "
        "p-values also Holm-adjusted across groups."
    )
    return ChannelModelResult(
        outcome=outcome,
        decay=float(decay),
        channels=channels,
        excluded=excluded,
        collinearity=collinearity,
        effect_unit=EFFECT_UNITS[outcome].replace("materials", "materials of the channel group"),
        method=method,
        warnings=warnings,
        n_obs=n_obs,
        n_clusters=n_clusters,
    )
