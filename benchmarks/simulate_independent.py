"""A second simulator of district x month panels, written independently of
``coverage_analysis.models.simulate`` (it does not import or copy it), so that
the model is not only validated against the assumptions of its own simulator.

What differs on purpose:

- coverage per 10,000 residents follows a district-level AR(1) in logs
  (persistent campaigns, not independent monthly noise);
- applications are negative binomial (NB2, dispersion ``DISPERSION``);
- the true carry-over decay is 0.5, which is NOT on the model's grid
  (0, 0.2, ..., 0.8);
- whole district-quarters go unreported (a registry that missed a quarter);
- district sizes are drawn fresh (two large cities, the rest small), and a
  latent district activity drives both coverage and applications, as does
  the calendar (deadline surges) -- the confounding the fixed effects remove;
- in the "reverse" scenario coverage in month t responds to applications in
  month t-1.

The truth is in ``frame.attrs["truth"]``: ``beta`` is the slope on the log2
scale of ``log2(1 + carry-over per 10,000)`` at ``decay``.

>>> p = simulate_independent("effect", seed=0)
>>> p["district_id"].nunique(), p["month"].nunique(), p.attrs["truth"]["decay"]
(19, 28, 0.5)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Districts and months of the simulated campaign (Sep 2014 - Dec 2016).
N_DISTRICTS = 19
MONTHS = pd.date_range("2014-09-01", "2016-12-01", freq="MS")
#: True carry-over decay (off the model's grid on purpose).
TRUE_DECAY = 0.5
#: AR(1) persistence and innovation SD of log coverage.
AR_RHO = 0.6
AR_SD = 0.45
#: Latent district activity SD (drives coverage and applications: confounding).
ACTIVITY_SD = 0.5
#: NB2 dispersion of applications (Var = mu + DISPERSION * mu^2).
DISPERSION = 0.6
#: Probability that a district-quarter is entirely unreported.
QUARTER_UNREPORTED = 0.06
#: Share of district-months whose applications figure is missing.
OUTCOME_MISSING = 0.01
#: Applications per 10,000 residents per month at no coverage, off-peak.
BASE_RATE = 0.6
#: Coverage per 10,000 residents per month (median district, off-peak).
BASE_COVERAGE = 1.2
#: Coverage elasticity to last month's (1 + applications per 10k) in "reverse".
REVERSE_ELASTICITY = 1.2
#: Amount per application: log-normal (log-mean, log-sd) in tenge; share zero.
AMOUNT_LOG = (14.5, 1.3)
AMOUNT_ZERO = 0.25


def _calendar() -> np.ndarray:
    """Shared log-multiplier per month: deadline surges (Dec 2015, Nov-Dec
    2016) and a step after the Dec 2015 rule change."""
    cal = np.zeros(len(MONTHS))
    for i, m in enumerate(MONTHS):
        if (m.year, m.month) == (2015, 12):
            cal[i] += 1.0
        if m.year == 2016 and m.month in (11, 12):
            cal[i] += 0.9
        if m >= pd.Timestamp("2016-01-01"):
            cal[i] += 0.3
    return cal


def _carry(x: np.ndarray, decay: float) -> np.ndarray:
    out = np.empty_like(x)
    acc = 0.0
    for t, v in enumerate(x):
        acc = v + decay * acc
        out[t] = acc
    return out


def simulate_independent(
    scenario: str = "effect", seed: int = 0, beta: float = 0.5
) -> pd.DataFrame:
    """One panel: ``scenario`` "null", "reverse" or "effect" (``beta`` is the
    true log2-scale slope in "effect", 0 otherwise)."""
    if scenario not in ("null", "reverse", "effect"):
        raise ValueError(f"unknown scenario {scenario!r}")
    rng = np.random.default_rng(seed)
    b = beta if scenario == "effect" else 0.0
    g, t = N_DISTRICTS, len(MONTHS)
    pop = np.exp(rng.normal(np.log(35_000), 0.6, size=g))
    pop[:2] = rng.uniform(250_000, 350_000, size=2)  # two cities
    pop = np.round(pop)
    activity = rng.normal(0.0, ACTIVITY_SD, size=g)
    cal = _calendar()
    x = np.zeros((g, t))  # coverage per 10k
    y = np.zeros((g, t))
    mats = np.zeros((g, t))
    ar = rng.normal(0.0, AR_SD / np.sqrt(1 - AR_RHO**2), size=g)
    carry = np.zeros(g)
    for s in range(t):
        ar = AR_RHO * ar + rng.normal(0.0, AR_SD, size=g)
        log_cov = np.log(BASE_COVERAGE) + 0.8 * activity + 0.5 * cal[s] + ar
        if scenario == "reverse" and s > 0:
            log_cov += REVERSE_ELASTICITY * np.log1p(y[:, s - 1] / pop * 1e4)
        lam = np.exp(log_cov) * pop / 1e4
        mats[:, s] = rng.poisson(lam)
        x[:, s] = mats[:, s] / pop * 1e4
        carry = x[:, s] + TRUE_DECAY * carry
        index = np.log2(1.0 + carry)
        mu = pop / 1e4 * BASE_RATE * np.exp(activity + cal[s]) * 2.0 ** (b * index)
        shape = 1.0 / DISPERSION
        y[:, s] = rng.poisson(rng.gamma(shape, mu / shape))
    reported = np.ones((g, t), dtype=bool)
    quarter = np.array([(m.year * 4 + (m.month - 1) // 3) for m in MONTHS])
    for i in range(g):
        for q in np.unique(quarter):
            if rng.random() < QUARTER_UNREPORTED:
                reported[i, quarter == q] = False
    amounts = np.zeros((g, t))
    for i in range(g):
        for s in range(t):
            n = int(y[i, s])
            if n:
                v = np.exp(rng.normal(*AMOUNT_LOG, size=n))
                v[rng.random(n) < AMOUNT_ZERO] = 0.0
                amounts[i, s] = float(v.sum())
    apps = pd.array(y.ravel().astype(int), dtype="Int64")
    miss = rng.random(g * t) < OUTCOME_MISSING
    apps[miss] = pd.NA
    amt = pd.array(amounts.ravel(), dtype="Float64")
    amt[miss] = pd.NA
    frame = pd.DataFrame(
        {
            "district_id": np.repeat([f"d{i:02d}" for i in range(g)], t),
            "month": np.tile(MONTHS, g),
            "population": np.repeat(pop, t),
            "materials": np.where(reported, mats, np.nan).ravel(),
            "is_reported": reported.ravel(),
            "applications": apps,
            "amount_kzt": amt,
        }
    )
    frame.attrs["truth"] = {"scenario": scenario, "beta": b, "decay": TRUE_DECAY, "seed": seed}
    return frame
