"""The synthetic republic: a national sample for the national scope and its benchmarks.

``write_national_sample(raw_dir, seed, rows)`` simulates the campaign in every district
and city of the republic (the 216 units of the national reference, grouped into the 16
regions of 2014-2016) and reports it the way a central body would receive it, in every
layout of ``input-formats.md``, with deliberate faults and the exact truth:

- ``east_kazakhstan/`` (:data:`LAYOUT_REGION`): every file of the region sample, made by
  the region sample's own writers (:class:`~coverage_analysis.sample.layout.Layout`,
  :mod:`.statistics`, :mod:`.bulletin`) from this republic's draw for the region: the
  registry styles (quarterly and annual workbooks, half-year, annual and monthly files, a
  file naming no period, region-wide registries), the legalization statistics' layouts,
  the media plans with ``факт`` columns, social reach, population and the statistics
  bulletin, with the region sample's planted rejects and duplicates;
- ``akmola/`` (:data:`REGISTRY_LAYOUT_REGIONS`): the same registry styles and region-wide
  registries from the region sample's writers (its districts given the styles in turn),
  with their planted rejects and duplicates, and this module's media plan;
- ``<region_id>/`` of every other region: its publication registry of 2014-2015 (a long
  CSV, the encodings and delimiters of :data:`REGION_CSV_FORMATS` in turn; every
  :data:`XLSX_EVERY`-th region an xlsx workbook with a sheet per year) and its media plan
  (plan by quarter of 2015-2016: a two-row header with ``план`` under each quarter, or
  ``I кв. 2016 план`` / ``I кв. 2016 факт`` in one cell, in turn);
- ``national/``: the files holding all regions' rows, with a region column: the
  publication registry of 2016, the State Revenue Committee's legalization statistics
  (applications and amounts by district and month) and the population of every unit for
  2014-2016.

Planted in every file (:func:`_registry_faults`, :func:`_statistics_faults`): rejects
(unknown district, a unit of another region, an ambiguous district, impossible and
out-of-campaign dates, unknown channel, missing date, an unknown region in a national
file, a conflicting value), an unreadable optional cell, duplicates within a file and
across a region's file and a national file (East Kazakhstan's own statistics are all
given again by the national files), blank lines, summary and signature lines; the
bulletin's parts of units already counted are out of scope. Every row's outcome is
resolved in file order by :func:`coverage_analysis.sample.truth.resolve` (the streamed
registries are tallied alongside, their rows being clean but for the planted ones).

Region sizes follow the reference populations: each region's population is the Bureau of
National Statistics figure (``reference/region_population.csv``, real), split among its
units by a synthetic draw (cities weigh :data:`CITY_WEIGHT` times a district; East
Kazakhstan keeps its reference populations). The data-generating process is the one of
:mod:`coverage_analysis.sample.simulate` (same ``BETA``, ``DECAY``, month effects,
channel shares, size elasticity) with a latent activity per region and per district;
East Kazakhstan's region activity is set low (:data:`REGION_ACTIVITY_OVERRIDES`), the
seed article's fact that the region stands low in the republic's rating.

``rows``: the publication registries are scaled to about that many rows in all (the
expected counts multiplied, then drawn), written in chunks of districts so memory stays
small (for ``benchmarks/``; 10,000,000 rows is about 1 GB of CSV). The folders of
:data:`LAYOUT_REGIONS` are built in memory row by row, so their registries never exceed
the default size (:data:`DEFAULT_ROWS`). The truth in ``_truth/``: ``truth.json`` (the expected cleaning
report of every file and sheet, each file's container, the planted rejects and the
duplicates with both sources, the variants and where they are), the expected tables
(``expected_publication_counts``, ``expected_publications`` of the layout regions' folders
row by row, ``expected_legalization``, ``expected_media_plan``, ``expected_social_reach``,
``expected_population``) and ``simulated_panel``.

Example (seconds for the default size, so not a doctest)::

    summary = write_national_sample("data/raw-national", seed=2016)
"""

from __future__ import annotations

import csv
import itertools
import json
import logging
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coverage_analysis.domain import ARTICLE_MONTH, CHANNELS, FORMATS, PER_RESIDENTS
from coverage_analysis.domain import campaign_months as _campaign_months
from coverage_analysis.errors import ParameterError
from coverage_analysis.models.adstock import coverage_index
from coverage_analysis.reference import load_districts, reference_path
from coverage_analysis.reference.national import national_reference, region_population
from coverage_analysis.sample import _file_meta, _jsonable
from coverage_analysis.sample import simulate as S
from coverage_analysis.sample import vocab as V
from coverage_analysis.sample.bulletin import BULLETIN_PATH, OTHER_REGION
from coverage_analysis.sample.layout import REGISTRY_STYLE, Layout
from coverage_analysis.sample.sheets import OUTCOMES, FileSpec, Sheet, write_file
from coverage_analysis.sample.truth import Resolved, expected_tables, resolve

log = logging.getLogger(__name__)

#: Sub-folder of the raw folder holding the ground truth (not an input).
TRUTH_DIR = "_truth"
#: Folder of the national files (all regions' rows).
NATIONAL_DIR = "national"
#: Expected registry rows of the republic over the campaign at the default size
#: (about 2,900 rows a region, a few hundred per district: seconds to clean).
DEFAULT_ROWS = 45_000
#: The region whose folder holds every layout of the region sample (the region sample's
#: writers name its districts: registry styles, the statistics' districts, the bulletin).
LAYOUT_REGION = "east_kazakhstan"
#: Regions whose registries come in the region sample's registry styles too (given to
#: their districts in turn, :data:`~coverage_analysis.sample.layout.REGISTRY_STYLE`'s
#: order), with its planted rejects and duplicates; their other files are this module's.
REGISTRY_LAYOUT_REGIONS: tuple[str, ...] = ("akmola",)
#: Registry styles given in turn to those regions' districts: every style of the region
#: sample but the monthly files (East Kazakhstan's folder has them; a file per district
#: and month is what costs the clean most).
REGISTRY_LAYOUT_STYLES: tuple[str, ...] = tuple(
    s for s in dict.fromkeys(REGISTRY_STYLE.values()) if s != "monthly_xlsx"
)
#: Every region built row by row by the region sample's writers.
LAYOUT_REGIONS: tuple[str, ...] = (LAYOUT_REGION, *REGISTRY_LAYOUT_REGIONS)
#: Fewest registry rows ``--rows`` may ask for (each region's files need data rows, the
#: planted lines are made from them).
MIN_ROWS = 2_000
#: A channel the layout region's draw leaves out gets one material from this month on.
LAYOUT_EVERY_CHANNEL_FROM = pd.Timestamp("2016-07-01")
#: SD of the latent activity of a region (log scale).
REGION_ACTIVITY_SD = 0.35
#: SD of a district's activity around its region's (log scale; the region sample's
#: ``ACTIVITY_SD`` less the part the region's activity now carries).
DISTRICT_ACTIVITY_SD = 0.42
#: SD (log scale) of a district-month's amount around applications × the mean amount.
AMOUNT_NOISE_SD = 0.3
#: Lognormal sigma of one material's reach around its channel's median.
REACH_SIGMA = 0.6
#: Region activity fixed from the seed article: East Kazakhstan stands low in the
#: republic's coverage rating of regions.
REGION_ACTIVITY_OVERRIDES: dict[str, float] = {"east_kazakhstan": -0.6}
#: A city unit's expected share of its region's population relative to a district's
#: (synthetic split of the real region population among its units).
CITY_WEIGHT = 3.0
#: Dirichlet concentration of that split per unit (larger = more even).
SPLIT_CONCENTRATION = 4.0
#: Registries of these years come in each region's folder; later years in the national file.
REGION_REGISTRY_YEARS: tuple[int, ...] = (2014, 2015)
#: CSV (encoding, delimiter) of the region registries, used in turn by the regions sending
#: a CSV (a region whose names do not fit the encoding sends UTF-8 with BOM): the
#: input spec's encodings the region sample does not write (DOS cp866, KOI8-R, UTF-16 with
#: BOM and tabs, Excel's "Unicode text") come here.
REGION_CSV_FORMATS: tuple[tuple[str, str], ...] = (
    ("cp1251", ";"), ("utf-8-sig", ","), ("cp866", ";"), ("utf-16", "\t"), ("koi8-r", ","),
    ("utf-8", "\t"),
)  # fmt: skip
#: Every this many regions (in reference order) sends its registry as an xlsx workbook
#: with a sheet per year, when it is small enough to be built in memory.
XLSX_EVERY = 3
#: Largest registry written as xlsx (rows); a larger one stays a streamed CSV.
XLSX_MAX_ROWS = 100_000
#: Rows of one written chunk (the registries are streamed to disk in chunks of districts).
CHUNK_ROWS = 500_000
#: Planned materials relative to the expected ones (plans are ambitious).
PLAN_RATIO = 1.2
#: Header of the registries (Russian, as in the region's files); the national file adds
#: the region column first.
REGISTRY_HEADER: tuple[str, ...] = (
    "№ п/п", "Район", "Дата", "Вид СМИ", "Наименование СМИ", "Заголовок", "Формат", "Язык", "Охват",
)  # fmt: skip
#: Label of the region column of the national files.
REGION_COLUMN = "Область"
#: What people type where an encoding lacks a sign (DOS cp866, KOI8-R): straight quotes
#: for guillemets, ``N`` for ``№``.
PLAIN_SIGNS: dict[str, str] = {"«": '"', "»": '"', "№": "N"}
#: Planted registry rows (field, written value, reason): rejects of the whole row.
REGISTRY_REJECTS: tuple[tuple[str, str, str], ...] = (
    ("district", "Нигдеград", "unknown district"),
    ("district", "{other}", "a unit of another region"),
    ("district", "{a}/{b}", "ambiguous district"),
    ("date", "31.02.2015", "impossible date"),
    ("date", "15.08.2014", "outside campaign"),
    ("channel", "иное", "unknown channel"),
    ("date", "", "missing date"),
)
#: A unit of another region written in a region's own file (and, with a region column
#: naming another region, in a national file): East Kazakhstan's capital.
OTHER_REGION_UNIT = "Усть-Каменогорск"
#: A region cell naming no region of the republic.
UNKNOWN_REGION = "Атлантида"
#: Planted unreadable optional cell (the row stays clean, the reach unknown).
BAD_REACH = "abc"
#: Planted summary and signature lines of every file.
SUMMARY_LINE, SIGNATURE_LINE = "Итого", "Исп. Нурланова А."
#: Units of the bulletin's other region (data in the national scope).
OTHER_REGION_UNITS = frozenset(unit for *_, unit in OTHER_REGION if unit)
#: Kept East Kazakhstan materials repeated in the national registry.
CROSS_FILE_LAYOUT_ROWS = 3


@dataclass
class NationalSampleSummary:
    """What :func:`write_national_sample` wrote."""

    raw_dir: Path
    seed: int
    files: list[str]
    regions: int
    districts: int
    registry_rows: int
    applications: int
    rejects: int = 0
    duplicates: int = 0

    def __str__(self) -> str:
        return (
            f"Synthetic national sample data (seed {self.seed}) written to {self.raw_dir}: "
            f"{len(self.files)} files, {self.regions} regions, {self.districts} districts, "
            f"{self.registry_rows} registry rows, {self.applications} applications, "
            f"{self.rejects} deliberate rejects, {self.duplicates} duplicates; "
            f"truth in {TRUTH_DIR}/"
        )


def _first_word(vocab: str, key: str) -> dict[str, str]:
    """The first non-ASCII spelling of each id in a vocabulary file (``channel,variant``)."""
    frame = pd.read_csv(reference_path(vocab), dtype=str, comment="#")
    frame = frame[
        ~frame["variant"].map(str.isascii)
        & frame["variant"].map(lambda w: V.encodable(w, "cp1251"))
    ]
    return frame.groupby(key, sort=False)["variant"].first().to_dict()


def district_populations(seed: int) -> pd.DataFrame:
    """Population of every unit for 2014-2016: the region's real figure of the year split
    among its units by one synthetic draw (East Kazakhstan: its reference populations,
    grown with the region). Columns ``district_id``, ``region_id``, ``year``,
    ``population``."""
    rng = np.random.default_rng([seed, 1])
    ref = national_reference()
    pops = region_population().set_index("region_id")
    rows = []
    for region_id, units in ref.groupby("region_id", sort=False):
        known = units["population_2016"].notna().all()
        if known:
            share = units["population_2016"].astype(float).to_numpy()
        else:
            weight = np.where(units["kind"].eq("city"), CITY_WEIGHT, 1.0)
            share = rng.dirichlet(SPLIT_CONCENTRATION * weight)
        share = share / share.sum()
        for year in (2014, 2015, 2016):
            total = float(pops.loc[region_id, f"population_{year}"])
            if known:  # the reference figures, moved with the region's growth
                total *= float(units["population_2016"].sum()) / float(
                    pops.loc[region_id, "population_2016"]
                )
            values = np.round(share * total).astype(np.int64)
            rows.append(
                pd.DataFrame(
                    {
                        "district_id": units["district_id"].to_numpy(),
                        "region_id": region_id,
                        "year": year,
                        "population": values,
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def simulate_republic(seed: int = 2016, rows: int | None = None) -> dict[str, Any]:
    """The true republic for ``seed``: expected and drawn materials per district, month
    and channel, applications and amounts (the DGP of :mod:`.simulate`), scaled so the
    registries hold about ``rows`` rows (default :data:`DEFAULT_ROWS`)."""
    rng = np.random.default_rng(seed)
    months = _campaign_months()
    ref = national_reference()
    pop_long = district_populations(seed)
    ids = ref["district_id"].tolist()
    region_of = ref["region_id"].to_numpy()
    regions = list(dict.fromkeys(region_of))
    n_d, n_m = len(ids), len(months)
    pop = (
        pop_long.pivot(index="district_id", columns="year", values="population")
        .loc[ids, [m.year for m in months]]
        .to_numpy(dtype=float)
    )
    region_activity = dict(
        zip(regions, rng.normal(0.0, REGION_ACTIVITY_SD, len(regions)), strict=True)
    )
    region_activity.update(REGION_ACTIVITY_OVERRIDES)
    activity = rng.normal(0.0, DISTRICT_ACTIVITY_SD, n_d) + np.array(
        [region_activity[r] for r in region_of]
    )
    month_cov = np.array([S.COVERAGE_MONTH_EFFECT.get(f"{m:%Y-%m}", 1.0) for m in months])
    after = (months > ARTICLE_MONTH).astype(float)
    rise = np.exp(rng.normal(np.log(S.POST_MEETING_RISE), S.POST_MEETING_RISE_SD, n_d))
    noise = np.exp(rng.normal(0.0, S.COVERAGE_NOISE_SD, (n_d, n_m)))
    share = np.array([S.DISTRICT_CHANNEL_SHARE.get(c, 0.0) for c in CHANNELS])
    scale = (
        (pop / PER_RESIDENTS) ** S.SIZE_ELASTICITY
        * np.exp(activity)[:, None]
        * month_cov[None, :]
        * (1 + after[None, :] * (rise[:, None] - 1))
        * noise
    )
    target = DEFAULT_ROWS if rows is None else int(rows)
    means = scale[:, :, None] * share[None, None, :] * (target / scale.sum())
    # the layout regions stay at the default size (below): the others make up the rows
    shrink = min(1.0, DEFAULT_ROWS / target)
    laid = np.isin(region_of, LAYOUT_REGIONS)
    if shrink < 1.0:
        means[~laid] *= (target - shrink * means[laid].sum()) / means[~laid].sum()
    counts = rng.poisson(means)  # district x month x channel
    # the layout regions' folders are built row by row: their own draws, at most the default
    # size, with every channel at least once (so its words are written), in a month no
    # registry of the region sample leaves unreported
    late = np.flatnonzero(months >= LAYOUT_EVERY_CHANNEL_FROM)
    lay_rngs = {}
    for k, region_id in enumerate(LAYOUT_REGIONS):
        lay_rng = lay_rngs[region_id] = np.random.default_rng([seed, 5, *([k] if k else [])])
        lay_idx = np.flatnonzero(region_of == region_id)
        counts[lay_idx] = lay_rng.poisson(means[lay_idx] * shrink)
        for c in np.flatnonzero(counts[lay_idx].sum(axis=(0, 1)) == 0):
            counts[
                lay_idx[lay_rng.integers(len(lay_idx))], late[lay_rng.integers(len(late))], c
            ] += 1

    materials = counts.sum(axis=2).astype(float)
    per10k = materials / (pop / PER_RESIDENTS)
    cindex = np.vstack([coverage_index(per10k[i], S.DECAY) for i in range(n_d)])
    m_eff = S.application_month_effects(months)
    u = rng.normal(0.0, S.DISTRICT_NOISE_SD, n_d)
    mu = (
        pop
        / PER_RESIDENTS
        * S.APPLICATION_RATE
        * m_eff[None, :]
        * np.exp(S.ACTIVITY_ON_APPLICATIONS * activity + u)[:, None]
        * 2.0 ** (S.BETA * cindex)
    )
    size = 1.0 / S.NB_DISPERSION
    apps = rng.negative_binomial(size, size / (size + mu))
    median = np.exp(np.log(S.AMOUNT_KINDS["money"][2]) + S.AMOUNT_SIGMA**2 / 2)
    amounts = (
        np.round(apps * median * np.exp(rng.normal(0, AMOUNT_NOISE_SD, apps.shape)) / 1000) * 1000
    )
    # the layout region's amounts by kind of property (its statistics split them)
    lay_idx = np.flatnonzero(region_of == LAYOUT_REGION)
    lay_amounts = S._amounts(apps[lay_idx], months, lay_rngs[LAYOUT_REGION])
    amounts[lay_idx] = sum(lay_amounts.values())
    return {
        "rng": rng,
        "layout_rngs": lay_rngs,
        "layout_amounts": lay_amounts,
        "months": months,
        "reference": ref,
        "population": pop_long,
        "pop": pop,
        "ids": ids,
        "region_of": region_of,
        "regions": regions,
        "region_activity": region_activity,
        "activity": activity,
        "means": means,
        "counts": counts,
        "cindex": cindex,
        "mu": mu,
        "applications": apps,
        "amounts": amounts,
    }


def layout_simulation(
    sim: dict[str, Any], seed: int, region_id: str = LAYOUT_REGION
) -> S.Simulation:
    """The republic's draw for a region of :data:`LAYOUT_REGIONS` as the region sample's
    :class:`~coverage_analysis.sample.simulate.Simulation`, so the region sample's writers
    report it: its districts (East Kazakhstan: its own ``districts.csv``; another region:
    its units of the national reference, a district's Russian name with ``район`` as the
    writers expect), true materials (:func:`~coverage_analysis.sample.simulate._materials`),
    applications and amounts (East Kazakhstan: by kind, for its statistics), populations
    (those listed in its own population file drawn as in the region sample)."""
    rng = sim["layout_rngs"][region_id]
    months = sim["months"]
    if region_id == LAYOUT_REGION:
        districts = load_districts(reference_path("districts.csv"))
    else:
        districts = sim["reference"][sim["reference"]["region_id"] == region_id].copy()
        district = districts["kind"].eq("district")
        districts.loc[district, "name_ru"] = districts.loc[district, "name_ru"] + " район"
        districts = districts.reset_index(drop=True)
    dids = districts["district_id"].tolist()
    pos = {d: i for i, d in enumerate(sim["ids"])}
    idx = np.array([pos[d] for d in dids])
    counts = sim["counts"][idx]
    d_i, m_i, c_i = np.nonzero(counts)
    count_frame = pd.DataFrame(
        {
            "district_id": np.array(dids, dtype=object)[d_i],
            "month": months[m_i],
            "channel": np.array(CHANNELS, dtype=object)[c_i],
            "n": counts[d_i, m_i, c_i],
        }
    )
    materials = S._materials(count_frame, rng)
    lay_ids = [sim["ids"][i] for i in np.flatnonzero(sim["region_of"] == region_id)]
    by_kind = {
        k: pd.DataFrame(v, index=lay_ids).loc[dids].to_numpy()
        for k, v in (sim["layout_amounts"] if region_id == LAYOUT_REGION else {}).items()
    }
    panel = pd.DataFrame(
        {
            "district_id": np.repeat(dids, len(months)),
            "month": np.tile(months, len(dids)),
            "applications": sim["applications"][idx].ravel(),
            "amount_kzt": sim["amounts"][idx].ravel(),
            **{f"amount_{k}_kzt": v.ravel() for k, v in by_kind.items()},
        }
    )
    in_file = dict(zip(dids, rng.random(len(dids)) < S.POPULATION_FILE_SHARE, strict=True))
    pop = sim["population"]
    population = pop[pop["district_id"].isin(dids)].drop(columns="region_id")
    population = population.assign(in_file=population["district_id"].map(in_file))
    return S.Simulation(
        seed=seed,
        months=months,
        districts=districts,
        panel=panel,
        counts=count_frame,
        materials=materials,
        population=population.reset_index(drop=True),
        activity={d: float(sim["activity"][pos[d]]) for d in dids},
        month_effect={
            f"{m:%Y-%m}": float(e)
            for m, e in zip(months, S.application_month_effects(months), strict=True)
        },
        rng=rng,
    )


@dataclass
class _Tally:
    """Outcomes of a streamed file's rows (one sheet), its planted ledger lines and
    duplicates: the truth of a file too large to hold as a :class:`Sheet`."""

    path: str
    sheet: str = ""
    counts: dict[str, int] = field(default_factory=lambda: {f"rows_{o}": 0 for o in OUTCOMES})
    rejects: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)

    def add(self, outcome: str, n: int = 1) -> None:
        self.counts[f"rows_{outcome}"] += n

    def report(self) -> dict[str, int]:
        return {**self.counts, "rows_read": sum(self.counts.values())}


def _ledger_line(path: str, sheet: str, row: int, fld: str, value: object, reason: str,
                 scope: str = "row", kind: str = "publications") -> dict[str, Any]:  # fmt: skip
    return {"source_file": path, "source_sheet": sheet, "source_row": row, "kind": kind,
            "field": fld, "value": value, "reason": reason, "scope": scope}  # fmt: skip


def _duplicate(kept: dict[str, Any], dropped: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "publications", "by": "outlet+title+date",
            **{f"kept_{k}": v for k, v in kept.items()},
            **{f"dropped_{k}": v for k, v in dropped.items()}}  # fmt: skip


def _src(path: str, sheet: str, row: int) -> dict[str, Any]:
    return {"source_file": path, "source_sheet": sheet, "source_row": row}


def _registry_faults(first: list[Any], units: pd.DataFrame) -> list[tuple[list, str, list]]:
    """Planted lines below a region registry's data, from its first data row ``first``
    (cells after ``№ п/п``): ``(cells, outcome, [(field, value, reason, scope)])``; a
    ``duplicate`` repeats ``first``. Each reject is a new material (its own title) with
    one bad cell."""
    districts = units.loc[units["kind"] == "district", "name_ru"].tolist()
    names = {"other": OTHER_REGION_UNIT, "a": "", "b": ""}
    if len(districts) >= 2:
        names.update(a=districts[0], b=districts[1])
    col = {"district": 0, "date": 1, "channel": 2, "title": 4, "reach": 7}
    out: list[tuple[list, str, list]] = [(list(first), "duplicate", [])]
    for k, (fld, value, reason) in enumerate(REGISTRY_REJECTS, start=1):
        if "{a}" in value and not names["a"]:
            continue
        cells = list(first)
        cells[col["title"]] = f"{first[col['title']]}, дополнение {k}"
        cells[col[fld]] = value.format(**names)
        out.append((cells, "rejected", [(fld, cells[col[fld]], reason, "row")]))
    cells = list(first)
    cells[col["title"]] = f"{first[col['title']]}, уточнение"
    cells[col["reach"]] = BAD_REACH
    out.append((cells, "clean", [("reach", BAD_REACH, "unreadable reach", "cell")]))
    width = len(first)
    out.append(([""] * width, "blank", []))
    out.append(([f"{SUMMARY_LINE}: {{n}}"] + [""] * (width - 1), "summary", []))
    out.append(([SIGNATURE_LINE] + [""] * (width - 1), "summary", []))
    return out


class _Registry:
    """One registry CSV written in chunks (header once, rows appended), with its tally."""

    def __init__(self, raw: Path, rel: str, encoding: str, delimiter: str, with_region: bool):
        self.path, self.rel = raw / rel, rel
        self.encoding, self.delimiter = encoding, delimiter
        self.with_region = with_region
        self.rows = 0
        #: The first two data rows as written (Python values: a frame's slice would keep
        #: the whole chunk's Arrow buffers alive).
        self.first: list[dict[str, Any]] = []
        self.tally = _Tally(rel)
        self.plain = str.maketrans(
            {k: v for k, v in PLAIN_SIGNS.items() if not V.encodable(k, encoding)}
        )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        header = ((REGION_COLUMN,) if with_region else ()) + REGISTRY_HEADER
        if not V.encodable(V.ROW_NUMBER_HEADER, encoding):  # KOI8-R has no №
            header = tuple(h.replace(V.ROW_NUMBER_HEADER, "п/п") for h in header)
        with self.path.open("w", encoding=encoding, newline="") as fh:
            csv.writer(fh, delimiter=delimiter, lineterminator="\r\n").writerow(header)

    def _lines(self, lines: Iterable[Sequence[Any]]) -> None:
        with self.path.open("a", encoding=self.encoding, newline="") as fh:
            csv.writer(fh, delimiter=self.delimiter, lineterminator="\r\n").writerows(lines)

    def append(self, frame: pd.DataFrame) -> None:
        frame = frame.copy()
        if self.plain:
            for col in ("outlet", "title"):
                frame[col] = frame[col].str.translate(self.plain)
        if not self.with_region:
            frame = frame.drop(columns=[REGION_COLUMN])
        if not self.first and len(frame):
            self.first = frame.iloc[:2].astype(object).to_dict("records")
        frame = frame.drop(columns=[c for c in frame.columns if c.startswith("_")])
        at = 1 if self.with_region else 0
        frame.insert(at, "n", np.arange(self.rows + 1, self.rows + len(frame) + 1))
        self._lines(frame.itertuples(index=False, name=None))
        self.rows += len(frame)
        self.tally.add("clean", len(frame))

    def line_no(self, k: int) -> int:
        """File line of the ``k``-th (0-based) data row (the header is line 1)."""
        return k + 2

    def first_cells(self, k: int = 0) -> list[Any]:
        """The ``k``-th data row's cells as written (without ``№ п/п``)."""
        row = self.first[k]
        return [v for c, v in row.items() if not str(c).startswith("_")]

    def plant(self, planted: list[tuple]) -> list[int]:
        """Write planted lines below the data and tally them: ``(cells, outcome, ledger
        [, kept])`` with cells without ``№ п/п`` (a summary's label in the first column)
        and ledger lines ``(field, value, reason, scope)``; a ``duplicate`` repeats
        ``kept`` (a source), by default the file's first data row. Returns their lines."""
        lines, numbers = [], []
        for i, (cells, outcome, ledger, *kept) in enumerate(planted):
            row = self.line_no(self.rows + i)
            numbers.append(row)
            if outcome == "summary":
                lines.append([str(cells[0]).format(n=self.rows), *cells[1:], ""])
            else:
                number = self.rows + i + 1  # a blank line keeps its № (a number alone)
                at = 1 if self.with_region else 0
                lines.append([*cells[:at], number, *cells[at:]])
            self.tally.add(outcome)
            if outcome == "duplicate":
                src = kept[0] if kept else _src(self.rel, "", self.line_no(0))
                self.tally.duplicates.append(_duplicate(src, _src(self.rel, "", row)))
            for fld, value, reason, scope in ledger:
                self.tally.rejects.append(
                    _ledger_line(self.rel, "", row, fld, value, reason, scope)
                )
        self._lines(lines)
        self.rows += len(planted)
        return numbers


def _registry_rows(
    sim: dict[str, Any],
    district_idx: np.ndarray,
    month_mask: np.ndarray,
    words: dict[str, dict[str, str]],
    region_names: dict[str, str],
    start_key: int,
) -> pd.DataFrame:
    """The registry rows of some districts over the months of ``month_mask``."""
    rng = sim["rng"]
    ref = sim["reference"]
    months = sim["months"]
    sub = sim["counts"][district_idx][:, month_mask, :]
    d_i, m_i, c_i = np.nonzero(sub)
    n = sub[d_i, m_i, c_i]
    d = np.repeat(district_idx[d_i], n)
    m = np.repeat(np.flatnonzero(month_mask)[m_i], n)
    c = np.repeat(c_i, n)
    total = len(d)
    month_start = months[m]
    day = (rng.random(total) * month_start.days_in_month.to_numpy()).astype(int)
    dates = (month_start + pd.to_timedelta(day, unit="D")).strftime("%d.%m.%Y")
    names = ref["name_ru"].to_numpy()[d]
    after = months[m] > ARTICLE_MONTH
    fmt_before = rng.choice(
        list(S.FORMAT_SHARE_BEFORE), total, p=list(S.FORMAT_SHARE_BEFORE.values())
    )
    fmt_after = rng.choice(list(S.FORMAT_SHARE_AFTER), total, p=list(S.FORMAT_SHARE_AFTER.values()))
    fmt = np.where(after, fmt_after, fmt_before)
    lang = rng.choice(list(S.LANGUAGE_SHARE), total, p=list(S.LANGUAGE_SHARE.values()))
    keys = np.arange(start_key, start_key + total)
    reach_med = np.array([S.REACH_MODEL[ch][0] for ch in CHANNELS], dtype=float)[c]
    reach = np.maximum(1, np.round(reach_med * np.exp(rng.normal(0, REACH_SIGMA, total)))).astype(
        np.int64
    )
    ch_words = np.array([words["channel"][ch] for ch in CHANNELS], dtype=object)
    fmt_words = {f: words["format"][f] for f in FORMATS}
    lang_words = {k: words["language"][k] for k in S.LANGUAGE_SHARE}
    return pd.DataFrame(
        {
            REGION_COLUMN: pd.Series(sim["region_of"][d]).map(region_names).to_numpy(),
            "district": names,
            "date": dates,
            "channel": ch_words[c],
            "outlet": np.char.add("«Вестник ", np.char.add(names.astype(str), "»")),
            "title": np.char.add("О легализации имущества, материал № ", keys.astype(str)),
            "format": pd.Series(fmt).map(fmt_words).to_numpy(),
            "language": pd.Series(lang).map(lang_words).to_numpy(),
            "reach": reach,
            # ids of the row (not written): the truth of planted lines made from it
            "_district_id": np.array(sim["ids"], dtype=object)[d],
            "_month": months[m],
            "_channel": np.array(CHANNELS, dtype=object)[c],
        }
    )


class _Workbook:
    """A region's registry as an xlsx workbook, one sheet per year (title row naming the
    year, then the header), written at the end (small regions only: :data:`XLSX_MAX_ROWS`);
    the planted lines go below the last sheet's data (its duplicate repeats the first
    sheet's first row)."""

    def __init__(self, raw: Path, rel: str) -> None:
        self.path, self.rel = raw / rel, rel
        self.frames: list[pd.DataFrame] = []

    def append(self, frame: pd.DataFrame) -> None:
        self.frames.append(frame.drop(columns=[REGION_COLUMN]))

    def first_ids(self) -> dict[str, Any]:
        """District, month and channel of the first data row (``_`` columns)."""
        return self.frames[0].iloc[0].to_dict()

    def spec(self, units: pd.DataFrame) -> tuple[FileSpec, list[dict[str, Any]]]:
        """The workbook and its planted duplicate pair."""
        rows = pd.concat(self.frames, ignore_index=True)
        rows = rows.drop(columns=[c for c in rows.columns if c.startswith("_")])
        years = rows["date"].str[-4:]
        sheets = []
        for year in sorted(years.unique()):
            part = rows.loc[years == year]
            sheet = Sheet(
                year,
                "publications",
                top=[[f"Реестр публикаций о легализации имущества за {year} год"], []],
                header=[list(REGISTRY_HEADER)],
            )
            for n, cells in enumerate(part.itertuples(index=False), start=1):
                sheet.add([n, *cells], outcome="clean")
            sheets.append(sheet)
        first, last = sheets[0], sheets[-1]
        dups = []
        for cells, outcome, ledger in _registry_faults(first.rows[0].cells[1:], units):
            if outcome == "summary":
                row = last.add([str(cells[0]).format(n=len(last.rows)), *cells[1:], ""], outcome)
                continue
            row = last.add([len(last.rows) + 1, *cells], outcome)
            row.ledger = [
                {"field": f, "value": v, "reason": r, "scope": sc} for f, v, r, sc in ledger
            ]
            if outcome == "duplicate":
                dups.append(_duplicate(_src(self.rel, first.name, first.rows[0].number),
                                       _src(self.rel, last.name, row.number)))  # fmt: skip
        spec = FileSpec(self.rel, sheets)
        spec.variants |= {"xlsx", "xlsx_multi_sheet", "title_lines", "row_number_column"}
        return spec, dups


def _media_plan(
    sim: dict[str, Any], region_id: str, words: dict[str, dict[str, str]], same_cell: bool
) -> tuple[FileSpec, list[dict[str, Any]]]:
    """A region's media plan for 2015-2016 by quarter. ``same_cell``: an xlsx whose header
    cells hold period and word (``I кв. 2016 план``, ``I кв. 2016 факт``: the first quarter
    of 2016 with its fact); else a CSV with ``план`` in a header row under each quarter.
    A quarter's plan (and fact) is spread evenly over its months. Planted: a line of an
    unknown channel (rejected), a summary line. Returns the file and its plan rows
    (district, channel, quarter, planned) for the truth."""
    ref, months = sim["reference"], sim["months"]
    quarters = pd.PeriodIndex(months[months.year >= 2015], freq="Q").unique()
    q_masks = [months.to_period("Q") == q for q in quarters]
    q_cols = [f"{V.ROMAN[q.quarter - 1]} кв. {q.year}" for q in quarters]
    fact_q = quarters.get_loc(pd.Period("2016Q1", freq="Q")) if same_cell else None
    # plans name a city "г. Актобе" (a bare city name may read as its region's heading)
    names = np.where(ref["kind"].eq("city"), "г. " + ref["name_ru"], ref["name_ru"])
    sheet = Sheet("План" if same_cell else "", "media_plan")
    sheet.top = [["Медиаплан по освещению легализации на 2015-2016 годы"], []]
    if same_cell:
        head = [f"{c} план" for c in q_cols]
        head.insert(fact_q + 1, f"{q_cols[fact_q]} факт")
        sheet.header = [["Район", "Вид СМИ", *head]]
    else:
        sheet.header = [["Район", "Канал", *q_cols], ["", "", *(["план"] * len(q_cols))]]
    plan_rows = []
    for i in np.flatnonzero(sim["region_of"] == region_id):
        for k, ch in enumerate(CHANNELS):
            planned = [round(PLAN_RATIO * sim["means"][i, m, k].sum()) for m in q_masks]
            if not sum(planned):
                continue
            facts = [int(sim["counts"][i, m, k].sum()) for m in q_masks]
            payload = []
            for j, (q, p) in enumerate(zip(quarters, planned, strict=True)):
                act = facts[j] / 3 if j == fact_q else None
                payload += [(sim["ids"][i], m, ch, p / 3, act) for m in months[q_masks[j]]]
                plan_rows.append({"district_id": sim["ids"][i], "channel": ch, "quarter": str(q), "planned": p})  # fmt: skip
            cells = list(planned)
            if fact_q is not None:
                cells.insert(fact_q + 1, facts[fact_q])
            sheet.add([names[i], words["channel"][ch], *cells], payload=payload)
    width = len(sheet.header[0])
    first = sheet.rows[0].cells
    bad = sheet.add([first[0], "прочее", *[1] * (width - 2)], outcome="rejected")
    bad.ledger = [
        {"field": "channel", "value": "прочее", "reason": "unknown channel", "scope": "row"}
    ]
    sheet.add([SUMMARY_LINE] + [""] * (width - 1), outcome="summary")
    stem = f"{region_id}/Медиаплан_{region_id}_2015-2016"
    if same_cell:
        spec = FileSpec(f"{stem}.xlsx", [sheet])
        spec.variants |= {"xlsx", "plan_quarterly", "plan_fact", "plan_period_word_one_cell"}
    else:
        spec = FileSpec(f"{stem}.csv", [sheet], "utf-8-sig", ";")
        spec.variants |= {"csv_utf8_bom", "csv_semicolon", "plan_quarterly", "two_row_header"}
    return spec, plan_rows


def _statistics_faults(sheet: Sheet, width: int, unknown: list[Any], other: list[Any]) -> None:
    """Planted lines of a national statistics file: a row of an unknown region and a unit
    of another region (rejected), a blank line and a summary line."""
    for cells, fld, reason in ((unknown, "region", "unknown region"),
                               (other, "district", "a unit of another region")):  # fmt: skip
        row = sheet.add(cells, outcome="rejected")
        row.ledger = [{"field": fld, "value": cells[0 if fld == "region" else 1], "reason": reason, "scope": "row"}]  # fmt: skip
    sheet.blank(width)
    sheet.add([f"{SUMMARY_LINE} по республике"] + [""] * (width - 1), outcome="summary")


def _legalization(
    sim: dict[str, Any], region_names: dict[str, str]
) -> tuple[FileSpec, list[dict[str, Any]]]:
    """The national legalization statistics (long layout with a region column, tenge):
    every district and month; planted a repeated row (duplicate), a repeated row with
    another figure (a conflict: rejected), and :func:`_statistics_faults`. Returns the file
    and its repeated rows (for ``truth.json``'s ``planted``)."""
    ref, months = sim["reference"], sim["months"]
    apps, amounts = sim["applications"], sim["amounts"]
    sheet = Sheet("", "legalization")
    sheet.header = [[REGION_COLUMN, "Район", "Месяц", "Количество заявлений", "Сумма легализованного имущества, тенге"]]  # fmt: skip
    lines = []
    for i, did in enumerate(sim["ids"]):
        region = region_names[sim["region_of"][i]]
        for t, m in enumerate(months):
            a, v = int(apps[i, t]), int(amounts[i, t])
            cells = [region, ref["name_ru"].iloc[i], f"{m:%m.%Y}", a, v]
            payload = [(did, m, "applications", a, None), (did, m, "amount_kzt", float(v), None)]
            lines.append((cells, payload))
            sheet.add(cells, payload=payload)
    planted = []
    for (cells, payload), bump in ((lines[0], 0), (lines[len(months) + 1], 1)):
        cells = [*cells[:3], cells[3] + bump, cells[4]]
        row = sheet.add(cells, payload=[(*payload[0][:3], cells[3], None), payload[1]])
        what = "a row repeated in its sheet" + (" with another figure" if bump else "")
        planted.append({"source_sheet": sheet.name, "source_row": row.number, "what": what,
                        "district_id": payload[0][0], "month": payload[0][1]})  # fmt: skip
    first = lines[0][0]
    other = next(r for r in region_names if r != LAYOUT_REGION)
    _statistics_faults(sheet, 5, [UNKNOWN_REGION, *first[1:]], [region_names[other], OTHER_REGION_UNIT, *first[2:]])  # fmt: skip
    spec = FileSpec(f"{NATIONAL_DIR}/Легализация_по_районам_РК.csv", [sheet], "utf-8-sig", ";")
    spec.variants |= {"dgd_long_layout", "dgd_unit_tenge", "dgd_duplicate", "dgd_conflict", "region_column"}  # fmt: skip
    return spec, [{"source_file": spec.path, **p} for p in planted]


def _population(sim: dict[str, Any], region_names: dict[str, str]) -> FileSpec:
    """The population of every unit for 2014-2016 with a region column; planted a repeated
    row with another figure (a conflict) and :func:`_statistics_faults`."""
    pop = sim["population"].merge(sim["reference"][["district_id", "name_ru"]], on="district_id")
    sheet = Sheet("", "population")
    sheet.top = [["Численность населения по районам и городам на начало года, человек"], []]
    sheet.header = [[REGION_COLUMN, "Район", "Год", "Численность населения"]]
    first = None
    for r in pop.itertuples():
        cells = [region_names[r.region_id], r.name_ru, int(r.year), int(r.population)]
        first = first or cells
        sheet.add(cells, payload=(r.district_id, int(r.year), int(r.population)))
    did = pop["district_id"].iloc[0]
    sheet.add([*first[:3], first[3] + 100], payload=(did, first[2], first[3] + 100))
    other = next(r for r in region_names if r != LAYOUT_REGION)
    _statistics_faults(sheet, 4, [UNKNOWN_REGION, *first[1:]], [region_names[other], OTHER_REGION_UNIT, *first[2:]])  # fmt: skip
    spec = FileSpec(f"{NATIONAL_DIR}/Численность_населения_РК_2014-2016.csv", [sheet], "utf-8-sig", ";")  # fmt: skip
    spec.variants |= {"population", "title_lines", "region_column"}
    return spec


def _national_faults(
    national: _Registry,
    res: Resolved,
    cross: list[tuple[_Registry, int]],
    words: dict[str, dict[str, str]],
    ref: pd.DataFrame,
    region_names: dict[str, str],
) -> None:
    """Planted lines of the national registry: kept East Kazakhstan materials given again
    (duplicates of its folder's rows), rows of region files given again (the first in
    path order is kept), a row of an unknown region and a unit of another region
    (rejected), a blank line, a summary line."""
    name_of = dict(zip(ref["district_id"], ref["name_ru"], strict=True))
    planted: list[tuple] = []
    kept_pubs = [
        p for p in res.publications if p["date"] is not None and p["outlet"] and p["title"]
    ]
    for p in kept_pubs[:: max(1, len(kept_pubs) // CROSS_FILE_LAYOUT_ROWS)][
        :CROSS_FILE_LAYOUT_ROWS
    ]:
        cells = [region_names[p["source_file"].split("/", 1)[0]], name_of[p["district_id"]], f"{p['date']:%d.%m.%Y}",
                 words["channel"][p["channel"]], p["outlet"], p["title"], "", "", ""]  # fmt: skip
        src = {k: p[k] for k in ("source_file", "source_sheet", "source_row")}
        planted.append((cells, "duplicate", [], src))
    at = len(planted)
    for reg, k in cross:
        cells = [region_names[reg.rel.split("/", 1)[0]], *reg.first_cells(k)]
        if reg.rel < national.rel:
            planted.append((cells, "duplicate", [], _src(reg.rel, "", reg.line_no(k))))
        else:
            planted.append((cells, "clean", []))
    first = national.first_cells(0)
    title = 5
    unknown = [UNKNOWN_REGION, *first[1:title], f"{first[title]}, дополнение", *first[title + 1 :]]
    other = [first[0], OTHER_REGION_UNIT, *first[2:title], f"{first[title]}, уточнение", *first[title + 1 :]]  # fmt: skip
    planted += [
        (unknown, "rejected", [("region", UNKNOWN_REGION, "unknown region", "row")]),
        (other, "rejected", [("district", OTHER_REGION_UNIT, "a unit of another region", "row")]),
        ([""] * len(first), "blank", []),
        ([f"{SUMMARY_LINE}: {{n}}"] + [""] * (len(first) - 1), "summary", []),
    ]
    rows = national.plant(planted)
    for (reg, k), row in zip(cross, rows[at:], strict=False):
        if reg.rel > national.rel:  # the national row came first: the region's is dropped
            reg.tally.add("clean", -1)
            reg.tally.add("duplicate")
            reg.tally.duplicates.append(
                _duplicate(_src(national.rel, "", row), _src(reg.rel, "", reg.line_no(k)))
            )


def _foreign_district_rejects(spec: FileSpec) -> list[dict[str, Any]]:
    """The region sample's planted district rejects (East Kazakhstan's names) in another
    region's registry, for ``truth.json``'s ``planted``: names of no district of the region."""
    return [
        {"source_file": spec.path, "source_sheet": sheet.name, "source_row": row.number,
         "what": f"East Kazakhstan's district reject in another region ({led['value']})"}
        for sheet in spec.sheets for row in sheet.rows for led in row.ledger
        if led["field"] == "district" and led["scope"] == "row"
    ]  # fmt: skip


def _bulletin_other_region(specs: list[FileSpec]) -> list[dict[str, Any]]:
    """The bulletin's units of the other region (in scope in the national scope), for
    ``truth.json``'s ``planted``: a name that recurs in other regions (``Абай ауданы``) is
    resolved within the region its heading names."""
    out = []
    for spec in specs:
        if not spec.path.endswith(BULLETIN_PATH):
            continue
        for sheet in spec.sheets:
            for row in sheet.rows:
                if isinstance(row.payload, tuple) and row.payload[0] in OTHER_REGION_UNITS:
                    out.append({"source_file": spec.path, "source_sheet": sheet.name,
                                "source_row": row.number, "what": f"a unit of the bulletin's other region ({row.cells[0]})",
                                "district_id": row.payload[0], "year": row.payload[1],
                                "value": row.cells[0]})  # fmt: skip
    return out


def write_national_sample(
    raw_dir: str | Path, seed: int = 2016, rows: int | None = None
) -> NationalSampleSummary:
    """Write the synthetic republic into ``raw_dir`` (layout in the module docstring) with
    its ``_truth/``; ``rows`` scales the publication registries (default
    :data:`DEFAULT_ROWS`). The same seed and rows give the same files, byte for byte."""
    if rows is not None and rows < MIN_ROWS:
        raise ParameterError(f"--rows {rows}: the national sample needs at least {MIN_ROWS:,} rows")
    raw = Path(raw_dir)
    raw.mkdir(parents=True, exist_ok=True)
    sim = simulate_republic(seed, rows)
    ref, months, ids = sim["reference"], sim["months"], sim["ids"]
    names = pd.read_csv(reference_path("campaign_regions.csv"), dtype=str)
    region_names = (
        names.drop_duplicates("campaign_region_id")
        .set_index("campaign_region_id")["campaign_region_ru"]
        .to_dict()
    )
    words = {
        "channel": _first_word("channels.csv", "channel"),
        "format": _first_word("formats.csv", "format"),
        "language": _first_word("languages.csv", "language"),
    }
    for sub in [NATIONAL_DIR, TRUTH_DIR, *sim["regions"]]:
        if (raw / sub).exists():
            shutil.rmtree(raw / sub)

    # --- the layout regions: the region sample's writers ----------------------------------
    specs: list[FileSpec] = []
    planted: list[dict[str, Any]] = []
    lay_ids: set[str] = set()
    for region_id in LAYOUT_REGIONS:
        lay_sim = layout_simulation(sim, seed, region_id)
        full = region_id == LAYOUT_REGION
        in_turn = itertools.cycle(REGISTRY_LAYOUT_STYLES)
        styles = None if full else {d: next(in_turn) for d in lay_sim.districts["district_id"]}
        for spec in Layout(lay_sim, "national", styles, statistics=full).build():
            spec.path = f"{region_id}/{spec.path}"
            specs.append(spec)
            if not full:
                planted += _foreign_district_rejects(spec)
        lay_ids |= set(lay_sim.districts["district_id"])

    # --- registries: region folders (2014-2015), the national file (2016) -----------------
    regional = np.isin(months.year, REGION_REGISTRY_YEARS)
    national = _Registry(raw, f"{NATIONAL_DIR}/Реестр_публикаций_РК_2016.csv", "utf-8-sig", ",", True)  # fmt: skip
    streamed: list[_Registry] = []
    books: list[tuple[FileSpec, Resolved]] = []  # workbooks: written at once, truth kept
    dup_books: list[dict[str, Any]] = []
    extra: list[dict[str, Any]] = []  # planted clean rows (an unreadable reach): their ids
    formats = itertools.cycle(REGION_CSV_FORMATS)
    key = 0
    for r_i, region_id in enumerate(sim["regions"]):
        if region_id in LAYOUT_REGIONS:
            continue
        units = ref.loc[ref["region_id"] == region_id]
        idx = np.flatnonzero(sim["region_of"] == region_id)
        per_district = sim["counts"][idx].sum(axis=(1, 2))
        as_xlsx = r_i % XLSX_EVERY == XLSX_EVERY - 1 and per_district.sum() <= XLSX_MAX_ROWS
        stem = f"{region_id}/Реестр_публикаций_{region_id}_2014-2015"
        reg: _Registry | _Workbook
        if as_xlsx:
            reg = _Workbook(raw, f"{stem}.xlsx")
        else:
            enc, sep = next(formats)
            if not all(V.encodable(n, enc) for n in units["name_ru"]):  # a Kazakh letter
                enc, sep = "utf-8-sig", ","
            reg = _Registry(raw, f"{stem}.csv", enc, sep, False)
        start = 0
        while start < len(idx):  # chunks of districts of about CHUNK_ROWS rows
            stop = start + 1
            while stop < len(idx) and per_district[start : stop + 1].sum() <= CHUNK_ROWS:
                stop += 1
            chunk = idx[start:stop]
            for mask, target in ((regional, reg), (~regional, national)):
                frame = _registry_rows(sim, chunk, mask, words, region_names, key)
                key += len(frame)
                target.append(frame)
            start = stop
        if isinstance(reg, _Workbook):
            extra.append(reg.first_ids())
            spec, dups = reg.spec(units)
            books.append((spec, resolve([spec])))  # no row of it is resolved against others
            write_file(raw, spec)
            for sheet in spec.sheets:  # memory: only its truth is kept
                sheet.rows.clear()
            dup_books += dups
        else:
            reg.plant(_registry_faults(reg.first_cells(0), units))
            streamed.append(reg)
            extra.append(reg.first[0])

    # --- media plans (per region), legalization and population (national files) ----------
    plan_rows: list[dict[str, Any]] = []
    for k, region_id in enumerate(r for r in sim["regions"] if r != LAYOUT_REGION):
        spec, rows_ = _media_plan(sim, region_id, words, same_cell=bool(k % 2))
        specs.append(spec)
        plan_rows += rows_
    legalization, repeated = _legalization(sim, region_names)
    planted += repeated
    specs += [legalization, _population(sim, region_names)]
    res = resolve(specs)
    planted += _bulletin_other_region(specs)
    for spec in specs:
        write_file(raw, spec)

    before = next(r for r in streamed if r.rel < national.rel)
    after = next(r for r in streamed if r.rel > national.rel)
    _national_faults(national, res, [(before, 1), (after, 1)], words, ref, region_names)
    streamed.append(national)

    # --- truth -------------------------------------------------------------------------
    truth_dir = raw / TRUTH_DIR
    truth_dir.mkdir()
    tables = expected_tables(res)
    other = ~np.isin(np.array(ids, dtype=object), list(lay_ids))
    counts = sim["counts"] * other[:, None, None]
    d_i, m_i, c_i = np.nonzero(counts)
    streamed_counts = pd.DataFrame(
        {
            "district_id": np.array(ids, dtype=object)[d_i],
            "channel": np.array(CHANNELS, dtype=object)[c_i],
            "month": months[m_i],
            "n": counts[d_i, m_i, c_i],
        }
    )
    planted_clean = pd.DataFrame(
        {
            "district_id": [e["_district_id"] for e in extra],
            "channel": [e["_channel"] for e in extra],
            "month": [e["_month"] for e in extra],
            "n": 1,
        }
    )
    keys = ["district_id", "channel", "month"]
    expected_counts = (
        pd.concat([streamed_counts, planted_clean, tables["expected_publication_counts"]])
        .groupby(keys, as_index=False)["n"]
        .sum()
        .sort_values(keys)
        .reset_index(drop=True)
    )
    expected_counts.to_parquet(truth_dir / "expected_publication_counts.parquet", index=False)
    for name in ("publications", "legalization", "media_plan", "social_reach", "population"):
        tables[f"expected_{name}"].to_parquet(truth_dir / f"expected_{name}.parquet", index=False)
    apps, amounts = sim["applications"], sim["amounts"]
    grid = pd.DataFrame(
        {
            "district_id": np.repeat(ids, len(months)),
            "region_id": np.repeat(sim["region_of"], len(months)),
            "month": np.tile(months, len(ids)),
        }
    )
    panel = grid.assign(
        applications=apps.ravel(),
        amount_kzt=amounts.ravel(),
        materials=sim["counts"].sum(axis=2).ravel(),
        coverage_index=sim["cindex"].ravel(),
        expected_applications=sim["mu"].ravel(),
        activity=np.repeat(sim["activity"], len(months)),
    )
    panel.to_parquet(truth_dir / "simulated_panel.parquet", index=False)
    pd.DataFrame(plan_rows).to_parquet(truth_dir / "planned_by_quarter.parquet", index=False)

    report = {path: dict(sheets) for r in [res, *(b for _, b in books)] for path, sheets in r.report.items()}  # fmt: skip
    for reg in streamed:
        report[reg.rel] = {reg.tally.sheet: reg.tally.report()}
    rejects = res.rejects + [r for _, b in books for r in b.rejects]
    rejects += [r for reg in streamed for r in reg.tally.rejects]
    duplicates = res.duplicates + dup_books + [d for reg in streamed for d in reg.tally.duplicates]
    specs += [spec for spec, _ in books]
    file_meta = {spec.path: _file_meta(spec) for spec in specs}
    for reg in streamed:
        file_meta[reg.rel] = {"container": "csv", "encoding": reg.encoding, "delimiter": reg.delimiter}  # fmt: skip
    variants: dict[str, list[str]] = {}
    for spec in sorted(specs, key=lambda f: f.path):
        for fam in sorted(spec.variants):
            variants.setdefault(fam, []).append(spec.path)
    registry_rows = int(expected_counts["n"].sum())
    truth = {
        "generator": "coverage_analysis.sample.national.write_national_sample",
        "seed": seed,
        "synthetic": True,
        "scope": "national",
        "rows_requested": rows,
        "registry_rows": registry_rows,
        "true_effect": {"beta": S.BETA, "decay": S.DECAY},
        "region_activity": {k: float(v) for k, v in sim["region_activity"].items()},
        "region_activity_overrides": REGION_ACTIVITY_OVERRIDES,
        "regions": sim["regions"],
        "layout_region": LAYOUT_REGION,
        "layout_regions": list(LAYOUT_REGIONS),
        "districts": len(ids),
        "files": dict(sorted(report.items())),
        "file_meta": dict(sorted(file_meta.items())),
        "rejects": rejects,
        "duplicates": duplicates,
        "variants": variants,
        "planted": planted,
        "note": (
            "region populations are the BNS figures, their split among units synthetic; "
            "expected_publications lists the layout region's folder row by row, the "
            "streamed registries are in expected_publication_counts"
        ),
    }
    (truth_dir / "truth.json").write_text(
        json.dumps(_jsonable(truth), ensure_ascii=False, indent=1), encoding="utf-8"
    )
    (raw / "README.txt").write_text(
        f"Synthetic national sample data made by coverage-analysis (seed {seed}). SIMULATED: "
        "no figure in these files is real except the regions' population totals.\n"
        f"Regenerate with: coverage-analysis sample --scope national --raw <folder> --seed {seed}\n",
        encoding="utf-8",
    )
    summary = NationalSampleSummary(
        raw_dir=raw,
        seed=seed,
        files=sorted(report),
        regions=len(sim["regions"]),
        districts=len(ids),
        registry_rows=registry_rows,
        applications=int(apps.sum()),
        rejects=sum(1 for r in rejects if r["scope"] == "row"),
        duplicates=len(duplicates),
    )
    log.info("%s", summary)
    return summary


__all__ = [
    "NationalSampleSummary",
    "layout_simulation",
    "simulate_republic",
    "write_national_sample",
]
