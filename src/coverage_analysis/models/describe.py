"""Words for the coverage model, in English and Russian: the method, the
inference, the warnings, and the paragraphs the reports show.

The reports call these builders with the typed fields of
``model_summary.json`` (see :mod:`coverage_analysis.models.schema`), so a
report never guesses a key. The words themselves live in the one message
catalog (``report/messages.json``, groups ``model``, ``model_names``,
``model_outcomes``, ``diagnostic_titles``) and the numbers are written in the
sentence's language by :mod:`coverage_analysis.report.render`. The English
warnings and method texts stored in ``model_summary.json`` are rendered in a
report's language by :func:`coverage_analysis.report.catalog.model_warning`.

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
from coverage_analysis.models.inference import t_dof
from coverage_analysis.report import render as _render
from coverage_analysis.report.catalog import LANGS, message, words

#: Fewer districts than this: warn that cluster inference is fragile.
MIN_CLUSTERS_WARN = 12
#: Effective clusters (Carter et al. 2017) below this: say the data act like few districts.
MIN_EFFECTIVE_CLUSTERS_WARN = 8.0
#: Significance level of the verdicts.
ALPHA = 0.05

#: Catalog groups (``report/messages.json``) holding the words of this module.
NAMES_GROUP = "model_names"
TEXT_GROUP = "model"
OUTCOMES_GROUP = "model_outcomes"
TITLES_GROUP = "diagnostic_titles"


def _lang(lang: str) -> str:
    return lang if lang in LANGS else "en"


def _name(key: object, lang: str) -> str:
    """A method or estimand in words (the key itself when the catalog has none)."""
    return words(NAMES_GROUP, _lang(lang)).get(str(key), str(key))


def pct(value: Any, lang: str = "en") -> str:
    """A percent change with sign in ``lang``'s format, or a dash when missing.

    >>> pct(12.345), pct(None), pct(-3.86, "ru")
    ('+12.3%', '—', '-3,9\xa0%')
    """
    return _render.pct(value, 1, signed=True, lang=_lang(lang))


def pval(value: Any, lang: str = "en") -> str:
    """A p-value to three decimals in ``lang``'s format, or a dash.

    >>> pval(0.0123), pval(0.0123, "ru"), pval(None)
    ('0.012', '0,012', '—')
    """
    return _render.fmt(value, 3, _lang(lang))


def effect_sentence(outcome: str, effect: Mapping[str, Any], lang: str = "en") -> str:
    """The coverage effect in one sentence with its estimand, interval,
    primary p-value (and its method) and effective clusters."""
    lang = _lang(lang)
    method = effect.get("p_value_method")
    return message(
        TEXT_GROUP,
        "estimate",
        lang,
        outcome=words(OUTCOMES_GROUP, lang).get(outcome, outcome),
        estimand=_name(effect.get("estimand"), lang),
        est=pct(effect.get("estimate"), lang),
        lo=pct(effect.get("ci_low"), lang),
        hi=pct(effect.get("ci_high"), lang),
        p=pval(effect.get("p_value"), lang),
        method=_name(method, lang) if method else "",
        gstar=_render.fmt(effect.get("effective_clusters"), 1, lang),
        g=_render.fmt(effect.get("n_clusters"), 0, lang),
    )


def sensitivity_sentences(result: Mapping[str, Any], lang: str = "en") -> list[str]:
    """The other estimand's coverage effect, beside the main one."""
    lang = _lang(lang)
    out = []
    for name, eff in (result.get("sensitivity") or {}).items():
        if name == result.get("estimand"):
            continue
        out.append(
            message(
                TEXT_GROUP,
                "sensitivity",
                lang,
                estimand=_name(name, lang),
                est=pct(eff.get("estimate"), lang),
                lo=pct(eff.get("ci_low"), lang),
                hi=pct(eff.get("ci_high"), lang),
                p=pval(eff.get("p_value"), lang),
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
    head = message(
        TEXT_GROUP,
        "placebo",
        lang,
        l1=pct(leads[0].get("estimate"), lang),
        p1=pval(leads[0].get("p_value"), lang),
        l2=pct(leads[1].get("estimate"), lang),
        p2=pval(leads[1].get("p_value"), lang),
        h1=pval(holm[0], lang),
        h2=pval(holm[1], lang),
        pj=pval(result.get("placebo_p_joint"), lang),
    )
    verdict = "placebo_flag" if result.get("placebo_flagged") else "placebo_quiet"
    return f"{head} {message(TEXT_GROUP, verdict, lang)}"


def decomposition_sentence(result: Mapping[str, Any], lang: str = "en") -> str | None:
    """Amounts split into applications and amount per application (None
    when the result has no decomposition)."""
    lang = _lang(lang)
    dec = result.get("decomposition") or {}
    a, b = dec.get("applications"), dec.get("amount_per_application")
    if not a or not b:
        return None
    return message(
        TEXT_GROUP,
        "decomposition",
        lang,
        a=pct(a.get("estimate"), lang),
        alo=pct(a.get("ci_low"), lang),
        ahi=pct(a.get("ci_high"), lang),
        b=pct(b.get("estimate"), lang),
        blo=pct(b.get("ci_low"), lang),
        bhi=pct(b.get("ci_high"), lang),
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
        f"the slope is the mean of the slopes at {n_decays} carry-over decays fixed in advance "
        "(no decay is selected); the test statistic is the mean of their studentized cluster "
        "scores and each jackknife replicate refits every decay"
        if n_decays > 1
        else "the decay was fixed before the fit"
    )
    dof = t_dof(n_clusters, g_star)
    beside = {
        "randomisation": f"the randomisation test ({n_perm} permutations of coverage paths)",
        "cv3_jackknife": "the CV3 t-test",
        "wild_score_bootstrap": f"the wild cluster score bootstrap ({n_boot} Webb draws, null "
        "imposed)",
        "wcr_cv3_bootstrap": f"the wild cluster restricted bootstrap of the linearised CV3 t "
        f"({n_boot} Webb draws)",
    }
    others = [beside[m] for m in beside if m != primary]
    same = (
        "p-value and interval come from the same jackknife, so they agree."
        if primary == "cv3_jackknife"
        else "p-value and interval come from different methods and can disagree near the 5% line."
    )
    return (
        f"Interval: cluster jackknife (CV3) by district, beta +- t({dof:.1f}) se, with the "
        "effective number of districts less one as degrees of freedom. "
        f"Primary p-value: {_name(primary, 'en')}"
        + (f", {n_perm} permutations" if primary == "randomisation" else "")
        + f"; reported beside it: {', '.join(others[:-1])} and {others[-1]}. "
        f"{search[0].upper() + search[1:]}. The primary p-value was chosen because its size "
        "came closest to the nominal level on held-out simulated panels (the others rejected "
        f"true nulls more often). {n_clusters} districts of very unequal size act like "
        f"{g_star:.1f} equal ones (effective number of clusters, Carter, Schnepel & Steigerwald "
        f"2017). {same}"
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
    """Warnings of one result, in English: each matches an English template of the
    catalog's ``model_warnings`` group, so :func:`~coverage_analysis.report.catalog.model_warning`
    renders it in the report's language (``tests/test_describe.py`` checks every one)."""
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
        out.append(f"The chosen decay {decay:g} is at the edge of the search grid.")
    if len(decays) == 1 and selected_by.startswith("pre-set"):
        out.append(f"Decay not chosen from the data: {selected_by}.")
    if not interval_finite:
        out.append("The interval is unbounded: the data cannot pin the slope down.")
    sep = int(dropped.get("separated_by_regressors", 0)) + int(dropped.get("singleton", 0))
    if sep:
        out.append(f"{sep} separated or singleton district-months were dropped (as in ppmlhdfe).")
    return out


#: Titles of the diagnostics sections the models add (the report's own
#: titles cover the rest): ``DIAGNOSTIC_TITLES[lang][key]``, read from the catalog.
class _Titles(dict):
    def __missing__(self, lang: str) -> dict[str, str]:
        return words(TITLES_GROUP, _lang(lang))


DIAGNOSTIC_TITLES: dict[str, dict[str, str]] = _Titles()


def diagnostic_title(key: str, lang: str = "en") -> str | None:
    """Title of a diagnostics section the models add, or None for the report's own keys.

    >>> diagnostic_title("influence", "ru"), diagnostic_title("residuals")
    ('Наиболее влиятельные район-месяцы', None)
    """
    return words(TITLES_GROUP, _lang(lang)).get(key)


def method_short(lang: str = "en", estimand: str = "exposure") -> str:
    """The model in a short phrase for the report's method line."""
    return message(TEXT_GROUP, "method_short", _lang(lang), estimand=estimand)


def inference_short(lang: str = "en") -> str:
    """The inference in a short phrase for the report's method line."""
    return message(TEXT_GROUP, "inference_short", _lang(lang))


def influence_sentence(influence: Mapping[str, Any], lang: str = "en") -> str:
    """How much the largest cells drive the slope (``diagnostics()["influence"]``).

    >>> influence_sentence({"n_dropped": 3, "beta_without_largest": 0.5, "full_beta": 1.0})
    'Without the 3 most influential district-months the estimate is +41.4% (all district-months: +100.0%).'
    """
    from coverage_analysis.models.coverage import percent

    lang = _lang(lang)
    return message(
        TEXT_GROUP,
        "influence",
        lang,
        n=_render.fmt(influence.get("n_dropped"), 0, lang),
        without=pct(percent(float(influence.get("beta_without_largest", float("nan")))), lang),
        full=pct(percent(float(influence.get("full_beta", float("nan")))), lang),
    )


def disagreement_sentence(effect: Mapping[str, Any], lang: str = "en") -> str | None:
    """A sentence when the primary p-value and the interval disagree at 5%
    (one says "association", the other does not), else None.

    >>> e = {"p_value": 0.38, "beta_ci_low": 0.1, "beta_ci_high": 0.9, "ci_low": 7.2, "ci_high": 86.6}
    >>> disagreement_sentence(e).startswith("Inconclusive")
    True
    >>> disagreement_sentence(e, "ru")[:45]
    'Неопределённо: основное p-значение (0,380) и '
    """
    p, lo, hi = effect.get("p_value"), effect.get("beta_ci_low"), effect.get("beta_ci_high")
    if p is None or lo is None or hi is None:
        return None
    if (float(p) < ALPHA) == (float(lo) > 0 or float(hi) < 0):
        return None
    lang = _lang(lang)
    return message(
        TEXT_GROUP,
        "disagree",
        lang,
        p=pval(p, lang),
        lo=pct(effect.get("ci_low"), lang),
        hi=pct(effect.get("ci_high"), lang),
    )
