"""Simulated district x month panels shaped like East Kazakhstan's, with a
known truth, for validating the coverage models.

Scenarios (``scenario`` accepts the name or the letter):

- ``"null"`` (a): coverage has no effect; coverage and applications both
  follow district size, a latent district activity level and the calendar
  (deadline surges in Dec 2015 and Nov-Dec 2016, a jump after the rule change).
- ``"reverse"`` (b): no effect, but a district's coverage in month *t*
  responds to its applications in month *t-1* (briefings report applications).
- ``"effect"`` (c): expected applications are multiplied by
  ``2 ** (beta * coverage_index)`` (``beta`` default 0.25, i.e. +18.9% per
  doubling of 1 + carry-over per 10k) at carry-over ``decay``; ``beta`` is on
  the scale the models report.

The truth is kept in ``frame.attrs["truth"]``.

>>> p = simulate_panel("effect", seed=1)
>>> p.shape[0], p["district_id"].nunique(), p["month"].nunique()
(532, 19, 28)
>>> p.attrs["truth"]["beta"]
0.25
>>> bool(p.loc[~p["is_reported"], "materials"].isna().all())
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from coverage_analysis.domain import (
    CHANNELS,
    FINAL_DEADLINE,
    FIRST_DEADLINE,
    PER_RESIDENTS,
    RULE_CHANGE,
    campaign_months,
)
from coverage_analysis.models.adstock import coverage_index
from coverage_analysis.reference import load_districts

#: Scenario names and their letters in the issue.
SCENARIOS: dict[str, str] = {"a": "null", "b": "reverse", "c": "effect"}
#: True slope (log2 scale, as reported) of applications on the coverage index
#: in the "effect" scenario; the sample data set uses the same value.
DEFAULT_BETA = 0.25
#: True carry-over decay of coverage (one of the model's search grid values).
DEFAULT_DECAY = 0.4
#: Materials per 10,000 residents per month in an average district, off-peak.
BASE_MATERIALS_PER_10K = 1.0
#: Applications per 10,000 residents per month in an average district, off-peak.
BASE_APPLICATIONS_PER_10K = 0.8
#: SD of the latent district activity (log scale); drives coverage and applications.
ACTIVITY_SD = 0.6
#: SD of the month-to-month log noise of a district's coverage (identifies the slope).
COVERAGE_NOISE_SD = 0.6
#: NB2 dispersion of applications: Var = mu + DISPERSION * mu^2.
DISPERSION = 0.5
#: Elasticity of coverage in t to (1 + applications per 10k) in t-1 in "reverse".
REVERSE_STRENGTH = 1.0
#: Share of district-months with no coverage report (materials missing).
UNREPORTED_SHARE = 0.05
#: Share of district-months with a missing applications figure.
MISSING_OUTCOME_SHARE = 0.02
#: Log-normal amount per application: median about 3.3 million tenge, heavy tail.
AMOUNT_LOG_MEAN = 15.0
AMOUNT_LOG_SD = 1.5
#: Share of applications that legalize property without a tenge valuation (zeros).
ZERO_AMOUNT_SHARE = 0.2
#: Typical audience of one material as a share of the district's population.
REACH_SHARE = 0.02
#: Planned materials relative to the district's expected output.
PLAN_RATIO = 1.2

#: Channel mix of an average district (shares sum to 1; print-heavy, few events).
CHANNEL_MIX: dict[str, float] = {
    "print": 0.25,
    "tv": 0.12,
    "radio": 0.05,
    "online": 0.18,
    "social": 0.15,
    "outdoor": 0.04,
    "transport": 0.02,
    "print_handout": 0.05,
    "seminar": 0.04,
    "round_table": 0.02,
    "open_day": 0.01,
    "briefing": 0.05,
    "interview": 0.02,
}
#: Dirichlet concentration of district channel mixes around CHANNEL_MIX.
MIX_CONCENTRATION = 30.0
#: Number of districts with no internet coverage at all (as Ridder and Abai).
N_NO_INTERNET = 2


def _calendar(months: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """Log-scale calendar of applications and of coverage: deadline surges,
    the rule-change jump and a slow start."""
    y = np.zeros(len(months))
    x = np.zeros(len(months))
    for i, mth in enumerate(months):
        k = i / max(len(months) - 1, 1)
        y[i] += 0.3 * k  # slow growth of awareness over the campaign
        if mth >= RULE_CHANGE:
            y[i] += 0.5  # no more 10% fee on money
        if mth == FIRST_DEADLINE:
            y[i] += 1.5
            x[i] += 0.7
        if mth == FIRST_DEADLINE - pd.DateOffset(months=1):
            y[i] += 0.8
            x[i] += 0.5
        if mth == FINAL_DEADLINE:
            y[i] += 1.8
            x[i] += 0.9
        if mth == FINAL_DEADLINE - pd.DateOffset(months=1):
            y[i] += 1.2
            x[i] += 0.6
        if i < 2:
            x[i] += 0.5  # launch publicity
    return y, x


def simulate_panel(
    scenario: str = "null",
    seed: int = 0,
    *,
    beta: float = DEFAULT_BETA,
    decay: float = DEFAULT_DECAY,
    reverse_strength: float = REVERSE_STRENGTH,
    dispersion: float = DISPERSION,
    unreported_share: float = UNREPORTED_SHARE,
    missing_outcome_share: float = MISSING_OUTCOME_SHARE,
    coverage_noise_sd: float = COVERAGE_NOISE_SD,
    activity_sd: float = ACTIVITY_SD,
    districts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """A district x month panel with the columns of ``panel.parquet``.

    ``beta`` applies only to the ``"effect"`` scenario; ``reverse_strength``
    only to ``"reverse"``. Everything is drawn from ``numpy`` generator ``seed``.
    ``districts`` (columns ``district_id``, ``population_2016``) replaces the
    East Kazakhstan reference (see :func:`simulate_national_panel`).

    >>> p = simulate_panel("b", seed=3)
    >>> sorted(c for c in p.columns if not c.startswith("materials_"))[:5]
    ['amount_kzt', 'applications', 'district_id', 'is_reported', 'materials']
    """
    scenario = SCENARIOS.get(scenario, scenario)
    if scenario not in SCENARIOS.values():
        raise ValueError(f"unknown scenario {scenario!r}; use one of {sorted(SCENARIOS.values())}")
    rng = np.random.default_rng(seed)
    ref = load_districts() if districts is None else districts
    ids = ref["district_id"].to_numpy()
    pop = ref["population_2016"].to_numpy(dtype=float)
    months = campaign_months()
    n_d, n_m = len(ids), len(months)
    cal_y, cal_x = _calendar(months)
    activity = rng.normal(0.0, activity_sd, n_d)
    slope = beta if scenario == "effect" else 0.0
    rho = reverse_strength if scenario == "reverse" else 0.0

    materials = np.zeros((n_d, n_m))
    apps = np.zeros((n_d, n_m))
    cover = np.zeros((n_d, n_m))
    noise_x = rng.normal(0.0, coverage_noise_sd, (n_d, n_m))
    gamma_mix = rng.gamma(1.0 / dispersion, dispersion, (n_d, n_m))
    scale = pop / PER_RESIDENTS
    carry = np.zeros(n_d)
    for t in range(n_m):
        log_rate = np.log(BASE_MATERIALS_PER_10K) + activity + cal_x[t] + noise_x[:, t]
        if t > 0 and rho:
            log_rate += rho * (
                np.log1p(apps[:, t - 1] / scale) - np.log1p(BASE_APPLICATIONS_PER_10K)
            )
        materials[:, t] = rng.poisson(scale * np.exp(log_rate))
        carry = materials[:, t] / scale + decay * carry
        cover[:, t] = np.log2(1.0 + carry)
        mu = (
            scale
            * BASE_APPLICATIONS_PER_10K
            * np.exp(activity + cal_y[t])
            * 2.0 ** (slope * cover[:, t])
        )
        apps[:, t] = rng.poisson(mu * gamma_mix[:, t])
    # sanity: the loop's index equals the shared definition
    assert np.allclose(cover[0], coverage_index(materials[0] / scale[0], decay))

    # heavy-tailed amounts with zeros
    n_apps = apps.astype(int).ravel()
    draws = rng.lognormal(AMOUNT_LOG_MEAN, AMOUNT_LOG_SD, n_apps.sum())
    draws[rng.random(len(draws)) < ZERO_AMOUNT_SHARE] = 0.0
    cuts = np.concatenate([[0], np.cumsum(n_apps)])
    sums = np.add.reduceat(np.append(draws, 0.0), cuts[:-1]) * (n_apps > 0)
    amounts = sums.reshape(n_d, n_m)

    # channel split
    mix = rng.dirichlet(MIX_CONCENTRATION * np.array(list(CHANNEL_MIX.values())), n_d)
    channel_order = list(CHANNEL_MIX)
    internet = [channel_order.index(c) for c in ("online", "social")]
    for i in rng.choice(n_d, N_NO_INTERNET, replace=False):
        mix[i, internet] = 0.0
        mix[i] /= mix[i].sum()
    by_channel = np.zeros((n_d, n_m, len(channel_order)))
    for i in range(n_d):
        by_channel[i] = rng.multinomial(materials[i].astype(int), mix[i])

    reported = rng.random((n_d, n_m)) >= unreported_share
    outcome_known = rng.random((n_d, n_m)) >= missing_outcome_share

    frame = pd.DataFrame(
        {
            "district_id": np.repeat(ids, n_m),
            "month": np.tile(months, n_d),
            "population": np.repeat(pop.astype(int), n_m),
            "materials": materials.ravel(),
        }
    )
    for k, ch in enumerate(channel_order):
        frame[f"materials_{ch}"] = by_channel[:, :, k].ravel()
    for ch in CHANNELS:  # every canonical channel has its column
        if f"materials_{ch}" not in frame:
            frame[f"materials_{ch}"] = 0.0
    reach = np.round(materials * pop[:, None] * REACH_SHARE * rng.lognormal(0, 0.5, (n_d, n_m)))
    frame["reach"] = pd.array(reach.ravel().astype(int), dtype="Int64")
    frame["applications"] = pd.array(apps.ravel().astype(int), dtype="Int64")
    frame["amount_kzt"] = amounts.ravel()
    expected = scale * BASE_MATERIALS_PER_10K * np.exp(activity)
    frame["planned"] = np.repeat(np.round(PLAN_RATIO * expected), n_m)
    frame["is_reported"] = reported.ravel()
    mat_cols = ["materials", *[f"materials_{c}" for c in CHANNELS], "reach"]
    for c in mat_cols:
        if c != "reach":
            frame[c] = frame[c].astype("Float64")
        frame.loc[~frame["is_reported"], c] = pd.NA
    frame.loc[~outcome_known.ravel(), ["applications", "amount_kzt"]] = pd.NA
    frame["amount_kzt"] = frame["amount_kzt"].astype("Float64")
    frame.attrs["truth"] = {
        "scenario": scenario,
        "beta": slope,
        "decay": decay,
        "reverse_strength": rho,
        "seed": seed,
        "activity": dict(zip(ids, activity.round(4).tolist(), strict=True)),
    }
    return frame


#: Approximate residents of the 2014-2016 regions at the start of 2016 (thousands,
#: rounded Bureau of National Statistics figures), used only to size the synthetic
#: national panel of :func:`simulate_national_panel` (benchmarks, model tests).
NATIONAL_REGION_POPULATION_K: dict[str, int] = {
    "akmola": 738,
    "aktobe": 836,
    "almaty_region": 1984,
    "atyrau": 601,
    "west_kazakhstan": 640,
    "zhambyl": 1099,
    "karaganda": 1382,
    "kostanay": 877,
    "kyzylorda": 773,
    "mangystau": 640,
    "pavlodar": 755,
    "north_kazakhstan": 564,
    "south_kazakhstan": 2841,
    "east_kazakhstan": 1393,
    "astana": 872,
    "almaty_city": 1703,
}
#: A city of regional significance is this many times as populous as a rural district
#: of its region in the synthetic split (before the log-normal spread).
CITY_WEIGHT = 4.0
#: Log-normal spread of the synthetic district sizes within a region.
DISTRICT_SIZE_SD = 0.5
#: Seed of the synthetic district sizes (fixed: the same republic for every scenario seed).
NATIONAL_SIZE_SEED = 2016


def national_districts(n_districts: int | None = None) -> pd.DataFrame:
    """The republic's districts for simulation: ``district_id`` (East Kazakhstan's
    ids, the KATO code elsewhere), ``region`` (2014-2016 region id), ``population_2016``.

    East Kazakhstan keeps the populations of ``districts.csv``; other regions' totals
    (:data:`NATIONAL_REGION_POPULATION_K`) are split over their districts with
    synthetic log-normal weights (cities :data:`CITY_WEIGHT` times larger).
    ``n_districts`` keeps the first n rows in region order (smaller benchmarks).

    >>> nd = national_districts()
    >>> len(nd), nd["region"].nunique(), int(nd["population_2016"].sum()) // 1_000_000
    (216, 16, 17)
    """
    from coverage_analysis.reference.national import load_national_districts

    nat = load_national_districts()
    ek = load_districts().set_index("district_id")["population_2016"]
    rng = np.random.default_rng(NATIONAL_SIZE_SEED)
    ids = np.where(
        nat["district_id"].notna(), nat["district_id"].astype(str), nat["kato"].astype(str)
    )
    weight = np.where(nat["kind"].eq("city"), CITY_WEIGHT, 1.0) * rng.lognormal(
        0.0, DISTRICT_SIZE_SD, len(nat)
    )
    region = nat["campaign_region_id"].astype(str).to_numpy()
    pop = np.zeros(len(nat))
    for reg in np.unique(region):
        sel = region == reg
        total = NATIONAL_REGION_POPULATION_K[reg] * 1000.0
        pop[sel] = total * weight[sel] / weight[sel].sum()
    is_ek = region == "east_kazakhstan"
    pop[is_ek] = ek.reindex(ids[is_ek]).to_numpy(dtype=float)
    out = pd.DataFrame(
        {"district_id": ids, "region": region, "population_2016": np.round(pop).astype(int)}
    )
    return out if n_districts is None else out.iloc[:n_districts].reset_index(drop=True)


def simulate_national_panel(
    scenario: str = "effect", seed: int = 0, n_districts: int | None = None, **kwargs: float
) -> pd.DataFrame:
    """A synthetic district x month panel of the whole republic (216 districts x
    28 months by default), as :func:`simulate_panel` with the districts of
    :func:`national_districts`; ``frame.attrs["regions"]`` maps district to region.

    >>> p = simulate_national_panel(seed=1, n_districts=40)
    >>> p["district_id"].nunique(), p["month"].nunique(), len(set(p.attrs["regions"].values()))
    (40, 28, 3)
    """
    districts = national_districts(n_districts)
    frame = simulate_panel(scenario, seed, districts=districts, **kwargs)
    frame.attrs["regions"] = dict(zip(districts["district_id"], districts["region"], strict=True))
    return frame
