"""Gap findings: what each district is missing, in plain words, with the numbers behind it.

One row per finding: ``district_id``, ``code``, ``severity`` (``high``,
``medium``, ``low``), ``message`` (English or Russian, ``lang``), ``value``,
``threshold``, ``period_start``, ``period_end``, ``period`` (``"YYYY-MM ..
YYYY-MM"``), ``months_reported`` and ``months_in_period`` (how much of the
period the finding rests on). Every rule reads the indicator table
(:func:`~coverage_analysis.metrics.indicators.district_indicators`); its
thresholds are the named constants below. A district with no reported month
gets only ``NOT_REPORTED`` (and ``NO_PLAN``): what it did is unknown, not
nothing.

=====================  ==============================================================
code                   rule
=====================  ==============================================================
NOT_REPORTED           no registry covered any month of the period
MONTHS_NOT_REPORTED    some months of the period not covered by any registry
FEW_MATERIALS          fewer than :data:`FEW_MATERIALS_PER_MONTH` materials a month
FEW_PRINT              fewer than :data:`FEW_PRINT_PER_MONTH` print articles a month
LOW_PER_CAPITA         materials per 10k below :data:`LOW_PER_CAPITA_SHARE` × the median
NO_INTERNET            no online and no social-media material
NO_ONLINE, NO_SOCIAL   one of the two missing
NO_EVENTS              no seminars, round tables, open days or briefings
NO_TARGETED            no targeted articles
NO_TESTIMONIALS        no testimonials of citizens who legalized
NO_KAZAKH              no material in Kazakh
NO_PLAN                no media plan
LOW_PLAN_FULFILMENT    plan fulfilled below :data:`PLAN_FULFILMENT_MIN`
STALE                  no material in :data:`STALE_MONTHS` or more reported months
=====================  ==============================================================

>>> ind = pd.DataFrame({"district_id": ["ayagoz"], "period_start": [pd.Timestamp("2014-09-01")],
...     "period_end": [pd.Timestamp("2016-02-01")], "months_in_period": [18],
...     "months_reported": [18], "materials": [1]})
>>> f = gap_findings(ind, codes=["FEW_MATERIALS"])
>>> f.loc[0, "message"]
'1 publication in 18 months (2014-09 .. 2016-02)'
>>> gap_findings(ind, codes=["FEW_MATERIALS"], lang="ru").loc[0, "message"]
'1 публикация за 18 месяцев (2014-09 .. 2016-02)'
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable

import pandas as pd

from coverage_analysis import domain
from coverage_analysis.errors import ParameterError
from coverage_analysis.metrics.indicators import district_indicators
from coverage_analysis.tables import CleanTables

log = logging.getLogger(__name__)

#: Fewer materials a month than this (all channels) is a finding. 1 a month is the least
#: a plan of "regular" coverage implies.
FEW_MATERIALS_PER_MONTH = 1.0
#: At or below this many materials a month the FEW_MATERIALS finding is high severity.
VERY_FEW_MATERIALS_PER_MONTH = 0.25
#: Fewer print articles a month than this is a finding (the article: Semey, 7 in 18 months).
FEW_PRINT_PER_MONTH = 0.5
#: Materials per 10,000 residents below this share of the districts' median is a finding.
LOW_PER_CAPITA_SHARE = 0.5
#: Plan fulfilment (1.0 = 100%) below this is a finding...
PLAN_FULFILMENT_MIN = 0.5
#: ...and below this it is high severity.
PLAN_FULFILMENT_LOW = 0.25
#: This many months or more without a material is a finding...
STALE_MONTHS = 3
#: ...and this many or more is high severity.
STALE_MONTHS_HIGH = 6
#: Share of months reported below this makes MONTHS_NOT_REPORTED medium (else low).
REPORTED_SHARE_MEDIUM = 0.5

#: Languages of the messages.
LANGS: tuple[str, ...] = ("en", "ru")
#: Order of severities in the output.
SEVERITY_ORDER: tuple[str, ...] = ("high", "medium", "low")
#: Output columns.
COLUMNS: tuple[str, ...] = (
    "district_id",
    "code",
    "severity",
    "message",
    "value",
    "threshold",
    "period_start",
    "period_end",
    "period",
    "months_reported",
    "months_in_period",
)


def plural_ru(n: float, one: str, few: str, many: str) -> str:
    """The Russian noun form for ``n``.

    >>> [plural_ru(n, "месяц", "месяца", "месяцев") for n in (1, 3, 5, 11, 21, 22)]
    ['месяц', 'месяца', 'месяцев', 'месяцев', 'месяц', 'месяца']
    """
    if n != int(n):
        return few
    n = abs(int(n))
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def _en(n: float, word: str) -> str:
    return f"{_num(n)} {word}" + ("" if n == 1 else "s")


def _num(value: float) -> str:
    return f"{value:g}" if value != int(value) else f"{int(value)}"


def _months_ru(n: float) -> str:
    return f"{_num(n)} {plural_ru(n, 'месяц', 'месяца', 'месяцев')}"


def _pubs_ru(n: float) -> str:
    return f"{_num(n)} {plural_ru(n, 'публикация', 'публикации', 'публикаций')}"


def _since(row: pd.Series, lang: str) -> str:
    """'since the campaign began' or 'in <period>'."""
    if row["period_start"] == domain.CAMPAIGN_START:
        return "с начала акции" if lang == "ru" else "since the campaign began"
    return f"за {row['period']}" if lang == "ru" else f"in {row['period']}"


def _get(row: pd.Series, col: str) -> object:
    value = row.get(col, pd.NA)
    return None if value is None or pd.isna(value) else value


# Each rule: row, lang, context -> None or (severity, message, value, threshold)
Rule = Callable[[pd.Series, str, dict], "tuple[str, str, float | None, float | None] | None"]


def _not_reported(row: pd.Series, lang: str, ctx: dict) -> tuple | None:
    if row["months_reported"] > 0:
        return None
    if lang == "ru":
        msg = f"ни один реестр не охватывает период {row['period']}: освещение неизвестно"
    else:
        msg = f"no registry covers any month of {row['period']}: coverage unknown"
    return "high", msg, 0.0, 1.0


def _months_not_reported(row: pd.Series, lang: str, ctx: dict) -> tuple | None:
    missing = row["months_in_period"] - row["months_reported"]
    if missing <= 0 or row["months_reported"] == 0:
        return None
    share = row["months_reported"] / row["months_in_period"]
    severity = "medium" if share < REPORTED_SHARE_MEDIUM else "low"
    if lang == "ru":
        msg = f"нет отчётов за {_months_ru(missing)} из {row['months_in_period']}"
    else:
        msg = f"{_en(missing, 'month')} of {row['months_in_period']} not reported by any registry"
    return severity, msg, float(missing), 0.0


def _in_months(row: pd.Series, lang: str) -> str:
    """'in 18 months' or, when some were not reported, 'in 3 reported months of 28'."""
    months, total = row["months_reported"], row["months_in_period"]
    if lang == "ru":
        if months == total:
            return f"за {_months_ru(months)}"
        return f"за {_num(months)} {plural_ru(months, 'месяц', 'месяца', 'месяцев')} с отчётами из {total}"
    if months == total:
        return f"in {_en(months, 'month')}"
    return f"in {months} reported {'month' if months == 1 else 'months'} of {total}"


def _few_materials(row: pd.Series, lang: str, ctx: dict) -> tuple | None:
    n, months = _get(row, "materials"), row["months_reported"]
    if n is None or months == 0:
        return None
    threshold = FEW_MATERIALS_PER_MONTH * months
    if n >= threshold:
        return None
    severity = "high" if n <= VERY_FEW_MATERIALS_PER_MONTH * months else "medium"
    noun = _pubs_ru(n) if lang == "ru" else _en(n, "publication")
    msg = f"{noun} {_in_months(row, lang)} ({row['period']})"
    return severity, msg, float(n), float(threshold)


def _few_print(row: pd.Series, lang: str, ctx: dict) -> tuple | None:
    n, months = _get(row, "materials_print"), row["months_reported"]
    if n is None or months == 0:
        return None
    threshold = FEW_PRINT_PER_MONTH * months
    if n >= threshold:
        return None
    if lang == "ru":
        word = plural_ru(n, "статья", "статьи", "статей")
        msg = f"всего {_num(n)} {word} в печатных СМИ {_in_months(row, lang)}"
    else:
        msg = f"only {_en(n, 'print article')} {_in_months(row, lang)}"
    return "medium", msg, float(n), float(threshold)


def _low_per_capita(row: pd.Series, lang: str, ctx: dict) -> tuple | None:
    value, median = _get(row, "materials_per_10k"), ctx.get("median_per_10k")
    if value is None or median is None or median <= 0:
        return None
    threshold = LOW_PER_CAPITA_SHARE * median
    if value >= threshold:
        return None
    if lang == "ru":
        msg = f"{value:.2f} материала на 10 тыс. жителей при медиане районов {median:.2f}"
    else:
        msg = (
            f"{value:.2f} materials per 10,000 residents against a district median of {median:.2f}"
        )
    return "medium", msg, float(value), float(threshold)


def _has(row: pd.Series, col: str) -> bool | None:
    value = _get(row, col)
    return None if value is None else bool(value)


def _no_internet(row: pd.Series, lang: str, ctx: dict) -> tuple | None:
    online, social = _has(row, "has_online"), _has(row, "has_social")
    if online is not False or social is not False:
        return None
    if lang == "ru":
        msg = f"ни одного материала в интернете и социальных сетях {_since(row, lang)}"
    else:
        msg = f"no internet or social media material {_since(row, lang)}"
    return "high", msg, 0.0, 1.0


def _no_one_of(col: str, other: str, en: str, ru: str) -> Rule:
    def rule(row: pd.Series, lang: str, ctx: dict) -> tuple | None:
        if _has(row, col) is not False or _has(row, other) is not True:
            return None
        return "medium", (ru if lang == "ru" else en) + f" {_since(row, lang)}", 0.0, 1.0

    return rule


def _zero_count(col: str, en: str, ru: str, severity: str) -> Rule:
    def rule(row: pd.Series, lang: str, ctx: dict) -> tuple | None:
        n = _get(row, col)
        if n is None or n > 0 or not _get(row, "materials"):
            return None
        return severity, (ru if lang == "ru" else en) + f" {_since(row, lang)}", 0.0, 1.0

    return rule


def _no_events(row: pd.Series, lang: str, ctx: dict) -> tuple | None:
    n = _get(row, "events")
    if n is None or n > 0:
        return None
    if lang == "ru":
        msg = f"ни семинаров, ни круглых столов, ни дней открытых дверей, ни брифингов {_since(row, lang)}"
    else:
        msg = f"no seminars, round tables, open days or briefings {_since(row, lang)}"
    return "medium", msg, 0.0, 1.0


def _no_plan(row: pd.Series, lang: str, ctx: dict) -> tuple | None:
    if not ctx.get("has_plan_table") or _get(row, "planned") is not None:
        return None
    msg = (
        f"нет медиаплана на {row['period']}"
        if lang == "ru"
        else f"no media plan for {row['period']}"
    )
    return "medium", msg, None, None


def _low_plan(row: pd.Series, lang: str, ctx: dict) -> tuple | None:
    share = _get(row, "plan_fulfilment")
    if share is None or share >= PLAN_FULFILMENT_MIN:
        return None
    severity = "high" if share < PLAN_FULFILMENT_LOW else "medium"
    planned = _get(row, "planned_in_reported_months")
    pct = round(100 * share)
    if lang == "ru":
        msg = f"медиаплан выполнен на {pct}%"
        if planned is not None:
            n = round(planned, 1)
            msg += (
                f" (запланировано {_num(n)} {plural_ru(n, 'материал', 'материала', 'материалов')})"
            )
    else:
        msg = f"plan fulfilled at {pct}%"
        if planned is not None:
            msg += f" ({_en(round(planned, 1), 'material')} planned)"
    return severity, msg, float(share), PLAN_FULFILMENT_MIN


def _stale(row: pd.Series, lang: str, ctx: dict) -> tuple | None:
    # Only reported months count: an unreported month is unknown, not silent.
    n = _get(row, "reported_months_since_last_material")
    if n is None or n < STALE_MONTHS:
        return None
    severity = "high" if n >= STALE_MONTHS_HIGH else "medium"
    last = _get(row, "last_material_month")
    all_reported = _get(row, "months_since_last_material") == n
    if lang == "ru":
        msg = f"нет материалов {_months_ru(n)}" + ("" if all_reported else " с отчётами")
        msg += (
            f" (последний: {pd.Timestamp(last):%Y-%m})"
            if last is not None
            else " (ни одного за период)"
        )
    else:
        msg = f"no material for {_en(n, 'month')}" + ("" if all_reported else " reported")
        msg += (
            f" (last: {pd.Timestamp(last):%Y-%m})" if last is not None else " (none in the period)"
        )
    return severity, msg, float(n), float(STALE_MONTHS)


#: Every rule, by code, in output order within a district.
RULES: dict[str, Rule] = {
    "NOT_REPORTED": _not_reported,
    "NO_INTERNET": _no_internet,
    "FEW_MATERIALS": _few_materials,
    "LOW_PLAN_FULFILMENT": _low_plan,
    "STALE": _stale,
    "FEW_PRINT": _few_print,
    "LOW_PER_CAPITA": _low_per_capita,
    "NO_ONLINE": _no_one_of(
        "has_online", "has_social", "no material on websites", "ни одного материала на сайтах"
    ),
    "NO_SOCIAL": _no_one_of(
        "has_social", "has_online", "no social media material", "ни одного материала в соцсетях"
    ),
    "NO_EVENTS": _no_events,
    "NO_TARGETED": _zero_count(
        "materials_targeted", "no targeted articles", "ни одной точечной статьи", "medium"
    ),
    "NO_TESTIMONIALS": _zero_count(
        "materials_testimonial",
        "no testimonials of citizens who legalized",
        "ни одного отклика граждан, уже легализовавших имущество",
        "medium",
    ),
    "NO_KAZAKH": _zero_count(
        "materials_lang_kk_or_both",
        "no material in Kazakh",
        "ни одного материала на казахском языке",
        "low",
    ),
    "MONTHS_NOT_REPORTED": _months_not_reported,
    "NO_PLAN": _no_plan,
}


def gap_findings(
    indicators_or_tables: pd.DataFrame | CleanTables | str | os.PathLike[str],
    start_month: str | pd.Timestamp | None = None,
    end_month: str | pd.Timestamp | None = None,
    lang: str = "en",
    codes: Iterable[str] | None = None,
    district_ids: Iterable[str] | None = None,
) -> pd.DataFrame:
    """The gap findings of every district (or of ``district_ids``), one row per finding.

    ``indicators_or_tables``: an indicator table, or the cleaned tables / processed folder
    to compute it from over the period. ``codes`` restricts the rules (default all of
    :data:`RULES`). Sorted by district (input order), then severity, then rule order.
    """
    if lang not in LANGS:
        raise ParameterError(f"lang {lang!r} is not supported; choose one of {', '.join(LANGS)}")
    chosen = list(RULES) if codes is None else list(codes)
    unknown = [c for c in chosen if c not in RULES]
    if unknown:
        raise ParameterError(f"unknown finding codes {unknown}; valid codes: {', '.join(RULES)}")
    if isinstance(indicators_or_tables, pd.DataFrame):
        indicators = indicators_or_tables
        has_plan_table = "planned" in indicators.columns and indicators["planned"].notna().any()
    else:
        indicators = district_indicators(indicators_or_tables, start_month, end_month)
        has_plan_table = bool(indicators["planned"].notna().any())
    if district_ids is not None:
        wanted = list(district_ids)
        indicators = indicators.loc[indicators["district_id"].isin(wanted)]
    indicators = indicators.assign(
        period=indicators["period_start"].dt.strftime("%Y-%m")
        + " .. "
        + indicators["period_end"].dt.strftime("%Y-%m")
    )
    if {"materials_lang_kk", "materials_lang_both"} <= set(indicators.columns):
        # Kazakh presence needs a known language on at least one material
        kk = indicators["materials_lang_kk"] + indicators["materials_lang_both"]
        indicators["materials_lang_kk_or_both"] = kk.where(
            indicators["materials_known_language"] > 0
        )
    per_10k = indicators["materials_per_10k"] if "materials_per_10k" in indicators.columns else None
    median = (
        None
        if per_10k is None or per_10k.isna().all()
        else float(per_10k.astype("Float64").median())
    )
    ctx = {"median_per_10k": median, "has_plan_table": has_plan_table}
    rows = []
    for _, row in indicators.iterrows():
        for code in chosen:
            if row.get("months_reported", 1) == 0 and code not in ("NOT_REPORTED", "NO_PLAN"):
                continue
            found = RULES[code](row, lang, ctx)
            if found is None:
                continue
            severity, message, value, threshold = found
            rows.append(
                {
                    "district_id": row["district_id"],
                    "code": code,
                    "severity": severity,
                    "message": message,
                    "value": value,
                    "threshold": threshold,
                    "period_start": row["period_start"],
                    "period_end": row["period_end"],
                    "period": row["period"],
                    "months_reported": row.get("months_reported"),
                    "months_in_period": row.get("months_in_period"),
                }
            )
    out = pd.DataFrame(rows, columns=list(COLUMNS))
    if out.empty:
        return out.astype({"value": "float64", "threshold": "float64"})
    order = {d: i for i, d in enumerate(indicators["district_id"])}
    out["_d"] = out["district_id"].map(order)
    out["_s"] = out["severity"].map({s: i for i, s in enumerate(SEVERITY_ORDER)})
    out["_c"] = out["code"].map({c: i for i, c in enumerate(chosen)})
    out = out.sort_values(["_d", "_s", "_c"], kind="stable").drop(columns=["_d", "_s", "_c"])
    out[["value", "threshold"]] = out[["value", "threshold"]].astype("float64")
    log.info("gap findings: %d for %d districts", len(out), out["district_id"].nunique())
    return out.reset_index(drop=True)


__all__ = ["RULES", "gap_findings", "plural_ru"]
