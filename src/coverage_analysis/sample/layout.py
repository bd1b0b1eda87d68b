"""From the simulated world to raw files: who reported what, where and how.

Every district reports its materials in its own *registry style* (quarterly
workbooks, annual workbooks with a sheet per quarter, half-year or annual csv,
monthly files, one file naming no period); the region's internal-policy office
sends region-wide registries; the State Revenue Department (ДГД) sends
legalization statistics in several layouts; plans, social reach and
population come in their own files. Deliberate rejects and duplicates are
planted in the registries. Nothing here decides outcomes of duplicates: that
is resolved in file order by :mod:`coverage_analysis.sample.truth`.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from coverage_analysis.domain import REGION_ID
from coverage_analysis.sample import vocab as V
from coverage_analysis.sample.sheets import FileSpec, Sheet
from coverage_analysis.sample.simulate import REPORT_SKIPS, Simulation, quarter_key

log = logging.getLogger(__name__)

#: How each district sends its registries (data: one style per district).
REGISTRY_STYLE: dict[str, str] = {
    "ayagoz": "quarterly_xlsx", "zharma": "quarterly_xlsx", "kokpekty": "quarterly_xlsx",
    "kurchum": "quarterly_xlsx", "zaisan": "quarterly_xlsx", "urzhar": "quarterly_xlsx",
    "glubokoe": "annual_sheets", "ulan": "annual_sheets", "shemonaikha": "annual_sheets",
    "katon_karagai": "annual_sheets", "ridder": "annual_sheets",
    "semey": "halfyear_csv", "borodulikha": "halfyear_csv", "beskaragai": "halfyear_csv",
    "abai": "halfyear_csv", "kurchatov": "annual_csv", "zyryanovsk": "annual_csv",
    "ust_kamenogorsk": "monthly_xlsx", "tarbagatai": "noperiod_csv",
}  # fmt: skip
#: Short names in file names where people use the Russian form (else the Kazakh one).
FILE_NAME_SHORT: dict[str, str] = {"ayagoz": "Аягоз", "glubokoe": "Глубокое"}
#: csv (encoding, delimiter) combinations, used in turn.
CSV_FORMATS: tuple[tuple[str, str], ...] = (
    ("cp1251", ";"), ("utf-8-sig", ","), ("utf-8", "\t"), ("utf-8", ";"),
    ("cp1251", "\t"), ("utf-8-sig", ";"), ("utf-8", ","), ("cp1251", ","),
)  # fmt: skip
#: Region-wide csv registries receive other files' material, so they keep Kazakh letters.
REGION_CSV_FORMATS = (("utf-8-sig", ","), ("utf-8", ";"))
#: District registries start in 2015; Sep-Dec 2014 is in the region-wide registry.
DISTRICT_REGISTRIES_FROM = pd.Timestamp("2015-01-01")
#: Probability that an optional reach value is written as unknown.
UNKNOWN_REACH_SHARE = 0.12
#: Number of deliberate duplicates by URL (district file + region-wide file) and by
#: outlet+title+date (repeated in the same sheet / in a region-wide file).
N_DUP_URL, N_DUP_SAME_SHEET, N_DUP_CROSS_FILE = 8, 5, 2
#: Deliberate row rejects: (family, field, values, reason).
REJECT_SPECS: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("reject_unknown_district", "district", ("Павлодар", "г. Алматы", "Экибастуз", "Караганда"),
     "unknown district"),
    ("reject_ambiguous_district", "district", ("Аягоз/Урджар", "Семей, Курчатов", "Глубокое и Уланский район"),
     "ambiguous district"),
    ("reject_impossible_date", "date", ("31.02.{y}", "30.02.{y}", "31.04.{y}", "31.11.{y}"), "impossible date"),
    ("reject_outside_campaign", "date", ("15.08.2014", "12.01.2017", "05.11.2013"), "outside campaign"),
    ("reject_unknown_channel", "channel", ("иное", "другое", "прочее"), "unknown channel"),
    ("reject_ambiguous_channel", "channel", ("радио/ТВ", "газета, сайт", "ТВ и радио"), "ambiguous channel"),
    ("reject_missing_required", "date", ("",), "missing date"),
    ("reject_missing_required", "channel", ("",), "missing channel"),
)  # fmt: skip
#: How many reject rows of each spec are planted.
REJECTS_PER_SPEC = 4
#: Optional-cell rejects: (field, bad value); the row stays clean, the cell unknown.
CELL_REJECTS: tuple[tuple[str, str], ...] = (
    ("reach", "большой"), ("reach", "см. отчёт"), ("reach", "abc"),
    ("language", "нем."), ("language", "англ/нем"),
)  # fmt: skip

# --- content pools (synthetic names) ----------------------------------------------
REGION_OUTLETS: dict[str, tuple[str, ...]] = {
    "print": ("«Рудный Алтай»", "«Дидар»", "«Новый вестник»"),
    "tv": ("ТРК «Ирбис»", "телеканал «Қазақстан-Өскемен»", "ТРК «Алтай»"),
    "radio": ("радио «Шалқар»", "«Радио Алтай»"),
    "online": ("портал «Шығыс Ақпарат»", "портал «ВК-Онлайн»"),
    "interview": ("ТРК «Ирбис»", "«Рудный Алтай»"),
    "briefing": ("Региональная служба коммуникаций",),
}
PORTAL_DOMAINS = {
    "портал «Шығыс Ақпарат»": "shygys-akparat.kz",
    "портал «ВК-Онлайн»": "vk-online.kz",
}
SOCIAL_URL = {
    "facebook": "https://www.facebook.com/{slug}/posts/{key}",
    "instagram": "https://www.instagram.com/p/{slug}{key}/",
    "vk": "https://vk.com/wall-{slug}_{key}",
    "odnoklassniki": "https://ok.ru/group/{slug}/topic/{key}",
    "telegram": "https://t.me/{slug}/{key}",
    "youtube": "https://www.youtube.com/watch?v={slug}{key}",
}
TITLES: dict[tuple[str, str], tuple[str, ...]] = {
    ("news", "ru"): ("Легализация имущества: итоги за {mon} ({place})", "{place}: комиссия по легализации принимает заявления ({mon})",
                     "{place}: срок легализации продлён ({mon})", "{place}: сколько заявлений на легализацию подано за {mon}",
                     "Без сбора: легализация денег ({place}, {mon})", "{place}: о ходе легализации за {mon}",
                     "Легализация в цифрах: {place}, {mon}", "{place}: легализация продолжается ({mon})"),
    ("news", "kk"): ("Мүлікті заңдастыру: {place}, {mon} қорытындысы", "{place}: заңдастыру науқаны жалғасуда ({mon})",
                     "{place}: ақшаны заңдастыру мерзімі ұзартылды ({mon})", "{place}: заңдастыру комиссиясы жұмыс істейді ({mon})",
                     "Заңдастыру сандармен: {place}, {mon}"),
    ("explainer", "ru"): ("Разъясняем: как легализовать недвижимость ({place}, {mon})", "Инфографика: пять шагов легализации ({place}, {mon})",
                          "Вопросы и ответы о легализации ({place}, {mon})", "{place}: что нужно знать о легализации в {mon_loc}"),
    ("explainer", "kk"): ("Заңдастыру: сұрақ-жауап ({place}, {mon})", "{place}: мүлікті заңдастырудың бес қадамы ({mon})",
                          "{place}: заңдастыру туралы түсіндірме ({mon})"),
    ("targeted", "ru"): ("Легализация для предпринимателей: {place}, {mon}", "Адресно: дом на своём участке ({place}, {mon})"),
    ("targeted", "kk"): ("Кәсіпкерлерге арналған заңдастыру: {place}, {mon}",),
    ("testimonial", "ru"): ("«Я легализовал свой дом»: история жителя ({place}, {mon})",
                            "История успеха: легализация гаража ({place}, {mon})"),
    ("testimonial", "kk"): ("«Үйімді заңдастырдым»: {place} тұрғыны ({mon})",),
}  # fmt: skip
EVENT_TITLES = {
    "seminar": "Семинар по вопросам легализации ({place}, {mon})",
    "round_table": "Круглый стол «Легализация: вопросы и ответы» ({place}, {mon})",
    "open_day": "День открытых дверей по легализации ({place}, {mon})",
    "briefing": "Брифинг о ходе легализации ({place}, {mon})",
}


@dataclass
class Item:
    """A line to write in a registry: a material, a repeat of one, or a planted reject."""

    material: pd.Series | None
    full_date: bool = False
    reject: tuple[str, str, str, str] | None = None  # family, field, value, reason
    cell_reject: tuple[str, str] | None = None


@dataclass
class RegCtx:
    """A registry sheet being assembled."""

    file: FileSpec
    sheet: Sheet
    district_id: str | None
    months: list[pd.Timestamp]
    cols: list[str]
    two_row: bool = False
    items: list[Item] = field(default_factory=list)

    @property
    def encoding(self) -> str | None:
        return self.file.encoding

    @property
    def xlsx(self) -> bool:
        return not self.file.is_csv


class Layout:
    """Builds every raw file of the sample from a :class:`Simulation`."""

    def __init__(
        self,
        sim: Simulation,
        scope: str = "region",
        styles: dict[str, str] | None = None,
        statistics: bool = True,
    ) -> None:
        self.sim = sim
        #: ``national``: the files sit in a region's folder of the republic (the bulletin's
        #: other region is then in scope, :mod:`.bulletin`).
        self.scope = scope
        #: Registry style of each district (default :data:`REGISTRY_STYLE`, East Kazakhstan's).
        self.styles = REGISTRY_STYLE if styles is None else styles
        #: Whether the non-registry files are written too (:mod:`.statistics` names East
        #: Kazakhstan's districts: another region of the republic gets its registries only).
        self.statistics = statistics
        self.rng = np.random.default_rng([sim.seed, 7])
        self.d = sim.districts.set_index("district_id")
        self.files: list[FileSpec] = []
        self.regs: list[RegCtx] = []
        self._csv_cycle = itertools.cycle(CSV_FORMATS)
        self._titles: set[tuple[str, str]] = set()
        self._spell_cycle: dict[str, list[tuple[str, str]]] = {}
        self._spell_pos: dict[str, int] = {}
        self.spell = {
            r["district_id"]: V.district_spellings(r) for _, r in sim.districts.iterrows()
        }

    # --- small helpers -----------------------------------------------------------
    def choice(self, seq):
        seq = list(seq)
        return seq[int(self.rng.integers(len(seq)))]

    def csv_format(self) -> tuple[str, str]:
        return next(self._csv_cycle)

    def new_file(self, path: str, sheets: list[Sheet], encoding=None, delimiter=None) -> FileSpec:
        spec = FileSpec(path, sheets, encoding, delimiter)
        if spec.is_csv:
            spec.variants.add(
                {"utf-8": "csv_utf8", "utf-8-sig": "csv_utf8_bom", "cp1251": "csv_cp1251"}[encoding]
            )
            spec.variants.add({";": "csv_semicolon", ",": "csv_comma", "\t": "csv_tab"}[delimiter])
        else:
            spec.variants.add("xlsx")
            if len(sheets) > 1:
                spec.variants.add("xlsx_multi_sheet")
        spec.variants.add("free_text_file_names")
        if path.count("/") >= 2:
            spec.variants.add("nested_folders")
        self.files.append(spec)
        return spec

    def place(self, did: str) -> str:
        if did == REGION_ID:
            return "район"
        return (
            str(self.d.loc[did, "name_ru"])
            if self.d.loc[did, "kind"] == "district"
            else f"г. {self.d.loc[did, 'name_ru']}"
        )

    def place_case(self, did: str) -> str:
        """``в Аягозском районе`` / ``в г. Семей`` (for titles)."""
        forms = self.spell[did].get("district_case_forms")
        return forms[0] if forms else f"в {self.place(did)}"

    def short(self, did: str) -> str:
        """Short Russian name used in file names (Аягоз, Семей)."""
        row = self.d.loc[did]
        if did in FILE_NAME_SHORT:
            return FILE_NAME_SHORT[did]
        if row["kind"] == "city":
            return str(row["name_ru"])
        return str(row["name_kk"]).removesuffix(" ауданы")

    def spell_district(self, did: str, encoding: str | None, fams: set[str]) -> str:
        """The next spelling of ``did`` in its cycle (aliases first, then shuffled), so
        that even a district with a handful of rows shows several spellings."""
        if did == REGION_ID:
            fams.add("region_rows")
            return self.choice(V.REGION_SPELLINGS)
        cycle = self._spell_cycle.get(did)
        if cycle is None:
            options = [(f, s) for f, ss in self.spell[did].items() for s in ss]
            order = self.rng.permutation(len(options))
            cycle = sorted((options[i] for i in order), key=lambda o: o[0] != "district_aliases")
            self._spell_cycle[did] = cycle
        for _ in range(len(cycle)):
            fam, text = cycle[self._spell_pos.get(did, 0) % len(cycle)]
            self._spell_pos[did] = self._spell_pos.get(did, 0) + 1
            if V.encodable(text, encoding):
                fams.add(fam)
                return text
        raise RuntimeError(f"no spelling of {did} fits {encoding}")  # pragma: no cover

    # --- content -------------------------------------------------------------------
    def fill_content(self) -> None:
        m = self.sim.materials
        outlets, titles, urls = [], [], []
        for row in m.itertuples():
            did, ch = row.district_id, row.channel
            mon = f"{V.RU_MONTHS_NOM[row.month.month - 1]} {row.month.year}"
            mon_loc = f"{V.RU_MONTHS_LOC[row.month.month - 1]} {row.month.year} года"
            place = self.place(did) if did != REGION_ID else "Восточный Казахстан"
            slug = (
                "vko" if did == REGION_ID else str(self.d.loc[did, "name_en"]).split(" ")[0].lower()
            )
            if ch in REGION_OUTLETS and (did == REGION_ID or ch in ("tv", "radio", "interview")):
                outlet = self.choice(REGION_OUTLETS[ch])
            elif ch == "print":
                outlet = (
                    f"газета «{self.short(did)} жаңалықтары»"
                    if row.language == "kk"
                    else f"газета «Вести {self.short(did)}»"
                )
            elif ch == "online":
                outlet = (
                    f"сайт акимата ({self.place(did)})"
                    if did != REGION_ID
                    else self.choice(REGION_OUTLETS["online"])
                )
            elif ch == "social":
                outlet = f"страница акимата в {V.PLATFORM_WORDS[row.platform][0]}"
            elif ch in EVENT_TITLES:
                outlet = "ДГД по ВКО" if ch != "briefing" else "акимат"
            else:
                outlet = "ТОО «Медиа-Сервис»"
            if ch in EVENT_TITLES:
                title = EVENT_TITLES[ch].format(place=place, mon=mon)
            else:
                lang = "kk" if row.language == "kk" else "ru"
                title = self.choice(TITLES[(row.format, lang)]).format(
                    place=place, mon=mon, mon_loc=mon_loc
                )
            title = self._unique_title(title, outlet)
            url = None
            if ch == "online":
                domain = PORTAL_DOMAINS.get(outlet, f"{slug}.vko.gov.kz")
                url = f"https://{domain}/ru/news/{row.material_key + 10_000}"
            elif ch == "social":
                url = SOCIAL_URL[row.platform].format(
                    slug=f"akimat.{slug}", key=row.material_key + 10_000
                )
            outlets.append(outlet)
            titles.append(title)
            urls.append(url)
        m["outlet"], m["title"] = outlets, titles
        # object dtype keeps a missing link None (pandas 3 would infer str with NaN)
        m["url"] = pd.Series(urls, index=m.index, dtype=object)

    def _unique_title(self, title: str, outlet: str) -> str:
        """``title``, made unique for its outlet (so outlet+title+date never collides)."""
        base, k = title, 1
        while (outlet.casefold(), title.casefold()) in self._titles:
            k += 1
            title = f"{base} (часть {k})"
        self._titles.add((outlet.casefold(), title.casefold()))
        return title

    # --- registries --------------------------------------------------------------------
    def registry_cols(self, full: bool) -> list[str]:
        """Columns of a registry: the required ones, outlet and title always (they
        identify a material), the other optional ones at random unless ``full``."""
        cols = ["date", "district", "channel", "outlet", "title"]
        for opt, p in (("url", 0.8), ("reach", 0.75), ("language", 0.7), ("format", 0.6)):
            if full or self.rng.random() < p:
                cols.append(opt)
        return cols

    def new_registry(
        self,
        path: str,
        sheet_name: str,
        did: str | None,
        months: list[pd.Timestamp],
        title: str,
        period_named: bool,
        *,
        csv: bool,
        two_row: bool = False,
        file: FileSpec | None = None,
        csv_format: tuple[str, str] | None = None,
    ) -> RegCtx:
        sheet = Sheet(sheet_name if not csv else "", "publications")
        if file is None:
            enc, delim = (csv_format or self.csv_format()) if csv else (None, None)
            file = self.new_file(path, [], enc, delim)
        file.sheets.append(sheet)
        if file.encoding == "cp1251":
            title = V.translit_kk(title)
        cols = self.registry_cols(full=did is None)  # region-wide registries have every column
        sheet.top = [[title], []]
        file.variants.add("title_lines")
        if period_named:
            sheet.period = (months[0], months[-1])
        if did is not None and did != REGION_ID:
            sheet.named_district = did
        ctx = RegCtx(file, sheet, did, months, cols, two_row=two_row)
        self.regs.append(ctx)
        return ctx

    def build_registries(self) -> None:
        m = self.sim.materials
        skips = set(REPORT_SKIPS)
        months_all = list(self.sim.months)
        region_2014 = [x for x in months_all if x < DISTRICT_REGISTRIES_FROM]
        ctx14 = self.new_registry(
            "УВП/Сводный_реестр_с_01.09.2014_по_31.12.2014.xlsx", "Реестр", None, region_2014,
            "Сводный реестр публикаций по освещению легализации за период с 01.09.2014 по 31.12.2014",
            True, csv=False, two_row=True,
        )  # fmt: skip
        ctx14.items = [Item(r) for _, r in m[m.month < DISTRICT_REGISTRIES_FROM].iterrows()]
        # region-level 2015: one workbook, a sheet per quarter; 2016: two half-year csv
        self.region_ctx: dict[str, RegCtx] = {}
        wb15 = None
        for q in range(1, 5):
            months = [pd.Timestamp(2015, 3 * q - 2 + k, 1) for k in range(3)]
            ctx = self.new_registry(
                "УВП/Сводный_реестр_2015.xlsx", f"{V.ROMAN[q - 1]} кв", None, months,
                f"Сводный реестр публикаций по освещению легализации {V.quarter_title(2015, q)}",
                True, csv=False, file=wb15,
            )  # fmt: skip
            wb15 = ctx.file
            for mm in months:
                self.region_ctx[quarter_key(mm)] = ctx
        for half, (a, b) in enumerate((("01.01.2016", "30.06.2016"), ("01.07.2016", "31.12.2016"))):
            months = [pd.Timestamp(2016, 6 * half + k + 1, 1) for k in range(6)]
            ctx = self.new_registry(
                f"УВП/2016/Сводный_реестр_с_{a}_по_{b}.csv", "", None, months,
                f"Сводный реестр публикаций по освещению легализации за период с {a} по {b}",
                True, csv=True, csv_format=REGION_CSV_FORMATS[half],
            )  # fmt: skip
            for mm in months:
                self.region_ctx[quarter_key(mm)] = ctx
        later = m[(m.month >= DISTRICT_REGISTRIES_FROM)]
        for _, r in later[later.district_id == REGION_ID].iterrows():
            self.region_ctx[quarter_key(r.month)].items.append(Item(r))

        self.district_ctx: dict[tuple[str, str], RegCtx] = {}
        for did in self.d.index:
            style = self.styles[did]
            mine = later[later.district_id == did]
            getattr(self, f"_style_{style}")(did, mine, skips)

    def _periods(self, months: list[pd.Timestamp], key) -> dict[Any, list[pd.Timestamp]]:
        out: dict[Any, list[pd.Timestamp]] = {}
        for mm in months:
            out.setdefault(key(mm), []).append(mm)
        return out

    def _district_months(self) -> list[pd.Timestamp]:
        return [x for x in self.sim.months if x >= DISTRICT_REGISTRIES_FROM]

    def _attach(self, ctx: RegCtx, did: str, mine: pd.DataFrame, skips) -> None:
        for mm in ctx.months:
            if (did, quarter_key(mm)) in skips:
                continue
            self.district_ctx[(did, quarter_key(mm))] = ctx
        ctx.items += [Item(r) for _, r in mine[mine.month.isin(ctx.months)].iterrows()]

    def _style_quarterly_xlsx(self, did, mine, skips) -> None:
        for q, months in self._periods(self._district_months(), quarter_key).items():
            if (did, q) in skips:
                continue
            year, qn = int(q[:4]), int(q[-1])
            short = self.short(did)
            ctx = self.new_registry(
                f"Районы/{short}/Реестр_{short}_{qn}кв{year}.xlsx", "Лист1", did, months,
                f"Реестр публикаций по освещению легализации {self.place_case(did)} {V.quarter_title(year, qn)}",
                True, csv=False, two_row=bool(qn % 2),
            )  # fmt: skip
            self._attach(ctx, did, mine, skips)

    def _style_annual_sheets(self, did, mine, skips) -> None:
        short = self.short(did)
        for year, months_y in self._periods(self._district_months(), lambda x: x.year).items():
            wb = None
            for q, months in self._periods(months_y, quarter_key).items():
                if (did, q) in skips:
                    continue
                qn = int(q[-1])
                ctx = self.new_registry(
                    f"Районы/{short}/{year}/Реестр_публикаций_{short}.xlsx", f"{V.ROMAN[qn - 1]} квартал", did,
                    months, f"Реестр публикаций по освещению легализации ({self.place(did)}) {V.quarter_title(year, qn)}",
                    True, csv=False, two_row=True, file=wb,
                )  # fmt: skip
                wb = ctx.file
                self._attach(ctx, did, mine, skips)

    def _style_halfyear_csv(self, did, mine, skips) -> None:
        short = self.short(did)
        for (year, half), months in self._periods(
            self._district_months(), lambda x: (x.year, (x.month - 1) // 6)
        ).items():
            a, b = ("01.01", "30.06") if half == 0 else ("01.07", "31.12")
            ctx = self.new_registry(
                f"Районы/{short}/{short}_реестр_с_{a}.{year}_по_{b}.{year}.csv", "", did, months,
                f"Реестр публикаций {self.place(did)} по легализации за период с {a}.{year} по {b}.{year}",
                True, csv=True,
            )  # fmt: skip
            self._attach(ctx, did, mine, skips)

    def _style_annual_csv(self, did, mine, skips) -> None:
        short = self.short(did)
        for year, months in self._periods(self._district_months(), lambda x: x.year).items():
            ctx = self.new_registry(
                f"{short}_реестр_за_{year}_год.csv", "", did, months,
                f"Реестр публикаций по освещению легализации за {year} год ({self.place(did)})",
                True, csv=True,
            )  # fmt: skip
            self._attach(ctx, did, mine, skips)

    def _style_monthly_xlsx(self, did, mine, skips) -> None:
        short = self.short(did)
        for mm in self._district_months():
            mon = f"{V.RU_MONTHS_NOM[mm.month - 1]} {mm.year}"
            ctx = self.new_registry(
                f"Районы/{short}/{mm.year}/Реестр_{short}_за_{V.RU_MONTHS_NOM[mm.month - 1]}_{mm.year}.xlsx",
                "Реестр", did, [mm], f"Реестр публикаций по освещению легализации за {mon} ({self.place(did)})",
                True, csv=False, two_row=mm.month % 4 == 0,
            )  # fmt: skip
            self._attach(ctx, did, mine, skips)

    def _style_noperiod_csv(self, did, mine, skips) -> None:
        months = self._district_months()
        ctx = self.new_registry(
            f"Районы/{self.short(did)}_реестр_публикаций.csv", "", None, months,
            "Реестр публикаций по освещению легализации имущества", False, csv=True,
        )  # fmt: skip
        ctx.file.variants.add("registry_without_period")
        self._attach(ctx, did, mine, skips)

    # --- planted duplicates and rejects --------------------------------------------------
    def plant(self) -> None:
        dctxs = [c for c in self.regs if c.district_id not in (None, REGION_ID)]
        # same URL in a district file and in the region-wide file of that quarter
        url_pool = [
            (c, it) for c in dctxs if "url" in c.cols for it in c.items
            if it.material is not None and it.material["url"] is not None
        ]  # fmt: skip
        for c, it in self._sample(url_pool, N_DUP_URL):
            target = self.region_ctx[quarter_key(it.material["month"])]
            it.full_date = True  # so the pair is also the same by outlet, title and date
            target.items.append(Item(it.material, full_date=True))
            c.file.variants.add("duplicate_same_url")
            target.file.variants.add("duplicate_same_url")
        print_pool = [
            (c, it) for c in dctxs for it in c.items
            if it.material is not None and it.material["channel"] == "print" and not it.full_date
        ]  # fmt: skip
        chosen = self._sample(print_pool, N_DUP_SAME_SHEET + N_DUP_CROSS_FILE)
        for k, (c, it) in enumerate(chosen):
            it.full_date = True
            target = (
                c if k < N_DUP_SAME_SHEET else self.region_ctx[quarter_key(it.material["month"])]
            )
            if target is not c and "url" in target.cols and it.material["url"]:
                continue
            target.items.insert(
                int(self.rng.integers(len(target.items) + 1)), Item(it.material, full_date=True)
            )
            c.file.variants.add("duplicate_outlet_title_date")
            target.file.variants.add("duplicate_outlet_title_date")
        # rejects: planted into district registries that hold material
        hosts = [c for c in dctxs if c.items]
        for fam, fld, values, reason in REJECT_SPECS:
            for _ in range(REJECTS_PER_SPEC):
                c = self.choice(hosts)
                value = self.choice(values)
                if "{y}" in value:
                    value = value.format(y=c.months[0].year)
                if fld == "district" and not V.encodable(value, c.encoding):
                    continue
                base = self.choice([it.material for it in c.items if it.material is not None])
                fake = base.copy()
                fake["title"] = self._unique_title(f"{base['title']} — дополнение", base["outlet"])
                fake["url"] = (
                    None if base["url"] is None else f"{base['url']}?reject={len(self._titles)}"
                )
                c.items.insert(
                    int(self.rng.integers(len(c.items) + 1)),
                    Item(fake, reject=(fam, fld, value, reason)),
                )
        for fld, value in CELL_REJECTS:
            cands = [
                (c, it) for c in dctxs if fld in c.cols for it in c.items
                if it.material is not None and it.reject is None and it.cell_reject is None and not it.full_date
            ]  # fmt: skip
            ((c, it),) = self._sample(cands, 1)
            it.cell_reject = (fld, value)

    def _sample(self, pool: list, n: int) -> list:
        if not pool:
            return []
        idx = self.rng.choice(len(pool), size=min(n, len(pool)), replace=False)
        return [pool[i] for i in sorted(idx)]

    # --- rendering of registries --------------------------------------------------------
    def render_registries(self) -> None:
        for ctx in self.regs:
            self._render_registry(ctx)

    def _header_text(self, fld: str, ctx: RegCtx, fams: set[str]) -> str:
        text = self.choice(V.PUB_HEADERS[fld])
        roll = self.rng.random()
        if roll < 0.2:
            text, _ = text.upper(), fams.add("header_case_spacing")
        elif roll < 0.3:
            text = f" {text.lower()}  "
            fams.add("header_case_spacing")
        elif roll < 0.55 and ctx.xlsx and " " in text.strip():
            text = text.strip().replace(" ", "\n", 1)
            fams.add("header_line_breaks")
        return text

    def _render_registry(self, ctx: RegCtx) -> None:
        sheet, fams = ctx.sheet, ctx.file.variants
        rownum = ctx.xlsx or self.rng.random() < 0.5
        heads = [self._header_text(f, ctx, fams) for f in ctx.cols]
        width = len(ctx.cols) + int(rownum)
        if ctx.two_row and ctx.xlsx:
            # № п/п, date, district, channel merged vertically; the rest under "Материал"
            lead = 4 if rownum else 3
            row1 = (
                ([V.ROW_NUMBER_HEADER] if rownum else [])
                + heads[:3]
                + ["Сведения о материале"]
                + [""] * (len(heads) - 4)
            )
            row2 = [""] * lead + heads[3:]
            sheet.header = [row1, row2]
            r1 = len(sheet.top) + 1
            sheet.merges += [(r1, c, r1 + 1, c) for c in range(1, lead + 1)]
            sheet.merges.append((r1, lead + 1, r1, width))
            fams.update({"two_row_header", "merged_header_cells"})
        else:
            sheet.header = [([V.ROW_NUMBER_HEADER] if rownum else []) + heads]
        if ctx.xlsx:
            sheet.merges.append((1, 1, 1, max(width, 2)))
            fams.add("merged_header_cells")
        if rownum:
            fams.add("row_number_column")
        date_fams = [f for f in V.VARIANT_FAMILIES if f.startswith("date_")]
        if not ctx.xlsx:
            date_fams = [
                f for f in V.CSV_DATE_FAMILIES if ctx.encoding != "cp1251" or f != "date_kk_words"
            ]
        n = 0
        for k, it in enumerate(ctx.items):
            if k and self.rng.random() < 0.04:
                n += 1
                sheet.blank(width, number=n if rownum else None)
                fams.add("blank_lines")
            n += 1
            cells, record, ledger = self._pub_cells(it, ctx, date_fams, fams)
            row = sheet.add(([n] if rownum else []) + cells, payload=record)
            if it.reject is not None:
                row.outcome = "rejected"
                row.ledger = ledger
                fams.add(it.reject[0])
            elif ledger:
                row.ledger = ledger
                fams.add("cell_reject_optional")
        if not ctx.items:
            fams.add("empty_registry")
        # below the data: a summary line, a blank, the signature
        word = self.choice(V.SUMMARY_WORDS)
        sheet.add([f"{word}: {len(ctx.items)}"] + [""] * (width - 1), outcome="summary")
        sheet.blank(width)
        for sig in self._sample(list(V.SIGNATURES), 2):
            sheet.add([sig] + [""] * (width - 1), outcome="summary")
        fams.update({"summary_lines", "signature_block", "blank_lines"})

    def _pub_cells(self, it: Item, ctx: RegCtx, date_fams, fams) -> tuple[list, dict, list]:
        mat, enc = it.material, ctx.encoding
        rec: dict[str, Any] = {
            "district_id": mat["district_id"],
            "channel": mat["channel"],
            "month": mat["month"],
        }
        ledger: list[dict[str, Any]] = []
        cells: list[Any] = []
        for fld in ctx.cols:
            if fld == "date":
                fam = self.choice(
                    [f for f in date_fams if not (it.full_date and f.startswith("date_month"))]
                )
                value, month_only = V.render_date(mat["date"], fam)
                fams.add(fam)
                rec["date"] = None if month_only else mat["date"]
            elif fld == "district":
                value = self.spell_district(mat["district_id"], enc, fams)
            elif fld == "channel":
                words = V.CHANNEL_WORDS[mat["channel"]]
                if mat["channel"] == "social" and self.rng.random() < 0.5:
                    words = V.PLATFORM_WORDS[mat["platform"]]
                value = self.choice(words)
                fams.add(f"channel_{mat['channel']}")
            elif fld == "outlet":
                value = mat["outlet"]
                rec["outlet"] = value
            elif fld == "title":
                value = mat["title"]
                rec["title"] = value
            elif fld == "url":
                value = mat["url"] or ""
                rec["url"] = mat["url"]
            elif fld == "reach":
                true = int(mat["reach"])
                options = V.reach_families(true)
                fam = self.choice(options)
                if "reach_million" in options:  # rare values: always in their own family
                    fam = "reach_million"
                elif self.rng.random() < UNKNOWN_REACH_SHARE:
                    fam = self.choice(list(V.UNKNOWN_REACH))
                value = V.render_reach(true, fam)
                fams.add(fam)
                rec["reach"] = None if fam in V.UNKNOWN_REACH else true
            elif fld == "language":
                value = self.choice(
                    [w for w in V.LANGUAGE_WORDS[mat["language"]] if V.encodable(w, enc)]
                )
                rec["language"] = mat["language"]
                fams.add("language_variants")
            elif fld == "format":
                value = self.choice(V.FORMAT_WORDS[mat["format"]])
                rec["format"] = mat["format"]
                fams.add("format_variants")
            else:  # pragma: no cover
                raise KeyError(fld)
            if it.cell_reject and it.cell_reject[0] == fld:
                value = it.cell_reject[1]
                rec[fld] = None
                ledger.append(
                    {"field": fld, "value": value, "reason": f"unreadable {fld}", "scope": "cell"}
                )
            if it.reject and it.reject[1] == fld:
                value = it.reject[2]
                ledger.append({"field": fld, "value": value, "reason": it.reject[3], "scope": "row",
                               "family": it.reject[0]})  # fmt: skip
            cells.append(value)
        rec.setdefault("format", "news")
        for opt in ("outlet", "title", "url", "reach", "language"):
            rec.setdefault(opt, None)
        rec.setdefault("date", None)
        rec["material_key"] = int(mat["material_key"])
        return cells, rec, ledger

    # --- everything ---------------------------------------------------------------------
    def build(self) -> list[FileSpec]:
        self.fill_content()
        self.build_registries()
        # materials that pass through a Windows-1251 file lose Kazakh letters everywhere
        for ctx in self.regs:
            if ctx.encoding == "cp1251":
                for it in ctx.items:
                    key = it.material["material_key"]
                    for col in ("outlet", "title"):
                        self.sim.materials.loc[key, col] = V.translit_kk(
                            self.sim.materials.loc[key, col]
                        )
        mats = self.sim.materials
        for ctx in self.regs:
            ctx.items = [Item(mats.loc[it.material["material_key"]]) for it in ctx.items]
        self.plant()
        self.render_registries()
        from coverage_analysis.sample import statistics

        if self.statistics:
            statistics.build(self)
        return self.files


__all__ = ["Layout", "RegCtx"]
