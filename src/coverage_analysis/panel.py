"""The district × month panel: coverage, plans and outcomes side by side.

One row per district of the reference (never ``region``) and month of the
period (by default the whole campaign, Sep 2014 - Dec 2016: 19 × 28 = 532
rows), sorted by district in reference order, then month.

Missing is not zero
-------------------
``is_reported`` says whether some publication registry covered the
district-month (``registry_coverage.parquet``, see
``docs/cleaning-conventions.md``). A district-month that also holds a clean
publication counts as reported too (a material found is evidence that
somebody reported). Where ``is_reported`` is false every ``materials*``
column and ``reach`` is NA, never 0.

When ``registry_coverage.parquet`` is absent the coverage is inferred from
the publications themselves with the same convention minus the titles: each
registry sheet (``source_file`` × ``source_sheet``) covers the months from
its earliest to its latest material, for every district that appears in it
(so the district "has a publication that month or is in a registry covering
it"). Without publications nothing is reported.

Other columns are NA where their table is absent or holds no row for the
district-month (``applications``, ``amount_kzt`` with ``has_legalization``;
``planned``, ``actual_reported``; ``social_posts``, ``social_users_reached``).

Region-level material (``district_id == "region"``) is kept out of the
district rows; :func:`region_materials` counts it by month and channel.

>>> from coverage_analysis.tables import CleanTables
>>> p = build_panel(CleanTables(publications=pd.DataFrame({
...     "district_id": ["ayagoz"], "month": [pd.Timestamp("2015-03-01")],
...     "channel": ["print"], "reach": [1500], "source_file": ["a.xlsx"],
...     "source_sheet": ["Лист1"]})))
>>> len(p)
532
>>> p.loc[(p.district_id == "ayagoz") & (p.month == "2015-03-01"), ["materials", "reach"]].values.tolist()
[[1, 1500]]
>>> bool(p.loc[p.district_id == "semey", "is_reported"].any())
False
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd

from coverage_analysis import domain
from coverage_analysis.errors import ParameterError
from coverage_analysis.io.writers import write_parquet
from coverage_analysis.reference import load_districts
from coverage_analysis.tables import CleanTables, analysis_tables, as_tables

log = logging.getLogger(__name__)

#: File name of the panel in the processed folder (outputs.md).
PANEL_FILE = "panel.parquet"
#: Materials columns, one per canonical channel, in display order.
MATERIAL_COLUMNS: tuple[str, ...] = tuple(f"materials_{c}" for c in domain.CHANNELS)
#: Formats and languages also counted per district-month (used by the metrics).
FORMAT_COLUMNS: tuple[str, ...] = tuple(f"materials_format_{f}" for f in domain.FORMATS)
LANGUAGE_COLUMNS: tuple[str, ...] = tuple(f"materials_lang_{lang}" for lang in domain.LANGUAGES)
#: Columns that are NA where the district-month is not reported.
REPORTED_ONLY_COLUMNS: tuple[str, ...] = (
    "materials",
    *MATERIAL_COLUMNS,
    *FORMAT_COLUMNS,
    *LANGUAGE_COLUMNS,
    "reach",
    "reach_known_materials",
    "materials_per_10k",
)


def parse_month(value: str | pd.Timestamp | None, name: str = "month") -> pd.Timestamp | None:
    """Month start of ``value`` (``"YYYY-MM"``, a date or a timestamp); ``None`` stays ``None``.

    >>> parse_month("2016-02")
    Timestamp('2016-02-01 00:00:00')
    >>> parse_month("февраль")
    Traceback (most recent call last):
    ...
    coverage_analysis.errors.ParameterError: month 'февраль' is not a month; give YYYY-MM, e.g. '2016-02'
    """
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise ParameterError(
            f"{name} {value!r} is not a month; give YYYY-MM, e.g. '2016-02'"
        ) from None
    if pd.isna(stamp):
        raise ParameterError(f"{name} {value!r} is not a month; give YYYY-MM, e.g. '2016-02'")
    return stamp.to_period("M").to_timestamp()


def period_months(
    start_month: str | pd.Timestamp | None = None, end_month: str | pd.Timestamp | None = None
) -> pd.DatetimeIndex:
    """Campaign months from ``start_month`` to ``end_month`` (inclusive; defaults: the
    campaign's first and last month). Raises :class:`ParameterError` for a month outside
    the campaign or a period with no months.

    >>> len(period_months(None, "2016-02"))
    18
    >>> period_months("2016-03", "2016-02")
    Traceback (most recent call last):
    ...
    coverage_analysis.errors.ParameterError: the period 2016-03 .. 2016-02 holds no months (start after end)
    """
    valid = domain.campaign_months()
    first, last = valid[0].strftime("%Y-%m"), valid[-1].strftime("%Y-%m")
    lo = parse_month(start_month, "start_month") or valid[0]
    hi = parse_month(end_month, "end_month") or valid[-1]
    for name, stamp in (("start_month", lo), ("end_month", hi)):
        if stamp not in valid:
            raise ParameterError(
                f"{name} {stamp.strftime('%Y-%m')} is outside the campaign; valid months are {first} .. {last}"
            )
    if lo > hi:
        raise ParameterError(
            f"the period {lo.strftime('%Y-%m')} .. {hi.strftime('%Y-%m')} holds no months (start after end)"
        )
    return domain.campaign_months(lo, hi)


def check_district(district_id: str, districts: pd.DataFrame | None = None) -> str:
    """``district_id`` if it is in the reference, else :class:`ParameterError` listing the
    valid ids.

    >>> check_district("ayagoz")
    'ayagoz'
    >>> try:
    ...     check_district("ajagoz")
    ... except ParameterError as exc:
    ...     "ayagoz" in str(exc)
    True
    """
    ids = (load_districts() if districts is None else districts)["district_id"].tolist()
    if district_id not in ids:
        raise ParameterError(
            f"district_id {district_id!r} is not in the reference; valid ids: {', '.join(ids)}"
        )
    return district_id


def infer_registry_coverage(publications: pd.DataFrame) -> pd.DataFrame:
    """District × months covered by each registry sheet, inferred from its materials: the
    months from its earliest to its latest material, for every district in it (``region``
    excluded). Used when ``registry_coverage.parquet`` is absent.

    >>> pubs = pd.DataFrame({"district_id": ["ayagoz", "semey", "ayagoz"],
    ...     "month": pd.to_datetime(["2015-01-01", "2015-03-01", "2015-03-01"]),
    ...     "channel": ["tv"] * 3, "source_file": ["a.xlsx"] * 3, "source_sheet": ["1"] * 3})
    >>> cov = infer_registry_coverage(pubs)
    >>> len(cov), sorted(cov.district_id.unique())
    (6, ['ayagoz', 'semey'])
    """
    pubs = publications.loc[publications["district_id"] != domain.REGION_ID]
    pubs = pubs.dropna(subset=["district_id", "month"])
    keys = [c for c in ("source_file", "source_sheet") if c in pubs.columns]
    empty = pd.DataFrame(
        {"district_id": pd.Series(dtype=object), "month": pd.Series(dtype="datetime64[ns]")}
    )
    if pubs.empty:
        return empty
    if not keys:
        # No provenance: each district covers only the months it has material in.
        pairs = pubs[["district_id", "month"]].astype({"district_id": object})
        return pairs.drop_duplicates().reset_index(drop=True)
    sheet = pubs.groupby(keys, sort=False, dropna=False, observed=True).ngroup().to_numpy()
    frame = pd.DataFrame(
        {"sheet": sheet, "district_id": pubs["district_id"].astype(object).to_numpy()}
    )
    spans = pubs["month"].groupby(sheet).agg(["min", "max"])
    parts = []
    for code, sheet_districts in frame.drop_duplicates().groupby("sheet")["district_id"]:
        months = pd.date_range(spans.loc[code, "min"], spans.loc[code, "max"], freq="MS")
        parts.append(
            pd.DataFrame(
                {
                    "district_id": np.repeat(sheet_districts.to_numpy(), len(months)),
                    "month": np.tile(months.to_numpy(), len(sheet_districts)),
                }
            )
        )
    if not parts:
        return empty
    return pd.concat(parts, ignore_index=True).drop_duplicates().reset_index(drop=True)


def population_by_month(
    districts: pd.DataFrame, months: pd.DatetimeIndex, population: pd.DataFrame | None
) -> pd.DataFrame:
    """Population of each district and month: the population table's figure for the
    month's year (else the nearest earlier year, else the nearest later one), else the
    reference ``population_2016``.

    >>> d = pd.DataFrame({"district_id": ["a", "b"], "population_2016": [100, 200]})
    >>> pop = pd.DataFrame({"district_id": ["a"], "year": [2015], "population": [90]})
    >>> population_by_month(d, pd.date_range("2014-12-01", "2016-01-01", freq="12MS"), pop)[
    ...     "population"].tolist()
    [90.0, 90.0, 200.0, 200.0]
    """
    grid = pd.MultiIndex.from_product(
        [districts["district_id"], months], names=["district_id", "month"]
    )
    frame = grid.to_frame(index=False)
    reference = districts.set_index("district_id")["population_2016"].astype(float)
    frame["population"] = frame["district_id"].map(reference)
    if population is None or population.empty:
        return frame
    # a figure for a year after the panel (a 2023 bulletin) never stands in for its months
    population = population[population["year"].astype(float) <= int(months.year.max())]
    if population.empty:
        return frame
    years = sorted(set(months.year) | set(population["year"].dropna().astype(int)))
    table = (
        population.dropna(subset=["year", "population"])
        .astype({"district_id": object})
        .assign(
            year=lambda f: f["year"].astype(int), population=lambda f: f["population"].astype(float)
        )
        .groupby(["district_id", "year"])["population"]
        .last()
        .unstack("year")
        .reindex(columns=years)
    )
    table = table.ffill(axis=1).bfill(axis=1)
    stacked = table.stack().rename("pop_file")
    merged = frame.assign(year=frame["month"].dt.year).merge(
        stacked.reset_index(), on=["district_id", "year"], how="left"
    )
    frame["population"] = merged["pop_file"].fillna(merged["population"]).to_numpy()
    return frame


def month_index(stamps: pd.Series, months: pd.DatetimeIndex) -> np.ndarray:
    """Position in ``months`` (consecutive month starts) of the month holding each of
    ``stamps``; -1 outside them or for NaT. A binary search, fast at millions of rows.

    >>> month_index(pd.Series(pd.to_datetime(["2014-09-01", "2014-10-15", "2016-01-01", None])),
    ...     pd.date_range("2014-09-01", "2014-12-01", freq="MS")).tolist()
    [0, 1, -1, -1]
    """
    values = stamps.to_numpy(dtype="datetime64[ns]")
    edges = months.append(pd.DatetimeIndex([months[-1] + pd.offsets.MonthBegin(1)])).to_numpy()
    index = np.searchsorted(edges, values, side="right") - 1
    inside = (index >= 0) & (index < len(months)) & ~np.isnat(values)
    return np.where(inside, index, -1)


def _cell_codes(
    frame: pd.DataFrame,
    ids: list[str],
    months: pd.DatetimeIndex,
    district_codes: np.ndarray | None = None,
) -> np.ndarray:
    """Position of each row in the district-major, month-minor grid of ``ids`` × ``months``;
    -1 for rows outside it (``region``, unknown districts, other months)."""
    if district_codes is None:
        district_codes = pd.Categorical(frame["district_id"], categories=ids).codes
    district = district_codes.astype(np.int64)
    month = month_index(frame["month"], months)
    inside = (district >= 0) & (district < len(ids)) & (month >= 0) & (month < len(months))
    return np.where(inside, district * len(months) + month, -1)


def _bincount_by(
    cell: np.ndarray,
    values: pd.Series,
    vocabulary: tuple[str, ...],
    n_cells: int,
    code: np.ndarray | None = None,
) -> np.ndarray:
    """Counts per grid cell (rows) and value of ``vocabulary`` (columns)."""
    if code is None:
        code = pd.Categorical(values, categories=list(vocabulary)).codes
    code = code.astype(np.int64)
    keep = (cell >= 0) & (code >= 0)
    flat = np.bincount(
        cell[keep] * len(vocabulary) + code[keep], minlength=n_cells * len(vocabulary)
    )
    return flat.reshape(n_cells, len(vocabulary))


def _publication_counts(
    pubs: pd.DataFrame,
    ids: list[str],
    months: pd.DatetimeIndex,
    district_codes: np.ndarray | None = None,
    channel_codes: np.ndarray | None = None,
) -> pd.DataFrame:
    """Per cell of the ``ids`` × ``months`` grid (district-major): materials by channel,
    format (empty = news) and language, reach of known reach and how many had it.

    Integer cell codes and ``np.bincount`` rather than a group-by: linear in the rows and
    fast at national scale (millions of publications).
    """
    n_cells = len(ids) * len(months)
    cell = _cell_codes(pubs, ids, months, district_codes)
    out = {"materials": np.bincount(cell[cell >= 0], minlength=n_cells)}
    by_channel = _bincount_by(cell, pubs["channel"], domain.CHANNELS, n_cells, channel_codes)
    out.update({col: by_channel[:, k] for k, col in enumerate(MATERIAL_COLUMNS)})
    if "format" in pubs.columns:
        fmt_code = pd.Categorical(pubs["format"], categories=list(domain.FORMATS)).codes.copy()
        fmt_code[pubs["format"].isna().to_numpy()] = domain.FORMATS.index("news")  # empty = news
        fmt = _bincount_by(cell, pubs["format"], domain.FORMATS, n_cells, fmt_code)
        out.update({col: fmt[:, k] for k, col in enumerate(FORMAT_COLUMNS)})
    if "language" in pubs.columns:
        lang = _bincount_by(cell, pubs["language"], domain.LANGUAGES, n_cells)
        out.update({col: lang[:, k] for k, col in enumerate(LANGUAGE_COLUMNS)})
    if "reach" in pubs.columns:
        reach = pd.to_numeric(pubs["reach"], errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan
        )
        known = (cell >= 0) & ~np.isnan(reach)
        total = np.bincount(cell[known], weights=reach[known], minlength=n_cells)
        n_known = np.bincount(cell[known], minlength=n_cells)
        out["reach"] = np.where(n_known > 0, total, np.nan)
        out["reach_known_materials"] = n_known
    return pd.DataFrame(out)


def build_panel(
    processed_dir_or_tables: CleanTables | str | os.PathLike[str],
    start_month: str | pd.Timestamp | None = None,
    end_month: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """The district × month panel (see the module docstring for every rule).

    Columns: ``district_id``, ``month``, ``population``, ``is_reported``, ``materials``,
    ``materials_<channel>`` for every channel of :data:`domain.CHANNELS`,
    ``materials_format_<format>``, ``materials_lang_<language>``, ``reach`` (sum of
    known reach; NA when none known), ``reach_known_materials``, ``materials_per_10k``,
    ``social_posts``, ``social_users_reached``, ``planned``, ``actual_reported``,
    ``has_plan``, ``applications``, ``amount_kzt``, ``has_legalization``.
    Publications of districts not in the reference are ignored (logged).

    >>> from coverage_analysis.tables import CleanTables
    >>> leg = pd.DataFrame({"district_id": ["semey"], "month": [pd.Timestamp("2016-12-01")],
    ...                     "applications": [40], "amount_kzt": [1.5e9]})
    >>> p = build_panel(CleanTables(legalization=leg), "2016-11", "2016-12")
    >>> p.loc[p.district_id == "semey", ["applications", "has_legalization"]].values.tolist()
    [[<NA>, False], [40, True]]
    """
    tables = as_tables(processed_dir_or_tables)
    months = period_months(start_month, end_month)
    districts = load_districts()
    ids = districts["district_id"].tolist()
    panel = population_by_month(districts, months, tables.population)
    index = pd.MultiIndex.from_frame(panel[["district_id", "month"]])
    lo, hi = months[0], months[-1]

    def in_grid(frame: pd.DataFrame) -> pd.DataFrame:
        """Rows of ``frame`` for reference districts and months of the period."""
        inside = frame.loc[frame["district_id"].isin(ids) & frame["month"].between(lo, hi)]
        return inside.astype({"district_id": object})  # categorical ids group like strings

    # --- publications and reporting coverage -------------------------------------------
    pubs = tables.publications
    district_codes = channel_codes = None
    if pubs is not None:
        # Codes once: the region is the code after the last district (outside the grid)
        district_codes = pd.Categorical(
            pubs["district_id"], categories=[*ids, domain.REGION_ID]
        ).codes
        channel_codes = pd.Categorical(pubs["channel"], categories=list(domain.CHANNELS)).codes
        for column, codes, what in (
            (
                "district_id",
                district_codes,
                "publications of districts not in the reference ignored",
            ),
            (
                "channel",
                channel_codes,
                "publications with unknown channels counted in no channel column",
            ),
        ):
            odd = codes < 0
            if odd.any():
                values = pubs[column].to_numpy()[odd]
                unknown = sorted({str(v) for v in values if not pd.isna(v)})
                if unknown:
                    log.warning("%s: %s", what, unknown)
    if tables.registry_coverage is not None:
        coverage = tables.registry_coverage
    elif pubs is not None:
        log.info("no registry_coverage table: coverage inferred from the publications' registries")
        coverage = infer_registry_coverage(pubs)
    else:
        coverage = None
    covered = np.zeros(len(panel), dtype=bool)
    if coverage is not None and not coverage.empty:
        cov_cell = _cell_codes(coverage, ids, months)
        covered[cov_cell[cov_cell >= 0]] = True
    count_cols = [c for c in REPORTED_ONLY_COLUMNS if c != "materials_per_10k"]
    if pubs is not None and not pubs.empty:
        counts = _publication_counts(pubs, ids, months, district_codes, channel_codes)
        counts = counts.reindex(columns=count_cols)
        covered |= counts["materials"].to_numpy() > 0  # a material found is a report
    else:
        counts = pd.DataFrame(np.nan, index=panel.index, columns=count_cols)
    reported = covered
    for col in count_cols:
        values = counts[col].astype("float64")
        if col != "reach":  # unknown reach stays NA even in reported months
            values = values.fillna(0)
        panel[col] = values.where(reported).round().astype("Int64")
    panel.insert(3, "is_reported", reported)
    panel["materials_per_10k"] = (
        panel["materials"].astype("Float64") / panel["population"] * domain.PER_RESIDENTS
    )

    # --- social reach ----------------------------------------------------------------------
    social = tables.social_reach
    if social is not None and not social.empty:
        s = in_grid(social).groupby(["district_id", "month"])
        posts = s["posts"].sum(min_count=1) if "posts" in social.columns else None
        users = s["users_reached"].sum(min_count=1) if "users_reached" in social.columns else None
    else:
        posts = users = None
    panel["social_posts"] = _aligned(posts, index, "Int64")
    panel["social_users_reached"] = _aligned(users, index, "Float64")

    # --- media plan ------------------------------------------------------------------------
    plan = tables.media_plan
    planned = actual = None
    if plan is not None and not plan.empty:
        g = in_grid(plan).groupby(["district_id", "month"])
        planned = g["planned"].sum(min_count=1)
        if "actual_reported" in plan.columns:
            actual = g["actual_reported"].sum(min_count=1)
    panel["planned"] = _aligned(planned, index, "Float64")
    panel["actual_reported"] = _aligned(actual, index, "Float64")
    panel["has_plan"] = panel["planned"].notna().to_numpy(dtype=bool)

    # --- outcomes --------------------------------------------------------------------------
    leg = tables.legalization
    apps = amount = has_leg = None
    if leg is not None and not leg.empty:
        g = in_grid(leg).groupby(["district_id", "month"])
        apps = g["applications"].sum(min_count=1) if "applications" in leg.columns else None
        amount = g["amount_kzt"].sum(min_count=1) if "amount_kzt" in leg.columns else None
        has_leg = g.size()
    panel["applications"] = _aligned(apps, index, "Int64")
    panel["amount_kzt"] = _aligned(amount, index, "Float64")
    panel["has_legalization"] = _aligned(has_leg, index, "Int64").notna().to_numpy(dtype=bool)

    panel["district_id"] = pd.Categorical(panel["district_id"], categories=ids, ordered=True)
    panel = panel.sort_values(["district_id", "month"], kind="stable").reset_index(drop=True)
    panel["district_id"] = panel["district_id"].astype(object)
    log.info("panel: %d rows, %d reported", len(panel), int(panel["is_reported"].sum()))
    return panel


def _aligned(values: pd.Series | None, index: pd.MultiIndex, dtype: str) -> pd.Series:
    """``values`` (indexed by district, month) aligned on ``index`` as a plain-indexed
    series of ``dtype``; all NA when ``None``."""
    if values is None:
        return pd.Series(pd.array([pd.NA] * len(index), dtype=dtype))
    aligned = pd.to_numeric(values.reindex(index), errors="coerce").astype("float64")
    if dtype == "Int64":
        aligned = aligned.round()
    return aligned.astype(dtype).reset_index(drop=True)


def region_materials(
    processed_dir_or_tables: CleanTables | str | os.PathLike[str],
    start_month: str | pd.Timestamp | None = None,
    end_month: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Region-level material (``district_id == "region"``) per month: ``month``,
    ``materials`` and ``materials_<channel>`` counts (0 where none), every month of the
    period.

    >>> from coverage_analysis.tables import CleanTables
    >>> pubs = pd.DataFrame({"district_id": ["region", "region", "semey"],
    ...     "month": pd.to_datetime(["2016-12-01"] * 3), "channel": ["tv", "social", "tv"]})
    >>> r = region_materials(CleanTables(publications=pubs), "2016-11", "2016-12")
    >>> r[["materials", "materials_tv", "materials_social"]].values.tolist()
    [[0, 0, 0], [2, 1, 1]]
    """
    tables = as_tables(processed_dir_or_tables)
    months = period_months(start_month, end_month)
    out = pd.DataFrame({"month": months})
    pubs = tables.publications
    if pubs is None:
        pubs = pd.DataFrame(
            {"district_id": [], "month": pd.Series(dtype="datetime64[ns]"), "channel": []}
        )
    region = pubs.loc[(pubs["district_id"] == domain.REGION_ID) & pubs["month"].isin(months)]
    channel = pd.Categorical(region["channel"], categories=list(domain.CHANNELS))
    wide = (
        region.assign(channel=channel)
        .groupby(["month", "channel"], observed=False)
        .size()
        .unstack("channel")
        .reindex(index=months, columns=list(domain.CHANNELS))
        .fillna(0)
        .astype("int64")
    )
    out["materials"] = (
        region.groupby("month").size().reindex(months).fillna(0).astype("int64").to_numpy()
    )
    for c in domain.CHANNELS:
        out[f"materials_{c}"] = wide[c].to_numpy()
    return out


def write_panel(processed_dir: str | os.PathLike[str], scope: str | None = None) -> Path:
    """Build the panel of ``processed_dir`` over the whole campaign and write it there as
    ``panel.parquet`` atomically (a temporary file, then ``os.replace``), with the
    generation of the cleaned tables and the scope in its metadata. A folder cleaned in
    another ``scope`` (default ``$COVERAGE_ANALYSIS_SCOPE``, else ``region``) is refused in
    one line. Returns the path.
    """
    from coverage_analysis import config
    from coverage_analysis.io.generation import GENERATION_KEY
    from coverage_analysis.schema import CLEANING_REPORT_FILE

    folder = Path(processed_dir)
    scope = config.activate_scope(config.resolve_scope(scope))
    report = folder / CLEANING_REPORT_FILE
    if report.is_file():
        config.check_scope(
            config.recorded_scope(report), scope, str(report), "coverage-analysis clean"
        )
    tables = analysis_tables(folder)  # refuses files from different runs
    panel = build_panel(tables)
    meta = {GENERATION_KEY: tables.generation.encode()} if tables.generation else {}
    meta[config.SCOPE_KEY.encode()] = scope.encode()
    target = write_parquet(panel, folder / PANEL_FILE, meta)
    log.info("panel written: %s (%d rows)", target, len(panel))
    return target
