"""The akim briefing: what the deputy governor asked every district akim to report.

For one district and a month ``as_of_month``: applications received and the
amount legalized (cumulative from the campaign start, or ``start_month``, to
``as_of_month``, and in ``as_of_month`` itself), materials and reach (the
same two spans), social-media posts and users reached, plan fulfilment, the
district's rank in the rating over the same span, and its gap findings.

:func:`akim_briefing` returns a JSON-ready ``dict`` (``None`` for unknown,
never a silent 0); :func:`briefing_table` lays it out as a two-column frame
for a report.

>>> from coverage_analysis.tables import CleanTables
>>> leg = pd.DataFrame({"district_id": ["ayagoz"] * 2, "month": pd.to_datetime(["2016-01-01",
...     "2016-02-01"]), "applications": [4, 6], "amount_kzt": [1e6, 2e6]})
>>> b = akim_briefing(CleanTables(legalization=leg), "ayagoz", "2016-02")
>>> b["applications"], b["amount_kzt"]["cumulative"], b["materials"]["cumulative"]
({'cumulative': 10, 'last_month': 6}, 3000000.0, None)
"""

from __future__ import annotations

import logging
import os

import numpy as np
import pandas as pd

from coverage_analysis import domain
from coverage_analysis.errors import ParameterError
from coverage_analysis.metrics.gaps import LANGS, gap_findings
from coverage_analysis.metrics.indicators import district_indicators
from coverage_analysis.metrics.rating import district_rating
from coverage_analysis.panel import build_panel, check_district, parse_month, period_months
from coverage_analysis.reference import load_districts
from coverage_analysis.tables import CleanTables, analysis_tables

log = logging.getLogger(__name__)

#: Labels of the briefing items in :func:`briefing_table`, per language.
LABELS: dict[str, dict[str, str]] = {
    "en": {
        "applications.cumulative": "Applications received (cumulative)",
        "applications.last_month": "Applications received (last month)",
        "amount_kzt.cumulative": "Amount legalized, tenge (cumulative)",
        "amount_kzt.last_month": "Amount legalized, tenge (last month)",
        "materials.cumulative": "Materials (cumulative)",
        "materials.last_month": "Materials (last month)",
        "materials.per_10k": "Materials per 10,000 residents",
        "reach.cumulative": "Reach (cumulative, known)",
        "reach.last_month": "Reach (last month, known)",
        "social.posts": "Social-media posts",
        "social.users_reached": "Social-media users reached",
        "plan.planned": "Materials planned",
        "plan.fulfilment": "Plan fulfilment",
        "plan.fulfilment_self_reported": "Plan fulfilment (self-reported)",
        "rating.rank": "Rank in the region (1 = best)",
        "rating.score": "Coverage score (0-100)",
        "months.reported": "Months reported",
    },
    "ru": {
        "applications.cumulative": "Подано заявлений (нарастающим итогом)",
        "applications.last_month": "Подано заявлений (за последний месяц)",
        "amount_kzt.cumulative": "Легализовано, тенге (нарастающим итогом)",
        "amount_kzt.last_month": "Легализовано, тенге (за последний месяц)",
        "materials.cumulative": "Материалов (нарастающим итогом)",
        "materials.last_month": "Материалов (за последний месяц)",
        "materials.per_10k": "Материалов на 10 тыс. жителей",
        "reach.cumulative": "Охват (нарастающим итогом, известный)",
        "reach.last_month": "Охват (за последний месяц, известный)",
        "social.posts": "Постов в соцсетях",
        "social.users_reached": "Охвачено пользователей соцсетей",
        "plan.planned": "Запланировано материалов",
        "plan.fulfilment": "Выполнение медиаплана",
        "plan.fulfilment_self_reported": "Выполнение медиаплана (по отчёту района)",
        "rating.rank": "Место в области (1 = лучшее)",
        "rating.score": "Балл освещения (0-100)",
        "months.reported": "Месяцев с отчётами",
    },
}


def _py(value: object) -> object:
    """A JSON-ready Python value: ``None`` for NA, ``int``/``float`` for numpy numbers."""
    if value is None or (not isinstance(value, (str, bytes)) and pd.isna(value)):
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value)
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m")
    return value


def _sum(series: pd.Series) -> object:
    return _py(series.sum(min_count=1))


def akim_briefing(
    tables: CleanTables | str | os.PathLike[str],
    district_id: str,
    as_of_month: str | pd.Timestamp,
    lang: str = "en",
    start_month: str | pd.Timestamp | None = None,
    panel: pd.DataFrame | None = None,
) -> dict:
    """The briefing of ``district_id`` as of ``as_of_month`` (``"YYYY-MM"``), cumulative from
    ``start_month`` (default the campaign start). Raises :class:`ParameterError` for an
    unknown district, a month outside the campaign, or an unsupported ``lang``.

    Pass ``panel`` (from :func:`build_panel` of the same tables over a period that holds
    this one) to avoid rebuilding it: a report batch builds it once, and a national
    registry's panel takes seconds.
    """
    if lang not in LANGS:
        raise ParameterError(f"lang {lang!r} is not supported; choose one of {', '.join(LANGS)}")
    districts = load_districts()
    check_district(district_id, districts)
    as_of = parse_month(as_of_month, "as_of_month")
    if as_of is None:
        raise ParameterError("as_of_month is required (YYYY-MM)")
    months = period_months(start_month, as_of)
    tables = analysis_tables(tables)
    if panel is None:
        panel = build_panel(tables, months[0], months[-1])
    else:
        panel = panel.loc[panel["month"].isin(months)]
        if panel["month"].nunique() != len(months):
            raise ParameterError(
                f"the panel given does not cover {months[0]:%Y-%m} to {months[-1]:%Y-%m}"
            )
    indicators = district_indicators(tables, months[0], months[-1], panel=panel)
    rating = district_rating(indicators)
    gaps = gap_findings(indicators, lang=lang, district_ids=[district_id])

    rows = panel.loc[panel["district_id"] == district_id]
    last = rows.loc[rows["month"] == as_of].iloc[0]
    ind = indicators.loc[indicators["district_id"] == district_id].iloc[0]
    rate = rating.loc[rating["district_id"] == district_id].iloc[0]
    name_col = "name_ru" if lang == "ru" else "name_en"
    briefing = {
        "district_id": district_id,
        "name": _py(districts.set_index("district_id").loc[district_id, name_col]),
        "as_of_month": as_of.strftime("%Y-%m"),
        "period_start": months[0].strftime("%Y-%m"),
        "lang": lang,
        "applications": {
            "cumulative": _sum(rows["applications"]),
            "last_month": _py(last["applications"]),
        },
        "amount_kzt": {
            "cumulative": _sum(rows["amount_kzt"]),
            "last_month": _py(last["amount_kzt"]),
        },
        "materials": {
            "cumulative": _py(ind["materials"]),
            "last_month": _py(last["materials"]),
            "last_month_reported": bool(last["is_reported"]),
            "per_10k": _py(ind["materials_per_10k"]),
            "by_channel": {c: _py(ind[f"materials_{c}"]) for c in domain.CHANNELS},
        },
        "reach": {"cumulative": _py(ind["reach"]), "last_month": _py(last["reach"])},
        "social": {
            "posts": _py(ind["social_posts"]),
            "users_reached": _py(ind["social_users_reached"]),
        },
        "plan": {
            "planned": _py(ind["planned"]),
            "fulfilment": _py(ind["plan_fulfilment"]),
            "fulfilment_self_reported": _py(ind["plan_fulfilment_self_reported"]),
        },
        "rating": {
            "rank": _py(rate["rank"]),
            "of": int(rating["rank"].notna().sum()),
            "score": _py(rate["score"]),
        },
        "months": {
            "reported": int(ind["months_reported"]),
            "in_period": int(ind["months_in_period"]),
        },
        "gaps": [
            {
                k: _py(v)
                for k, v in g.items()
                if k in ("code", "severity", "message", "value", "threshold")
            }
            for g in gaps.to_dict("records")
        ],
    }
    log.info(
        "briefing %s as of %s: %d gaps", district_id, briefing["as_of_month"], len(briefing["gaps"])
    )
    return briefing


def briefing_table(briefing: dict) -> pd.DataFrame:
    """The briefing's numbers as a frame (``item``, ``value``, ``key``), labelled in the
    briefing's language; gaps are listed after the numbers. ``key`` names the number
    (``"plan.fulfilment"``, ``"gap"``) so that a report can format it.

    >>> b = {"lang": "en", "applications": {"cumulative": 10, "last_month": 6}, "gaps": [
    ...     {"message": "no targeted articles"}]}
    >>> briefing_table(b)["item"].tolist()
    ['Applications received (cumulative)', 'Applications received (last month)', 'Gap']
    """
    lang = briefing.get("lang", "en")
    labels = LABELS[lang]
    rows = []
    for key, label in labels.items():
        section, field = key.split(".")
        if section in briefing and field in briefing[section]:
            rows.append({"item": label, "value": briefing[section][field], "key": key})
    gap_label = "Недоработка" if lang == "ru" else "Gap"
    rows += [
        {"item": gap_label, "value": g["message"], "key": "gap"} for g in briefing.get("gaps", [])
    ]
    return pd.DataFrame(rows, columns=["item", "value", "key"])


__all__ = ["akim_briefing", "briefing_table"]
