"""The one message catalog: every key in both languages, numbers in the locale's format."""

from __future__ import annotations

import re
import string

import pytest
from babel.numbers import get_group_symbol

from coverage_analysis import figures
from coverage_analysis.report import catalog
from coverage_analysis.report.render import fmt, month, pct, share, using_lang


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test__catalog__every_key_has_every_language_and_no_empty_text() -> None:
    for group, entries in catalog.catalog().items():
        assert entries, group
        for key, texts in entries.items():
            assert set(texts) == set(catalog.LANGS), f"{group}.{key}: {sorted(texts)}"
            assert all(t.strip() for t in texts.values()), f"{group}.{key} has an empty text"


def test__catalog__russian_fields_are_a_subset_of_english_fields() -> None:
    """A Russian text may leave out an English-only field (a model's English wording), never
    ask for one the code does not pass."""
    for group, entries in catalog.catalog().items():
        for key, texts in entries.items():
            assert _fields(texts["ru"]) <= _fields(texts["en"]), f"{group}.{key}"


def test__catalog__russian_texts_are_translated() -> None:
    latin_word = re.compile(r"\b[A-Za-z]{4,}\b")
    allowed = {"PPML", "RMSE", "rejects", "model_summary", "json"}  # method, statistic, file names
    for group, entries in catalog.catalog().items():
        for key, texts in entries.items():
            words = set(latin_word.findall(re.sub(r"\{[^}]*\}", "", texts["ru"]))) - allowed
            assert not words, f"{group}.{key}: English words {sorted(words)} in the Russian text"


def test__figures__labels_come_from_the_catalog() -> None:
    assert figures.label("calendar_title", "ru") == catalog.message(
        "figures", "calendar_title", "ru"
    )
    assert figures.channel_label("tv", "ru") == "ТВ"
    assert set(catalog.words("channels", "en")) == set(catalog.words("channels", "ru"))


def test__model_warning__known_warnings_render_in_russian_and_unknown_ones_stay_russian() -> None:
    placebo = (
        "Placebo failed: next month's coverage 'predicts' this month's applications (interval "
        "excludes zero). Coverage seems to respond to applications (e.g. briefings report "
        "applications), so the coverage association cannot be read as coverage driving "
        "applications."
    )
    assert catalog.model_warning(placebo, "ru").startswith("Плацебо-тест не пройден")
    assert catalog.model_warning(placebo, "en") == placebo
    few = catalog.model_warning(
        "Only 7 districts enter the model; cluster inference is fragile.", "ru"
    )
    assert few == "В модель входят только 7 районов; кластерные интервалы ненадёжны."
    unknown = catalog.model_warning("Something new the catalog never saw.", "ru")
    assert "Something" not in unknown and unknown.startswith("Модель")


@pytest.mark.parametrize(
    ("lang", "number", "percent", "when"),
    [
        ("ru", "10{g}705,9", "47{g}%", "январь 2016"),
        ("en", "10,705.9", "47%", "January 2016"),
    ],
)
def test__render__numbers_percents_and_months_follow_the_locale(
    lang: str, number: str, percent: str, when: str
) -> None:
    group = get_group_symbol(lang)  # ru: U+00A0 no-break space (CLDR)
    nbsp = "\u00a0"
    with using_lang(lang):
        assert fmt(10705.9, 1) == number.format(g=group)
        assert pct(47, 0, signed=False) == percent.format(g=nbsp)
        assert share(0.47) == percent.format(g=nbsp)
        assert month("2016-01") == when
        assert fmt(None) == "—" and pct(float("inf")) == "—"
    assert pct(30.17, 1, lang=lang).startswith("+") and pct(-3.9, 1, lang=lang).startswith("-")


def test__render__using_lang_is_restored_after_the_block() -> None:
    with using_lang("ru"):
        inner = fmt(1234.5, 1)
    assert inner == f"1{get_group_symbol('ru')}234,5"
    assert fmt(1234.5, 1) == "1,234.5"


def test__reject_reason__known_reasons_in_russian_unknown_ones_point_to_the_file() -> None:
    assert catalog.reject_reason("not a number: 'abc' (a unit without a number)", "ru") == (
        "не число: 'abc'"
    )
    no_match = "no district matches 'Прочие'; closest: ridder (Риддер), semey (Семей)"
    assert catalog.reject_reason(no_match, "ru") == "район 'Прочие' не найден"
    assert catalog.reject_reason(no_match, "en") == no_match
    assert "rejects.csv" in catalog.reject_reason("a brand new reason", "ru")
    status = catalog.model_warning("not enough data: 3 usable months (< 12)", "ru")
    assert status == "недостаточно данных: пригодных месяцев 3 (< 12)"
