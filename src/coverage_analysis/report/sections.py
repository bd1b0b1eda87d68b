"""The content of the reports: one function per section, called by the notebooks.

A notebook loads a :class:`ReportContext` once (``load_context``) and then
displays sections: each section function returns a :class:`Section`, whose
HTML (``_repr_html_``) holds escaped text, tables and embedded PNG figures.
Any section whose inputs are missing (no model, no media plan...) says what
is not available and why instead of failing, so a report always finishes.

Everything derived from data is escaped (``html.escape``, ``to_html(escape=True)``).

>>> s = Section("T<1>", ["<p>x</p>"])
>>> s._repr_html_().startswith("<section")
True
>>> "T&lt;1&gt;" in s._repr_html_()
True
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import html
import io
import json
import logging
import math
import os
import pickle
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from coverage_analysis import domain, figures
from coverage_analysis.errors import CoverageAnalysisError
from coverage_analysis.reference import load_districts

log = logging.getLogger(__name__)

#: Environment variable naming a folder where loaded contexts are cached on disk
#: (the batch runner sets it to a folder inside the reports folder).
CACHE_ENV = "COVERAGE_ANALYSIS_REPORT_CACHE"
#: Name of the model summary written by ``coverage-analysis model``.
MODEL_SUMMARY_FILE = "model_summary.json"
#: Significance level of the verdicts written in words.
ALPHA = 0.05
#: Contexts kept in memory per process (a worker kernel serves many notebooks).
MEMORY_CACHE_SIZE = 4
#: Rejected rows listed in full in a district's data-quality section.
MAX_REJECT_ROWS = 15

#: Report sentences in English and Russian. ``{}`` fields are filled with escaped values.
TEXT: dict[str, dict[str, str]] = {
    "en": {
        "region_title": "Coverage of the legalization campaign: East Kazakhstan region",
        "district_title": "Briefing: coverage of the legalization campaign, {name}",
        "diagnostics_title": "Coverage model diagnostics",
        "synthetic": "Synthetic sample data: every number and figure in this report comes from "
        "the package's generated sample, not from real registries.",
        "period": "Period: {start} to {end}. Data folder: {folder}.",
        "not_available": "Not available: {reason}",
        "model_unavailable": "Model not available: {reason}",
        "amount_model": "Amounts legalized",
        "amount_verdict_assoc": "More coverage is associated with larger amounts, and the placebo "
        "finds nothing (associated with, not caused by).",
        "amount_verdict_none": "No clear association of coverage with the amounts at the 5% level.",
        "amount_verdict_placebo": "Warning: future coverage also 'predicts' the amounts; the "
        "association is not evidence of coverage driving them.",
        "amount_text": "The same model for the amount legalized (tenge): {est} per doubling of "
        "coverage, 95% interval {lo} to {hi}, p = {p}; placebo p = {pp}.",
        "headline": "Headline numbers",
        "materials": "Materials",
        "per_10k": "Materials per 10,000 residents",
        "applications": "Applications",
        "amount": "Amount legalized, million tenge",
        "plan_fulfilment": "Plan fulfilment",
        "rank": "Rank",
        "gaps": "Gaps in plain words",
        "no_gaps": "No gaps found by the checks.",
        "plan": "Plan and actual",
        "plan_text": "Planned {planned} materials, {actual} found in the registries ({pct}).",
        "ranking": "Rating among districts",
        "rank_text": "{name} ranks {rank} of {n} districts in the coverage rating.",
        "sensitivity": "Under other weightings of the rating its rank ranges over {ranks}.",
        "sensitivity_fixed": "Under other weightings of the rating its rank stays {ranks}.",
        "own_effect": "This district's own series: {est} per doubling (95% interval {lo} to "
        "{hi}), against {pooled} for all districts pooled. Few months: read it as a check, "
        "not a finding.",
        "own_effect_none": "This district's own series: {reason}. The pooled estimate above "
        "applies.",
        "briefing": "Akim briefing as of {month}",
        "briefing_text": "What the akim is asked to report: applications, amounts, materials and "
        "reach, plan fulfilment, rank and gaps.",
        "heatmap": "Channels per 10,000 residents",
        "calendar": "Monthly coverage and the campaign calendar",
        "map": "Map of district centres",
        "cross_section": "Coverage and applications across districts (descriptive)",
        "spearman": "Spearman rank correlation {rho} (95% interval {lo} to {hi}, p = {p}, "
        "{n} districts).",
        "caveat": "Caveat: {caveat}",
        "cross_text": "Each point is a district over the whole period. This is a plain "
        "comparison: it does not account for the calendar or each district's own level.",
        "model": "Association of coverage with applications",
        "method": "Method: {method}. Intervals: {ci}.",
        "estimate_text": "Estimate: {est} ({unit}); 95% interval {lo} to {hi}; p = {p}.",
        "placebo_text": "Placebo (coverage one month after the outcome): {est}; 95% interval "
        "{lo} to {hi}; p = {p}.",
        "verdict_assoc": "More coverage is associated with more applications, and the placebo "
        "finds nothing: the pattern is consistent with coverage leading applications. This is "
        "observational data: associated with, not caused by.",
        "verdict_none": "No clear association between coverage and applications at the 5% "
        "level; the interval includes no effect.",
        "verdict_placebo": "Warning: future coverage also 'predicts' applications (placebo "
        "p < 0.05). The association is therefore not evidence of coverage driving applications; "
        "briefings reporting applications may drive coverage instead.",
        "adstock": "Carry-over of coverage",
        "decay_none": "Carry-over: a material counts in the month it appears only.",
        "decay_some": "Carry-over: a material keeps {pct} of its weight the next month "
        "(half-life {hl} months).",
        "forest": "Association by district",
        "forest_text": "Each district's own slope over its months with the region's month effects "
        "as offset; the band is the pooled estimate. Few months per district: wide intervals, "
        "cut at the plot edge.",
        "effect_beta": "Slope per doubling of coverage (0 = no association; 95% interval)",
        "wi_own": "District's materials per 10,000 residents per month",
        "wi_median": "Region's median materials per 10,000 residents per month",
        "wi_observed": "Applications observed",
        "wi_expected": "Expected at actual coverage (model)",
        "wi_cf": "Expected at the median coverage (model)",
        "wi_diff": "Difference (95% interval)",
        "whatif": "What if: the region's typical coverage",
        "whatif_text": "Had {name} published at the region's median coverage per 10,000 "
        "residents, the model associates that with a change of about {delta} applications "
        "({pct}) over the period. A model-based scenario, not a promise.",
        "model_unit": "percent change in expected applications for a doubling of (1 + carry-over "
        "materials per 10,000 residents)",
        "model_method": "Poisson quasi-likelihood regression (PPML) with district and month "
        "effects and population as exposure",
        "model_ci": "wild cluster bootstrap by district (Webb weights)",
        "model_caveat": "observational data: associated with, never caused by.",
        "quality": "Data quality",
        "unreported": "Months without any registry (unknown, not zero): {n} of {total}: {months}.",
        "rejects_n": "Rows rejected while cleaning that concern this district: {n}.",
        "rejects_total": "Rows rejected while cleaning: {n}; by reason below.",
        "quality_method": "Rejects are linked to a district by their source file (files holding "
        "its publications) or by naming the district in the rejected value.",
        "none": "none",
        "decay_search": "Choice of carry-over decay",
        "overdispersion": "Overdispersion",
        "loo": "Leave one district out",
        "residuals": "Residuals by month",
        "collinearity": "Channel collinearity",
        "placebo": "Placebo test",
        "rating": "District rating",
        "reported": "reported",
        "rank_range": "Rank under other weights",
        "similar": "Similar districts (closest population)",
        "population": "Population",
        "applications_per_10k": "Applications per 10,000 residents",
        "district": "District",
        "score": "Score (0-100)",
        "rating_method": "Score: weighted mean of percentile ranks of the coverage indicators "
        "(per 10,000 residents, channels used, plan fulfilment...). Rank range: the lowest to "
        "the highest rank when the weights are redrawn at random.",
    },
    "ru": {
        "region_title": "Освещение кампании по легализации: Восточно-Казахстанская область",
        "district_title": "Справка: освещение кампании по легализации, {name}",
        "diagnostics_title": "Диагностика модели освещения",
        "synthetic": "Синтетические демонстрационные данные: все числа и графики этой справки "
        "получены из сгенерированного примера, а не из реальных реестров.",
        "period": "Период: с {start} по {end}. Папка данных: {folder}.",
        "not_available": "Нет данных: {reason}",
        "model_unavailable": "Модель недоступна: {reason}",
        "amount_model": "Легализованные суммы",
        "amount_verdict_assoc": "Больше освещения связано с большими суммами, а плацебо ничего не "
        "находит (связь, а не причина).",
        "amount_verdict_none": "Явной связи освещения с суммами на уровне 5% нет.",
        "amount_verdict_placebo": "Внимание: будущее освещение тоже «предсказывает» суммы; связь не "
        "свидетельствует о влиянии освещения.",
        "amount_text": "Та же модель для легализованной суммы (тенге): {est} при удвоении "
        "освещения, 95% интервал от {lo} до {hi}, p = {p}; плацебо p = {pp}.",
        "headline": "Основные показатели",
        "materials": "Материалы",
        "per_10k": "Материалов на 10 000 жителей",
        "applications": "Заявления",
        "amount": "Легализовано, млн тенге",
        "plan_fulfilment": "Выполнение плана",
        "rank": "Место",
        "gaps": "Пробелы простыми словами",
        "no_gaps": "Проверки пробелов не выявили.",
        "plan": "План и факт",
        "plan_text": "Запланировано материалов: {planned}, найдено в реестрах: {actual} ({pct}).",
        "ranking": "Место среди районов",
        "rank_text": "{name}: {rank} место из {n} в рейтинге освещения.",
        "sensitivity": "При других весах рейтинга место меняется в пределах {ranks}.",
        "sensitivity_fixed": "При других весах рейтинга место не меняется: {ranks}.",
        "own_effect": "Собственный ряд района: {est} на удвоение (95% интервал от {lo} до "
        "{hi}) против {pooled} по всем районам вместе. Месяцев мало: это проверка, а не "
        "вывод.",
        "own_effect_none": "Собственный ряд района: {reason}. Действует общая оценка выше.",
        "briefing": "Справка для брифинга акима на {month}",
        "briefing_text": "Что аким должен доложить: заявления, суммы, материалы и охват, "
        "выполнение плана, место в рейтинге и недоработки.",
        "heatmap": "Каналы на 10 000 жителей",
        "calendar": "Освещение по месяцам и календарь кампании",
        "map": "Карта центров районов",
        "cross_section": "Освещение и заявления по районам (описательно)",
        "spearman": "Ранговая корреляция Спирмена {rho} (95% интервал от {lo} до {hi}, "
        "p = {p}, районов: {n}).",
        "caveat": "Оговорка: {caveat}",
        "cross_text": "Каждая точка — район за весь период. Это простое сравнение: календарь и "
        "собственный уровень района не учтены.",
        "model": "Связь освещения с заявлениями",
        "method": "Метод: {method}. Интервалы: {ci}.",
        "estimate_text": "Оценка: {est} ({unit}); 95% интервал от {lo} до {hi}; p = {p}.",
        "placebo_text": "Плацебо (освещение через месяц после результата): {est}; 95% интервал "
        "от {lo} до {hi}; p = {p}.",
        "verdict_assoc": "Больше освещения связано с большим числом заявлений, а плацебо ничего "
        "не находит: картина согласуется с тем, что освещение предшествует заявлениям. Данные "
        "наблюдательные: речь о связи, а не о причине.",
        "verdict_none": "Явной связи освещения с заявлениями на уровне 5% нет; интервал "
        "включает отсутствие эффекта.",
        "verdict_placebo": "Внимание: будущее освещение тоже «предсказывает» заявления (плацебо "
        "p < 0,05). Поэтому связь не свидетельствует о влиянии освещения на заявления; возможно, "
        "наоборот, отчёты о заявлениях порождают публикации.",
        "adstock": "Последействие освещения",
        "decay_none": "Последействие: материал учитывается только в месяц публикации.",
        "decay_some": "Последействие: в следующем месяце материал сохраняет {pct} веса "
        "(период полураспада {hl} мес.).",
        "forest": "Связь по районам",
        "forest_text": "Собственный наклон каждого района по его месяцам с эффектами месяцев "
        "области; полоса — общая оценка. Месяцев на район мало: интервалы широкие и обрезаны "
        "краем графика.",
        "effect_beta": "Наклон на удвоение освещения (0 — нет связи; 95% интервал)",
        "wi_own": "Материалов района на 10 000 жителей в месяц",
        "wi_median": "Медиана области: материалов на 10 000 жителей в месяц",
        "wi_observed": "Заявлений фактически",
        "wi_expected": "Ожидается при фактическом освещении (модель)",
        "wi_cf": "Ожидается при медианном освещении (модель)",
        "wi_diff": "Разница (95% интервал)",
        "whatif": "Что если: типичный для области уровень освещения",
        "whatif_text": "Если бы {name} публиковал материалы на уровне медианы области на 10 000 "
        "жителей, модель связывает это с изменением числа заявлений примерно на {delta} ({pct}) "
        "за период. Это модельный сценарий, а не обещание.",
        "model_unit": "процентное изменение ожидаемого числа заявлений при удвоении (1 + "
        "материалов с последействием на 10 000 жителей)",
        "model_method": "пуассоновская квазиправдоподобная регрессия (PPML) с эффектами района и "
        "месяца и численностью населения как экспозицией",
        "model_ci": "дикий кластерный бутстреп по районам (веса Уэбба)",
        "model_caveat": "данные наблюдательные: речь о связи, а не о причинно-следственном "
        "влиянии.",
        "quality": "Качество данных",
        "unreported": "Месяцы без реестра (неизвестно, а не ноль): {n} из {total}: {months}.",
        "rejects_n": "Отклонённых при очистке строк, относящихся к району: {n}.",
        "rejects_total": "Отклонённых при очистке строк: {n}; по причинам ниже.",
        "quality_method": "Отклонённые строки относятся к району по исходному файлу (файлы с его "
        "публикациями) или по упоминанию района в отклонённом значении.",
        "none": "нет",
        "decay_search": "Выбор затухания последействия",
        "overdispersion": "Сверхдисперсия",
        "loo": "Исключение по одному району",
        "residuals": "Остатки по месяцам",
        "collinearity": "Коллинеарность каналов",
        "placebo": "Плацебо-тест",
        "rating": "Рейтинг районов",
        "reported": "есть отчёт",
        "rank_range": "Место при других весах",
        "similar": "Похожие районы (близкие по численности населения)",
        "population": "Население",
        "applications_per_10k": "Заявлений на 10 000 жителей",
        "district": "Район",
        "score": "Балл (0-100)",
        "rating_method": "Балл: взвешенное среднее процентильных рангов показателей освещения "
        "(на 10 000 жителей, число каналов, выполнение плана...). Диапазон мест: места при "
        "случайно перевыбранных весах (от минимума до максимума).",
    },
}


def text(key: str, lang: str = "en", **values: object) -> str:
    """Sentence ``key`` in ``lang`` with ``values`` HTML-escaped and filled in.

    >>> text("not_available", "en", reason="<b>")
    'Not available: &lt;b&gt;'
    """
    template = html.escape(TEXT[lang][key], quote=False)
    return template.format(**{k: html.escape(str(v)) for k, v in values.items()})


@dataclass
class Section:
    """One report section: a heading and already-escaped HTML parts."""

    title: str
    parts: list[str] = field(default_factory=list)
    level: int = 2

    def _repr_html_(self) -> str:
        tag = f"h{self.level}"
        head = f"<{tag}>{html.escape(self.title)}</{tag}>" if self.title else ""
        return f"<section class='ca-section'>{head}{''.join(self.parts)}</section>"

    def __repr__(self) -> str:  # plain-text fallback, e.g. in a terminal
        return f"Section({self.title!r}, {len(self.parts)} parts)"


class Sections(list):
    """A list of sections that displays as one HTML block in a notebook.

    >>> "<h2>A</h2>" in Sections([Section("A")])._repr_html_()
    True
    """

    def _repr_html_(self) -> str:
        return "".join(s._repr_html_() for s in self)


def para(body: str, cls: str | None = None) -> str:
    """A paragraph of already-escaped ``body``."""
    attr = f" class='{cls}'" if cls else ""
    return f"<p{attr}>{body}</p>"


def unavailable(reason: object, lang: str = "en") -> str:
    """A "not available: reason" box."""
    return f"<div class='ca-unavailable'>{text('not_available', lang, reason=reason)}</div>"


def table_html(frame: pd.DataFrame, index: bool = False, float_format: str = "{:,.1f}") -> str:
    """``frame`` as an escaped HTML table.

    >>> "&lt;script&gt;" in table_html(pd.DataFrame({"a": ["<script>"]}))
    True
    """
    return frame.to_html(
        index=index,
        escape=True,
        na_rep="—",
        border=0,
        float_format=lambda v: float_format.format(v),
        classes="ca-table",
    )


def figure_html(
    ax: plt.Axes, name: str | None = None, figures_dir: str | Path | None = None
) -> str:
    """Embed ``ax``'s figure as a base64 PNG ``<img>``; also save it as PNG+SVG to
    ``figures_dir`` when given. The figure is closed."""
    fig = ax.figure
    try:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=figures.FIGURE_DPI, bbox_inches="tight")
        if figures_dir is not None and name:
            # the PNG is the embedded one (drawn once); the SVG is drawn separately
            svg = figures.save_figure(fig, name, figures_dir, formats=("svg",))[0]
            svg.with_suffix(".png").write_bytes(buffer.getvalue())
    finally:
        plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f"<figure><img alt='{html.escape(name or 'figure')}' src='data:image/png;base64,{data}'/></figure>"


def _fmt(value: object, digits: int = 2) -> str:
    """A number for text: thousands separated, ``—`` for missing.

    >>> _fmt(1234.567, 1), _fmt(None), _fmt(float("nan"))
    ('1,234.6', '—', '—')
    """
    if value is None:
        return "—"
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return "—"
    return f"{number:,.{digits}f}"


def _pct(value: object) -> str:
    """A signed percent for text, ``—`` for missing or unbounded.

    >>> _pct(30.172), _pct(-3.86), _pct(None)
    ('+30.2%', '-3.9%', '—')
    """
    text_value = _fmt(value, 1)
    if text_value == "—" or text_value in ("inf", "-inf"):
        return "—"
    return text_value + "%" if text_value.startswith("-") else "+" + text_value + "%"


# --------------------------------------------------------------------------------------------
# context


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


@functools.lru_cache(maxsize=1)
def _code_stamp() -> str:
    """Stamp of the package's source files, so a cached context never outlives the code."""
    package = Path(__file__).resolve().parents[1]
    parts = [
        f"{p.relative_to(package)}:{p.stat().st_mtime_ns}" for p in sorted(package.rglob("*.py"))
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


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


def _load_uncached(processed_dir: Path, start: str | None, end: str | None) -> ReportContext:
    problems: dict[str, str] = {}
    ctx = ReportContext(processed_dir=processed_dir, start_month=start, end_month=end)
    ctx.districts = load_districts()
    ctx.synthetic = is_synthetic(processed_dir)

    def _tables() -> object:
        from coverage_analysis.tables import load_tables

        return load_tables(processed_dir)

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
        ctx.model = _try(problems, "model", lambda: _fit_model(ctx.panel))
        if ctx.model is not None:
            for key, func in _MODEL_EXTRAS.items():
                ctx.extras[key] = _try(problems, key, lambda f=func: f(ctx.panel, ctx.model))
        for key, func in _METRIC_EXTRAS.items():
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
    key = (str(folder), start, end, _folder_stamp(folder), _code_stamp())
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


# --------------------------------------------------------------------------------------------
# model helpers


def _model_dict(ctx: ReportContext) -> dict | None:
    """The applications model as the typed ``model_summary.json`` entry: the
    fit of this context (``CoverageModelResult.to_dict()``), else the
    validated summary file."""
    if ctx.model is not None:
        return ctx.model.to_dict()
    return ctx.model_summary


def _model_source(ctx: ReportContext) -> tuple[dict | None, str | None]:
    """The applications model dict (schema of ``model_summary.json``) and, when
    absent or not fitted, the reason."""
    data = _model_dict(ctx)
    if data is not None:
        if isinstance(data.get("applications"), dict):
            data = data["applications"]
        if data.get("status", "ok") != "ok":
            return None, str(data.get("error"))
        return data, None
    reason = ctx.problems.get("model") or ctx.problems.get("panel") or ctx.problems.get("tables")
    return None, reason or "no model fit and no model_summary.json in the processed folder"


def decay_sentence(decay: float, lang: str = "en") -> str:
    """The chosen carry-over decay in words.

    >>> decay_sentence(0.5)
    'Carry-over: a material keeps 50% of its weight the next month (half-life 1.0 months).'
    >>> decay_sentence(0.0, "ru")
    'Последействие: материал учитывается только в месяц публикации.'
    """
    if decay <= 0:
        return text("decay_none", lang)
    return text(
        "decay_some", lang, pct=f"{100 * decay:.0f}%", hl=f"{math.log(0.5) / math.log(decay):.1f}"
    )


def model_verdict(result: dict) -> str:
    """``"placebo"`` when the placebo leads are flagged, ``"assoc"`` when only the
    coverage effect is significant (primary p-value), else ``"none"``; ``result`` is a
    model entry of ``model_summary.json``.

    >>> model_verdict({"coverage_effect": {"p_value": 0.01}, "placebo_flagged": False})
    'assoc'
    >>> model_verdict({"coverage_effect": {"p_value": 0.01}, "placebo_flagged": True})
    'placebo'
    """
    if result["placebo_flagged"]:
        return "placebo"
    p_cov = result["coverage_effect"]["p_value"]
    if p_cov is not None and float(p_cov) < ALPHA:
        return "assoc"
    return "none"


# --------------------------------------------------------------------------------------------
# sections shared by the reports


def _need(ctx: ReportContext, *attrs: str) -> str | None:
    for attr in attrs:
        if getattr(ctx, attr) is None:
            return (
                ctx.problems.get(attr)
                or ctx.problems.get("panel")
                or ctx.problems.get("tables", f"{attr} could not be built")
            )
    return None


def header(ctx: ReportContext, kind: str = "region", district_id: str | None = None) -> Section:
    """Title, synthetic-data notice and the period of a report."""
    from coverage_analysis.report.params import validate_district

    lang = ctx.lang
    if kind == "district":
        district_id = validate_district(district_id)
    if kind == "district" and district_id is not None:
        title = TEXT[lang]["district_title"].format(name=ctx.name(district_id))
    else:
        title = TEXT[lang][f"{kind}_title"]
    parts = []
    if ctx.synthetic:
        parts.append(f"<div class='ca-notice'>{text('synthetic', lang)}</div>")
    months = ctx.months
    parts.append(
        para(
            text(
                "period",
                lang,
                start=f"{months[0]:%Y-%m}",
                end=f"{months[-1]:%Y-%m}",
                folder=ctx.processed_dir.name,
            ),
            "ca-muted",
        )
    )
    return Section(title, parts, level=1)


def _names(ctx: ReportContext, frame: pd.DataFrame) -> pd.Series:
    return frame["district_id"].map(ctx.name)


def rating_table(ctx: ReportContext) -> pd.DataFrame:
    """Per district: rating score and rank (``metrics.district_rating``; else rank on
    materials per 10,000 residents), the rank range under other weights, and the
    headline indicators; sorted by rank."""
    s = ctx.summary.copy()
    rating = ctx.extras.get("rating")
    if isinstance(rating, pd.DataFrame) and {"district_id", "score", "rank"} <= set(rating):
        s = s.drop(columns=["rank"]).merge(
            rating[["district_id", "score", "rank"]], on="district_id", how="left"
        )
    else:
        s["score"] = s["per_10k"]
    sens = ctx.extras.get("rating_sensitivity")
    if isinstance(sens, pd.DataFrame) and {"district_id", "rank_min", "rank_max"} <= set(sens):
        s = s.merge(sens[["district_id", "rank_min", "rank_max"]], on="district_id", how="left")
    else:
        s["rank_min"] = s["rank_max"] = s["rank"]
    return s.sort_values(["rank", "district_id"], na_position="last").reset_index(drop=True)


def _rank_range(row: pd.Series) -> str:
    lo, hi = row.get("rank_min"), row.get("rank_max")
    if pd.isna(lo) or pd.isna(hi):
        return "—"
    return f"{int(lo)}" if lo == hi else f"{int(lo)}–{int(hi)}"


def rating_section(ctx: ReportContext) -> Section:
    """Region: the district rating table (score, rank, rank range under other weights,
    indicators) and ranking bars."""
    lang = ctx.lang
    sec = Section(text("rating", lang))
    reason = _need(ctx, "summary")
    if reason:
        sec.parts.append(unavailable(reason, lang))
        return sec
    s = rating_table(ctx)
    shown = pd.DataFrame(
        {
            TEXT[lang]["rank"]: s["rank"],
            TEXT[lang]["rank_range"]: s.apply(_rank_range, axis=1),
            TEXT[lang]["district"]: _names(ctx, s),
            TEXT[lang]["score"]: s["score"],
            TEXT[lang]["per_10k"]: s["per_10k"],
            TEXT[lang]["materials"]: s["materials"].round().astype("Int64"),
            TEXT[lang]["applications"]: s["applications"].round().astype("Int64"),
            TEXT[lang]["plan_fulfilment"] + ", %": s["fulfilment_pct"],
        }
    )
    sec.parts.append(table_html(shown))
    sec.parts.append(para(text("rating_method", lang), "ca-muted"))
    bars = s.assign(name=_names(ctx, s))
    ax = figures.plot_district_ranking(bars, lang=lang, synthetic=ctx.synthetic)
    sec.parts.append(figure_html(ax, "region_ranking", ctx.figures_dir))
    return sec


def heatmap_section(ctx: ReportContext) -> Section:
    """Region: district × channel heat map per 10,000 residents."""
    lang = ctx.lang
    sec = Section(text("heatmap", lang))
    reason = _need(ctx, "summary")
    if reason:
        sec.parts.append(unavailable(reason, lang))
        return sec
    s = ctx.summary.set_index(_names(ctx, ctx.summary))
    cols = [c for c in domain.CHANNELS if c in s.columns]
    ax = figures.plot_channel_heatmap(s[cols], lang=lang, synthetic=ctx.synthetic)
    sec.parts.append(figure_html(ax, "region_channel_heatmap", ctx.figures_dir))
    return sec


def calendar_section(ctx: ReportContext, district_id: str | None = None) -> Section:
    """Monthly materials by channel against the deadline calendar (region or one district)."""
    lang = ctx.lang
    sec = Section(text("calendar", lang))
    reason = _need(ctx, "panel")
    if reason:
        sec.parts.append(unavailable(reason, lang))
        return sec
    frame = ctx.panel
    if district_id is not None:
        frame = frame.loc[frame["district_id"] == district_id]
    else:
        region = ctx.extras.get("region_materials")
        if isinstance(region, pd.DataFrame):
            frame = pd.concat([frame, region], ignore_index=True)
    cols = figures.channel_columns(frame)
    data = frame[["month", *cols]].astype({c: "float64" for c in cols})
    name = f"district_{district_id}_calendar" if district_id else "region_calendar"
    ax = figures.plot_calendar(data, lang=lang, synthetic=ctx.synthetic)
    sec.parts.append(figure_html(ax, name, ctx.figures_dir))
    return sec


def map_section(ctx: ReportContext) -> Section:
    """Region: district centres sized and coloured by coverage per 10,000 residents."""
    lang = ctx.lang
    sec = Section(text("map", lang))
    reason = _need(ctx, "summary")
    if reason:
        sec.parts.append(unavailable(reason, lang))
        return sec
    s = ctx.summary.assign(name=_names(ctx, ctx.summary), coverage_per_10k=ctx.summary["per_10k"])
    ax = figures.plot_district_map(s, lang=lang, synthetic=ctx.synthetic)
    sec.parts.append(figure_html(ax, "region_map", ctx.figures_dir))
    return sec


def plan_section(ctx: ReportContext, district_id: str | None = None) -> Section:
    """Plan against actual: by district (region) or by channel (one district)."""
    lang = ctx.lang
    sec = Section(text("plan", lang))
    tables = ctx.tables
    plan = getattr(tables, "media_plan", None)
    if plan is None or ctx.summary is None:
        sec.parts.append(unavailable(ctx.problems.get("tables", "no media plan table"), lang))
        return sec
    months = ctx.months
    plan = plan.loc[plan["month"].between(months[0], months[-1])]
    if district_id is None:
        s = ctx.summary
        data = s.assign(name=_names(ctx, s), actual=s["materials"])[["name", "planned", "actual"]]
        name = "region_plan_vs_actual"
    else:
        p = plan.loc[plan["district_id"] == district_id]
        planned = p.groupby("channel")["planned"].sum(min_count=1).astype(float)
        rows = ctx.panel.loc[ctx.panel["district_id"] == district_id]
        actual = pd.Series(
            {
                c: float(rows[f"materials_{c}"].sum())
                for c in domain.CHANNELS
                if f"materials_{c}" in rows
            }
        )
        keep = sorted(
            set(planned.index) | set(actual[actual > 0].index),
            key=lambda c: domain.CHANNELS.index(c) if c in domain.CHANNELS else 99,
        )
        data = pd.DataFrame(
            {
                "name": [figures.channel_label(c, lang) for c in keep],
                "planned": [planned.get(c, np.nan) for c in keep],
                "actual": [actual.get(c, 0.0) for c in keep],
            }
        )
        one = ctx.summary.loc[ctx.summary["district_id"] == district_id].iloc[0]
        pct = "—" if pd.isna(one["fulfilment_pct"]) else f"{one['fulfilment_pct']:.0f}%"
        sec.parts.append(
            para(
                text(
                    "plan_text",
                    lang,
                    planned=_fmt(one["planned"], 0),
                    actual=_fmt(one["materials"], 0),
                    pct=pct,
                )
            )
        )
        name = f"district_{district_id}_plan_vs_actual"
    if data.empty:
        sec.parts.append(unavailable("no plan rows for this period", lang))
        return sec
    ax = figures.plot_plan_vs_actual(data, lang=lang, synthetic=ctx.synthetic)
    sec.parts.append(figure_html(ax, name, ctx.figures_dir))
    return sec


def cross_section_section(ctx: ReportContext) -> Section:
    """Region: coverage against applications per capita, one point per district."""
    lang = ctx.lang
    sec = Section(text("cross_section", lang))
    reason = _need(ctx, "summary")
    if reason:
        sec.parts.append(unavailable(reason, lang))
        return sec
    s = ctx.summary.assign(name=_names(ctx, ctx.summary), coverage_per_10k=ctx.summary["per_10k"])
    sec.parts.append(para(text("cross_text", lang)))
    cross = ctx.extras.get("cross_section")
    if isinstance(cross, dict) and cross.get("spearman_rho") is not None:
        sec.parts.append(
            para(
                text(
                    "spearman",
                    lang,
                    rho=_fmt(cross.get("spearman_rho"), 2),
                    lo=_fmt(cross.get("ci_low"), 2),
                    hi=_fmt(cross.get("ci_high"), 2),
                    p=_fmt(cross.get("p_value"), 3),
                    n=cross.get("n_districts", "—"),
                )
            )
        )
    ax = figures.plot_coverage_vs_applications(s, lang=lang, synthetic=ctx.synthetic)
    sec.parts.append(figure_html(ax, "region_cross_section", ctx.figures_dir))
    return sec


def model_section(ctx: ReportContext, district_id: str | None = None) -> Section:
    """The pooled association with its placebo verdict, method and intervals, the carry-over
    curve and (region) the per-district forest plot."""
    lang = ctx.lang
    sec = Section(text("model", lang))
    data, reason = _model_source(ctx)
    if data is None:
        sec.parts.append(
            f"<div class='ca-unavailable'>{text('model_unavailable', lang, reason=reason)}</div>"
        )
        return sec
    from coverage_analysis.models import describe

    cov = data["coverage_effect"]
    sec.parts.append(para(html.escape(describe.effect_sentence("applications", cov, lang))))
    for sentence in describe.sensitivity_sentences(data, lang):
        sec.parts.append(para(html.escape(sentence), "ca-muted"))
    sec.parts.append(para(html.escape(describe.placebo_sentence(data, lang))))
    verdict = model_verdict(data)
    mixed = describe.disagreement_sentence(cov, lang)
    if verdict != "placebo" and mixed:
        sec.parts.append(para(f"<b>{html.escape(mixed)}</b>"))
    else:
        sec.parts.append(para(f"<b>{text('verdict_' + verdict, lang)}</b>"))
    method = str(data["method"]).rstrip(". ")
    ci = str(data["inference"]).rstrip(". ")
    caveat = data["caveat"]
    if lang != "en":
        method, ci = describe.method_short(lang), describe.inference_short(lang)
        caveat = TEXT[lang]["model_caveat"]
    sec.parts.append(para(text("method", lang, method=method, ci=ci), "ca-muted"))
    sec.parts.append(para(text("caveat", lang, caveat=caveat), "ca-muted"))
    for warning in data["warnings"]:
        sec.parts.append(para(html.escape(str(warning)), "ca-muted"))
    decay = float(data["decay"])
    sec.parts.append(para(decay_sentence(decay, lang)))
    if district_id is None:  # the curve is region-wide: drawn once, in the region report
        try:
            ax = figures.plot_adstock_curve(decay, lang=lang, synthetic=ctx.synthetic)
            sec.parts.append(f"<h3>{text('adstock', lang)}</h3>")
            sec.parts.append(figure_html(ax, "region_adstock", ctx.figures_dir))
        except (TypeError, ValueError) as exc:
            log.warning("no adstock curve: %s", exc)
    relation = data.get("fitted_relation")
    if (
        district_id is None
        and isinstance(relation, dict)
        and relation.get("coverage_index") is not None
    ):
        ax = figures.plot_fitted_relation(relation, lang=lang, synthetic=ctx.synthetic)
        sec.parts.append(figure_html(ax, "region_fitted_relation", ctx.figures_dir))
    amount = ctx.extras.get("model_amount")
    if district_id is None and amount is not None:
        a_data = amount.to_dict()
        a_cov = a_data["coverage_effect"]
        sec.parts.append(f"<h3>{text('amount_model', lang)}</h3>")
        sec.parts.append(para(html.escape(describe.effect_sentence("amount_kzt", a_cov, lang))))
        parts = describe.decomposition_sentence(a_data, lang)
        if parts:
            sec.parts.append(para(html.escape(parts)))
        sec.parts.append(para(html.escape(describe.placebo_sentence(a_data, lang)), "ca-muted"))
        a_mixed = describe.disagreement_sentence(a_cov, lang)
        a_verdict = model_verdict(a_data)
        if a_verdict != "placebo" and a_mixed:
            sec.parts.append(para(html.escape(a_mixed)))
        else:
            sec.parts.append(para(text("amount_verdict_" + a_verdict, lang)))
    effects = ctx.extras.get("district_effects")
    if (
        district_id is None
        and isinstance(effects, pd.DataFrame)
        and {"district_id", "estimate", "ci_low", "ci_high"} <= set(effects.columns)
    ):
        ok = effects["status"].eq("ok") if "status" in effects else True
        rows = effects.loc[ok & effects["district_id"].ne("pooled")]
        pooled = effects.loc[effects["district_id"].eq("pooled")]
        pooled_row = pooled.iloc[0].to_dict() if len(pooled) else cov
        sec.parts.append(f"<h3>{text('forest', lang)}</h3>")
        sec.parts.append(para(text("forest_text", lang), "ca-muted"))
        if {"beta", "beta_ci_low", "beta_ci_high"} <= set(rows.columns):
            scale = {"beta": "estimate", "beta_ci_low": "ci_low", "beta_ci_high": "ci_high"}
            rows = rows.drop(columns=list(scale.values())).rename(columns=scale)
            pooled_row = {
                scale.get(k, k): v for k, v in pooled_row.items() if k not in scale.values()
            }
        ax = figures.plot_forest(
            rows.assign(name=_names(ctx, rows)),
            lang=lang,
            synthetic=ctx.synthetic,
            pooled=pooled_row,
            xlabel=TEXT[lang]["effect_beta"],
        )
        sec.parts.append(figure_html(ax, "region_forest", ctx.figures_dir))
    if district_id is not None:
        sec.parts.append(_own_effect_paragraph(ctx, district_id, cov))
    return sec


def _own_effect_paragraph(ctx: ReportContext, district_id: str, pooled: dict) -> str:
    """District: its own time-series association beside the pooled estimate, or why there
    is none ("not enough data")."""
    lang = ctx.lang
    effects = ctx.extras.get("district_effects")
    if not isinstance(effects, pd.DataFrame) or "district_id" not in effects:
        reason = ctx.problems.get("district_effects", "not computed")
        return para(text("own_effect_none", lang, reason=html.escape(str(reason))), "ca-muted")
    row = effects.loc[effects["district_id"] == district_id]
    if row.empty or str(row.iloc[0].get("status", "ok")) != "ok":
        reason = "not enough data" if row.empty else str(row.iloc[0]["status"])
        return para(text("own_effect_none", lang, reason=html.escape(reason)), "ca-muted")
    one = row.iloc[0]
    return para(
        text(
            "own_effect",
            lang,
            est=_pct(one.get("estimate")),
            lo=_pct(one.get("ci_low")),
            hi=_pct(one.get("ci_high")),
            pooled=_pct(pooled.get("estimate")),
        )
    )


def data_quality_section(ctx: ReportContext, district_id: str | None = None) -> Section:
    """Rejected rows and unreported months (region-wide or for one district)."""
    lang = ctx.lang
    sec = Section(text("quality", lang))
    tables = ctx.tables
    if ctx.panel is not None:
        rows = (
            ctx.panel
            if district_id is None
            else ctx.panel.loc[ctx.panel["district_id"] == district_id]
        )
        missing = rows.loc[~rows["is_reported"].astype(bool)]
        if district_id is None:
            per = missing.groupby("district_id").size()
            listing = ", ".join(f"{ctx.name(d)} {n}" for d, n in per.items()) or TEXT[lang]["none"]
        else:
            listing = ", ".join(missing["month"].dt.strftime("%Y-%m")) or TEXT[lang]["none"]
        sec.parts.append(
            para(text("unreported", lang, n=len(missing), total=len(rows), months=listing))
        )
    rejects = getattr(tables, "rejects", None)
    if rejects is None:
        sec.parts.append(unavailable(ctx.problems.get("tables", "no rejects.csv"), lang))
        return sec
    if district_id is None:
        sec.parts.append(para(text("rejects_total", lang, n=len(rejects))))
        if len(rejects) and "reason" in rejects:
            by = rejects.groupby(["kind", "reason"] if "kind" in rejects else ["reason"]).size()
            sec.parts.append(
                table_html(
                    by.rename("rows")
                    .reset_index()
                    .sort_values("rows", ascending=False)
                    .head(MAX_REJECT_ROWS)
                )
            )
        return sec
    mine = _district_rejects(ctx, district_id, rejects)
    sec.parts.append(para(text("rejects_n", lang, n=len(mine))))
    if len(mine):
        cols = [
            c
            for c in ("source_file", "source_sheet", "source_row", "field", "value", "reason")
            if c in mine
        ]
        sec.parts.append(table_html(mine[cols].head(MAX_REJECT_ROWS)))
    sec.parts.append(para(text("quality_method", lang), "ca-muted"))
    return sec


def _district_rejects(ctx: ReportContext, district_id: str, rejects: pd.DataFrame) -> pd.DataFrame:
    pubs = getattr(ctx.tables, "publications", None)
    files: set[str] = set()
    if pubs is not None and "source_file" in pubs:
        files = set(pubs.loc[pubs["district_id"] == district_id, "source_file"].dropna())
    ref = ctx.districts.loc[ctx.districts["district_id"] == district_id].iloc[0]
    stems = {str(ref[c]).lower()[:5] for c in ("name_ru", "name_kk", "name_en") if str(ref[c])}
    by_file = rejects["source_file"].isin(files) if "source_file" in rejects else False
    value = rejects.get("value", pd.Series("", index=rejects.index)).astype(str).str.lower()
    by_name = value.apply(lambda v: any(s and s in v for s in stems))
    return rejects.loc[by_file | by_name]


# --------------------------------------------------------------------------------------------
# district-only sections


def headline_section(ctx: ReportContext, district_id: str) -> Section:
    """District: headline numbers."""
    lang = ctx.lang
    sec = Section(text("headline", lang))
    reason = _need(ctx, "summary")
    if reason:
        sec.parts.append(unavailable(reason, lang))
        return sec
    s = ctx.summary
    one = s.loc[s["district_id"] == district_id].iloc[0]
    pct = "—" if pd.isna(one["fulfilment_pct"]) else f"{one['fulfilment_pct']:.0f}%"
    items = [
        (text("materials", lang), _fmt(one["materials"], 0)),
        (text("per_10k", lang), _fmt(one["per_10k"], 1)),
        (text("applications", lang), _fmt(one["applications"], 0)),
        (text("amount", lang), _fmt(one["amount_kzt"] / 1e6, 1)),
        (text("plan_fulfilment", lang), pct),
        (
            text("rank", lang),
            f"{_fmt(rating_table(ctx).set_index('district_id').loc[district_id, 'rank'], 0)} / {len(s)}",
        ),
    ]
    sec.parts.extend(f"<div class='ca-headline'><b>{html.escape(v)}</b>{k}</div>" for k, v in items)
    return sec


def gaps_section(ctx: ReportContext, district_id: str) -> Section:
    """District: gaps in plain words (metrics.gap_findings when available, else channel
    checks: channels with no material, internet and events absent, plan shortfall)."""
    lang = ctx.lang
    sec = Section(text("gaps", lang))
    reason = _need(ctx, "summary")
    if reason:
        sec.parts.append(unavailable(reason, lang))
        return sec
    findings = _gap_findings(ctx, district_id)
    if not findings:
        sec.parts.append(para(text("no_gaps", lang)))
    else:
        sec.parts.append("<ul>" + "".join(f"<li>{html.escape(f)}</li>" for f in findings) + "</ul>")
    return sec


def _gap_findings(ctx: ReportContext, district_id: str) -> list[str]:
    found = ctx.extras.get(f"gaps_{ctx.lang}")
    if isinstance(found, pd.DataFrame) and {"district_id", "message"} <= set(found.columns):
        return found.loc[found["district_id"] == district_id, "message"].astype(str).tolist()
    lang = ctx.lang
    one = ctx.summary.loc[ctx.summary["district_id"] == district_id].iloc[0]
    out = []
    zero = [figures.channel_label(c, lang) for c in domain.CHANNELS if c in one and one[c] == 0]
    internet = [c for c in domain.INTERNET_CHANNELS if c in one and one[c] == 0]
    if internet:
        out.append(
            "No internet coverage at all (online and social)."
            if lang == "en" and len(internet) == 2
            else (
                "Нет освещения в интернете."
                if lang == "ru"
                else f"No {figures.channel_label(internet[0], lang)} coverage."
            )
        )
    if zero:
        out.append(
            ("Channels never used: " if lang == "en" else "Каналы не использовались: ")
            + ", ".join(zero)
            + "."
        )
    median = ctx.summary["per_10k"].median()
    if pd.notna(one["per_10k"]) and one["per_10k"] < median:
        out.append(
            f"Coverage per 10,000 residents {one['per_10k']:.1f} is below the region's median {median:.1f}."
            if lang == "en"
            else f"Материалов на 10 000 жителей {one['per_10k']:.1f} — ниже медианы области {median:.1f}."
        )
    if pd.notna(one["fulfilment_pct"]) and one["fulfilment_pct"] < 100:
        out.append(
            f"Plan fulfilled at {one['fulfilment_pct']:.0f}%."
            if lang == "en"
            else f"План выполнен на {one['fulfilment_pct']:.0f}%."
        )
    return out


#: Districts of the same kind shown beside a district as "similar" (closest population).
N_SIMILAR = 4


def similar_districts(table: pd.DataFrame, district_id: str, n: int = N_SIMILAR) -> pd.DataFrame:
    """``district_id`` and the ``n`` districts closest to it in population (log scale),
    its own row first.

    >>> t = pd.DataFrame({"district_id": list("abcd"), "population": [10, 1000, 12, 20]})
    >>> similar_districts(t, "a", 2)["district_id"].tolist()
    ['a', 'c', 'd']
    """
    own = float(table.loc[table["district_id"] == district_id, "population"].iloc[0])
    distance = (np.log(table["population"].astype(float)) - math.log(own)).abs()
    order = distance.sort_values(kind="stable").index
    return table.loc[order].head(n + 1).reset_index(drop=True)


def ranking_section(ctx: ReportContext, district_id: str) -> Section:
    """District: rank among districts with the rank range under other rating weights."""
    lang = ctx.lang
    sec = Section(text("ranking", lang))
    reason = _need(ctx, "summary")
    if reason:
        sec.parts.append(unavailable(reason, lang))
        return sec
    s = rating_table(ctx)
    one = s.loc[s["district_id"] == district_id].iloc[0]
    rank = "—" if pd.isna(one["rank"]) else int(one["rank"])
    sec.parts.append(para(text("rank_text", lang, name=ctx.name(district_id), rank=rank, n=len(s))))
    fixed = one.get("rank_min") == one.get("rank_max")
    key = "sensitivity_fixed" if fixed else "sensitivity"
    sec.parts.append(para(text(key, lang, ranks=_rank_range(one))))
    peers = similar_districts(s, district_id)
    sec.parts.append(f"<h3>{text('similar', lang)}</h3>")
    sec.parts.append(
        table_html(
            pd.DataFrame(
                {
                    TEXT[lang]["district"]: _names(ctx, peers),
                    TEXT[lang]["population"]: peers["population"].round().astype("Int64"),
                    TEXT[lang]["rank"]: peers["rank"],
                    TEXT[lang]["per_10k"]: peers["per_10k"],
                    TEXT[lang]["applications_per_10k"]: peers["applications_per_10k"],
                    TEXT[lang]["plan_fulfilment"] + ", %": peers["fulfilment_pct"],
                }
            ),
            float_format="{:,.1f}",
        )
    )
    sec.parts.append(para(text("rating_method", lang), "ca-muted"))
    bars = s.assign(name=_names(ctx, s))
    ax = figures.plot_district_ranking(
        bars, lang=lang, synthetic=ctx.synthetic, highlight=ctx.name(district_id)
    )
    sec.parts.append(figure_html(ax, f"district_{district_id}_ranking", ctx.figures_dir))
    return sec


def _briefing_value(key: str, value: object) -> str:
    """One briefing number as text: shares as percent, amounts and counts as whole numbers.

    >>> _briefing_value("plan.fulfilment", 0.104), _briefing_value("reach.cumulative", None)
    ('10%', '—')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, str):
        return value  # escaped by table_html
    if key.startswith("plan.fulfilment"):
        return f"{float(value):.0%}"
    if key in ("materials.per_10k", "rating.score"):
        return _fmt(value, 1)
    return _fmt(value, 0)


def briefing_section(ctx: ReportContext, district_id: str) -> Section:
    """District: the akim briefing table as of the period's last month
    (:func:`coverage_analysis.metrics.akim_briefing`)."""
    lang = ctx.lang
    as_of = ctx.months[-1].strftime("%Y-%m")
    sec = Section(text("briefing", lang, month=as_of))
    reason = _need(ctx, "tables")
    if reason:
        sec.parts.append(unavailable(reason, lang))
        return sec
    from coverage_analysis.metrics import akim_briefing, briefing_table

    try:
        briefing = akim_briefing(
            ctx.tables, district_id, as_of, lang=lang, start_month=ctx.months[0]
        )
    except CoverageAnalysisError as exc:
        sec.parts.append(unavailable(exc, lang))
        return sec
    sec.parts.append(para(text("briefing_text", lang), "ca-muted"))
    table = briefing_table(briefing)
    table["value"] = [
        _briefing_value(k, v) for k, v in zip(table["key"], table["value"], strict=True)
    ]
    table = table.drop(columns="key")
    heads = ("Показатель", "Значение") if lang == "ru" else ("Item", "Value")
    sec.parts.append(
        table_html(table.rename(columns=dict(zip(("item", "value"), heads, strict=True))))
    )
    return sec


def whatif_section(ctx: ReportContext, district_id: str) -> Section:
    """District: the model's what-if at the region's typical (median) coverage."""
    lang = ctx.lang
    sec = Section(text("whatif", lang))
    if ctx.model is None:
        _, reason = _model_source(ctx)
        sec.parts.append(unavailable(ctx.problems.get("model", reason), lang))
        return sec
    try:
        from coverage_analysis.models import what_if

        data = what_if(ctx.panel, district_id, ctx.model)
    except Exception as exc:
        sec.parts.append(unavailable(f"{type(exc).__name__}: {exc}", lang))
        return sec
    if data.get("status", "ok") != "ok":
        sec.parts.append(unavailable(data.get("status"), lang))
        return sec
    delta = data.get("difference")
    expected = data.get("expected_at_actual_coverage")
    pct = 100.0 * delta / expected if delta is not None and expected else None
    sec.parts.append(
        para(
            text(
                "whatif_text",
                lang,
                name=ctx.name(district_id),
                delta=f"{delta:+,.0f}" if delta is not None else "—",
                pct="—" if pct is None else f"{pct:+.0f}%",
            )
        )
    )
    rows = {
        TEXT[lang]["wi_own"]: data.get("district_materials_per_10k_per_month"),
        TEXT[lang]["wi_median"]: data.get("median_materials_per_10k_per_month"),
        TEXT[lang]["wi_observed"]: data.get("observed"),
        TEXT[lang]["wi_expected"]: expected,
        TEXT[lang]["wi_cf"]: data.get("expected_at_median_coverage"),
        TEXT[lang]["wi_diff"]: (
            f"{_fmt(delta, 1)} ({_fmt(data.get('difference_ci_low'), 1)} .. "
            f"{_fmt(data.get('difference_ci_high'), 1)})"
        ),
    }
    frame = pd.DataFrame(
        {"": list(rows), " ": [_fmt(v, 2) if not isinstance(v, str) else v for v in rows.values()]}
    )
    sec.parts.append(table_html(frame))
    caveat = data.get("caveat")
    if caveat and lang == "en":
        sec.parts.append(para(html.escape(str(caveat)), "ca-muted"))
    return sec


# --------------------------------------------------------------------------------------------
# diagnostics


def diagnostics_sections(ctx: ReportContext) -> Sections:
    """Model diagnostics: decay search, overdispersion, leave-one-out, residuals by month,
    channel collinearity, placebo. Each part shows "not available" with the reason when
    the models module does not provide it."""
    from coverage_analysis.models import describe

    lang = ctx.lang
    diag = ctx.extras.get("diagnostics")
    _data, reason = _model_source(ctx)
    out = Sections()
    # section key -> field of models.diagnostics() (typed, see models/diagnostics.py)
    parts = {
        "decay_search": "decay_search",
        "decay_out_of_sample": "decay_out_of_sample",
        "overdispersion": "overdispersion",
        "loo": "leave_one_district_out",
        "influence": "influence",
        "residuals": "residuals_by_month",
        "collinearity": "channel_collinearity",
    }
    for key, name in parts.items():
        title = describe.DIAGNOSTIC_TITLES[lang].get(key) or text(key, lang)
        sec = Section(title)
        if diag is None:
            sec.parts.append(unavailable(ctx.problems.get("diagnostics", reason), lang))
        else:
            value = diag[name]
            if key == "decay_out_of_sample":
                sec.parts.append(para(html.escape(value["note"]), "ca-muted"))
                value = value["table"]
            if key == "influence" and value:
                sec.parts.append(para(html.escape(describe.influence_sentence(value, lang))))
                value = value["largest_cells"]
            sec.parts.extend(_render_value(ctx, key, value))
        out.append(sec)
    placebo = model_section(ctx)
    placebo.title = text("placebo", lang)
    out.append(placebo)
    return out


def channel_correlation(panel: pd.DataFrame) -> pd.DataFrame:
    """Correlation of monthly materials per 10,000 residents between channels (reported
    district-months; channels never used left out).

    >>> p = pd.DataFrame({"population": [1e4] * 3, "is_reported": [True] * 3,
    ...                   "materials_tv": [1, 2, 3], "materials_print": [2, 4, 7]})
    >>> round(float(channel_correlation(p).iloc[0, 1]), 2)
    0.99
    """
    cols = figures.channel_columns(panel)
    rows = panel.loc[panel["is_reported"].astype(bool), cols].astype(float)
    rows = rows.div(panel.loc[rows.index, "population"].astype(float), axis=0)
    rows = rows.loc[:, rows.sum() > 0]
    return rows.corr().rename(index=lambda c: c[10:], columns=lambda c: c[10:])


def _render_value(ctx: ReportContext, key: str, value: object) -> list[str]:
    lang = ctx.lang
    if key == "loo" and isinstance(value, dict) and "by_district" in value:
        summary = {k: v for k, v in value.items() if k != "by_district"}
        summary["influential"] = ", ".join(ctx.name(d) for d in summary.get("influential", []))
        table = pd.DataFrame(value["by_district"])
        if "district_id" in table:
            table.insert(0, "district", _names(ctx, table))
            table = table.drop(columns=["district_id"])
        return [
            table_html(pd.DataFrame([summary]), float_format="{:,.4f}"),
            table_html(table, float_format="{:,.4f}"),
        ]
    if key == "collinearity" and isinstance(value, dict) and "correlation_within" in value:
        corr = pd.DataFrame(value["correlation_within"])
        parts = [table_html(corr, index=True, float_format="{:,.2f}")]
        if value.get("vif"):
            vif = pd.DataFrame({"channel": list(value["vif"]), "VIF": list(value["vif"].values())})
            parts.append(table_html(vif, float_format="{:,.2f}"))
        if value.get("note"):
            parts.append(para(html.escape(str(value["note"])), "ca-muted"))
        return parts
    if key == "residuals" and isinstance(value, list) and value:
        frame = pd.DataFrame(value)
        if {"month", "mean_pearson_residual"} <= set(frame.columns):
            data = frame.rename(
                columns={"mean_pearson_residual": "mean", "sd_pearson_residual": "sd"}
            )
            ax = figures.plot_residuals_by_month(data, lang=lang, synthetic=ctx.synthetic)
            return [
                figure_html(ax, "diagnostics_residuals", ctx.figures_dir),
                table_html(frame, float_format="{:,.3f}"),
            ]
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, dict) for v in value):
        value = pd.DataFrame(list(value))
    if isinstance(value, pd.DataFrame):
        parts = [table_html(value.head(40), index=key == "collinearity", float_format="{:,.3f}")]
        if key == "decay_search" and "decay" in value:
            crit = next(
                (
                    c
                    for c in value.columns
                    if c != "decay" and pd.api.types.is_numeric_dtype(value[c])
                ),
                None,
            )
            if crit:
                data, _ = _model_source(ctx)
                chosen = (data or {}).get("decay")
                ax = figures.plot_decay_search(
                    value, lang=lang, synthetic=ctx.synthetic, criterion=crit, chosen=chosen
                )
                parts.append(figure_html(ax, "diagnostics_decay_search", ctx.figures_dir))
        if key == "residuals" and {"month", "residual"} <= set(value.columns):
            ax = figures.plot_residuals_by_month(value, lang=lang, synthetic=ctx.synthetic)
            parts = [figure_html(ax, "diagnostics_residuals", ctx.figures_dir)]
        return parts
    if isinstance(value, dict):
        flat = {k: v for k, v in value.items() if not isinstance(v, (dict, list))}
        if flat:
            return [table_html(pd.DataFrame([flat]), float_format="{:,.3f}")]
        return [para(html.escape(json.dumps(value, default=str)[:2000]))]
    return [para(html.escape(str(value)[:2000]))]


def region_report(ctx: ReportContext) -> Sections:
    """All sections of the region overview, in order."""
    return Sections(
        [
            header(ctx, "region"),
            rating_section(ctx),
            heatmap_section(ctx),
            calendar_section(ctx),
            map_section(ctx),
            plan_section(ctx),
            cross_section_section(ctx),
            model_section(ctx),
            data_quality_section(ctx),
        ]
    )


def district_report(ctx: ReportContext, district_id: str) -> Sections:
    """All sections of one district's briefing, in order."""
    return Sections(
        [
            header(ctx, "district", district_id),
            headline_section(ctx, district_id),
            gaps_section(ctx, district_id),
            briefing_section(ctx, district_id),
            plan_section(ctx, district_id),
            ranking_section(ctx, district_id),
            calendar_section(ctx, district_id),
            model_section(ctx, district_id),
            whatif_section(ctx, district_id),
            data_quality_section(ctx, district_id),
        ]
    )


def section_names(sections: Sequence[Section]) -> list[str]:
    """Titles of ``sections`` (for tests and tables of contents)."""
    return [s.title for s in sections]
