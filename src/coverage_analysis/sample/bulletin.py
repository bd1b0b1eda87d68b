"""The sample's official statistics bulletin: population as of 1 January 2023.

Why: analysts take population from the Bureau of National Statistics' bulletins, which
follow every point of ``../shared/spec/official-statistics.md``: cover, legend and
contents sheets; a numbered data sheet with a bilingual title holding the reference
date in words, a unit row, two stacked merged header rows over a nameless first column;
the nested list republic -> region heading -> city administration -> city proper ->
settlement, and districts with their centres; blank separators; legend codes; the
name ``Абай ауданы`` in two regions; the post-2022 Abai region with new and renamed
districts (Жаңасемей, Ақсуат, Мақаншы, Самар; Алтай for Zyryanovsk); KATO codes where
the Bureau gives them (district-level units only).

The 2024 units come from the boundary lineage (``reference/boundary_lineage.csv``);
their figures are the simulated 2016 population of their campaign district, grown by
:data:`GROWTH_TO_2023` and split by :data:`SPLIT_SHARES`. No random draw is used, so
the rest of the sample does not change. Truth: the campaign district's sum (later units
summed), Glubokoe rejected (its figure is ``...``, no data), every other row
summary, out of scope or blank; in the national scope (``lay.scope``) the other region's
units are data too (:data:`OTHER_REGION`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coverage_analysis.reference import load_lineage
from coverage_analysis.sample.sheets import Sheet

if TYPE_CHECKING:
    from coverage_analysis.sample.layout import Layout

#: Path of the bulletin in the raw folder.
BULLETIN_PATH = "Статистика/Бюро_статистики/Халық_саны_2023.xlsx"
#: Reference year (population on 1 January).
YEAR = 2023
#: Growth of every district's population from 2016 to 2023 (illustrative).
GROWTH_TO_2023 = 1.04
#: Share of a campaign district's population in each of its later units, in lineage order.
SPLIT_SHARES: dict[int, tuple[float, ...]] = {1: (1.0,), 2: (0.7, 0.3)}
#: Share of a unit's population in its city proper / in the district centre.
CITY_PROPER_SHARE, CENTRE_SHARE = 0.9, 0.3
#: The district whose figure the Bureau gives as ``...`` (no data): a deliberate reject.
NO_DATA_DISTRICT = "glubokoe"
#: Total column header (bilingual, line break).
TOTAL = "Барлық халық\nВсе население"
#: Men / women shares (breakdown columns; not used by the cleaner).
MEN_SHARE = 0.48
#: Regions whose units carry their KATO code in the sample (the others: names only).
KATO_REGIONS = ("10",)
#: Region headings as the Bureau writes them (short form, double space).
HEADINGS = {"10": "Абай", "63": "Шығыс  Қазақстан"}
#: Another region, with its own ``Абай ауданы`` (the name recurs) and a town ``Абай қ.``:
#: (name, figure, outcome in the national scope, unit of the national reference). In the
#: region scope every line is out of scope (another region); in the national scope the
#: region is in scope: its heading is a summary, its units are data, its city proper and
#: its town are parts of units already counted.
OTHER_REGION = (
    ("Қарағанды", 1_134_000, "summary", None),
    ("Қарағанды қ.ә.", 497_000, "data", "karaganda__karaganda"),
    ("Қарағанды қаласы", 490_000, "out_of_scope", None),
    ("Абай ауданы", 51_000, "data", "karaganda__abay"),
    ("Абай қ.", 26_000, "out_of_scope", None),
    ("Теміртау қ.ә.", 180_000, "data", "karaganda__temirtau"),
)
#: Settlements written below units (kind of settlement, name).
SETTLEMENTS = {
    "semey": ("Шүлбі к.", "-"),  # no such phenomenon: a part anyway
    "abai": ("Қарауыл а.", None),
    "urzhar": ("Үржар а.", None),
    "kokpekty": ("Самар а.", "x"),  # confidential: a part anyway
}


def _units(region: str) -> list[tuple[str, str, str, bool]]:
    """(later_kato, Kazakh name, campaign district, is a city administration) of the 2024
    units of ``region``, in KATO order."""
    lin = load_lineage()
    lin = lin[(lin.year == 2024) & (lin.later_region_kato == region)]
    out = []
    for r in lin.sort_values("later_kato").itertuples():
        city = int(r.later_kato[2:4]) < 30  # KATO: cities of regional significance first
        name = r.later_name_kk + (" қ.ә." if city else " ауданы")
        out.append((r.later_kato, name, r.campaign_district_id, city))
    return out


def build_bulletin(lay: Layout) -> None:
    """Add the bulletin workbook to ``lay.files``."""
    pop = lay.sim.population
    base = {
        r.district_id: round(r.population * GROWTH_TO_2023)
        for r in pop[pop.year == 2016].itertuples()
    }
    later = {code: _units(code) for code in HEADINGS}
    members: dict[str, list[str]] = {}
    for units in later.values():
        for kato, _, did, _ in units:
            members.setdefault(did, []).append(kato)
    value = {}
    for did, katos in members.items():
        shares = SPLIT_SHARES[len(katos)]
        parts = [round(base[did] * s) for s in shares[:-1]]
        value.update(zip(katos, [*parts, base[did] - sum(parts)], strict=True))

    sheets = [_cover(), _legend(), _contents()]
    s = Sheet("01", "population")
    s.top = [
        [
            "Облыстар, қалалар мен аудандар бойынша 2023 жылғы 1 қаңтарға халық саны\n"
            "Численность населения по областям, городам и районам на 1 января 2023 года"
        ],
        [None, None, None, None, "адам" + " " * 40 + "человек"],
    ]
    s.header = [
        [None, "КАТО", TOTAL, "соның ішінде:\nв том числе:", None],
        [None, None, None, "ерлер\nмужчины", "әйелдер\nженщины"],
    ]
    s.merges = [(1, 1, 1, 5), (3, 2, 4, 2), (3, 3, 4, 3), (3, 4, 3, 5)]
    for label in (
        "соның ішінде:\nв том числе:\nерлер\nмужчины",
        "соның ішінде:\nв том числе:\nәйелдер\nженщины",
    ):
        s.sheet_ledger.append(
            {"row": 4, "field": label.replace("\n", " / "), "value": label.replace("\n", " / "),
             "reason": "breakdown column not used (the package keeps the total)", "scope": "column"}
        )  # fmt: skip

    def row(name, kato, total, outcome, payload=None, **kw):
        men = round(total * MEN_SHARE) if isinstance(total, int) else total
        women = total - men if isinstance(total, int) else total
        s.add([name, kato, total, men, women], outcome=outcome, payload=payload, **kw)

    republic = 20_033_842
    row("Қазақстан Республикасы", None, republic, "summary")
    done: set[str] = set()
    written: set[str] = set()
    for code, units in later.items():
        s.blank(5)
        row(HEADINGS[code], None, sum(value[k] for k, *_ in units), "summary")
        for later_kato, name, did, city in units:
            total = value[later_kato]
            kato = later_kato if code in KATO_REGIONS else None
            if did == NO_DATA_DISTRICT:
                s.add([name, kato, "...", "...", "..."], outcome="rejected", ledger=[
                    {"field": f"population {YEAR}", "value": "...", "scope": "row",
                     "reason": "legend code '...' (нет данных): unknown, no figure"}])  # fmt: skip
                continue
            if did in done:
                row(name, kato, total, "clean")  # summed into the first unit's record
            else:
                done.add(did)
                summed = sum(value[k] for k in members[did])
                row(name, kato, total, "data", payload=(did, YEAR, summed))
            if city:
                row(
                    f"{name.removesuffix(' қ.ә.')} қаласы",
                    None,
                    round(total * CITY_PROPER_SHARE),
                    "out_of_scope",
                )
            settlement = SETTLEMENTS.get(did)
            if settlement and settlement[0] not in written:
                written.add(settlement[0])
                figure = settlement[1] or round(total * CENTRE_SHARE)
                s.add([settlement[0], None, figure, figure, figure], outcome="out_of_scope")
        if code == "10":
            s.blank(5)
            for name, total, outcome, unit in OTHER_REGION:
                if lay.scope != "national":
                    row(name, None, total, "out_of_scope")
                else:
                    row(name, None, total, outcome, (unit, YEAR, total) if unit else None)
    s.blank(5)
    s.add(
        [
            "Ескертпе: 2022 жылы Абай облысы құрылды (Примечание: в 2022 году образована Абайская область)"
        ],
        outcome="summary",
    )
    sheets.append(s)
    f = lay.new_file(BULLETIN_PATH, sheets)
    f.variants |= {"population", "statistics_bulletin"}


def _cover() -> Sheet:
    s = Sheet("Мұқаба", "population")
    s.top = [
        [],
        [None, "Қазақстан Республикасы Стратегиялық жоспарлау және реформалар агенттігінің Ұлттық статистика бюросы"],
        [None, "Бюро национальной статистики Агентства по стратегическому планированию и реформам Республики Казахстан"],
        [],
        [None, "Қазақстан Республикасының облыстары, қалалары мен аудандары бойынша халық саны"],
        [None, "Численность населения Республики Казахстан по областям, городам и районам"],
        [None, "Астана 2023"],
    ]  # fmt: skip
    return s


def _legend() -> Sheet:
    s = Sheet("Шартты белгілер", "population")
    s.top = [
        ["Шартты белгілер\nУсловные обозначения"],
        [],
        ["-", "құбылыс жоқ / явление отсутствует"],
        ["x", "деректер құпия / данные конфиденциальны"],
        ["...", "деректер жоқ / нет данных"],
        ["0,0", "елеусіз шама / незначительная величина"],
    ]
    return s


def _contents() -> Sheet:
    s = Sheet("Мазмұны", "population")
    s.top = [
        ["Мазмұны\nСодержание"],
        [],
        ["1. Облыстар, қалалар мен аудандар бойынша халық саны ................ 4"],
        ["   Численность населения по областям, городам и районам ............. 4"],
    ]
    return s
