"""The synthetic republic: a national sample for the national scope and its benchmarks.

``write_national_sample(raw_dir, seed, rows)`` simulates the campaign in every district
and city of the republic (the 216 units of the national reference, grouped into the 16
regions of 2014-2016) and reports it the way a central body would receive it:

- ``<region_id>/``: each region's own files, resolved within that region by the cleaner:
  its publication registry of 2014-2015 (a long CSV, in turn windows-1251 with ``;`` and
  UTF-8 with BOM and ``,``; every third region an xlsx workbook with a sheet per year) and
  its media plan (plan by quarter of 2015-2016);
- ``national/``: the national files holding all regions' rows, with a region column:
  the publication registry of 2016, the State Revenue Committee's legalization
  statistics (applications and amounts by district and month) and the population of
  every unit for 2014-2016.

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
small (for ``benchmarks/``; 10,000,000 rows is about 1 GB of CSV). The region sample's
deliberate rejects and every layout variant are not repeated here (the region sample
tests them); every row written here is clean, so the truth is exact:
``_truth/expected_publication_counts.parquet`` (district, channel, month, n),
``expected_legalization``, ``expected_population``, ``simulated_panel`` and
``truth.json``.

Example (seconds for the default size, so not a doctest)::

    summary = write_national_sample("data/raw-national", seed=2016)
"""

from __future__ import annotations

import csv
import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coverage_analysis.domain import ARTICLE_MONTH, CHANNELS, FORMATS, PER_RESIDENTS
from coverage_analysis.domain import campaign_months as _campaign_months
from coverage_analysis.models.adstock import coverage_index
from coverage_analysis.reference import reference_path
from coverage_analysis.reference.national import national_reference, region_population
from coverage_analysis.sample import simulate as S

log = logging.getLogger(__name__)

#: Sub-folder of the raw folder holding the ground truth (not an input).
TRUTH_DIR = "_truth"
#: Folder of the national files (all regions' rows).
NATIONAL_DIR = "national"
#: Expected registry rows of the republic over the campaign at the default size
#: (about 2,900 rows a region, a few hundred per district: seconds to clean).
DEFAULT_ROWS = 45_000
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
#: CSV (encoding, delimiter) of the region registries, used in turn by region.
REGION_CSV_FORMATS: tuple[tuple[str, str], ...] = (("cp1251", ";"), ("utf-8-sig", ","))
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

    def __str__(self) -> str:
        return (
            f"Synthetic national sample data (seed {self.seed}) written to {self.raw_dir}: "
            f"{len(self.files)} files, {self.regions} regions, {self.districts} districts, "
            f"{self.registry_rows} registry rows, {self.applications} applications; "
            f"truth in {TRUTH_DIR}/"
        )


def _encodes(text: str, encoding: str = "cp1251") -> bool:
    """Whether ``text`` can be written in ``encoding`` (Kazakh letters are not in cp1251)."""
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def _first_word(vocab: str, key: str) -> dict[str, str]:
    """The first non-ASCII spelling of each id in a vocabulary file (``channel,variant``)."""
    frame = pd.read_csv(reference_path(vocab), dtype=str, comment="#")
    frame = frame[~frame["variant"].map(str.isascii) & frame["variant"].map(_encodes)]
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
    counts = rng.poisson(means)  # district x month x channel

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
    return {
        "rng": rng,
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


class _Registry:
    """One registry CSV written in chunks (header once, rows appended)."""

    def __init__(self, path: Path, encoding: str, delimiter: str, with_region: bool) -> None:
        self.path, self.encoding, self.delimiter = path, encoding, delimiter
        self.with_region = with_region
        self.rows = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        header = ((REGION_COLUMN,) if with_region else ()) + REGISTRY_HEADER
        with path.open("w", encoding=encoding, newline="") as fh:
            csv.writer(fh, delimiter=delimiter, lineterminator="\r\n").writerow(header)

    def append(self, frame: pd.DataFrame) -> None:
        frame = frame.copy()
        frame.insert(0, "n", np.arange(self.rows + 1, self.rows + len(frame) + 1))
        if not self.with_region:
            frame = frame.drop(columns=[REGION_COLUMN])
        else:
            frame.insert(0, REGION_COLUMN, frame.pop(REGION_COLUMN))
        with self.path.open("a", encoding=self.encoding, newline="") as fh:
            writer = csv.writer(fh, delimiter=self.delimiter, lineterminator="\r\n")
            writer.writerows(frame.itertuples(index=False, name=None))
        self.rows += len(frame)


def _write_table(path: Path, frame: pd.DataFrame) -> None:
    """A whole national file as CSV (UTF-8 with BOM, ``;``, CRLF) with the csv module:
    the package's own outputs go through ``io/writers.py``, raw sample files do not."""
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, delimiter=";", lineterminator="\r\n")
        writer.writerow(frame.columns)
        writer.writerows(frame.itertuples(index=False, name=None))


class _Workbook:
    """A region's registry as an xlsx workbook, one sheet per year (title row naming the
    year, then the header), written at the end (small regions only: :data:`XLSX_MAX_ROWS`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.frames: list[pd.DataFrame] = []

    def append(self, frame: pd.DataFrame) -> None:
        self.frames.append(frame.drop(columns=[REGION_COLUMN]))

    def write(self, raw: Path) -> None:
        from coverage_analysis.sample.sheets import FileSpec, Sheet, write_file

        rows = pd.concat(self.frames, ignore_index=True)
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
        write_file(raw, FileSpec(str(self.path.relative_to(raw).as_posix()), sheets))


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
        }
    )


def write_national_sample(
    raw_dir: str | Path, seed: int = 2016, rows: int | None = None
) -> NationalSampleSummary:
    """Write the synthetic republic into ``raw_dir`` (layout in the module docstring) with
    its ``_truth/``; ``rows`` scales the publication registries (default
    :data:`DEFAULT_ROWS`). The same seed and rows give the same files."""
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
    files: list[str] = []
    key = 0
    # --- registries: region folders (2014-2015), the national file (2016) -----------------
    regional = np.isin(months.year, REGION_REGISTRY_YEARS)
    national = _Registry(
        raw / NATIONAL_DIR / "Реестр_публикаций_РК_2016.csv", "utf-8-sig", ",", True
    )
    for r_i, region_id in enumerate(sim["regions"]):
        enc, sep = REGION_CSV_FORMATS[r_i % len(REGION_CSV_FORMATS)]
        units = ref.loc[ref["region_id"] == region_id, "name_ru"]
        if not all(_encodes(n, enc) for n in units):  # a Kazakh letter: Unicode
            enc, sep = REGION_CSV_FORMATS[-1]
        idx = np.flatnonzero(sim["region_of"] == region_id)
        per_district = sim["counts"][idx].sum(axis=(1, 2))
        as_xlsx = r_i % XLSX_EVERY == XLSX_EVERY - 1 and per_district.sum() <= XLSX_MAX_ROWS
        stem = raw / region_id / f"Реестр_публикаций_{region_id}_2014-2015"
        reg: _Registry | _Workbook = (
            _Workbook(stem.with_suffix(".xlsx"))
            if as_xlsx
            else _Registry(stem.with_suffix(".csv"), enc, sep, False)
        )
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
            reg.write(raw)
        files.append(str(reg.path.relative_to(raw)))
    files.append(str(national.path.relative_to(raw)))

    # --- media plans (per region), legalization and population (national files) ----------
    quarters = pd.PeriodIndex(months[months.year >= 2015], freq="Q").unique()
    q_cols = [f"{('I', 'II', 'III', 'IV')[q.quarter - 1]} кв. {q.year}" for q in quarters]
    plan_rows = []
    q_masks = [months.to_period("Q") == q for q in quarters]
    # plans name a city "г. Актобе" (a bare city name may read as its region's heading)
    plan_names = np.where(ref["kind"].eq("city"), "г. " + ref["name_ru"], ref["name_ru"])
    for region_id in sim["regions"]:
        idx = np.flatnonzero(sim["region_of"] == region_id)
        lines = []
        for i in idx:
            for k, ch in enumerate(CHANNELS):
                planned = [round(PLAN_RATIO * sim["means"][i, m, k].sum()) for m in q_masks]
                if sum(planned):
                    lines.append([plan_names[i], words["channel"][ch], *planned])
                    plan_rows += [
                        {"district_id": ids[i], "channel": ch, "quarter": str(q), "planned": p}
                        for q, p in zip(quarters, planned, strict=True)
                    ]
        path = raw / region_id / f"Медиаплан_{region_id}_2015-2016.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh, delimiter=";", lineterminator="\r\n")
            w.writerow(["Медиаплан по освещению легализации на 2015-2016 годы (план)"])
            w.writerow([])
            w.writerow(["Район", "Канал", *q_cols])
            w.writerow(["", "", *(["план"] * len(q_cols))])
            w.writerows(lines)
        files.append(str(path.relative_to(raw)))

    apps, amounts = sim["applications"], sim["amounts"]
    leg = pd.DataFrame(
        {
            REGION_COLUMN: np.repeat(
                pd.Series(sim["region_of"]).map(region_names).to_numpy(), len(months)
            ),
            "Район": np.repeat(ref["name_ru"].to_numpy(), len(months)),
            "Месяц": np.tile(months.strftime("%m.%Y"), len(ids)),
            "Количество заявлений": apps.ravel(),
            "Сумма легализованного имущества, тенге": amounts.ravel().astype(np.int64),
        }
    )
    path = raw / NATIONAL_DIR / "Легализация_по_районам_РК.csv"
    _write_table(path, leg)
    files.append(str(path.relative_to(raw)))
    pop = sim["population"].merge(ref[["district_id", "name_ru"]], on="district_id")
    pop_file = pd.DataFrame(
        {
            REGION_COLUMN: pop["region_id"].map(region_names),
            "Район": pop["name_ru"],
            "Год": pop["year"],
            "Численность населения": pop["population"],
        }
    )
    path = raw / NATIONAL_DIR / "Численность_населения_РК_2014-2016.csv"
    _write_table(path, pop_file)
    files.append(str(path.relative_to(raw)))

    # --- truth -------------------------------------------------------------------------
    truth_dir = raw / TRUTH_DIR
    truth_dir.mkdir()
    d_i, m_i, c_i = np.nonzero(sim["counts"])
    pd.DataFrame(
        {
            "district_id": np.array(ids, dtype=object)[d_i],
            "month": months[m_i],
            "channel": np.array(CHANNELS, dtype=object)[c_i],
            "n": sim["counts"][d_i, m_i, c_i],
        }
    ).to_parquet(truth_dir / "expected_publication_counts.parquet", index=False)
    grid = pd.DataFrame(
        {
            "district_id": np.repeat(ids, len(months)),
            "region_id": np.repeat(sim["region_of"], len(months)),
            "month": np.tile(months, len(ids)),
        }
    )
    legal = grid.assign(applications=apps.ravel(), amount_kzt=amounts.ravel())
    legal.to_parquet(truth_dir / "expected_legalization.parquet", index=False)
    sim["population"].to_parquet(truth_dir / "expected_population.parquet", index=False)
    pd.DataFrame(plan_rows).to_parquet(truth_dir / "expected_media_plan.parquet", index=False)
    panel = legal.assign(
        materials=sim["counts"].sum(axis=2).ravel(),
        coverage_index=sim["cindex"].ravel(),
        expected_applications=sim["mu"].ravel(),
        activity=np.repeat(sim["activity"], len(months)),
    )
    panel.to_parquet(truth_dir / "simulated_panel.parquet", index=False)
    registry_rows = int(sim["counts"].sum())
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
        "districts": len(ids),
        "files": sorted(files),
        "rejects": [],
        "note": "every row is clean; region populations are the BNS figures, their split among units synthetic",
    }
    (truth_dir / "truth.json").write_text(
        json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8"
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
        files=sorted(files),
        regions=len(sim["regions"]),
        districts=len(ids),
        registry_rows=registry_rows,
        applications=int(apps.sum()),
    )
    log.info("%s", summary)
    return summary


__all__ = ["NationalSampleSummary", "simulate_republic", "write_national_sample"]
