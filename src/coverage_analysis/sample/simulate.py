"""The true (simulated) world behind the sample data set.

Everything the raw files later report is drawn here first: district activity,
materials per district x month x channel (and each material's outlet, title,
URL, reach, language, format), legalization applications and amounts, media
plans and populations. The writers in :mod:`coverage_analysis.sample.layout`
only *report* this world, imperfectly, the way district akimats and the State
Revenue Department did.

Data-generating process of applications (district *d*, month *t*)::

    mu = pop/10,000 * APPLICATION_RATE * month_effect[t]
         * exp(ACTIVITY_ON_APPLICATIONS * activity[d] + u[d])
         * 2 ** (BETA * coverage_index[d, t])
    applications ~ NegBin(mean mu, dispersion NB_DISPERSION)

with ``coverage_index = log2(1 + adstock(materials per 10,000, DECAY))`` over
all district-level materials (every channel; ``region`` material excluded).
The latent ``activity`` drives coverage too, so a model without district
effects over-states ``BETA``.

>>> sim = simulate(7)
>>> sim.panel.groupby("district_id").size().nunique(), len(sim.months)
(1, 28)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from coverage_analysis.domain import (
    ARTICLE_MONTH,
    CAMPAIGN_END,
    CAMPAIGN_START,
    CHANNELS,
    PER_RESIDENTS,
    REGION_ID,
    RULE_CHANGE,
    campaign_months,
)
from coverage_analysis.models.adstock import coverage_index
from coverage_analysis.reference import load_districts

log = logging.getLogger(__name__)

# --- true effect of coverage on applications --------------------------------
#: True effect: applications are multiplied by 2**BETA (+19%) per unit of the
#: coverage index, i.e. per doubling of (1 + carried-over materials per 10,000).
BETA = 0.25
#: True monthly carry-over of coverage (adstock decay).
DECAY = 0.5
#: Applications per 10,000 residents per month at month effect 1 and activity 0
#: (about 86,000 citizens nationally by May 2016 is ~2.5 per 10,000 per month).
APPLICATION_RATE = 1.6
#: Loading of the latent district activity on applications (it also drives coverage).
ACTIVITY_ON_APPLICATIONS = 0.8
#: SD of an extra district effect on applications, unrelated to coverage.
DISTRICT_NOISE_SD = 0.2
#: Negative binomial dispersion alpha (variance = mu + alpha * mu**2).
NB_DISPERSION = 0.2

# --- coverage ------------------------------------------------------------------
#: SD of the latent district activity (log scale), heterogeneous districts.
ACTIVITY_SD = 0.6
#: Activity fixed from the article: the weakest informers named in the report.
ACTIVITY_OVERRIDES: dict[str, float] = {"ayagoz": -1.8, "semey": -0.9, "ridder": -0.4, "abai": -0.4}
#: SD of month-to-month noise of a district's coverage (log scale).
COVERAGE_NOISE_SD = 0.6
#: Materials grow less than proportionally with population (elasticity).
SIZE_ELASTICITY = 0.7
#: Expected district-level materials Sep 2014 - Feb 2016 (all districts).
DISTRICT_MATERIALS_TARGET = 700
#: Materials reported region-wide Sep 2014 - Feb 2016 (the article's 1,060),
#: district-level plus region-level (oblast media) material.
ARTICLE_TOTAL_MATERIALS = 1060
#: Median multiplier of district coverage after the meeting (from Mar 2016) and its SD (log).
POST_MEETING_RISE = 1.6
POST_MEETING_RISE_SD = 0.35
#: Share of each channel in district-level material (sums to 1).
DISTRICT_CHANNEL_SHARE: dict[str, float] = {
    "print": 0.30, "tv": 0.14, "radio": 0.07, "online": 0.20, "social": 0.14,
    "outdoor": 0.03, "transport": 0.02, "print_handout": 0.03, "seminar": 0.02,
    "round_table": 0.01, "open_day": 0.01, "briefing": 0.02, "interview": 0.01,
}  # fmt: skip
#: Share of each channel in region-level (oblast) material (sums to 1).
REGION_CHANNEL_SHARE: dict[str, float] = {
    "print": 0.33, "tv": 0.22, "radio": 0.10, "online": 0.18, "social": 0.11,
    "outdoor": 0.01, "briefing": 0.03, "interview": 0.02,
}  # fmt: skip
#: Coverage surges before the deadlines and a slow start ("YYYY-MM" -> multiplier).
COVERAGE_MONTH_EFFECT: dict[str, float] = {
    "2014-09": 0.7, "2014-10": 0.9, "2015-11": 1.3, "2015-12": 1.5,
    "2016-10": 1.2, "2016-11": 1.4, "2016-12": 1.5,
}  # fmt: skip
#: Applications: slow start and deadline surges ("YYYY-MM" -> multiplier) ...
APPLICATION_MONTH_EFFECT: dict[str, float] = {
    "2014-09": 0.5, "2014-10": 0.7, "2014-11": 0.85, "2015-11": 1.8, "2015-12": 3.5,
    "2016-10": 1.3, "2016-11": 2.5, "2016-12": 4.0,
}  # fmt: skip
#: ... times a level jump from the December 2015 rule change (fee on money dropped).
RULE_CHANGE_JUMP = 1.4
#: Formats of a material before / after the meeting (targeted and testimonials are rare).
FORMAT_SHARE_BEFORE: dict[str, float] = {
    "news": 0.78,
    "explainer": 0.17,
    "targeted": 0.03,
    "testimonial": 0.02,
}
FORMAT_SHARE_AFTER: dict[str, float] = {
    "news": 0.66,
    "explainer": 0.2,
    "targeted": 0.08,
    "testimonial": 0.06,
}
#: Language of a material.
LANGUAGE_SHARE: dict[str, float] = {"ru": 0.55, "kk": 0.35, "both": 0.10}
#: Platform of a social-media material.
PLATFORM_SHARE: dict[str, float] = {
    "facebook": 0.33, "instagram": 0.25, "vk": 0.14, "odnoklassniki": 0.1, "telegram": 0.06, "youtube": 0.12,
}  # fmt: skip

# --- amounts ---------------------------------------------------------------------
#: Kinds of legalized property with (share before rule change, share after, median tenge).
AMOUNT_KINDS: dict[str, tuple[float, float, float]] = {
    "money": (0.35, 0.55, 5_000_000.0),
    "real_estate": (0.55, 0.38, 4_000_000.0),
    "other": (0.10, 0.07, 1_500_000.0),
}
#: Lognormal sigma of one application's amount (heavy tail).
AMOUNT_SIGMA = 1.4
#: Amounts are rounded to whole thousands of tenge (so every unit writes exactly).
AMOUNT_ROUNDING = 1000

# --- population ------------------------------------------------------------------
#: Yearly population growth drawn per district (uniform range), backwards from 2016.
POPULATION_GROWTH_RANGE = (-0.01, 0.015)
#: Share of districts listed in the population file (kind 5); the others keep the
#: reference figure in every year, so the cleaned data give the simulated population.
POPULATION_FILE_SHARE = 0.65


@dataclass(frozen=True)
class Constraint:
    """Fixes the realised number of materials in a block of cells (facts of the article)."""

    district_id: str
    channels: tuple[str, ...] | None  # None = every channel
    start: str
    end: str
    total: int
    why: str


#: Facts of the seed article imposed on the simulated counts (data, not code branches).
COVERAGE_CONSTRAINTS: tuple[Constraint, ...] = (
    Constraint("ayagoz", None, "2014-09", "2016-02", 1, "1 publication in a year and a half"),
    Constraint("semey", ("print",), "2014-09", "2016-02", 7, "7 thematic articles since the start"),
    Constraint("ridder", ("online", "social"), "2014-09", "2016-12", 0, "no internet coverage"),
    Constraint("abai", ("online", "social"), "2014-09", "2016-12", 0, "no internet coverage"),
    Constraint("zharma", None, "2015-01", "2015-03", 0, "empty registry for I quarter 2015"),
)
#: Districts that stay tiny after the meeting: at most this many materials a month.
POST_MEETING_CAPS: dict[str, int] = {"ayagoz": 1}

#: District x quarter registries that were never sent (materials exist but are unreported).
REPORT_SKIPS: tuple[tuple[str, str], ...] = (
    ("kokpekty", "2015Q3"),
    ("kurchum", "2016Q2"),
    ("zaisan", "2016Q1"),
)


@dataclass
class Simulation:
    """The simulated world: panel, materials, populations, activity."""

    seed: int
    months: pd.DatetimeIndex
    districts: pd.DataFrame
    panel: pd.DataFrame  # district x month, true values
    counts: pd.DataFrame  # district (incl. region) x month x channel, true materials
    materials: pd.DataFrame  # one row per true material
    population: pd.DataFrame  # district x year
    activity: dict[str, float]
    month_effect: dict[str, float]
    rng: np.random.Generator = field(repr=False)


def _month_key(m: pd.Timestamp) -> str:
    return m.strftime("%Y-%m")


def quarter_key(m: pd.Timestamp) -> str:
    """``'2016Q1'`` for any month of the first quarter of 2016.

    >>> quarter_key(pd.Timestamp("2016-03-01"))
    '2016Q1'
    """
    return f"{m.year}Q{(m.month - 1) // 3 + 1}"


def application_month_effects(months: pd.DatetimeIndex) -> np.ndarray:
    """Calendar multiplier of applications for each month (surges, rule change)."""
    eff = np.array([APPLICATION_MONTH_EFFECT.get(_month_key(m), 1.0) for m in months])
    return eff * np.where(months >= RULE_CHANGE, RULE_CHANGE_JUMP, 1.0)


def _populations(districts: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for d in districts.itertuples():
        in_file = bool(rng.random() < POPULATION_FILE_SHARE)
        growth = rng.uniform(*POPULATION_GROWTH_RANGE) if in_file else 0.0
        for year in (2014, 2015, 2016):
            pop = round(d.population_2016 / (1 + growth) ** (2016 - year))
            rows.append(
                {
                    "district_id": d.district_id,
                    "year": year,
                    "population": int(pop),
                    "in_file": in_file,
                }
            )
    return pd.DataFrame(rows)


def _apply_constraints(
    counts: np.ndarray, means: np.ndarray, ids: list[str], months: pd.DatetimeIndex, rng
) -> None:
    ch_index = {c: i for i, c in enumerate(CHANNELS)}
    for con in COVERAGE_CONSTRAINTS:
        d = ids.index(con.district_id)
        mmask = (months >= pd.Timestamp(con.start)) & (months <= pd.Timestamp(con.end))
        cols = [ch_index[c] for c in con.channels] if con.channels else list(range(len(CHANNELS)))
        block = means[d][np.ix_(mmask, cols)]
        if con.total == 0:
            draw = np.zeros_like(block, dtype=int)
        else:
            p = block.ravel() / block.sum()
            draw = rng.multinomial(con.total, p).reshape(block.shape)
        sub = counts[d]
        sub[np.ix_(mmask, cols)] = draw


def simulate(seed: int = 2016) -> Simulation:
    """Draw the true world for ``seed`` (deterministic)."""
    rng = np.random.default_rng(seed)
    months = campaign_months()
    districts = load_districts()
    ids = districts["district_id"].tolist()
    n_d, n_m, n_c = len(ids), len(months), len(CHANNELS)
    population = _populations(districts, rng)
    pop = (
        population.pivot(index="district_id", columns="year", values="population")
        .loc[ids, [m.year for m in months]]
        .to_numpy(dtype=float)
    )

    activity = rng.normal(0.0, ACTIVITY_SD, n_d)
    for k, v in ACTIVITY_OVERRIDES.items():
        activity[ids.index(k)] = v
    rise = np.exp(rng.normal(np.log(POST_MEETING_RISE), POST_MEETING_RISE_SD, n_d))
    month_cov = np.array([COVERAGE_MONTH_EFFECT.get(_month_key(m), 1.0) for m in months])
    after = (months > ARTICLE_MONTH).astype(float)
    noise = np.exp(rng.normal(0.0, COVERAGE_NOISE_SD, (n_d, n_m)))
    share = np.array([DISTRICT_CHANNEL_SHARE.get(c, 0.0) for c in CHANNELS])
    scale = (
        (pop / PER_RESIDENTS) ** SIZE_ELASTICITY
        * np.exp(activity)[:, None]
        * month_cov[None, :]
        * (1 + after[None, :] * (rise[:, None] - 1))
        * noise
    )
    until = months <= ARTICLE_MONTH
    base = DISTRICT_MATERIALS_TARGET / scale[:, until].sum()
    means = base * scale[:, :, None] * share[None, None, :]
    counts = rng.poisson(means)
    _apply_constraints(counts, means, ids, months, rng)
    for did, cap in POST_MEETING_CAPS.items():
        i = ids.index(did)
        for t in np.flatnonzero(~until):
            while counts[i, t].sum() > cap:
                counts[i, t, int(np.argmax(counts[i, t]))] -= 1

    # region-level material: fills the article's 1,060 (observed) up to the meeting
    skipped = np.zeros((n_d, n_m), dtype=bool)
    for did, q in REPORT_SKIPS:
        skipped[ids.index(did)] |= np.array([quarter_key(m) == q for m in months])
    observed_until = int(counts[:, until][~skipped[:, until]].sum())
    region_until = ARTICLE_TOTAL_MATERIALS - observed_until
    if region_until <= 0:  # pragma: no cover - guarded by the calibration target
        raise RuntimeError(f"district material {observed_until} exceeds the article total")
    r_share = np.array([REGION_CHANNEL_SHARE.get(c, 0.0) for c in CHANNELS])
    w_until = month_cov[until] / month_cov[until].sum()
    region = np.zeros((n_m, n_c), dtype=int)
    per_month = rng.multinomial(region_until, w_until)
    for i, t in enumerate(np.flatnonzero(until)):
        region[t] = rng.multinomial(per_month[i], r_share)
    rate_after = region_until / until.sum() * POST_MEETING_RISE
    for t in np.flatnonzero(~until):
        region[t] = rng.poisson(rate_after * month_cov[t] * r_share)

    # applications and amounts
    materials_d = counts.sum(axis=2).astype(float)
    per10k = materials_d / (pop / PER_RESIDENTS)
    cindex = np.vstack([coverage_index(per10k[i], DECAY) for i in range(n_d)])
    m_eff = application_month_effects(months)
    u = rng.normal(0.0, DISTRICT_NOISE_SD, n_d)
    mu = (
        pop
        / PER_RESIDENTS
        * APPLICATION_RATE
        * m_eff[None, :]
        * np.exp(ACTIVITY_ON_APPLICATIONS * activity + u)[:, None]
        * 2.0 ** (BETA * cindex)
    )
    size = 1.0 / NB_DISPERSION
    apps = rng.negative_binomial(size, size / (size + mu))
    amounts = _amounts(apps, months, rng)

    rows = []
    for i, did in enumerate(ids):
        for t, m in enumerate(months):
            row = {
                "district_id": did,
                "month": m,
                "population": int(pop[i, t]),
                "activity": float(activity[i]),
                "materials": int(materials_d[i, t]),
                **{f"materials_{c}": int(counts[i, t, k]) for k, c in enumerate(CHANNELS)},
                "materials_per_10k": float(per10k[i, t]),
                "coverage_index": float(cindex[i, t]),
                "month_effect": float(m_eff[t]),
                "expected_applications": float(mu[i, t]),
                "applications": int(apps[i, t]),
                **{f"amount_{k}_kzt": float(amounts[k][i, t]) for k in AMOUNT_KINDS},
                "is_skipped_report": bool(skipped[i, t]),
            }
            row["amount_kzt"] = float(sum(amounts[k][i, t] for k in AMOUNT_KINDS))
            rows.append(row)
    panel = pd.DataFrame(rows)

    count_rows = []
    for i, did in enumerate([*ids, REGION_ID]):
        arr = counts[i] if i < n_d else region
        for t, m in enumerate(months):
            for k, c in enumerate(CHANNELS):
                if arr[t, k]:
                    count_rows.append((did, m, c, int(arr[t, k])))
    count_frame = pd.DataFrame(count_rows, columns=["district_id", "month", "channel", "n"])
    materials = _materials(count_frame, rng)
    log.info("simulated %d materials, %d applications", len(materials), int(apps.sum()))
    return Simulation(
        seed=seed,
        months=months,
        districts=districts,
        panel=panel,
        counts=count_frame,
        materials=materials,
        population=population,
        activity=dict(zip(ids, map(float, activity), strict=True)),
        month_effect={_month_key(m): float(e) for m, e in zip(months, m_eff, strict=True)},
        rng=rng,
    )


def _amounts(apps: np.ndarray, months: pd.DatetimeIndex, rng) -> dict[str, np.ndarray]:
    kinds = list(AMOUNT_KINDS)
    out = {k: np.zeros(apps.shape) for k in kinds}
    after = months >= RULE_CHANGE
    for (i, t), n in np.ndenumerate(apps):
        if n == 0:
            continue
        col = 1 if after[t] else 0
        p = np.array([AMOUNT_KINDS[k][col] for k in kinds])
        which = rng.choice(len(kinds), size=n, p=p / p.sum())
        medians = np.array([AMOUNT_KINDS[k][2] for k in kinds])[which]
        values = medians * np.exp(rng.normal(0.0, AMOUNT_SIGMA, n))
        for j, k in enumerate(kinds):
            total = values[which == j].sum()
            out[k][i, t] = float(np.round(total / AMOUNT_ROUNDING) * AMOUNT_ROUNDING)
    return out


#: Reach of one material by channel: (median, lognormal sigma, rounding).
REACH_MODEL: dict[str, tuple[float, float, int]] = {
    "print": (3000, 0.5, 100), "tv": (25000, 0.8, 1000), "radio": (8000, 0.7, 100),
    "online": (900, 0.9, 1), "social": (650, 0.9, 1), "outdoor": (5000, 0.5, 100),
    "transport": (3000, 0.5, 100), "print_handout": (1000, 0.5, 100), "seminar": (40, 0.5, 1),
    "round_table": (25, 0.4, 1), "open_day": (60, 0.5, 1), "briefing": (30, 0.5, 1),
    "interview": (6000, 0.7, 100),
}  # fmt: skip
#: Region-level (oblast) material reaches this many times more people.
REGION_REACH_FACTOR_DEFAULT = 4.0
#: ... except on social media, where oblast accounts reach only about twice as many
#: (so users reached by Feb 2016 land near the article's "more than 100,000").
REGION_REACH_FACTOR: dict[str, float] = {"social": 2.0}
#: Share of oblast TV segments reported with an audience of 1.0-1.5 million
#: (hundreds of thousands drawn from this range), written as "1,2 млн".
MILLION_REACH_SHARE = 0.1
MILLION_REACH_RANGE = (10, 16)
#: At least this many oblast TV segments carry such an audience.
MILLION_REACH_MIN = 2


def _pick(rng: np.random.Generator, shares: dict[str, float], n: int) -> list[str]:
    keys = list(shares)
    p = np.array([shares[k] for k in keys])
    return [keys[i] for i in rng.choice(len(keys), size=n, p=p / p.sum())]


def _materials(counts: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """One row per material: day, language, format, reach, platform (content filled later)."""
    rep = counts.loc[counts.index.repeat(counts["n"])].drop(columns="n").reset_index(drop=True)
    n = len(rep)
    days = rep["month"].dt.days_in_month.to_numpy()
    rep["day"] = (rng.random(n) * days).astype(int) + 1
    rep["date"] = rep["month"] + pd.to_timedelta(rep["day"] - 1, unit="D")
    rep["language"] = _pick(rng, LANGUAGE_SHARE, n)
    before = _pick(rng, FORMAT_SHARE_BEFORE, n)
    after = _pick(rng, FORMAT_SHARE_AFTER, n)
    rep["format"] = np.where(rep["month"] > ARTICLE_MONTH, after, before)
    event = rep["channel"].isin(["seminar", "round_table", "open_day", "briefing"])
    rep.loc[event, "format"] = "explainer"
    rep["platform"] = np.where(rep["channel"] == "social", _pick(rng, PLATFORM_SHARE, n), None)
    reach = np.zeros(n, dtype=np.int64)
    for i, (ch, did) in enumerate(zip(rep["channel"], rep["district_id"], strict=True)):
        med, sig, rnd = REACH_MODEL[ch]
        if did == REGION_ID:
            med *= REGION_REACH_FACTOR.get(ch, REGION_REACH_FACTOR_DEFAULT)
        value = med * np.exp(rng.normal(0.0, sig))
        reach[i] = max(rnd, int(round(value / rnd) * rnd))
        if did == REGION_ID and ch == "tv" and rng.random() < MILLION_REACH_SHARE:
            reach[i] = int(rng.integers(*MILLION_REACH_RANGE)) * 100_000
    region_tv = np.flatnonzero((rep["district_id"] == REGION_ID) & (rep["channel"] == "tv"))
    for i in region_tv[:MILLION_REACH_MIN]:  # a few always, whatever the seed
        if reach[i] < 1_000_000:
            reach[i] = int(rng.integers(*MILLION_REACH_RANGE)) * 100_000
    rep["reach"] = reach
    rep = rep.sort_values(["date", "district_id", "channel"], kind="stable").reset_index(drop=True)
    rep["material_key"] = np.arange(len(rep))
    assert rep["date"].between(CAMPAIGN_START, CAMPAIGN_END + pd.offsets.MonthEnd(0)).all()
    return rep
