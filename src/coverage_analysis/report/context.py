"""The report context: what every section shows, loaded once per processed folder and period.

Why a context: the tables, the panel, both model fits, the rating and the gap findings
take seconds to compute and are the same for all 21 notebooks of a batch. They are
loaded here once (``load_context``), kept in memory per kernel and, when
``$COVERAGE_ANALYSIS_REPORT_CACHE`` names a folder (the batch runner sets it), pickled
on disk. The cache key holds the processed folder's file names, sizes and times, the
period, a stamp of the package's source and the versions of the libraries that shape
the contents (pandas, numpy, scipy, matplotlib, seaborn, babel, pyarrow), so a cached
context never outlives its inputs, its code or its libraries. Anything that cannot be
computed is recorded in ``ReportContext.problems`` and the sections say "not available"
with that reason instead of failing.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import os
import pickle
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import pandas as pd

from coverage_analysis import domain
from coverage_analysis.reference import load_districts

log = logging.getLogger(__name__)

#: Environment variable naming a folder where loaded contexts are cached on disk
#: (the batch runner sets it to a folder inside the processed folder).
CACHE_ENV = "COVERAGE_ANALYSIS_REPORT_CACHE"
#: Name of the model summary written by ``coverage-analysis model``.
MODEL_SUMMARY_FILE = "model_summary.json"
#: Contexts kept in memory per process (a worker kernel serves many notebooks).
MEMORY_CACHE_SIZE = 4
#: Libraries whose versions shape a context's contents (part of the cache key).
CACHE_KEY_LIBRARIES: tuple[str, ...] = (
    "pandas",
    "numpy",
    "scipy",
    "pyarrow",
    "matplotlib",
    "seaborn",
    "babel",
    "python-calamine",
    "openpyxl",
)


@dataclass
class ReportContext:
    """Everything the sections need, loaded once per processed folder and period."""

    processed_dir: Path
    start_month: str | None
    end_month: str | None
    lang: str = "en"
    figures_dir: Path | None = None
    synthetic: bool = False
    districts: pd.DataFrame = field(default_factory=pd.DataFrame)
    tables: object | None = None
    panel: pd.DataFrame | None = None
    summary: pd.DataFrame | None = None
    model: object | None = None
    model_summary: dict | None = None
    problems: dict[str, str] = field(default_factory=dict)
    extras: dict[str, object] = field(default_factory=dict)
    #: ``region`` (East Kazakhstan) or ``national`` (the republic; ``districts`` then has
    #: ``region_id`` and ``extras`` the regions' rating).
    scope: str = "region"

    def name(self, district_id: str) -> str:
        """Display name of a district in the report language."""
        column = "name_ru" if self.lang == "ru" else "name_en"
        match = self.districts.loc[self.districts["district_id"] == district_id, column]
        return str(match.iloc[0]) if len(match) else district_id

    @property
    def months(self) -> pd.DatetimeIndex:
        """Months of the report period."""
        return domain.campaign_months(self.start_month, self.end_month)


def is_synthetic(processed_dir: str | os.PathLike[str]) -> bool:
    """Whether the processed folder was cleaned from the package's synthetic sample
    (``"synthetic": true`` in its ``cleaning_report.json``, written by the cleaner when
    the raw folder holds the generator's ``_truth/truth.json``).

    >>> is_synthetic(tempfile.mkdtemp())
    False
    """
    report_path = Path(processed_dir) / "cleaning_report.json"
    try:
        report = json.loads(report_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(report, dict) and report.get("synthetic") is True


def _code_stamp() -> str:
    """Stamp of the package's source files, so a cached context never outlives the code."""
    package = Path(__file__).resolve().parents[1]
    parts = [
        f"{p.relative_to(package)}:{p.stat().st_mtime_ns}" for p in sorted(package.rglob("*.py"))
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


@functools.lru_cache(maxsize=1)
def library_versions() -> str:
    """The installed versions of :data:`CACHE_KEY_LIBRARIES`, as one string of the cache key.

    >>> "pandas=" in library_versions()
    True
    """
    parts = []
    for name in CACHE_KEY_LIBRARIES:
        try:
            parts.append(f"{name}={version(name)}")
        except PackageNotFoundError:
            parts.append(f"{name}=-")
    return ",".join(parts)


def _folder_stamp(folder: Path) -> str:
    parts = []
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if path.is_file():
                st = path.stat()
                parts.append(f"{path.name}:{st.st_size}:{st.st_mtime_ns}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


_MEMORY: dict[tuple, ReportContext] = {}


def _try(problems: dict[str, str], key: str, func: Callable[[], object]) -> object | None:
    try:
        return func()
    except Exception as exc:  # a report shows what is missing rather than failing
        log.warning("%s not available: %s", key, exc)
        problems[key] = f"{type(exc).__name__}: {exc}"
        return None


def district_summary(panel: pd.DataFrame, districts: pd.DataFrame) -> pd.DataFrame:
    """Per-district totals of the panel: materials (reported months), per 10,000 residents
    per channel, applications, amount, plan, months reported, rank on materials per 10,000.

    >>> p = pd.DataFrame({"district_id": ["a", "a", "b"], "month": pd.to_datetime(
    ...     ["2016-01-01", "2016-02-01", "2016-01-01"]), "population": [10000, 10000, 20000],
    ...     "materials": [1, 3, 2], "is_reported": [True, True, True],
    ...     "applications": [5, 5, 2], "amount_kzt": [1.0, 1.0, 1.0], "planned": [2.0, 2.0, 1.0]})
    >>> s = district_summary(p, pd.DataFrame({"district_id": ["a", "b"], "lat": [1, 2],
    ...     "lon": [3, 4], "name_en": ["A", "B"], "name_ru": ["А", "Б"]}))
    >>> s[["district_id", "per_10k", "rank"]].values.tolist()
    [['a', 4.0, 1], ['b', 1.0, 2]]
    """
    cols = [c for c in panel.columns if c.startswith("materials_") and c[10:] in domain.CHANNELS]
    g = panel.groupby("district_id", sort=False)
    pop = g["population"].mean().astype(float)
    out = pd.DataFrame({"population": pop})
    out["materials"] = g["materials"].sum(min_count=1).astype(float)
    out["per_10k"] = out["materials"] / out["population"] * domain.PER_RESIDENTS
    for col in cols:
        out[col[10:]] = (
            g[col].sum(min_count=1).astype(float) / out["population"] * domain.PER_RESIDENTS
        )
    for col in ("applications", "amount_kzt", "planned"):
        out[col] = g[col].sum(min_count=1).astype(float) if col in panel else np.nan
    out["applications_per_10k"] = out["applications"] / out["population"] * domain.PER_RESIDENTS
    out["fulfilment_pct"] = 100.0 * out["materials"] / out["planned"].where(out["planned"] > 0)
    out["months_reported"] = g["is_reported"].sum().astype(int)
    out["months"] = g.size()
    out["rank"] = out["per_10k"].rank(ascending=False, method="min").astype("Int64")
    out = out.reset_index()
    ref = districts.set_index("district_id")
    for col in ("name_en", "name_ru", "lat", "lon"):
        out[col] = out["district_id"].map(ref[col]) if col in ref else None
    return out


def _fit_national(panel: pd.DataFrame) -> object:
    """The national scope's model: all districts of the republic pooled (district and month
    effects, inference clustered by district) with each region's own association beside
    it (:func:`coverage_analysis.models.national.fit_national_model`)."""
    from coverage_analysis.models.national import fit_national_model

    return fit_national_model(panel, outcome="applications")


def _load_uncached(processed_dir: Path, start: str | None, end: str | None) -> ReportContext:
    from coverage_analysis import config

    problems: dict[str, str] = {}
    ctx = ReportContext(processed_dir=processed_dir, start_month=start, end_month=end)
    ctx.scope = config.resolve_scope()
    ctx.districts = load_districts()
    ctx.synthetic = is_synthetic(processed_dir)

    def _tables() -> object:
        from coverage_analysis.tables import analysis_tables

        # (a national registry stays small in every worker and in the context's cache)
        return analysis_tables(processed_dir)

    ctx.tables = _try(problems, "tables", _tables)
    if ctx.tables is not None:

        def _panel() -> pd.DataFrame:
            from coverage_analysis.panel import build_panel

            return build_panel(ctx.tables, start, end)

        ctx.panel = _try(problems, "panel", _panel)
    if ctx.panel is not None:
        ctx.summary = _try(problems, "summary", lambda: district_summary(ctx.panel, ctx.districts))

        def _region() -> pd.DataFrame:
            from coverage_analysis.panel import region_materials

            return region_materials(ctx.tables, start, end)

        ctx.extras["region_materials"] = _try(problems, "region_materials", _region)
        if ctx.scope == "national":  # the pooled model; the regions' table beside it
            national = _try(problems, "model", lambda: _fit_national(ctx.panel))
            if national is not None:
                ctx.model = national.pooled  # type: ignore[attr-defined]
                ctx.extras["national_model"] = national
        else:
            ctx.model = _try(problems, "model", lambda: _fit_model(ctx.panel))
        if ctx.model is not None:
            for key, func in _MODEL_EXTRAS.items():
                ctx.extras[key] = _try(problems, key, lambda f=func: f(ctx.panel, ctx.model))
        for key, func in _METRIC_EXTRAS.items():
            ctx.extras[key] = _try(problems, key, lambda f=func: f(ctx))
        if ctx.scope == "national":
            for key, func in _NATIONAL_EXTRAS.items():
                ctx.extras[key] = _try(problems, key, lambda f=func: f(ctx))
    summary_path = processed_dir / MODEL_SUMMARY_FILE
    if summary_path.is_file():
        ctx.model_summary = _try(problems, "model_summary", lambda: _read_summary(processed_dir))
    ctx.problems = problems
    return ctx


def _read_summary(processed_dir: Path) -> dict:
    from coverage_analysis.models.summary import read_model_summary

    return read_model_summary(processed_dir)


def _fit_model(panel: pd.DataFrame) -> object:
    from coverage_analysis.models import fit_coverage_model

    return fit_coverage_model(panel, outcome="applications")


def _district_effects(panel: pd.DataFrame, result: object) -> object:
    from coverage_analysis.models import district_effects

    return district_effects(panel, result=result)


def _diagnostics(panel: pd.DataFrame, result: object) -> object:
    from coverage_analysis.models import diagnostics

    return diagnostics(panel, result)


def _cross_section(panel: pd.DataFrame, result: object) -> object:
    from coverage_analysis.models import cross_section

    return cross_section(panel)


def _amount_model(panel: pd.DataFrame, result: object) -> object:
    from coverage_analysis.models import fit_coverage_model

    # amounts reuse the applications decay (never a separate search)
    return fit_coverage_model(panel, outcome="amount_kzt", decay=result.decay)


#: Model outputs computed once per context (coverage_analysis.models).
_MODEL_EXTRAS: dict[str, Callable[[pd.DataFrame, object], object]] = {
    "model_amount": _amount_model,
    "district_effects": _district_effects,
    "diagnostics": _diagnostics,
    "cross_section": _cross_section,
}


def _metric_rating(ctx: ReportContext) -> object:
    from coverage_analysis.metrics import district_rating

    return district_rating(ctx.tables, start_month=ctx.start_month, end_month=ctx.end_month)


def _metric_sensitivity(ctx: ReportContext) -> object:
    from coverage_analysis.metrics import rating_sensitivity

    return rating_sensitivity(ctx.tables, start_month=ctx.start_month, end_month=ctx.end_month)


def _metric_gaps(lang: str) -> Callable[[ReportContext], object]:
    def gaps(ctx: ReportContext) -> object:
        from coverage_analysis.metrics import gap_findings

        return gap_findings(ctx.tables, ctx.start_month, ctx.end_month, lang=lang)

    return gaps


#: Metrics computed once per context (coverage_analysis.metrics).
_METRIC_EXTRAS: dict[str, Callable[[ReportContext], object]] = {
    "rating": _metric_rating,
    "rating_sensitivity": _metric_sensitivity,
    "gaps_en": _metric_gaps("en"),
    "gaps_ru": _metric_gaps("ru"),
}


def _district_indicators(ctx: ReportContext) -> object:
    from coverage_analysis.metrics import district_indicators

    return district_indicators(ctx.tables, ctx.start_month, ctx.end_month)


def _region_rating(ctx: ReportContext) -> object:
    from coverage_analysis.metrics.republic import region_indicators, region_rating_table

    indicators = ctx.extras.get("district_indicators")
    if not isinstance(indicators, pd.DataFrame):
        indicators = _district_indicators(ctx)
    return region_rating_table(region_indicators(indicators, ctx.districts))


#: National scope: the district indicators and the regions' rating, once per context.
_NATIONAL_EXTRAS: dict[str, Callable[[ReportContext], object]] = {
    "district_indicators": _district_indicators,
    "region_rating": _region_rating,
}


def load_context(
    processed_dir: str | os.PathLike[str] | None = None,
    start_month: str | None = None,
    end_month: str | None = None,
    lang: str = "en",
    figures_dir: str | os.PathLike[str] | None = None,
) -> ReportContext:
    """Load tables, panel, summaries and the model fit for a report.

    Results are cached in memory (a kernel that runs many notebooks loads once) and,
    when ``$COVERAGE_ANALYSIS_REPORT_CACHE`` names a folder, on disk, keyed by the
    folder's file names, sizes and times and by the period. Parameters are validated.
    """
    from coverage_analysis import config
    from coverage_analysis.report.params import validate_lang, validate_month

    start = validate_month(start_month, "start_month")
    end = validate_month(end_month, "end_month")
    lang = validate_lang(lang)
    folder = config.processed_dir(processed_dir).resolve()
    key = (
        str(folder),
        start,
        end,
        config.resolve_scope(),
        _folder_stamp(folder),
        _code_stamp(),
        library_versions(),
    )
    ctx = _MEMORY.get(key)
    if ctx is None:
        ctx = _load_from_disk(key) or _load_uncached(folder, start, end)
        _save_to_disk(key, ctx)
        if len(_MEMORY) >= MEMORY_CACHE_SIZE:
            _MEMORY.pop(next(iter(_MEMORY)))
        _MEMORY[key] = ctx
    return dataclasses.replace(
        ctx, lang=lang, figures_dir=Path(figures_dir) if figures_dir else None
    )


def _cache_path(key: tuple) -> Path | None:
    folder = os.environ.get(CACHE_ENV)
    if not folder:
        return None
    digest = hashlib.sha256(repr(key).encode()).hexdigest()[:24]
    return Path(folder) / f"context-{digest}.pkl"


def _load_from_disk(key: tuple) -> ReportContext | None:
    path = _cache_path(key)
    if path is None or not path.is_file():
        return None
    try:
        with path.open("rb") as fh:
            return pickle.load(fh)  # our own cache file, written below
    except Exception as exc:
        log.warning("ignoring unreadable report cache %s: %s", path, exc)
        return None


def _save_to_disk(key: tuple, ctx: ReportContext) -> None:
    path = _cache_path(key)
    if path is None or path.is_file():
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(ctx, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        stale = sorted(path.parent.glob("context-*.pkl"), key=lambda p: p.stat().st_mtime)
        for old in stale[:-MEMORY_CACHE_SIZE]:
            old.unlink(missing_ok=True)
    except Exception as exc:
        log.warning("report context not cached on disk: %s", exc)


def need(ctx: ReportContext, *attrs: str) -> str | None:
    """Why the first missing of ``attrs`` (``tables``, ``panel``, ``summary``...) is missing,
    or ``None`` when all are there: the reason every "not available" box shows."""
    for attr in attrs:
        if getattr(ctx, attr) is None:
            return (
                ctx.problems.get(attr)
                or ctx.problems.get("panel")
                or ctx.problems.get("tables", f"{attr} could not be built")
            )
    return None


def names(ctx: ReportContext, frame: pd.DataFrame) -> pd.Series:
    """Display names of ``frame``'s ``district_id`` column in the report language."""
    return frame["district_id"].map(ctx.name)
