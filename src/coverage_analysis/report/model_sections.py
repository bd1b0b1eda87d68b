"""The model sections of the reports: the pooled association with its placebo, the what-if,
and the diagnostics notebook's parts.

Why a module of their own: these read the models' results (:mod:`coverage_analysis.models`)
and change with them; the rest of the report does not. Their words come from the catalog
(:mod:`~coverage_analysis.report.catalog`, the models' warnings included) and their numbers
from :mod:`~coverage_analysis.report.render`, in the report's locale.
"""

from __future__ import annotations

import html
import json
import logging
import math
from collections.abc import Collection

import pandas as pd

from coverage_analysis import figures
from coverage_analysis.report.catalog import TEXT, message, model_warning
from coverage_analysis.report.context import ReportContext
from coverage_analysis.report.context import names as _names
from coverage_analysis.report.render import (
    Section,
    Sections,
    figure_html,
    localized_reason,
    para,
    share,
    table_html,
    text,
    unavailable,
)
from coverage_analysis.report.render import fmt as _fmt
from coverage_analysis.report.render import pct as _pct

log = logging.getLogger(__name__)

#: Significance level of the verdicts written in words.
ALPHA = 0.05


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
    return None, reason or message("report", "no_model_fit", ctx.lang)


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
        "decay_some",
        lang,
        pct=share(decay, lang=lang),
        hl=_fmt(math.log(0.5) / math.log(decay), 1, lang),
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


def model_section(ctx: ReportContext, district_id: str | None = None) -> Section:
    """The pooled association with its placebo verdict, method and intervals, the carry-over
    curve and (region) the per-district forest plot."""
    lang = ctx.lang
    sec = Section(text("model", lang))
    data, reason = _model_source(ctx)
    if data is None:
        sec.parts.append(
            f"<div class='ca-unavailable'>"
            f"{text('model_unavailable', lang, reason=localized_reason(reason, lang))}</div>"
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
        sec.parts.append(para(html.escape(model_warning(str(warning), lang)), "ca-muted"))
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
    if district_id is None and ctx.scope != "national":  # the republic: by region instead
        sec.parts.extend(forest_parts(ctx, cov))
    if district_id is not None:
        sec.parts.append(_own_effect_paragraph(ctx, district_id, cov))
    return sec


def forest_parts(
    ctx: ReportContext,
    pooled_effect: dict,
    district_ids: Collection[str] | None = None,
    figure_name: str = "region_forest",
    note: str = "forest_text",
) -> list[str]:
    """The per-district slopes (``ctx.extras["district_effects"]``) as a forest plot
    around the pooled estimate, for the districts ``district_ids`` (``None``: all); no
    parts when the effects were not computed."""
    lang = ctx.lang
    effects = ctx.extras.get("district_effects")
    if not isinstance(effects, pd.DataFrame) or not {
        "district_id",
        "estimate",
        "ci_low",
        "ci_high",
    } <= set(effects.columns):
        return []
    ok = effects["status"].eq("ok") if "status" in effects else True
    rows = effects.loc[ok & effects["district_id"].ne("pooled")]
    if district_ids is not None:
        rows = rows.loc[rows["district_id"].isin(set(district_ids))]
    pooled = effects.loc[effects["district_id"].eq("pooled")]
    pooled_row = pooled.iloc[0].to_dict() if len(pooled) else pooled_effect
    parts = [f"<h3>{text('forest', lang)}</h3>", para(text(note, lang), "ca-muted")]
    if {"beta", "beta_ci_low", "beta_ci_high"} <= set(rows.columns):
        scale = {"beta": "estimate", "beta_ci_low": "ci_low", "beta_ci_high": "ci_high"}
        rows = rows.drop(columns=list(scale.values())).rename(columns=scale)
        pooled_row = {scale.get(k, k): v for k, v in pooled_row.items() if k not in scale.values()}
    ax = figures.plot_forest(
        rows.assign(name=_names(ctx, rows)),
        lang=lang,
        synthetic=ctx.synthetic,
        pooled=pooled_row,
        xlabel=TEXT[lang]["effect_beta"],
    )
    parts.append(figure_html(ax, figure_name, ctx.figures_dir))
    return parts


def _own_effect_paragraph(ctx: ReportContext, district_id: str, pooled: dict) -> str:
    """District: its own time-series association beside the pooled estimate, or why there
    is none ("not enough data")."""
    lang = ctx.lang
    effects = ctx.extras.get("district_effects")
    if not isinstance(effects, pd.DataFrame) or "district_id" not in effects:
        reason = ctx.problems.get("district_effects", "not computed")
        reason = model_warning(str(reason), lang)
        return para(text("own_effect_none", lang, reason=html.escape(str(reason))), "ca-muted")
    row = effects.loc[effects["district_id"] == district_id]
    if row.empty or str(row.iloc[0].get("status", "ok")) != "ok":
        reason = "not enough data" if row.empty else str(row.iloc[0]["status"])
        reason = model_warning(reason, lang)
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
        sec.parts.append(unavailable(model_warning(str(data.get("status")), lang), lang))
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
                delta=("+" if delta and delta > 0 else "") + _fmt(delta, 0),
                pct=_pct(pct, 0),
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
        title = describe.diagnostic_title(key, lang) or text(key, lang)
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
        if value.get("note") and lang == "en":  # the models' notes are English only
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
        flat = {
            k: v
            for k, v in value.items()
            if not isinstance(v, (dict, list)) and (lang == "en" or not isinstance(v, str))
        }
        if flat:
            return [table_html(pd.DataFrame([flat]), float_format="{:,.3f}")]
        return [para(html.escape(json.dumps(value, default=str)[:2000]))]
    return [para(html.escape(str(value)[:2000]))]
