"""Non-registry files of the sample: State Revenue Department (ДГД) legalization
statistics, media plans, social-media reach reports and population.

Payloads of rows (what a correct cleaner must make of them):

- legalization: list of ``(district_id, month, measure, value, reject_reason)``
  with ``measure`` in ``applications`` / ``amount_kzt`` (tenge) and
  ``reject_reason`` set for a deliberate cell reject;
- media plan: list of ``(district_id, month, channel, planned, actual)``;
- social reach: list of ``(district_id, month, platform, posts, users)``, per-post
  rows with a sixth element, the post's URL (posts of a month add up);
- population: ``(district_id, year, population)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from coverage_analysis.domain import REGION_ID
from coverage_analysis.sample import vocab as V
from coverage_analysis.sample.bulletin import build_bulletin
from coverage_analysis.sample.sheets import Sheet
from coverage_analysis.sample.simulate import AMOUNT_KINDS, quarter_key

if TYPE_CHECKING:
    from coverage_analysis.sample.layout import Layout

#: Column headers of the amount split by kind (no total column).
KIND_HEADERS = {"money": "Деньги", "real_estate": "Недвижимость", "other": "Иное имущество"}
#: Tenge per unit.
THOUSAND, MILLION, BILLION = 1_000, 1_000_000, 1_000_000_000
#: Quarter columns planted in the first DGD sheet (rejected by name).
QUARTER_COLUMNS = ((2015, 1), (2015, 2))
#: Districts whose amounts are re-sent in tenge (duplicates) and the one re-sent with a
#: different value (conflict).
RESENT_DISTRICTS = ("ust_kamenogorsk", "semey")
CONFLICT_DISTRICT = "glubokoe"
#: Districts with their own monthly media plan for the first half of 2016.
PLAN_MONTHLY_DISTRICTS = ("glubokoe", "ulan")
#: Channels a district may plan; print and online are always planned.
PLAN_CHANNELS = ("print", "tv", "radio", "online", "social", "outdoor", "seminar", "briefing")
#: Plans exceed what is done: planned = ceil(actual * ratio) + 1, ratio drawn in this range.
PLAN_RATIO = (1.1, 2.2)
#: District reporting social reach post by post in 2016 (left out of the aggregated report).
PER_POST_DISTRICT = "ust_kamenogorsk"
#: Platform names as written in social reach reports.
PLATFORM_NAMES = {
    "facebook": ("Facebook",), "instagram": ("Instagram",), "vk": ("ВКонтакте", "VK"),
    "odnoklassniki": ("Одноклассники",), "telegram": ("Telegram",), "youtube": ("YouTube",),
}  # fmt: skip


def _dgd_name(lay: Layout, did: str) -> str:
    opts = [
        s
        for f, ss in lay.spell[did].items()
        if f in ("district_ru", "district_affixes")
        for s in ss
    ]
    return lay.choice([o for o in opts if not o.startswith("акимат")])


def build(lay: Layout) -> None:
    """Add every non-registry file to ``lay.files``."""
    _dgd(lay)
    _plans(lay)
    _social(lay)
    _population(lay)
    build_bulletin(lay)


# --- legalization ---------------------------------------------------------------------
def _footer(sheet: Sheet, width: int, lay: Layout) -> None:
    sheet.blank(width)
    for sig in lay._sample(list(V.SIGNATURES), 2):
        sheet.add([sig] + [""] * (width - 1), outcome="summary")


def _dgd(lay: Layout) -> None:
    panel = lay.sim.panel.set_index(["district_id", "month"])
    ids = list(lay.d.index)
    months = list(lay.sim.months)
    p1 = [m for m in months if m.year < 2016]
    p2 = [m for m in months if m.year == 2016 and m.month <= 6]
    p3 = [m for m in months if m.year == 2016 and m.month > 6]

    def val(did, m, col):
        return panel.loc[(did, m), col]

    # P1 applications: wide, measure in the sheet title, full month names, quarter columns
    s1 = Sheet("Заявления", "legalization")
    s1.top = [
        ["Количество заявлений на легализацию имущества за период сентябрь 2014 – декабрь 2015 г."],
        [],
    ]
    cols: list[Any] = []
    for m in p1:
        cols.append(m)
        for y, q in QUARTER_COLUMNS:
            if m == pd.Timestamp(y, 3 * q, 1):
                cols.append((y, q))
    head = [V.ROW_NUMBER_HEADER, "Район"]
    head += [
        V.month_header(c, "dgd_month_full")
        if isinstance(c, pd.Timestamp)
        else f"{V.ROMAN[c[1] - 1]} кв. {c[0]}"
        for c in cols
    ]
    s1.header = [head]
    s1.merges.append((1, 1, 1, len(head)))
    for k, c in enumerate(cols):
        if not isinstance(c, pd.Timestamp):
            s1.sheet_ledger.append({"row": s1.first_row - 1, "field": "column", "value": head[k + 2],
                                    "reason": "quarter column is not a month", "scope": "column"})  # fmt: skip
    for n, did in enumerate(ids, start=1):
        values = []
        cells = [n, _dgd_name(lay, did)]
        for c in cols:
            if isinstance(c, pd.Timestamp):
                v = int(val(did, c, "applications"))
                values.append((did, c, "applications", v, None))
            else:
                qm = [m for m in p1 if quarter_key(m) == f"{c[0]}Q{c[1]}"]
                v = int(sum(val(did, m, "applications") for m in qm))
            cells.append(v)
        s1.add(cells, payload=values)
    totals = ["", "Итого"] + [
        int(sum(val(d, c, "applications") for d in ids)) if isinstance(c, pd.Timestamp) else ""
        for c in cols
    ]
    s1.add(totals, outcome="summary")
    _footer(s1, len(head), lay)

    # P1 amounts: split by kind, two-row header, unit (млн тенге) in the title, ISO months
    s2 = Sheet("Сумма", "legalization")
    s2.top = [["Сумма легализованного имущества по видам имущества, млн тенге"], []]
    row1: list[Any] = ["Район"]
    row2: list[Any] = [""]
    for kind in AMOUNT_KINDS:
        row1 += [KIND_HEADERS[kind]] + [""] * (len(p1) - 1)
        row2 += [V.month_header(m, "dgd_month_iso") for m in p1]
    s2.header = [row1, row2]
    r1 = len(s2.top) + 1
    s2.merges.append((r1, 1, r1 + 1, 1))
    for k in range(len(KIND_HEADERS)):
        s2.merges.append((r1, 2 + k * len(p1), r1, 1 + (k + 1) * len(p1)))
    for did in ids:
        cells = [_dgd_name(lay, did)]
        for kind in AMOUNT_KINDS:
            cells += [round(val(did, m, f"amount_{kind}_kzt") / MILLION, 3) for m in p1]
        values = [(did, m, "amount_kzt", float(val(did, m, "amount_kzt")), None) for m in p1]
        s2.add(cells, payload=values)
    _footer(s2, len(row1), lay)
    f = lay.new_file("ДГД/Легализация_по_районам_2014-2015.xlsx", [s1, s2])
    f.variants |= {"dgd_wide", "dgd_month_full", "dgd_quarter_column", "dgd_measure_sheet_title",
                   "dgd_split_by_kind", "dgd_unit_million", "dgd_month_iso", "two_row_header",
                   "merged_header_cells", "title_lines", "summary_lines", "signature_block",
                   "row_number_column", "blank_lines"}  # fmt: skip

    # P2: Показатель column, mm.yyyy months, unit (тыс. тенге) in the measure label
    s3 = Sheet("Свод", "legalization")
    s3.top = [["Мониторинг легализации имущества в разрезе районов, январь – июнь 2016 г."], []]
    s3.header = [["Район", "Показатель"] + [V.month_header(m, "dgd_month_mm.yyyy") for m in p2]]
    for did in ids:
        name = _dgd_name(lay, did)
        apps = [int(val(did, m, "applications")) for m in p2]
        s3.add([name, "Количество заявлений", *apps],
               payload=[(did, m, "applications", a, None) for m, a in zip(p2, apps, strict=True)])  # fmt: skip
        amts = [int(val(did, m, "amount_kzt") // THOUSAND) for m in p2]
        s3.add([name, "Сумма легализованного имущества, тыс. тенге", *amts],
               payload=[(did, m, "amount_kzt", float(a * THOUSAND), None) for m, a in zip(p2, amts, strict=True)])  # fmt: skip
    bad = s3.add(["Прочие", "Количество заявлений", *[1] * len(p2)], outcome="rejected")
    bad.ledger = [{"field": "district", "value": "Прочие", "reason": "unknown district", "scope": "row",
                   "family": "reject_unknown_district"}]  # fmt: skip
    s3.add(["Итого по области", "Количество заявлений"] + [int(sum(val(d, m, "applications") for d in ids)) for m in p2],
           outcome="summary")  # fmt: skip
    _footer(s3, len(s3.header[0]), lay)
    f = lay.new_file("ДГД/Мониторинг_легализации_январь-июнь_2016.xlsx", [s3])
    f.variants |= {"dgd_wide", "dgd_measure_column", "dgd_month_mm.yyyy", "dgd_unit_thousand",
                   "reject_unknown_district"}  # fmt: skip

    # P3 applications: cumulative from July, measure in a header row above abbreviated months
    s4 = Sheet("Заявления", "legalization")
    s4.top = [["Сведения о ходе легализации имущества, II полугодие 2016 г."], []]
    s4.header = [
        ["Район", "Количество заявлений, нарастающим итогом с 01.07.2016"] + [""] * (len(p3) - 1),
        [""] + [V.month_header(m, "dgd_month_abbr") for m in p3],
    ]
    r1 = len(s4.top) + 1
    s4.merges += [(r1, 1, r1 + 1, 1), (r1, 2, r1, 1 + len(p3))]
    cum = {did: np.cumsum([int(val(did, m, "applications")) for m in p3]) for did in ids}
    eligible = [d for d in ids if cum[d][-2] >= 5]
    dec_did = lay.choice(eligible)
    for did in ids:
        cells = [_dgd_name(lay, did)] + [int(c) for c in cum[did]]
        values = [(did, m, "applications", int(val(did, m, "applications")), None) for m in p3]
        row = s4.add(cells, payload=values)
        if did == dec_did:  # the deliberate decrease (last month: nothing depends on it)
            cells[-1] = int(cum[did][-2]) - 1 - int(lay.rng.integers(3))
            row.cells = cells
            values[-1] = (did, p3[-1], "applications", None, "cumulative series decreases")
            row.ledger = [{"field": V.month_header(p3[-1], "dgd_month_abbr"), "value": cells[-1],
                           "reason": "cumulative series decreases", "scope": "cell",
                           "district_id": did}]  # fmt: skip
    s4.add(
        ["Всего"] + [int(sum(cum[d][k] for d in ids)) for k in range(len(p3))], outcome="summary"
    )
    _footer(s4, 1 + len(p3), lay)
    f = lay.new_file("ДГД/Сведения_ДГД_июль-декабрь_2016.xlsx", [s4])
    f.variants |= {"dgd_wide", "dgd_cumulative", "dgd_cumulative_decrease", "dgd_measure_header_row",
                   "dgd_month_abbr", "two_row_header", "merged_header_cells"}  # fmt: skip

    # P3 amounts: long layout csv, unit (млрд тенге) in the header, decimal comma
    s5 = Sheet("", "legalization")
    s5.top = [["Сумма легализованного имущества по районам, II полугодие 2016 г."], []]
    s5.header = [["Район", "Месяц", "Сумма легализованного имущества, млрд тенге"]]
    month_fams = ("dgd_month_full", "dgd_month_mm.yyyy", "dgd_month_iso")
    for did in ids:
        for m in p3:
            amount = float(val(did, m, "amount_kzt"))
            text = f"{amount / BILLION:.6f}".replace(".", ",")
            s5.add([_dgd_name(lay, did), V.month_header(m, lay.choice(month_fams)), text],
                   payload=[(did, m, "amount_kzt", amount, None)])  # fmt: skip
    f = lay.new_file("ДГД/legalizaciya_summy_2016_II.csv", [s5], "utf-8-sig", ";")
    f.variants |= {"dgd_long_layout", "dgd_unit_billion", "title_lines"}

    # re-sent amounts in tenge: duplicates, and one conflicting value
    s6 = Sheet("Лист1", "legalization")
    s6.top = [["Уточнённые суммы легализации, II полугодие 2016 г."], []]
    s6.header = [
        ["Район", "Сумма легализованного имущества, тенге"] + [""] * (len(p3) - 1),
        [""] + [V.month_header(m, "dgd_month_full") for m in p3],
    ]
    r1 = len(s6.top) + 1
    s6.merges += [(r1, 1, r1 + 1, 1), (r1, 2, r1, 1 + len(p3))]
    for did in (*RESENT_DISTRICTS, CONFLICT_DISTRICT):
        amounts = [int(val(did, m, "amount_kzt")) for m in p3]
        if did == CONFLICT_DISTRICT:
            amounts[2] += 250 * THOUSAND
        s6.add([_dgd_name(lay, did), *amounts],
               payload=[(did, m, "amount_kzt", float(a), None) for m, a in zip(p3, amounts, strict=True)])  # fmt: skip
    f = lay.new_file("ДГД/Уточнение_сумм_2016.xlsx", [s6])
    f.variants |= {"dgd_unit_tenge", "dgd_duplicate", "dgd_conflict", "dgd_month_full", "dgd_wide"}


# --- media plans ----------------------------------------------------------------------
def _plan_value(lay: Layout, actual: int) -> int:
    return int(np.ceil(actual * lay.rng.uniform(*PLAN_RATIO))) + 1


def _plans(lay: Layout) -> None:
    counts = lay.sim.counts
    d_counts = counts[counts.district_id != REGION_ID].copy()
    d_counts["q"] = d_counts["month"].map(quarter_key)
    by_q = d_counts.groupby(["district_id", "channel", "q"])["n"].sum()
    by_m = d_counts.groupby(["district_id", "channel", "month"])["n"].sum()
    ids = list(lay.d.index)
    channels = {
        did: ["print", "online"] + [c for c in PLAN_CHANNELS[2:] if lay.rng.random() < 0.6]
        for did in ids
    }
    channels = {d: sorted(set(c), key=PLAN_CHANNELS.index) for d, c in channels.items()}

    def actual_q(did, ch, q):
        return int(by_q.get((did, ch, q), 0))

    # 2015, quarterly, plan only, csv
    s = Sheet("", "media_plan")
    qs = [(2015, q) for q in range(1, 5)]
    s.top = [["Сводный медиаплан районов по освещению легализации на 2015 год"], []]
    s.header = [["Район", "Вид СМИ"] + [f"{V.ROMAN[q - 1]} кв. {y} (план)" for y, q in qs]]
    for did in ids:
        for ch in channels[did]:
            planned = [_plan_value(lay, actual_q(did, ch, f"{y}Q{q}")) for y, q in qs]
            payload = []
            for (y, q), p in zip(qs, planned, strict=True):
                payload += [
                    (did, pd.Timestamp(y, 3 * q - 2 + k, 1), ch, p / 3, None) for k in range(3)
                ]
            s.add([_dgd_name(lay, did), V.CHANNEL_WORDS[ch][0], *planned], payload=payload)
    bad = s.add([_dgd_name(lay, ids[0]), "прочее", 2, 2, 2, 2], outcome="rejected")
    bad.ledger = [
        {"field": "channel", "value": "прочее", "reason": "unknown channel", "scope": "row"}
    ]
    s.add(["Итого", ""] + [""] * len(qs), outcome="summary")
    f = lay.new_file("Медиапланы/Медиаплан_районов_2015.csv", [s], "cp1251", "\t")
    f.variants |= {"plan_quarterly"}

    # 2016, quarterly, plan and (for I quarter) fact; districts with monthly plans excluded
    s = Sheet("План-факт", "media_plan")
    qs = [(2016, q) for q in range(1, 5)]
    s.top = [["Медиаплан по освещению легализации на 2016 год (план/факт)"], []]
    row1 = ["Район", "Канал", "I кв. 2016", "", "II кв. 2016", "III кв. 2016", "IV кв. 2016"]
    row2 = ["", "", "план", "факт", "план", "план", "план"]
    s.header = [row1, row2]
    r1 = len(s.top) + 1
    s.merges += [(r1, 1, r1 + 1, 1), (r1, 2, r1 + 1, 2), (r1, 3, r1, 4)]
    for did in ids:
        if did in PLAN_MONTHLY_DISTRICTS:
            continue
        for ch in channels[did]:
            planned = [_plan_value(lay, actual_q(did, ch, f"{y}Q{q}")) for y, q in qs]
            fact = actual_q(did, ch, "2016Q1")
            payload = []
            for i, ((y, q), p) in enumerate(zip(qs, planned, strict=True)):
                act = fact / 3 if i == 0 else None
                payload += [
                    (did, pd.Timestamp(y, 3 * q - 2 + k, 1), ch, p / 3, act) for k in range(3)
                ]
            s.add([_dgd_name(lay, did), lay.choice(V.CHANNEL_WORDS[ch]), planned[0], fact, *planned[1:]],
                  payload=payload)  # fmt: skip
    _footer(s, len(row1), lay)
    f = lay.new_file("Медиапланы/Медиаплан_2016_план-факт.xlsx", [s])
    f.variants |= {"plan_quarterly", "plan_fact", "two_row_header", "merged_header_cells"}

    # monthly plans (Jan-Jun 2016) of some districts, with fact
    months = [m for m in lay.sim.months if m.year == 2016 and m.month <= 6]
    for did in PLAN_MONTHLY_DISTRICTS:
        s = Sheet("Медиаплан", "media_plan")
        s.top = [[f"Медиаплан {lay.place(did)} на I полугодие 2016 г."], []]
        row1 = ["Район", "Вид СМИ"]
        row2 = ["", ""]
        for m in months:
            row1 += [V.month_header(m, "dgd_month_full"), ""]
            row2 += ["план", "факт"]
        s.header = [row1, row2]
        r1 = len(s.top) + 1
        s.merges += [(r1, 1, r1 + 1, 1), (r1, 2, r1 + 1, 2)]
        s.merges += [(r1, 3 + 2 * k, r1, 4 + 2 * k) for k in range(len(months))]
        for ch in channels[did]:
            cells: list[Any] = [_dgd_name(lay, did), lay.choice(V.CHANNEL_WORDS[ch])]
            payload = []
            for m in months:
                act = int(by_m.get((did, ch, m), 0))
                p = _plan_value(lay, act)
                cells += [p, act]
                payload.append((did, m, ch, float(p), float(act)))
            s.add(cells, payload=payload)
        s.add(["Итого"] + [""] * (len(row1) - 1), outcome="summary")
        f = lay.new_file(f"Медиапланы/Районы/Медиаплан_{lay.short(did)}_янв-июнь_2016.xlsx", [s])
        f.variants |= {"plan_monthly", "plan_fact", "two_row_header", "merged_header_cells"}


# --- social reach ---------------------------------------------------------------------
def _social(lay: Layout) -> None:
    mats = lay.sim.materials
    soc = mats[mats.channel == "social"]
    per_post = (soc.district_id == PER_POST_DISTRICT) & (soc.month.dt.year == 2016)
    agg = (
        soc[~per_post]
        .groupby(["district_id", "month", "platform"], sort=True)
        .agg(posts=("reach", "size"), users=("reach", "sum"))
        .reset_index()
    )
    sheets = []
    for name, mask in (
        ("2014-2015", agg.month.dt.year < 2016),
        ("2016", agg.month.dt.year == 2016),
    ):
        s = Sheet(name, "social_reach")
        s.top = [[f"Охват населения информацией о легализации в социальных сетях, {name} гг."], []]
        s.header = [["Район", "Месяц", "Соцсеть", "Количество публикаций", "Охват пользователей"]]
        for r in agg[mask].itertuples():
            fam = lay.choice(("date_month_words", "date_month_numeric"))
            month_text, _ = V.render_date(r.month, fam)
            district = (
                lay.choice(V.REGION_SPELLINGS[:1])
                if r.district_id == REGION_ID
                else _dgd_name(lay, r.district_id)
            )
            s.add([district, month_text, lay.choice(PLATFORM_NAMES[r.platform]), int(r.posts), int(r.users)],
                  payload=[(r.district_id, r.month, r.platform, int(r.posts), int(r.users))])  # fmt: skip
        s.add(
            ["Итого", "", "", int(agg[mask].posts.sum()), int(agg[mask].users.sum())],
            outcome="summary",
        )
        sheets.append(s)
    f = lay.new_file("Соцсети/Охват_в_соцсетях_2014-2016.xlsx", sheets)
    f.variants |= {"social_aggregated"}

    s = Sheet("", "social_reach")
    s.header = [["Дата", "Район", "Платформа", "Ссылка", "Просмотры"]]
    for r in soc[per_post].sort_values("date").itertuples():
        s.add([V.render_date(r.date, "date_dd.mm.yyyy")[0], lay.place(r.district_id),
               lay.choice(PLATFORM_NAMES[r.platform]), r.url, int(r.reach)],
              payload=[(r.district_id, r.month, r.platform, 1, int(r.reach), r.url)])  # fmt: skip
    f = lay.new_file(f"Соцсети/Посты_{lay.short(PER_POST_DISTRICT)}_2016.csv", [s], "utf-8", ",")
    f.variants |= {"social_per_post"}


# --- population ----------------------------------------------------------------------------
def _population(lay: Layout) -> None:
    pop = lay.sim.population
    s = Sheet("Население", "population")
    s.top = [["Численность населения по районам и городам на начало года"], []]
    s.header = [["Район/город", "Год", "Численность населения, чел."]]
    for r in pop[pop.in_file].itertuples():
        s.add([_dgd_name(lay, r.district_id), r.year, int(r.population)],
              payload=(r.district_id, int(r.year), int(r.population)))  # fmt: skip
    f = lay.new_file("Статистика/Численность_населения_2014-2016.xlsx", [s])
    f.variants |= {"population"}
