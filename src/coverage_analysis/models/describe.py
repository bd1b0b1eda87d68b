"""Words for the coverage model, in English and Russian: the method, the
inference, the warnings, and the paragraphs the reports show.

The reports call these builders with the typed fields of
``model_summary.json`` (see :mod:`coverage_analysis.models.schema`), so the
wording of a result lives next to the model that produces it and a report
never guesses a key.

>>> from coverage_analysis.models.simulate import simulate_panel
>>> from coverage_analysis.models.coverage import fit_coverage_model
>>> res = fit_coverage_model(simulate_panel("null", seed=0), n_boot=99, n_perm=99, decay=0.4)
>>> summary_text(res.to_dict()).startswith("applications (exposure):")
True
>>> placebo_sentence(res.to_dict(), "ru").startswith("Плацебо")
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from coverage_analysis.models._data import CARRYOVER_UNKNOWN_WEIGHT

#: Fewer districts than this: warn that cluster inference is fragile.
MIN_CLUSTERS_WARN = 12
#: Effective clusters (Carter et al. 2017) below this: say the data act like few districts.
MIN_EFFECTIVE_CLUSTERS_WARN = 8.0
#: Significance level of the verdicts.
ALPHA = 0.05

#: Names of the p-value methods and estimands in the report languages.
NAMES: dict[str, dict[str, str]] = {
    "en": {
        "randomisation": "randomisation test (coverage paths shuffled across districts)",
        "cv3_jackknife": "cluster jackknife (CV3) with t(G-1)",
        "wild_score_bootstrap": "wild cluster score bootstrap (Webb weights)",
        "exposure": "counts with population as exposure (offset)",
        "rate": "rate per 10,000 residents (districts weigh by rate, not size)",
        "applications": "applications",
        "amount_per_application": "amount per application",
    },
    "ru": {
        "randomisation": "перестановочный тест (траектории освещения переставлены между районами)",
        "cv3_jackknife": "кластерный складной нож (CV3) с t(G-1)",
        "wild_score_bootstrap": "дикий кластерный бутстрап оценок (веса Уэбба)",
        "exposure": "число заявлений с численностью населения как экспозицией (offset)",
        "rate": "показатель на 10 000 жителей (районы весят по показателю, а не по размеру)",
        "applications": "заявления",
        "amount_per_application": "сумма на одно заявление",
    },
}

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "estimate": (
            "{outcome} ({estimand}): {est} per doubling of (1 + carry-over materials per 10,000 "
            "residents) (95% interval {lo} to {hi}; p = {p}, {method}); effective number of "
            "districts {gstar:.1f} of {g}."
        ),
        "sensitivity": "Other estimand, {estimand}: {est} (95% interval {lo} to {hi}; p = {p}).",
        "placebo": (
            "Placebo (carry-over one and two months AFTER the outcome): {l1} (p = {p1}) and {l2} "
            "(p = {p2}); Holm-adjusted p = {h1} and {h2}."
        ),
        "placebo_flag": (
            "Placebo flagged: coverage that comes after the outcome 'predicts' it, so coverage "
            "seems to respond to the outcome (e.g. briefings that report applications); the "
            "coverage association cannot be read as coverage driving the outcome."
        ),
        "placebo_quiet": (
            "Placebo quiet: later coverage does not predict the outcome. This rules out coverage "
            "that follows the outcome by a month or more, but it CANNOT detect a response within "
            "the same month (coverage reacting to this month's applications), nor a common "
            "cause that moves both in the same month."
        ),
        "decomposition": (
            "Amounts = applications x amount per application: applications {a} (95% interval "
            "{alo} to {ahi}), amount per application {b} (95% interval {blo} to {bhi})."
        ),
    },
    "ru": {
        "estimate": (
            "{outcome} ({estimand}): {est} при удвоении (1 + накопленное число материалов на "
            "10 000 жителей) (95% интервал от {lo} до {hi}; p = {p}, {method}); эффективное "
            "число районов {gstar:.1f} из {g}."
        ),
        "sensitivity": "Другая оценка, {estimand}: {est} (95% интервал от {lo} до {hi}; p = {p}).",
        "placebo": (
            "Плацебо (освещение через один и два месяца ПОСЛЕ результата): {l1} (p = {p1}) и "
            "{l2} (p = {p2}); с поправкой Холма p = {h1} и {h2}."
        ),
        "placebo_flag": (
            "Плацебо сработало: освещение, которое идёт после результата, его «предсказывает», "
            "значит освещение, по-видимому, откликается на результат (например, брифинги о "
            "числе заявлений); связь нельзя читать как влияние освещения."
        ),
        "placebo_quiet": (
            "Плацебо молчит: более позднее освещение не предсказывает результат. Это исключает "
            "освещение, следующее за результатом через месяц и более, но НЕ может обнаружить "
            "отклик в том же месяце (освещение в ответ на заявления этого месяца) или общую "
            "причину, действующую в том же месяце."
        ),
        "decomposition": (
            "Суммы = заявления x сумма на заявление: заявления {a} (95% интервал от {alo} до "
            "{ahi}), сумма на заявление {b} (95% интервал от {blo} до {bhi})."
        ),
    },
}

OUTCOME_NAMES = {
    "en": {"applications": "Applications", "amount_kzt": "Amounts legalized"},
    "ru": {"applications": "Заявления", "amount_kzt": "Легализованные суммы"},
}


def _lang(lang: str) -> str:
    return lang if lang in TEXT else "en"


def pct(value: Any) -> str:
    """A percent change with sign, or a dash when missing.

    >>> pct(12.345), pct(None)
    ('+12.3%', '—')
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{float(value):+.1f}%"


def pval(value: Any) -> str:
    """A p-value to three decimals, or a dash."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{float(value):.3f}"


def effect_sentence(outcome: str, effect: Mapping[str, Any], lang: str = "en") -> str:
    """The coverage effect in one sentence with its estimand, interval,
    primary p-value (and its method) and effective clusters."""
    lang = _lang(lang)
    gstar = effect.get("effective_clusters")
    return TEXT[lang]["estimate"].format(
        outcome=OUTCOME_NAMES[lang].get(outcome, outcome),
        estimand=NAMES[lang].get(str(effect.get("estimand")), str(effect.get("estimand"))),
        est=pct(effect.get("estimate")),
        lo=pct(effect.get("ci_low")),
        hi=pct(effect.get("ci_high")),
        p=pval(effect.get("p_value")),
        method=NAMES[lang].get(str(effect.get("p_value_method")), ""),
        gstar=float(gstar) if gstar is not None else float("nan"),
        g=effect.get("n_clusters"),
    )


def sensitivity_sentences(result: Mapping[str, Any], lang: str = "en") -> list[str]:
    """The other estimand's coverage effect, beside the main one."""
    lang = _lang(lang)
    out = []
    for name, eff in (result.get("sensitivity") or {}).items():
        if name == result.get("estimand"):
            continue
        out.append(
            TEXT[lang]["sensitivity"].format(
                estimand=NAMES[lang].get(name, name),
                est=pct(eff.get("estimate")),
                lo=pct(eff.get("ci_low")),
                hi=pct(eff.get("ci_high")),
                p=pval(eff.get("p_value")),
            )
        )
    return out


def placebo_sentence(result: Mapping[str, Any], lang: str = "en") -> str:
    """The placebo leads and what their verdict means (and cannot show)."""
    lang = _lang(lang)
    leads = list(result.get("placebo_leads") or [])
    holm = list(result.get("placebo_p_holm") or [])
    while len(leads) < 2:
        leads.append({})
    while len(holm) < 2:
        holm.append(None)
    head = TEXT[lang]["placebo"].format(
        l1=pct(leads[0].get("estimate")),
        p1=pval(leads[0].get("p_value")),
        l2=pct(leads[1].get("estimate")),
        p2=pval(leads[1].get("p_value")),
        h1=pval(holm[0]),
        h2=pval(holm[1]),
    )
    verdict = "placebo_flag" if result.get("placebo_flagged") else "placebo_quiet"
    return f"{head} {TEXT[lang][verdict]}"


def decomposition_sentence(result: Mapping[str, Any], lang: str = "en") -> str | None:
    """Amounts split into applications and amount per application (None
    when the result has no decomposition)."""
    lang = _lang(lang)
    dec = result.get("decomposition") or {}
    a, b = dec.get("applications"), dec.get("amount_per_application")
    if not a or not b:
        return None
    return TEXT[lang]["decomposition"].format(
        a=pct(a.get("estimate")),
        alo=pct(a.get("ci_low")),
        ahi=pct(a.get("ci_high")),
        b=pct(b.get("estimate")),
        blo=pct(b.get("ci_low")),
        bhi=pct(b.get("ci_high")),
    )


def summary_text(result: Mapping[str, Any], lang: str = "en") -> str:
    """One paragraph: effect, the other estimand, placebo, decomposition."""
    lang = _lang(lang)
    eff = result.get("coverage_effect") or {}
    if lang == "en":
        head = (
            f"{result.get('outcome')} ({eff.get('estimand')}): {pct(eff.get('estimate'))} "
            f"(95% CI {pct(eff.get('ci_low'))} to {pct(eff.get('ci_high'))}, "
            f"p = {pval(eff.get('p_value'))}, {eff.get('p_value_method')}), decay "
            f"{result.get('decay')}, {result.get('n_obs')} district-months, "
            f"{result.get('n_clusters')} districts (effective "
            f"{float(result.get('effective_clusters') or float('nan')):.1f})."
        )
    else:
        head = effect_sentence(str(result.get("outcome")), eff, lang)
    parts = [head, *sensitivity_sentences(result, lang), placebo_sentence(result, lang)]
    dec = decomposition_sentence(result, lang)
    if dec:
        parts.append(dec)
    return " ".join(parts)


def method_en(outcome: str, estimand: str, decay: float, window: int) -> str:
    """The model in words (English; the reports translate the fixed parts)."""
    weight = (
        "population as exposure (offset log(population / 10,000)): each district-month weighs "
        "by its expected count"
        if estimand == "exposure"
        else "the rate per 10,000 residents as outcome and no offset: each district weighs by "
        "its rate, not its size"
    )
    return (
        f"Poisson quasi-likelihood (PPML) of {outcome} with district and month fixed effects and "
        f"{weight} (estimand '{estimand}'); expected {outcome} proportional to 2**(beta * C) "
        "with coverage index C = log2(1 + carry-over materials per 10,000 residents), "
        f"carry-over A[t] = x[t] + {decay:g} * A[t-1]; 100 * (2**beta - 1) is the percent change "
        "per doubling. PPML rather than NB2: consistent under any variance given the mean, no "
        "incidental-parameter bias with fixed effects. Singletons and separated rows are dropped "
        "as in ppmlhdfe. Months with no coverage report are unknown, not zero: they and the "
        f"following {window} month(s) (while the unknown month weighs >= "
        f"{CARRYOVER_UNKNOWN_WEIGHT:g} of the carry-over) are dropped. Month effects absorb the "
        "deadlines and the Dec 2015 rule change; district effects absorb size and each "
        "district's own level. Placebo: the same model with the carry-over one and two months "
        "later added."
    )


def inference_en(
    *, n_clusters: int, g_star: float, n_perm: int, n_boot: int, n_decays: int, primary: str
) -> str:
    """How the p-value and the interval were computed (English)."""
    search = (
        f"the decay was profiled over {n_decays} candidates, so the test statistic is the "
        "largest studentized cluster score over them and each jackknife replicate re-profiles "
        "the decay"
        if n_decays > 1
        else "the decay was fixed before the fit"
    )
    return (
        f"Interval: cluster jackknife (CV3) by district, beta +- t({n_clusters - 1}) se. "
        f"Primary p-value: {NAMES['en'].get(primary, primary)}"
        + (f", {n_perm} permutations" if primary == "randomisation" else "")
        + f"; reported beside it: the CV3 t-test and the wild cluster score bootstrap ({n_boot} "
        f"Webb draws, null imposed). {search[0].upper() + search[1:]}. The primary p-value was "
        "chosen because its size stayed at or below the nominal level on held-out simulated "
        f"panels, where the wild bootstrap did not. {n_clusters} districts of very unequal size "
        f"act like {g_star:.1f} equal ones (effective number of clusters, Carter, Schnepel & "
        "Steigerwald 2017). p-value and interval come from different methods and can disagree "
        "near the 5% line."
    )


def warnings_en(
    *,
    what: str,
    placebo_flagged: bool,
    n_clusters: int,
    g_star: float,
    decay: float,
    decays: Sequence[float],
    selected_by: str,
    interval_finite: bool,
    dropped: Mapping[str, int],
) -> list[str]:
    """Warnings of one result (English; the report shows them as given)."""
    out: list[str] = []
    if placebo_flagged:
        out.append(
            f"Placebo failed: coverage one or two months later 'predicts' this month's {what}. "
            f"Coverage seems to respond to {what}, so the association cannot be read as coverage "
            f"driving {what}."
        )
    if n_clusters < MIN_CLUSTERS_WARN:
        out.append(f"Only {n_clusters} districts enter the model; cluster inference is fragile.")
    if math.isfinite(g_star) and g_star < MIN_EFFECTIVE_CLUSTERS_WARN:
        out.append(
            f"The districts are so unequal that they act like {g_star:.1f} equal ones; read the "
            "interval and p-value with care."
        )
    if len(decays) > 1 and decay == max(decays) and decay > 0:
        out.append(f"The chosen decay {decay:g} is at the edge of the grid.")
    if len(decays) == 1 and selected_by.startswith("pre-set"):
        out.append(f"Decay not chosen from the data: {selected_by}.")
    if not interval_finite:
        out.append("The interval is unbounded: the data cannot pin the slope down.")
    sep = int(dropped.get("separated_by_regressors", 0)) + int(dropped.get("singleton", 0))
    if sep:
        out.append(f"{sep} separated or singleton district-months were dropped (as in ppmlhdfe).")
    return out


#: Titles of the diagnostics sections the models add (the report's own
#: titles cover the rest).
DIAGNOSTIC_TITLES: dict[str, dict[str, str]] = {
    "en": {
        "decay_search": "Carry-over decay: profile of the quasi-likelihood",
        "decay_out_of_sample": "Carry-over decay: out-of-sample check (rolling origin)",
        "influence": "Most influential district-months",
    },
    "ru": {
        "decay_search": "Затухание последействия: профиль квазиправдоподобия",
        "decay_out_of_sample": "Затухание последействия: проверка вне выборки (скользящее начало)",
        "influence": "Наиболее влиятельные район-месяцы",
    },
}

_METHOD_SHORT = {
    "en": (
        "Poisson quasi-likelihood (PPML) with district and month effects; estimand '{estimand}'; "
        "carry-over decay profiled jointly with the slope"
    ),
    "ru": (
        "пуассоновская квазиправдоподобная регрессия (PPML) с эффектами района и месяца; "
        "численность населения как экспозиция (или показатель на 10 000 жителей для "
        "сравнения); затухание последействия выбрано вместе с наклоном"
    ),
}
_INFERENCE_SHORT = {
    "en": (
        "cluster jackknife (CV3) by district with t(G-1); p-value from a randomisation test "
        "(coverage paths shuffled across districts), adjusted for the choice of decay"
    ),
    "ru": (
        "кластерный складной нож (CV3) по районам с t(G-1); p-значение из перестановочного "
        "теста (траектории освещения переставлены между районами) с поправкой на выбор затухания"
    ),
}
_INFLUENCE = {
    "en": (
        "Without the {n} most influential district-months the estimate is {without} (all "
        "district-months: {full})."
    ),
    "ru": (
        "Без {n} наиболее влиятельных район-месяцев оценка {without} (по всем район-месяцам: "
        "{full})."
    ),
}


def method_short(lang: str = "en", estimand: str = "exposure") -> str:
    """The model in a short phrase for the report's method line."""
    return _METHOD_SHORT[_lang(lang)].format(estimand=estimand)


def inference_short(lang: str = "en") -> str:
    """The inference in a short phrase for the report's method line."""
    return _INFERENCE_SHORT[_lang(lang)]


def influence_sentence(influence: Mapping[str, Any], lang: str = "en") -> str:
    """How much the largest cells drive the slope (``diagnostics()["influence"]``).

    >>> influence_sentence({"n_dropped": 3, "beta_without_largest": 0.5, "full_beta": 1.0})
    'Without the 3 most influential district-months the estimate is +41.4% (all district-months: +100.0%).'
    """
    from coverage_analysis.models.coverage import percent

    return _INFLUENCE[_lang(lang)].format(
        n=influence.get("n_dropped"),
        without=pct(percent(float(influence.get("beta_without_largest", float("nan"))))),
        full=pct(percent(float(influence.get("full_beta", float("nan"))))),
    )


_DISAGREE = {
    "en": (
        "Inconclusive: the primary p-value ({p}) and the 95% interval ({lo} to {hi}) disagree "
        "about whether there is an association. They come from different methods "
        "(randomisation test and cluster jackknife); with so few effective districts neither "
        "settles it."
    ),
    "ru": (
        "Неопределённо: основное p-значение ({p}) и 95% интервал (от {lo} до {hi}) расходятся "
        "в том, есть ли связь. Они получены разными методами (перестановочный тест и "
        "кластерный складной нож); при столь малом эффективном числе районов ни один не "
        "решает вопрос."
    ),
}


def disagreement_sentence(effect: Mapping[str, Any], lang: str = "en") -> str | None:
    """A sentence when the primary p-value and the interval disagree at 5%
    (one says "association", the other does not), else None.

    >>> e = {"p_value": 0.38, "beta_ci_low": 0.1, "beta_ci_high": 0.9, "ci_low": 7.2, "ci_high": 86.6}
    >>> disagreement_sentence(e).startswith("Inconclusive")
    True
    """
    p, lo, hi = effect.get("p_value"), effect.get("beta_ci_low"), effect.get("beta_ci_high")
    if p is None or lo is None or hi is None:
        return None
    if (float(p) < ALPHA) == (float(lo) > 0 or float(hi) < 0):
        return None
    return _DISAGREE[_lang(lang)].format(
        p=pval(p), lo=pct(effect.get("ci_low")), hi=pct(effect.get("ci_high"))
    )
