"""District resolver: every alias, every case form generated from the reference,
region-level words, errors with candidates, a user's own reference."""

from __future__ import annotations

import csv
import logging
import re

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coverage_analysis.clean.parsers import Parsed
from coverage_analysis.domain import REGION_ID
from coverage_analysis.reference import load_districts, reference_path
from coverage_analysis.reference.districts import IGNORE_ID, DistrictResolver

#: Case endings of a masculine -ский adjective and of the noun "район" (nom, gen, dat, instr, prep).
ADJECTIVE_CASES = ("ий", "ого", "ому", "им", "ом")
RAYON_CASES = ("район", "района", "району", "районом", "районе")
#: Prepositions a case form is commonly written with.
PREPOSITIONS = {"ий": "", "ого": "акимат ", "ому": "по ", "им": "", "ом": "в "}


@pytest.fixture(scope="module")
def resolver() -> DistrictResolver:
    return DistrictResolver()


def _alias_rows() -> list[tuple[str, str]]:
    with open(reference_path("district_aliases.csv"), encoding="utf-8-sig", newline="") as handle:
        return [(r["district_id"], r["alias"]) for r in csv.DictReader(handle)]


def _adjectival_names() -> list[tuple[str, str]]:
    """(district_id, adjective stem + 'ск') of every name_ru like 'Аягозский район'."""
    ref = load_districts()
    out = []
    for district_id, name in zip(ref.district_id, ref.name_ru, strict=True):
        m = re.fullmatch(r"(.+ск)ий район", name)
        if m:
            out.append((district_id, m[1]))
    return out


def test__alias_file__ids_are_reference_ids_region_or_ignore() -> None:
    known = set(load_districts().district_id) | {REGION_ID, IGNORE_ID}
    assert {i for i, _ in _alias_rows()} <= known


@pytest.mark.parametrize(("district_id", "alias"), [r for r in _alias_rows() if r[0] != IGNORE_ID])
def test__resolve__every_alias_of_the_file(
    resolver: DistrictResolver, district_id: str, alias: str
) -> None:
    assert resolver.resolve(alias) == Parsed(district_id, None)


def test__resolve__every_reference_name(resolver: DistrictResolver) -> None:
    ref = load_districts()
    for column in ("name_ru", "name_kk", "name_en", "center_ru"):
        for district_id, name in zip(ref.district_id, ref[column], strict=True):
            assert resolver.resolve(name) == Parsed(district_id, None), (column, name)


def test__resolve__every_case_of_every_adjectival_name(resolver: DistrictResolver) -> None:
    names = _adjectival_names()
    assert len(names) == 15  # the 15 rural districts of the reference
    for district_id, stem in names:
        for ending in ADJECTIVE_CASES:
            adjective = stem + ending
            assert resolver.resolve(adjective) == Parsed(district_id, None), adjective
            for rayon in RAYON_CASES:
                for form in (f"{adjective} {rayon}", f"{PREPOSITIONS[ending]}{adjective} {rayon}"):
                    assert resolver.resolve(form) == Parsed(district_id, None), form
                    assert resolver.resolve(form.upper()) == Parsed(district_id, None), form


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # spec examples
        ("Аягозский район", "ayagoz"),
        ("в Аягозском районе", "ayagoz"),
        ("Аягоз", "ayagoz"),
        ("Аягуз", "ayagoz"),
        ("Ayagoz", "ayagoz"),
        ("Аягөз ауданы", "ayagoz"),
        ("Семей", "semey"),
        ("г.Семей", "semey"),
        ("Семипалатинск", "semey"),
        ("Усть-Каменогорск", "ust_kamenogorsk"),
        ("Өскемен", "ust_kamenogorsk"),
        ("УК", "ust_kamenogorsk"),
        # decorations and noun cases
        ("г. Усть-Каменогорск", "ust_kamenogorsk"),
        ("город Усть-Каменогорск", "ust_kamenogorsk"),
        ("в г. Усть-Каменогорске", "ust_kamenogorsk"),
        ("Өскемен қаласы", "ust_kamenogorsk"),
        ("У-К", "ust_kamenogorsk"),
        ("в г. Семее", "semey"),
        ("Семей қаласы", "semey"),
        ("акимат г. Риддера", "ridder"),
        ("в Риддере", "ridder"),
        ("Курчатове", "kurchatov"),
        ("в Курчуме", "kurchum"),
        ("Курчумский р-н", "kurchum"),
        ("Курчумского р-на", "kurchum"),
        ("Күршім ауданы", "kurchum"),
        ("Абай", "abai"),
        ("Абайский район", "abai"),
        ("Абай ауданы", "abai"),
        ("с. Караул", "abai"),
        ("Глубокое", "glubokoe"),
        ("Глубоковский", "glubokoe"),
        ("в Глубоком", "glubokoe"),
        ("Бородулиха", "borodulikha"),
        ("Бородулихинский", "borodulikha"),
        ("Алтай", "zyryanovsk"),
        ("Altai", "zyryanovsk"),
        ("Зыряновск", "zyryanovsk"),
        ("Калбатау", "zharma"),
        ("Аксуат", "tarbagatai"),
        ("Улкен Нарын", "katon_karagai"),
        ("Катонқарағай ауданы", "katon_karagai"),
        ("Катон-Карагайского района", "katon_karagai"),
        ("Молодёжный", "ulan"),
        ("Ұлан ауданы", "ulan"),
        ("Урджар", "urzhar"),
        ("Үржар", "urzhar"),
        ("Oskemen", "ust_kamenogorsk"),
        ("Семипалатинского района", "semey"),  # adjective of a city alias
        ("Лениногорский", "ridder"),
        ("Усть-Каменогорский городской акимат", "ust_kamenogorsk"),
        ("Курчатовский", "kurchatov"),
        ("Жарминский район (Калбатау)", "zharma"),
        ("Аягозский район, г. Аягоз", "ayagoz"),
        ("Восточно-Казахстанская обл.", REGION_ID),
        ("Аппарат акима Аягозского района", "ayagoz"),
        ("Аппарат акима Аягозского района ВКО", "ayagoz"),
        ("Аягозский район, ВКО", "ayagoz"),
        ("  АЯГОЗСКИЙ\nРАЙОН ", "ayagoz"),
        ("Aягоз", "ayagoz"),  # Latin A typed inside a Cyrillic word
        # region level
        ("область", REGION_ID),
        ("ВКО", REGION_ID),
        ("ВКО области", REGION_ID),
        ("областные СМИ", REGION_ID),
        ("Областной акимат", REGION_ID),
        ("акимат области", REGION_ID),
        ("Восточно-Казахстанская область", REGION_ID),
        ("Восточно-Казахстанской области", REGION_ID),
        ("ШҚО", REGION_ID),
        ("Шығыс Қазақстан облысы", REGION_ID),
    ],
)
def test__resolve__spellings(resolver: DistrictResolver, raw: str, expected: str) -> None:
    assert resolver.resolve(raw) == Parsed(expected, None)


def test__resolve__kurchatov_and_kurchum_never_collide(resolver: DistrictResolver) -> None:
    for base, district_id in (("Курчатов", "kurchatov"), ("Курчум", "kurchum")):
        for ending in ("", "а", "у", "ом", "е"):
            assert resolver.resolve(base + ending).value == district_id, base + ending


def test__resolve__no_match_names_closest_candidates(resolver: DistrictResolver) -> None:
    parsed = resolver.resolve("Аякоз")
    assert parsed.value is None
    assert parsed.error.startswith("no district matches 'Аякоз'; closest: ayagoz (Аягоз), ")
    assert parsed.error.count("(") == 3


def test__resolve__two_districts_is_ambiguous_with_both_named(resolver: DistrictResolver) -> None:
    parsed = resolver.resolve("Аягозский и Урджарский районы")
    assert parsed.value is None
    assert "matches 2 districts" in parsed.error
    assert "ayagoz (" in parsed.error and "urzhar (" in parsed.error


@pytest.mark.parametrize("raw", ["", "   ", None, float("nan")])
def test__resolve__empty_is_unknown_without_error(resolver: DistrictResolver, raw: object) -> None:
    assert resolver.resolve(raw) == Parsed(None, None)


@pytest.mark.parametrize("raw", ["акимат", "район", 123, "Москва"])
def test__resolve__no_district_is_an_error(resolver: DistrictResolver, raw: object) -> None:
    parsed = resolver.resolve(raw)
    assert parsed.value is None
    assert parsed.error


def test__resolve__users_own_two_district_reference() -> None:
    ref = pd.DataFrame(
        {
            "district_id": ["sunny", "hill"],
            "kind": ["district", "city"],
            "name_ru": ["Солнечный район", "Горный"],
            "name_kk": ["Күнді ауданы", "Тау"],
            "name_en": ["Sunny District", "Hill Town (Tau)"],
            "center_ru": ["Заречное", "Горный"],
        }
    )
    r = DistrictResolver(ref)
    cases = {
        "Солнечный район": "sunny",
        "в Солнечном районе": "sunny",
        "Солнечного р-на": "sunny",
        "Күнді ауданы": "sunny",
        "Sunny District": "sunny",
        "с. Заречное": "sunny",
        "г. Горный": "hill",
        "Тау": "hill",
        "Hill Town": "hill",
        "областные СМИ": REGION_ID,
    }
    for raw, expected in cases.items():
        assert r.resolve(raw) == Parsed(expected, None), raw
    # the shipped region's districts are not part of a user's region
    assert r.resolve("Аягоз").error.startswith("no district matches 'Аягоз'; closest: ")
    assert set(r.aliases().district_id) <= {"sunny", "hill", REGION_ID}


def test__resolve__own_alias_file_with_unknown_id_is_skipped_with_warning(
    tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "aliases.csv"
    path.write_text("district_id,alias\nayagoz,Аяг.\nmoon,Луна\n_ignore,район\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="coverage_analysis.reference.districts"):
        r = DistrictResolver(aliases_path=path)
    assert "'moon'" in caplog.text
    assert r.resolve("Аяг.").value == "ayagoz"
    assert r.resolve("Луна").value is None
    assert r.resolve("Аягозский район").value == "ayagoz"  # names of the reference still work


def test__resolver__reference_without_id_column_is_an_error() -> None:
    with pytest.raises(ValueError, match="district_id"):
        DistrictResolver(pd.DataFrame({"name_ru": ["X"]}))


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=40), st.integers(), st.floats(), st.none()))
def test__resolve__any_input_gives_value_or_reason(raw: object) -> None:
    parsed = _SHARED.resolve(raw)
    assert isinstance(parsed, Parsed)
    assert parsed.error is None or (
        parsed.value is None and not parsed.error.startswith("cannot read")
    )
    assert parsed.value is None or parsed.value in _IDS


_SHARED = DistrictResolver()
_IDS = set(load_districts().district_id) | {REGION_ID}
