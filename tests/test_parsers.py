"""Field parsers and vocabularies: the spec's examples, the shipped vocabulary
files, and property-based round trips."""

from __future__ import annotations

import csv
import datetime as dt
import logging
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coverage_analysis.clean.parsers import (
    DateValue,
    Parsed,
    is_footer_label,
    is_summary_label,
    normalize_text,
    parse_channel,
    parse_count,
    parse_date,
    parse_format,
    parse_language,
    parse_month,
    parse_number,
    parse_period,
    parse_platform,
    parse_quarter,
    unit_multiplier,
    vocabulary,
)
from coverage_analysis.clean.vocab import Vocabulary
from coverage_analysis.domain import CHANNELS, FORMATS, LANGUAGES
from coverage_analysis.reference import reference_path

TS = pd.Timestamp
PARSERS = (
    parse_date,
    parse_month,
    parse_quarter,
    parse_period,
    parse_count,
    parse_number,
    parse_channel,
    parse_language,
    parse_format,
    parse_platform,
)
#: Genitive and Kazakh month names used to build dates in the round trips.
RU_GENITIVE = [
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
]
RU_NOMINATIVE = [
    "январь",
    "февраль",
    "март",
    "апрель",
    "май",
    "июнь",
    "июль",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
]
KK_MONTHS = [
    "қаңтар",
    "ақпан",
    "наурыз",
    "сәуір",
    "мамыр",
    "маусым",
    "шілде",
    "тамыз",
    "қыркүйек",
    "қазан",
    "қараша",
    "желтоқсан",
]
KK_PLAIN = [
    "кантар",
    "акпан",
    "наурыз",
    "сауир",
    "мамыр",
    "маусым",
    "шилде",
    "тамыз",
    "кыркуйек",
    "казан",
    "караша",
    "желтоксан",
]
EXCEL_EPOCH = dt.date(1899, 12, 30)


def _csv_rows(name: str) -> list[dict[str, str]]:
    with open(reference_path(name), encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


# --------------------------------------------------------------------- normalize_text
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  ИТОГО\u00a0по\nрайону ", "итого по району"),
        ("Молодёжный", "молодежный"),
        ("1\u2009500", "1 500"),
        (None, ""),
        (float("nan"), ""),
        (pd.NA, ""),
        (1500, "1500"),
        ("Е\u0308", "е"),  # decomposed ё -> NFC ё -> е
    ],
)
def test__normalize_text__cases(raw: object, expected: str) -> None:
    assert normalize_text(raw) == expected


# --------------------------------------------------------------------- parse_date
@pytest.mark.parametrize(
    "raw",
    [
        "15.03.2016",
        "15.03.16",
        "2016-03-15",
        "15/03/2016",
        "15-03-2016",
        "15.3.2016",
        "15.03.2016 г.",
        "2016-03-15 00:00:00",
        "15 марта 2016",
        "15 марта 2016 года",
        "15 Март 2016",
        "15 наурыз 2016",
        "15 наурыз 2016 ж.",
        "15 Наурыз 2016 ж",
        "2016 жылғы 15 наурыз",
        "«15» марта 2016 г.",
        '"15" марта 2016 г.',
        "15.03.2016.",
        "'15.03.2016",
        "15 мар. 2016",
        "15 March 2016",
        dt.date(2016, 3, 15),
        dt.datetime(2016, 3, 15, 14, 30),
        TS("2016-03-15"),
        np.datetime64("2016-03-15"),
        42444,
        42444.0,
        42444.75,
        np.int64(42444),
        "42444",
    ],
)
def test__parse_date__spec_forms_give_the_day(raw: object) -> None:
    assert parse_date(raw) == Parsed(DateValue(TS("2016-03-15"), TS("2016-03-01")), None)


@pytest.mark.parametrize(
    "raw", ["март 2016", "Март 2016 г.", "март, 2016", "03.2016", "03/2016", "2016-03", "мар.16"]
)
def test__parse_date__month_only_has_no_day(raw: object) -> None:
    assert parse_date(raw) == Parsed(DateValue(None, TS("2016-03-01")), None)


@pytest.mark.parametrize("raw", [None, "", "   ", float("nan"), pd.NaT, pd.NA, np.nan])
def test__parse_date__empty_is_unknown_without_error(raw: object) -> None:
    assert parse_date(raw) == Parsed(None, None)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("31.02.2016", "impossible date '31.02.2016'"),
        ("29.02.2015", "impossible date '29.02.2015'"),
        ("15.13.2016", "no month 13"),
        ("15.03.1999", "year 1999"),
        ("15.03.2031", "year 2031"),
        ("abc", "not a date: 'abc'"),
        ("15 мартобря 2016", "not a date"),
        (5, "not a date"),
        (30000, "Excel date serials are accepted only between"),
        (True, "not a date"),
        ("январь", "month without a year"),
    ],
)
def test__parse_date__bad_values_are_errors_naming_the_value(raw: object, fragment: str) -> None:
    parsed = parse_date(raw)
    assert parsed.value is None
    assert fragment in parsed.error


def test__parse_date__leap_day_and_serial_bounds() -> None:
    assert parse_date("29.02.2016").value.date == TS("2016-02-29")
    assert parse_date((dt.date(2010, 1, 1) - EXCEL_EPOCH).days).value.date == TS("2010-01-01")
    assert parse_date((dt.date(2020, 12, 31) - EXCEL_EPOCH).days).value.date == TS("2020-12-31")
    assert parse_date((dt.date(2009, 12, 31) - EXCEL_EPOCH).days).error is not None


# --------------------------------------------------------------------- parse_month
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Январь 2016", "2016-01"),
        ("янв.16", "2016-01"),
        ("янв 16", "2016-01"),
        ("Jan-16", "2016-01"),
        ("01.2016", "2016-01"),
        ("1.2016", "2016-01"),
        ("2016-01", "2016-01"),
        ("март 2016", "2016-03"),
        ("Март 2016 г.", "2016-03"),
        ("Қаңтар 2016", "2016-01"),
        ("Кантар 2016", "2016-01"),
        ("2016 ж. қаңтар", "2016-01"),
        ("Сентябрь\n2014", "2014-09"),
        ("дек.15", "2015-12"),
        ("2016-01-01 00:00:00", "2016-01"),
        (dt.datetime(2016, 1, 1), "2016-01"),
        (dt.date(2016, 1, 20), "2016-01"),
        (TS("2016-01-01"), "2016-01"),
        (42370, "2016-01"),
    ],
)
def test__parse_month__headers_give_first_of_month(raw: object, expected: str) -> None:
    assert parse_month(raw) == Parsed(TS(expected + "-01"), None)


@pytest.mark.parametrize("raw", ["I кв. 2016", "1 квартал 2016", "IV кв 2015", "1кв2016"])
def test__parse_month__quarter_is_an_error(raw: str) -> None:
    assert parse_month(raw) == Parsed(None, f"quarter, not a month: {raw!r}")


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [("январь", "month without a year"), ("13.2016", "no month 13"), ("Итого", "not a month")],
)
def test__parse_month__bad_headers(raw: str, fragment: str) -> None:
    assert fragment in parse_month(raw).error


# --------------------------------------------------------------------- parse_quarter
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("I кв. 2016", (2016, 1)),
        ("І кв. 2016", (2016, 1)),  # Kazakh і typed as the Roman one
        ("1 кв 2016", (2016, 1)),
        ("1кв2016", (2016, 1)),
        ("II квартал 2016 года", (2016, 2)),
        ("3-й квартал 2015", (2015, 3)),
        ("IV квартал 2015", (2015, 4)),
        ("IV кв.15", (2015, 4)),
        ("Q1 2016", (2016, 1)),
        ("2016 Q2", (2016, 2)),
        ("План на III квартал 2016 г.", (2016, 3)),
        ("2 тоқсан 2016", (2016, 2)),
    ],
)
def test__parse_quarter__forms(raw: str, expected: tuple[int, int]) -> None:
    assert parse_quarter(raw) == Parsed(expected, None)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("1 квартал", "quarter without a year"),
        ("январь 2016", "not a quarter"),
        ("V кв 2016", "not a quarter"),
    ],
)
def test__parse_quarter__bad_values(raw: str, fragment: str) -> None:
    assert fragment in parse_quarter(raw).error


# --------------------------------------------------------------------- parse_period
@pytest.mark.parametrize(
    ("raw", "first", "last"),
    [
        ("Реестр публикаций по освещению легализации за I квартал 2016 г.", "2016-01", "2016-03"),
        ("Реестр_Аягоз_1кв2016.xlsx", "2016-01", "2016-03"),
        ("за IV квартал 2015 года", "2015-10", "2015-12"),
        ("за 2015 год", "2015-01", "2015-12"),
        ("Отчет_2015.xlsx", "2015-01", "2015-12"),
        ("за март 2016", "2016-03", "2016-03"),
        ("за 03.2016", "2016-03", "2016-03"),
        ("с 01.09.2014 по 31.12.2014", "2014-09", "2014-12"),
        ("01.09.2014-31.12.2014", "2014-09", "2014-12"),
        ("за январь-март 2016", "2016-01", "2016-03"),
        ("с января по март 2016 г.", "2016-01", "2016-03"),
        ("за 1 полугодие 2016", "2016-01", "2016-06"),
        ("за II полугодие 2015", "2015-07", "2015-12"),
        ("за 9 месяцев 2015", "2015-01", "2015-09"),
        ("за 2014-2016 годы", "2014-01", "2016-12"),
    ],
)
def test__parse_period__titles_and_file_names(raw: str, first: str, last: str) -> None:
    assert parse_period(raw) == Parsed((TS(first + "-01"), TS(last + "-01")), None)


@pytest.mark.parametrize("raw", ["Реестр публикаций", "", None, "по состоянию на 01.04.2016"])
def test__parse_period__no_period_is_none_without_error(raw: object) -> None:
    assert parse_period(raw) == Parsed(None, None)


def test__parse_period__reversed_range_is_an_error() -> None:
    assert "ends before it starts" in parse_period("с 01.12.2014 по 01.09.2014").error


# --------------------------------------------------------------------- parse_count
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1500", 1500),
        ("1 500", 1500),
        ("1\u00a0500", 1500),
        ("1\u2009500", 1500),
        ("1\u202f500", 1500),
        ("1,5 тыс.", 1500),
        ("1,5тыс", 1500),
        ("12 000 чел.", 12000),
        ("100 тыс", 100000),
        ("1,2 млн", 1200000),
        ("1.234.567", 1234567),
        ("1,234,567", 1234567),
        ("1500.0", 1500),
        ("0", 0),
        (1500.0, 1500),
        (1500, 1500),
        (np.int64(7), 7),
        (np.float64(3.0), 3),
    ],
)
def test__parse_count__spec_forms(raw: object, expected: int) -> None:
    parsed = parse_count(raw)
    assert parsed == Parsed(expected, None)
    assert type(parsed.value) is int


@pytest.mark.parametrize("raw", ["—", "-", "–", "", "  ", None, float("nan"), pd.NA])
def test__parse_count__dash_or_empty_is_unknown_not_zero(raw: object) -> None:
    assert parse_count(raw) == Parsed(None, None)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("abc", "not a number: 'abc'"),
        ("-5", "negative"),
        (-5, "negative"),
        ("2,5", "not a whole number"),
        (1500.5, "not a whole number"),
        ("около 1000", "not a number"),
        ("1000-1500", "not a number"),
        ("10 %", "not a number"),
        ("1 50", "not a number"),
        (float("inf"), "not a finite number"),
        (True, "yes/no"),
        ("тыс.", "a unit without a number"),
        ("1 тыс. млн", "two scale words"),
    ],
)
def test__parse_count__bad_values_are_errors(raw: object, fragment: str) -> None:
    parsed = parse_count(raw)
    assert parsed.value is None
    assert fragment in parsed.error


# --------------------------------------------------------------------- parse_number
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1234,5", 1234.5),
        ("1 234,5", 1234.5),
        ("1\u00a0234\u00a0567,89", 1234567.89),
        ("1.234.567,8", 1234567.8),
        ("1,234,567.8", 1234567.8),
        ("1234.5", 1234.5),
        ("0,25", 0.25),
        ("-12,5", -12.5),
        ("2,5 млн тенге", 2_500_000.0),
        ("1,5 млрд", 1_500_000_000.0),
        ("350 тыс. тенге", 350_000.0),
        ("1500 тг", 1500.0),
        ("1,5E+03", 1500.0),
        (1500, 1500.0),
        (12.75, 12.75),
    ],
)
def test__parse_number__amounts(raw: object, expected: float) -> None:
    parsed = parse_number(raw)
    assert parsed.error is None
    assert parsed.value == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("raw", ["—", "-", "", None, float("nan")])
def test__parse_number__dash_or_empty_is_unknown(raw: object) -> None:
    assert parse_number(raw) == Parsed(None, None)


@pytest.mark.parametrize(
    "raw", ["1,2,3.4.5", "1.23.4", "12abc", "1 2345", "1e", dt.date(2016, 1, 1)]
)
def test__parse_number__malformed_is_an_error(raw: object) -> None:
    parsed = parse_number(raw)
    assert parsed.value is None
    assert parsed.error


# --------------------------------------------------------------------- unit_multiplier
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Сумма легализованного имущества, тыс. тенге", 1e3),
        ("Сумма, тыс.тенге", 1e3),
        ("в тысячах тенге", 1e3),
        ("Сумма (млн. тг)", 1e6),
        ("млн тенге", 1e6),
        ("млрд тенге", 1e9),
        ("Сумма, тенге", 1.0),
        ("amount, KZT", 1.0),
        ("Количество заявлений", None),
        ("Тысячелетие", None),
        (None, None),
        (5, None),
    ],
)
def test__unit_multiplier__finds_the_unit(text: object, expected: float | None) -> None:
    assert unit_multiplier(text) == expected


# --------------------------------------------------------------------- parse_channel
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # spec examples
        ("газета", "print"),
        ("журнал", "print"),
        ("печатные СМИ", "print"),
        ("статья в газете", "print"),
        ("ТВ", "tv"),
        ("телевидение", "tv"),
        ("телесюжет", "tv"),
        ("сюжет", "tv"),
        ("радио", "radio"),
        ("радиосюжет", "radio"),
        ("интернет", "online"),
        ("интернет-ресурс", "online"),
        ("сайт", "online"),
        ("сайт акимата", "online"),
        ("новостной портал", "online"),
        ("соцсети", "social"),
        ("социальные сети", "social"),
        ("Facebook", "social"),
        ("Instagram", "social"),
        ("ВКонтакте", "social"),
        ("VK", "social"),
        ("Одноклассники", "social"),
        ("Telegram", "social"),
        ("WhatsApp", "social"),
        ("YouTube", "social"),
        ("билборд", "outdoor"),
        ("баннер", "outdoor"),
        ("наружная реклама", "outdoor"),
        ("LED-экран", "outdoor"),
        ("стенд", "outdoor"),
        ("объявление в общественном транспорте", "transport"),
        ("реклама в автобусах", "transport"),
        ("листовка", "print_handout"),
        ("буклет", "print_handout"),
        ("памятка", "print_handout"),
        ("семинар", "seminar"),
        ("встреча с населением", "seminar"),
        ("разъяснительная встреча", "seminar"),
        ("круглый стол", "round_table"),
        ("день открытых дверей", "open_day"),
        ("брифинг", "briefing"),
        ("пресс-конференция", "briefing"),
        ("интервью", "interview"),
        # natural variants, inflections, case and punctuation
        ("Статьи в газетах", "print"),
        ("Газета «Рудный Алтай»", "print"),
        ("ТВ-сюжет", "tv"),
        ("TB", "tv"),
        ("Тв", "tv"),
        ("сюжет на радио", "radio"),
        ("пост в Facebook", "social"),
        ("ok.ru", "social"),
        ("LED экран", "outdoor"),
        ("размещение на сайте акимата", "online"),
        ("статья на сайте", "online"),
        ("Круглого стола", "round_table"),
        ("дни открытых дверей", "open_day"),
        ("семинар-совещание", "seminar"),
        ("сход граждан", "seminar"),
        ("  ПРЕСС-КОНФЕРЕНЦИИ ", "briefing"),
        ("Встреча", "seminar"),
        ("встреча с журналистами", "briefing"),
        ("Выступление на радио", "radio"),
        ("https://www.facebook.com/akimat", "social"),
        ("Интернет (сайт акимата)", "online"),
        ('Телеканал "Иртыш"', "tv"),
    ],
)
def test__parse_channel__variants(raw: str, expected: str) -> None:
    assert parse_channel(raw) == Parsed(expected, None)


def test__parse_channel__unknown_names_value_and_closest() -> None:
    parsed = parse_channel("плакат")
    assert parsed.value is None
    assert parsed.error.startswith("unknown channel 'плакат'; closest: ")
    assert parsed.error.count("(") == 3  # three candidates, each with its variant


@pytest.mark.parametrize(
    ("raw", "channels"),
    [
        ("интервью на ТВ", ("tv", "interview")),
        ("буклет и баннер", ("outdoor", "print_handout")),
        ("ТВ, радио", ("tv", "radio")),
    ],
)
def test__parse_channel__two_channels_is_ambiguous(raw: str, channels: tuple[str, ...]) -> None:
    parsed = parse_channel(raw)
    assert parsed.value is None
    assert parsed.error.startswith(f"ambiguous channel {raw!r}")
    assert all(c in parsed.error for c in channels)


def test__parse_channel__empty_is_unknown_without_error() -> None:
    assert parse_channel("") == Parsed(None, None)
    assert parse_channel(None) == Parsed(None, None)


def test__channels_csv__every_variant_maps_to_its_channel() -> None:
    rows = _csv_rows("channels.csv")
    assert {r["channel"] for r in rows} == set(CHANNELS)
    for row in rows:
        assert parse_channel(row["variant"]) == Parsed(row["channel"], None), row


# --------------------------------------------------------------------- language, format, platform
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("рус", "ru"),
        ("русский", "ru"),
        ("ru", "ru"),
        ("RU", "ru"),
        ("Рус.", "ru"),
        ("каз", "kk"),
        ("қаз", "kk"),
        ("казахский", "kk"),
        ("kk", "kk"),
        ("на государственном языке", "kk"),
        ("рус/каз", "both"),
        ("рус, каз", "both"),
        ("каз / рус", "both"),
        ("қаз/орыс", "both"),
        ("на казахском и русском языках", "both"),
        ("both", "both"),
    ],
)
def test__parse_language__variants(raw: str, expected: str) -> None:
    assert parse_language(raw) == Parsed(expected, None)


@pytest.mark.parametrize("raw", ["нем", "рус/нем", "рус нем", "английский"])
def test__parse_language__unknown_is_an_error(raw: str) -> None:
    parsed = parse_language(raw)
    assert parsed.value is None
    assert parsed.error.startswith(f"unknown language {raw!r}")


def test__parse_language__empty_is_unknown() -> None:
    assert parse_language("  ") == Parsed(None, None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("новость", "news"),
        ("Новости", "news"),
        ("", "news"),
        (None, "news"),
        ("точечная статья", "targeted"),
        ("адресная публикация", "targeted"),
        ("отклик гражданина", "testimonial"),
        ("История успеха", "testimonial"),
        ("разъяснение", "explainer"),
        ("инфографика", "explainer"),
    ],
)
def test__parse_format__variants_and_empty_is_news(raw: object, expected: str) -> None:
    assert parse_format(raw) == Parsed(expected, None)


def test__parse_format__unknown_is_an_error() -> None:
    assert parse_format("опрос").error.startswith("unknown format 'опрос'; closest: ")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Facebook", "facebook"),
        ("фейсбук", "facebook"),
        ("Instagram", "instagram"),
        ("инстаграм", "instagram"),
        ("ВКонтакте", "vk"),
        ("vk.com", "vk"),
        ("Одноклассники", "odnoklassniki"),
        ("ok.ru", "odnoklassniki"),
        ("Telegram", "telegram"),
        ("WhatsApp", "whatsapp"),
        ("YouTube", "youtube"),
        ("Twitter", "twitter"),
    ],
)
def test__parse_platform__variants(raw: str, expected: str) -> None:
    assert parse_platform(raw) == Parsed(expected, None)


def test__parse_platform__unknown_is_an_error() -> None:
    assert parse_platform("TikTok").error.startswith("unknown platform 'TikTok'; closest: ")


@pytest.mark.parametrize(
    ("file", "column", "allowed"),
    [
        ("languages.csv", "language", set(LANGUAGES)),
        ("formats.csv", "format", set(FORMATS)),
        ("platforms.csv", "platform", None),
    ],
)
def test__vocabulary_csvs__every_variant_maps_to_its_id(
    file: str, column: str, allowed: set | None
) -> None:
    rows = _csv_rows(file)
    parser = {"language": parse_language, "format": parse_format, "platform": parse_platform}[
        column
    ]
    if allowed is not None:
        assert {r[column] for r in rows} == allowed
    for row in rows:
        assert parser(row["variant"]) == Parsed(row[column], None), row


def test__month_names_csv__every_variant_parses_to_its_month() -> None:
    for row in _csv_rows("month_names.csv"):
        assert parse_month(f"{row['variant']} 2015") == Parsed(
            TS(2015, int(row["month"]), 1), None
        ), row


# --------------------------------------------------------------------- row labels
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Итого", True),
        ("Всего", True),
        ("ИТОГО по району", True),
        ("всего:", True),
        ("Барлығы", True),
        ("Total", True),
        ("Итоговая встреча", False),
        ("Аягозский район", False),
        ("", False),
        (None, False),
        (12, False),
    ],
)
def test__is_summary_label__cases(raw: object, expected: bool) -> None:
    assert is_summary_label(raw) is expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Исп. Ахметова А.", True),
        ("Исполнитель: Иванов И.", True),
        ("Тел. 8 (7232) 12-34-56", True),
        ("Руководитель отдела", True),
        ("Аким района Н. Нурланов", True),
        ("М.П.", True),
        ("Орындаған: Серікова", True),
        ("Акимат Аягозского района", False),
        ("Телевидение", False),
        ("Итого", False),
        (None, False),
    ],
)
def test__is_footer_label__cases(raw: object, expected: bool) -> None:
    assert is_footer_label(raw) is expected


# --------------------------------------------------------------------- Vocabulary
def test__vocabulary__records_unused_entries_and_logs_them(
    caplog: pytest.LogCaptureFixture,
) -> None:
    vocab = Vocabulary([("tv", "ТВ"), ("tv", "телевидение"), ("radio", "радио")], name="channel")
    assert vocab.match("тв").value == "tv"
    assert vocab.unused() == [("tv", "телевидение"), ("radio", "радио")]
    logger = logging.getLogger("test.vocab")
    with caplog.at_level(logging.WARNING, logger="test.vocab"):
        vocab.log_unused(logger)
    assert "2 of 3 entries never matched" in caplog.text
    assert "'радио'" in caplog.text
    vocab.match("Радио")  # a cached second value marks its entry too
    assert vocab.unused() == [("tv", "телевидение")]


def test__vocabulary__from_csv_reads_a_user_file(tmp_path) -> None:
    path = tmp_path / "colours.csv"
    path.write_text("colour,variant\nred,красный\nred,алый\nblue,синий\n", encoding="utf-8")
    vocab = Vocabulary.from_csv(path)
    assert vocab.canonicals == ("red", "blue")
    assert vocab.match("Алые").value == "red"
    assert vocab.match("зелёный").error.startswith("unknown colour 'зелёный'; closest:")


def test__vocabulary__variant_with_two_ids_is_a_data_error() -> None:
    with pytest.raises(ValueError, match="maps to both"):
        Vocabulary([("tv", "сюжет"), ("radio", "Сюжет")])


def test__vocabulary__id_outside_allowed_is_a_data_error() -> None:
    with pytest.raises(ValueError, match="not one of"):
        Vocabulary([("cinema", "кино")], allowed=CHANNELS)


def test__vocabulary__shipped_ones_load() -> None:
    assert set(vocabulary("channel").canonicals) == set(CHANNELS)
    assert set(vocabulary("platform").canonicals) == {
        "facebook",
        "instagram",
        "vk",
        "odnoklassniki",
        "telegram",
        "whatsapp",
        "youtube",
        "twitter",
    }


# --------------------------------------------------------------------- properties
ANY_VALUE = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.text(alphabet="0123456789 .,-/:кКвВIVгтысмлнрдчел\u00a0", max_size=20),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
    st.datetimes(),
)


def _well_formed(parsed: Parsed) -> bool:
    return (
        isinstance(parsed, Parsed)
        and (parsed.error is None or (parsed.value is None and isinstance(parsed.error, str)))
        and not (parsed.error or "").startswith("cannot read")  # the safety net never fired
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ANY_VALUE)
def test__every_parser__any_input_gives_value_or_reason(raw: object) -> None:
    for parser in PARSERS:
        parsed = parser(raw)
        assert _well_formed(parsed), (parser.__name__, raw, parsed)
    assert unit_multiplier(raw) in (None, 1.0, 1e3, 1e6, 1e9)
    assert isinstance(is_summary_label(raw), bool)
    assert isinstance(is_footer_label(raw), bool)
    assert isinstance(normalize_text(raw), str)


DAYS = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2030, 12, 31))


def _formats(day: dt.date) -> list[object]:
    m = day.month - 1
    forms: list[object] = [
        f"{day:%d.%m.%Y}",
        f"{day.day}.{day.month}.{day.year}",
        f"{day:%d.%m.%y}",
        f"{day:%Y-%m-%d}",
        f"{day:%d/%m/%Y}",
        f"{day.day} {RU_GENITIVE[m]} {day.year}",
        f"{day.day} {RU_GENITIVE[m].upper()} {day.year} г.",
        f"{day.day} {KK_MONTHS[m]} {day.year} ж.",
        f"{day.day} {KK_PLAIN[m]} {day.year}",
        day,
        dt.datetime(day.year, day.month, day.day, 12, 0),
        pd.Timestamp(day),
    ]
    serial = (day - EXCEL_EPOCH).days
    if dt.date(2010, 1, 1) <= day <= dt.date(2020, 12, 31):
        forms += [serial, float(serial), str(serial)]
    return forms


@settings(max_examples=150, deadline=None)
@given(DAYS)
def test__parse_date__every_format_round_trips(day: dt.date) -> None:
    expected = Parsed(DateValue(TS(day), TS(day.year, day.month, 1)), None)
    for form in _formats(day):
        assert parse_date(form) == expected, form


@settings(max_examples=100, deadline=None)
@given(DAYS)
def test__parse_month__every_format_round_trips(day: dt.date) -> None:
    m = day.month - 1
    expected = Parsed(TS(day.year, day.month, 1), None)
    forms = [
        f"{RU_NOMINATIVE[m].capitalize()} {day.year}",
        f"{RU_NOMINATIVE[m][:3]}.{day:%y}",
        f"{day:%m.%Y}",
        f"{day:%Y-%m}",
        f"{KK_MONTHS[m].capitalize()} {day.year}",
        f"{RU_NOMINATIVE[m]} {day.year} г.",
        dt.datetime(day.year, day.month, day.day),
    ]
    for form in forms:
        assert parse_month(form) == expected, form
        assert parse_date(form).value.month == expected.value, form


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=2000, max_value=2030), st.integers(min_value=1, max_value=4))
def test__parse_quarter__forms_round_trip(year: int, quarter: int) -> None:
    roman = ("I", "II", "III", "IV")[quarter - 1]
    for form in (
        f"{roman} кв. {year}",
        f"{quarter} кв {year}",
        f"{quarter}кв{year}",
        f"{roman} квартал {year}",
    ):
        assert parse_quarter(form) == Parsed((year, quarter), None), form
        first, last = parse_period(f"Реестр за {form} г.").value
        assert (first.month, last.month) == (3 * quarter - 2, 3 * quarter), form
        assert parse_month(form).error.startswith("quarter, not a month")


def _grouped(n: int, sep: str) -> str:
    return f"{n:,}".replace(",", sep)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10**12))
def test__parse_count__grouped_forms_round_trip(n: int) -> None:
    for form in (
        str(n),
        _grouped(n, " "),
        _grouped(n, "\u00a0"),
        _grouped(n, "\u2009"),
        f"{n} чел.",
        float(n) if n < 2**53 else n,
    ):
        assert parse_count(form) == Parsed(n, None), form
    thousands = f"{n / 1000:.3f}".replace(".", ",")
    assert parse_count(f"{thousands} тыс.") == Parsed(n, None)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10**11), st.integers(min_value=0, max_value=99))
def test__parse_number__grouped_forms_round_trip(whole: int, cents: int) -> None:
    expected = whole + cents / 100
    for form in (
        f"{_grouped(whole, ' ')},{cents:02d}",
        f"{_grouped(whole, '.')},{cents:02d}",
        f"{_grouped(whole, ',')}.{cents:02d}",
        f"{whole},{cents:02d}",
        f"{whole}.{cents:02d}",
    ):
        assert parse_number(form).value == pytest.approx(expected, rel=1e-15), form
    assert parse_number(f"{whole},{cents:02d} млн").value == pytest.approx(
        expected * 1e6, rel=1e-12
    )


@settings(max_examples=100, deadline=None)
@given(st.floats(min_value=0, max_value=1e15, allow_nan=False))
def test__parse_number__floats_pass_through(value: float) -> None:
    assert parse_number(value) == Parsed(value, None)
    assert math.isclose(parse_number(repr(value)).value, value)  # repr may be 1.5e-07
