"""How people write things in the raw files: every spelling variant the
sample exercises, and the names of the variant families it records.

Each ``render_*`` function returns the written value and the variant family
it belongs to, so the layout can record which file exercises which family.

>>> render_date(pd.Timestamp("2016-03-15"), "date_ru_words")
('15 марта 2016', False)
>>> render_reach(1500, "reach_thousands")
'1,5 тыс.'
>>> translit_kk("Заңдастыру")
'Зандастыру'
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from coverage_analysis.domain import CHANNELS

RU_MONTHS_NOM = ("январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август",
                 "сентябрь", "октябрь", "ноябрь", "декабрь")  # fmt: skip
RU_MONTHS_GEN = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
                 "сентября", "октября", "ноября", "декабря")  # fmt: skip
RU_MONTHS_LOC = ("январе", "феврале", "марте", "апреле", "мае", "июне", "июле", "августе",
                 "сентябре", "октябре", "ноябре", "декабре")  # fmt: skip
KK_MONTHS = ("қаңтар", "ақпан", "наурыз", "сәуір", "мамыр", "маусым", "шілде", "тамыз",
             "қыркүйек", "қазан", "қараша", "желтоқсан")  # fmt: skip
RU_MONTH_ABBR = ("янв", "фев", "мар", "апр", "май", "июн", "июл", "авг", "сен", "окт", "ноя", "дек")
ROMAN = ("I", "II", "III", "IV")

#: Excel's day zero for serial date numbers (1900 date system).
EXCEL_EPOCH = dt.datetime(1899, 12, 30)

#: Every variant family of input-formats.md the sample must exercise, with a description.
VARIANT_FAMILIES: dict[str, str] = {
    # containers
    "xlsx": "xlsx workbook",
    "xlsx_multi_sheet": "xlsx with several sheets (every sheet is read)",
    "csv_utf8": "csv in UTF-8",
    "csv_utf8_bom": "csv in UTF-8 with BOM",
    "csv_cp1251": "csv in Windows-1251",
    "csv_semicolon": "csv delimited by ;",
    "csv_comma": "csv delimited by ,",
    "csv_tab": "csv delimited by tab",
    "title_lines": "title lines above the header",
    "blank_lines": "blank lines (and rows holding only a № п/п number)",
    "row_number_column": "a № п/п column",
    "merged_header_cells": "merged header cells",
    "two_row_header": "a two-row header",
    "signature_block": "signature block below the data (Исп., Тел., Руководитель)",
    "summary_lines": "summary lines (Итого, Всего, ИТОГО по району)",
    "header_line_breaks": "line breaks inside header cells",
    "header_case_spacing": "header case and spacing variants",
    "nested_folders": "files at varied folder depth",
    "free_text_file_names": "free-text file names",
    # kind 1: publication registry
    "date_dd.mm.yyyy": "15.03.2016",
    "date_dd.mm.yy": "15.03.16",
    "date_iso": "2016-03-15",
    "date_excel_cell": "Excel date cell",
    "date_excel_serial": "Excel serial number as a plain number",
    "date_ru_words": "15 марта 2016",
    "date_kk_words": "15 наурыз 2016",
    "date_month_words": "month only: март 2016",
    "date_month_numeric": "month only: 03.2016",
    "district_ru": "district in Russian",
    "district_kk": "district in Kazakh (ауданы, қаласы)",
    "district_latin": "district in Latin letters",
    "district_case_forms": "district in another grammatical case (в Аягозском районе)",
    "district_affixes": "г., город, район, р-н, акимат",
    "district_aliases": "Аягуз, Семипалатинск, УК, Өскемен, Алтай (later name)",
    "region_rows": "region-level rows (область, ВКО, областные СМИ)",
    **{f"channel_{c}": f"channel words mapping to {c}" for c in CHANNELS},
    "reach_plain": "1500",
    "reach_space": "1 500 (space)",
    "reach_nbsp": "1 500 (no-break space)",
    "reach_thousands": "1,5 тыс.",
    "reach_people": "12 000 чел.",
    "reach_thousands_nodot": "100 тыс",
    "reach_million": "1,2 млн",
    "reach_em_dash": "— (unknown)",
    "reach_hyphen": "- (unknown)",
    "reach_empty": "empty (unknown)",
    "language_variants": "рус/русский/ru, каз/қаз/казахский/kk, рус/каз",
    "format_variants": "новость/empty, точечная статья, история успеха, инфографика ...",
    "duplicate_same_url": "same URL in two files",
    "duplicate_outlet_title_date": "same outlet, title and date repeated",
    "reject_unknown_district": "district matching no district",
    "reject_ambiguous_district": "district matching two districts",
    "reject_impossible_date": "31.02.2016",
    "reject_outside_campaign": "date outside Sep 2014 - Dec 2016",
    "reject_unknown_channel": "channel word fitting no channel",
    "reject_ambiguous_channel": "channel word fitting two channels",
    "reject_missing_required": "empty date or channel",
    "cell_reject_optional": "bad optional value (reach, language) set to unknown",
    "empty_registry": "a registry with title and header but no material",
    "registry_without_period": "a registry naming no period (coverage from its dates)",
    # kind 2: legalization statistics
    "dgd_wide": "districts in rows, months in columns",
    "dgd_month_full": "Январь 2016",
    "dgd_month_abbr": "янв.16",
    "dgd_month_mm.yyyy": "01.2016",
    "dgd_month_iso": "2016-01",
    "dgd_quarter_column": "I кв. 2016 column (rejected by name)",
    "dgd_measure_column": "measure in a Показатель column",
    "dgd_measure_header_row": "measure in a header row above the months",
    "dgd_measure_sheet_title": "measure in the sheet title",
    "dgd_long_layout": "long layout Район, Месяц, measures",
    "dgd_unit_thousand": "тыс. тенге",
    "dgd_unit_million": "млн тенге",
    "dgd_unit_billion": "млрд тенге",
    "dgd_unit_tenge": "тенге",
    "dgd_cumulative": "нарастающим итогом",
    "dgd_cumulative_decrease": "a decreasing cumulative value (cell reject)",
    "dgd_split_by_kind": "деньги / недвижимость / иное имущество, no total column",
    "dgd_duplicate": "the same value given again",
    "dgd_conflict": "a different value given again (reject)",
    # kinds 3-5
    "plan_quarterly": "media plan by quarter",
    "plan_monthly": "media plan by month",
    "plan_fact": "факт column beside the plan",
    "social_aggregated": "social reach per district x month x platform",
    "social_per_post": "social reach per post",
    "population": "population per district and year",
    "statistics_bulletin": "official statistics bulletin (cover/legend/contents, nested units, KATO, 2024 units)",
}

#: Russian adjective stems of districts are made from ``name_ru`` ("Аягозский район").
DISTRICT_SUFFIX = "ий район"
#: Extra spellings people use (family ``district_aliases``), including later names.
DISTRICT_ALIASES: dict[str, tuple[str, ...]] = {
    "ayagoz": ("Аягуз", "Аягоз"),
    "semey": ("Семипалатинск", "г.Семей"),
    "ust_kamenogorsk": ("УК", "Өскемен", "г. Өскемен"),
    "zyryanovsk": ("Алтай", "Алтайский район"),
}
#: Region-level spellings (district_id ``region``).
REGION_SPELLINGS = ("ВКО", "областные СМИ", "область")

#: Channel words of each canonical channel (input-formats.md).
CHANNEL_WORDS: dict[str, tuple[str, ...]] = {
    "print": ("газета", "журнал", "печатные СМИ", "статья в газете"),
    "tv": ("ТВ", "телевидение", "телесюжет", "сюжет"),
    "radio": ("радио", "радиосюжет"),
    "online": ("интернет", "интернет-ресурс", "сайт", "сайт акимата", "новостной портал"),
    "social": ("соцсети", "социальные сети"),
    "outdoor": ("билборд", "баннер", "наружная реклама", "LED-экран", "стенд"),
    "transport": ("объявление в общественном транспорте", "реклама в автобусах"),
    "print_handout": ("листовка", "буклет", "памятка"),
    "seminar": ("семинар", "встреча с населением", "разъяснительная встреча"),
    "round_table": ("круглый стол",),
    "open_day": ("день открытых дверей",),
    "briefing": ("брифинг", "пресс-конференция"),
    "interview": ("интервью",),
}
#: How the platform of a social material is written (as channel word or platform cell).
PLATFORM_WORDS: dict[str, tuple[str, ...]] = {
    "facebook": ("Facebook",),
    "instagram": ("Instagram",),
    "vk": ("ВКонтакте", "VK"),
    "odnoklassniki": ("Одноклассники",),
    "telegram": ("Telegram",),
    "youtube": ("YouTube",),
}
LANGUAGE_WORDS: dict[str, tuple[str, ...]] = {
    "ru": ("рус", "русский", "ru"),
    "kk": ("каз", "қаз", "казахский", "kk"),
    "both": ("рус/каз",),
}
FORMAT_WORDS: dict[str, tuple[str, ...]] = {
    "news": ("новость", ""),
    "targeted": ("точечная статья", "адресная публикация"),
    "testimonial": ("отклик гражданина", "история успеха"),
    "explainer": ("разъяснение", "инфографика"),
}
#: Header variants of the publication registry (input-formats.md, kind 1).
PUB_HEADERS: dict[str, tuple[str, ...]] = {
    "date": ("Дата", "Дата публикации", "Дата выхода", "Дата проведения", "date"),
    "district": ("Район", "Район/город", "Город/район", "Акимат", "Территория", "district"),
    "channel": ("Вид СМИ", "Вид материала", "Тип", "Канал", "Форма", "channel"),
    "outlet": ("Наименование СМИ", "СМИ", "Издание", "Источник", "outlet"),
    "title": ("Заголовок", "Тема", "Название материала", "title"),
    "url": ("Ссылка", "URL", "Адрес", "link"),
    "reach": ("Охват", "Тираж", "Просмотры", "Количество участников", "reach"),
    "language": ("Язык", "language"),
    "format": ("Формат", "Жанр", "format"),
}
ROW_NUMBER_HEADER = "№ п/п"
#: Summary and signature lines (counted as summaries, never as data).
SUMMARY_WORDS = ("Итого", "Всего", "ИТОГО по району")
SIGNATURES = (
    "Исп. Ахметова А.К.",
    "Тел. 8 (7232) 24-15-67",
    "Руководитель отдела внутренней политики",
    "Исп. Сейтказина Г.",
    "Тел. 8 (72331) 2-14-56",
)
#: Kazakh letters and what people type instead when the encoding lacks them.
KK_TRANSLIT = str.maketrans("әғқңөұүһіӘҒҚҢӨҰҮҺІ", "агкноуухиАГКНОУУХИ")


def translit_kk(text: str) -> str:
    """Replace Kazakh-only letters by their Russian look-alikes (for Windows-1251)."""
    return text.translate(KK_TRANSLIT)


def encodable(text: str, encoding: str | None) -> bool:
    """Whether ``text`` can be written in ``encoding`` (None = xlsx, anything goes)."""
    if encoding is None:
        return True
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def district_spellings(row: pd.Series) -> dict[str, list[str]]:
    """Spellings of one district by family (see ``VARIANT_FAMILIES``)."""
    ru, kk, en = row["name_ru"], row["name_kk"], row["name_en"]
    out: dict[str, list[str]] = {}
    if row["kind"] == "city":
        out["district_ru"] = [ru]
        out["district_affixes"] = [f"г. {ru}", f"г.{ru}", f"город {ru}", f"акимат г. {ru}"]
        out["district_kk"] = [f"{kk} қаласы"]
        out["district_latin"] = [en.split(" (")[0]]
    else:
        stem = ru.removesuffix(DISTRICT_SUFFIX)
        out["district_ru"] = [ru]
        out["district_affixes"] = [f"{stem}ий р-н", f"акимат {stem}ого района"]
        out["district_case_forms"] = [f"в {stem}ом районе", f"{stem}ого района"]
        out["district_kk"] = [kk]
        out["district_latin"] = [en, en.removesuffix(" District")]
    aliases = DISTRICT_ALIASES.get(row["district_id"])
    if aliases:
        out["district_aliases"] = list(aliases)
    return out


def render_date(date: pd.Timestamp, family: str) -> tuple[object, bool]:
    """The cell value of ``date`` written in ``family``; True when only the month is known."""
    d, m, y = date.day, date.month, date.year
    if family == "date_dd.mm.yyyy":
        return f"{d:02d}.{m:02d}.{y}", False
    if family == "date_dd.mm.yy":
        return f"{d:02d}.{m:02d}.{y % 100:02d}", False
    if family == "date_iso":
        return f"{y}-{m:02d}-{d:02d}", False
    if family == "date_excel_cell":
        return dt.datetime(y, m, d), False
    if family == "date_excel_serial":
        return (dt.datetime(y, m, d) - EXCEL_EPOCH).days, False
    if family == "date_ru_words":
        return f"{d} {RU_MONTHS_GEN[m - 1]} {y}", False
    if family == "date_kk_words":
        return f"{d} {KK_MONTHS[m - 1]} {y}", False
    if family == "date_month_words":
        return f"{RU_MONTHS_NOM[m - 1]} {y}", True
    if family == "date_month_numeric":
        return f"{m:02d}.{y}", True
    raise ValueError(f"unknown date family {family}")


#: Date families allowed in csv (no Excel cells).
CSV_DATE_FAMILIES = (
    "date_dd.mm.yyyy", "date_dd.mm.yy", "date_iso", "date_ru_words", "date_kk_words",
    "date_month_words", "date_month_numeric",
)  # fmt: skip
UNKNOWN_REACH = {"reach_em_dash": "—", "reach_hyphen": "-", "reach_empty": ""}


def _grouped(value: int, sep: str) -> str:
    return f"{value:,}".replace(",", sep)


def reach_families(value: int) -> list[str]:
    """Families that can write ``value`` exactly."""
    fams = ["reach_plain"]
    if value >= 1000:
        fams += ["reach_space", "reach_nbsp"]
        if value % 100 == 0 and value < 1_000_000:
            fams.append("reach_thousands")
        if value % 1000 == 0:
            fams.append("reach_people")
            if value < 1_000_000:
                fams.append("reach_thousands_nodot")
        if value % 100_000 == 0 and value >= 1_000_000:
            fams.append("reach_million")
    return fams


def render_reach(value: int, family: str) -> object:
    """``value`` written in ``family`` (unknown families ignore the value)."""
    if family in UNKNOWN_REACH:
        return UNKNOWN_REACH[family]
    if family == "reach_plain":
        return value
    if family == "reach_space":
        return _grouped(value, " ")
    if family == "reach_nbsp":
        return _grouped(value, "\u00a0")
    if family == "reach_thousands":
        text = f"{value / 1000:.1f}".replace(".", ",").removesuffix(",0")
        return f"{text} тыс."
    if family == "reach_people":
        return f"{_grouped(value, ' ')} чел."
    if family == "reach_thousands_nodot":
        return f"{value // 1000} тыс"
    if family == "reach_million":
        text = f"{value / 1_000_000:.1f}".replace(".", ",").removesuffix(",0")
        return f"{text} млн"
    raise ValueError(f"unknown reach family {family}")


def quarter_title(year: int, q: int) -> str:
    """``'за I квартал 2016 г.'``"""
    return f"за {ROMAN[q - 1]} квартал {year} г."


def month_header(month: pd.Timestamp, family: str) -> str:
    """A month column header of DGD statistics in ``family``.

    >>> month_header(pd.Timestamp("2016-01-01"), "dgd_month_abbr")
    'янв.16'
    """
    m, y = month.month, month.year
    if family == "dgd_month_full":
        return f"{RU_MONTHS_NOM[m - 1].capitalize()} {y}"
    if family == "dgd_month_abbr":
        return f"{RU_MONTH_ABBR[m - 1]}.{y % 100:02d}"
    if family == "dgd_month_mm.yyyy":
        return f"{m:02d}.{y}"
    if family == "dgd_month_iso":
        return f"{y}-{m:02d}"
    raise ValueError(f"unknown month family {family}")
