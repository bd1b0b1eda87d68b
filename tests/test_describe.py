"""The coverage model's words: Russian sentences with Russian numbers and no English, and
every model warning translatable by the catalog."""

from __future__ import annotations

import re
from typing import Any

import pytest

from coverage_analysis.models import describe
from coverage_analysis.models.channels import MULTIPLE_COMPARISONS_WARNING
from coverage_analysis.report import catalog

#: Latin words of 4+ letters allowed in a Russian sentence: only the method's name PPML,
#: which the Russian literature also writes in Latin letters. Shorter tokens (CV3, t(G-1),
#: p, VIF) are not matched by the pattern at all.
ALLOWED_LATIN = {"PPML"}
LATIN_WORD = re.compile(r"\b[A-Za-z]{4,}\b")
CYRILLIC = re.compile("[\u0400-\u04ff]")


def _english_words(text: str) -> set[str]:
    return set(LATIN_WORD.findall(text)) - ALLOWED_LATIN


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    from coverage_analysis.models.coverage import fit_coverage_model
    from coverage_analysis.models.simulate import simulate_panel

    return fit_coverage_model(
        simulate_panel("null", seed=0), n_boot=99, n_perm=99, decay=0.4
    ).to_dict()


def _russian_texts(result: dict[str, Any]) -> dict[str, str]:
    eff = result["coverage_effect"]
    flagged = {**result, "placebo_flagged": True}
    quiet = {**result, "placebo_flagged": False}
    split = {"decomposition": {"applications": eff, "amount_per_application": eff}}
    mixed = {**eff, "p_value": 0.38, "beta_ci_low": 0.1, "beta_ci_high": 0.9}
    texts = {
        "effect_applications": describe.effect_sentence("applications", eff, "ru"),
        "effect_amounts": describe.effect_sentence("amount_kzt", eff, "ru"),
        "placebo_flagged": describe.placebo_sentence(flagged, "ru"),
        "placebo_quiet": describe.placebo_sentence(quiet, "ru"),
        "decomposition": describe.decomposition_sentence(split, "ru") or "",
        "summary": describe.summary_text(result, "ru"),
        "method": describe.method_short("ru"),
        "inference": describe.inference_short("ru"),
        "influence": describe.influence_sentence(
            {"n_dropped": 3, "beta_without_largest": 0.5, "full_beta": 1.0}, "ru"
        ),
        "disagreement": describe.disagreement_sentence(mixed, "ru") or "",
    }
    for i, sentence in enumerate(describe.sensitivity_sentences(result, "ru")):
        texts[f"sensitivity_{i}"] = sentence
    for key in catalog.words(describe.TITLES_GROUP, "ru"):
        texts[f"title_{key}"] = describe.diagnostic_title(key, "ru") or ""
    return texts


def test__describe__russian_builders_write_no_english(result: dict[str, Any]) -> None:
    texts = _russian_texts(result)
    assert any(k.startswith("sensitivity_") for k in texts)  # the fit has a second estimand
    for name, text in texts.items():
        assert CYRILLIC.search(text), f"{name}: {text!r}"
        assert not _english_words(text), f"{name}: English {_english_words(text)} in {text!r}"


def test__describe__russian_numbers_use_the_decimal_comma(result: dict[str, Any]) -> None:
    eff = {**result["coverage_effect"], "estimate": 30.172, "effective_clusters": 12.46}
    ru = describe.effect_sentence("applications", eff, "ru")
    assert "+30,2\u00a0%" in ru and "12,5 из" in ru
    assert not re.search(r"\d\.\d", ru), ru
    en = describe.effect_sentence("applications", eff, "en")
    assert "+30.2%" in en and "12.5 of" in en
    placebo = describe.placebo_sentence(result, "ru")
    assert re.search(r"p = \d,\d{3}", placebo) and not re.search(r"\d\.\d", placebo)


def test__describe__diagnostic_titles_mapping_reads_the_catalog() -> None:
    assert describe.DIAGNOSTIC_TITLES["ru"]["influence"] == describe.diagnostic_title(
        "influence", "ru"
    )
    assert describe.diagnostic_title("not_a_model_section", "ru") is None


def _all_model_warnings() -> list[str]:
    out: list[str] = []
    for what in ("applications", "amounts legalized"):
        out += describe.warnings_en(
            what=what,
            placebo_flagged=True,
            n_clusters=describe.MIN_CLUSTERS_WARN - 1,
            g_star=3.42,
            decay=0.9,
            decays=[0.0, 0.5, 0.9],
            selected_by="profile",
            interval_finite=False,
            dropped={"separated_by_regressors": 2, "singleton": 1},
        )
    out += describe.warnings_en(
        what="applications",
        placebo_flagged=False,
        n_clusters=19,
        g_star=12.0,
        decay=0.4,
        decays=[0.4],
        selected_by="pre-set by the caller (decay=0.4)",
        interval_finite=True,
        dropped={},
    )
    # channels.py and districts.py write these (channels: constants and f-strings; districts:
    # the per-district status texts that the reports show as reasons).
    out += [
        MULTIPLE_COMPARISONS_WARNING.format(k=3),
        "No channel group has enough variation for a model.",
        "Channel indices are collinear (VIF > 10: tv, online); their separate slopes are "
        "unstable even if the total is not.",
        "not enough data: 5 usable months (< 12)",
        "not enough data: only 4 applications",
        "not enough data: outcome is zero throughout",
        "not enough data: coverage hardly varies over time",
        "not enough data: the district is not in the fitted model",
        "not enough data: no month with known coverage",
    ]
    return out


def test__warnings__every_branch_of_warnings_en_is_exercised() -> None:
    first = describe.warnings_en(
        what="applications",
        placebo_flagged=True,
        n_clusters=5,
        g_star=3.42,
        decay=0.9,
        decays=[0.0, 0.9],
        selected_by="profile",
        interval_finite=False,
        dropped={"singleton": 1},
    )
    assert len(first) == 6  # every branch but "decay not chosen from the data"
    assert len(_all_model_warnings()) >= 2 * 6 + 1


@pytest.mark.parametrize("warning", _all_model_warnings())
def test__warnings__every_model_warning_translates_to_russian(warning: str) -> None:
    other = catalog.message("report", "model_warning_other", "ru")
    ru = catalog.model_warning(warning, "ru")
    assert ru != other, f"the catalog has no template for {warning!r}"
    assert CYRILLIC.search(ru) and not _english_words(ru), ru
    assert not re.search(r"\d\.\d", ru), f"English decimal point in {ru!r}"
    assert catalog.model_warning(warning, "en") == warning


def test__warnings__decimal_fields_follow_the_russian_locale() -> None:
    unequal = next(w for w in _all_model_warnings() if "so unequal" in w)
    assert "3,4 равных" in catalog.model_warning(unequal, "ru")
