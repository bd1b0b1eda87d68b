"""What a correct cleaner must make of the sample: outcomes resolved in file
order (docs/cleaning-conventions.md), expected tables and ``truth.json``.

Files are taken in order of their POSIX path relative to the raw folder,
sheets in workbook order, rows top to bottom. The first occurrence of a
material (same normalised URL, else same outlet, title and date, case- and
space-insensitive) is kept; later ones are duplicates. Statistics values
(district x month [x channel/platform] x measure; population: district x year)
repeated with the same value are duplicates, with another value rejects. A
statistics row is clean when it gives at least one new value, else rejected
when one of its values conflicts, else a duplicate.

>>> normalise("  Газета «Вести»  ")
'газета «вести»'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from coverage_analysis.domain import ARTICLE_MONTH, CAMPAIGN_START, REGION_ID
from coverage_analysis.sample.sheets import FileSpec, Sheet

_SPACES = re.compile(r"\s+")


def normalise(text: str | None) -> str:
    """Case- and space-insensitive form of a text."""
    return _SPACES.sub(" ", str(text or "")).strip().casefold()


def normalise_url(url: str) -> str:
    """URL key: lower case, no scheme, no ``www.``, no trailing slash."""
    u = normalise(url)
    u = re.sub(r"^https?://", "", u)
    return u.removeprefix("www.").rstrip("/")


@dataclass
class Resolved:
    """Outcome of the whole raw folder."""

    publications: list[dict[str, Any]] = field(default_factory=list)
    legalization: dict[tuple[str, pd.Timestamp, str], float] = field(default_factory=dict)
    plan: list[tuple] = field(default_factory=list)
    social: list[tuple] = field(default_factory=list)
    population: list[tuple] = field(default_factory=list)
    coverage: list[tuple[str, pd.Timestamp, str, str]] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    report: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)


def resolve(files: list[FileSpec]) -> Resolved:
    """Resolve every data row's outcome in file order; collect the expected output."""
    out = Resolved()
    seen_url: dict[str, dict] = {}
    seen_otd: dict[tuple, dict] = {}
    seen_stat: dict[tuple, tuple[Any, dict]] = {}
    for spec in sorted(files, key=lambda f: f.path):
        for sheet in spec.sheets:
            clean_months: dict[str, set] = {}
            for led in sheet.sheet_ledger:
                out.rejects.append(_ledger(spec, sheet, led["row"], led))
            for row in sheet.rows:
                src = {
                    "source_file": spec.path,
                    "source_sheet": sheet.name,
                    "source_row": row.number,
                }
                for led in row.ledger:
                    out.rejects.append(_ledger(spec, sheet, row.number, led))
                if row.outcome != "data":
                    continue
                if sheet.kind == "publications":
                    _resolve_pub(row, src, seen_url, seen_otd, out, clean_months)
                else:
                    _resolve_stat(sheet.kind, row, src, seen_stat, out, spec, sheet)
            if sheet.kind == "publications":
                out.coverage += _coverage(spec, sheet, clean_months)
            out.report.setdefault(spec.path, {})[sheet.name] = sheet.counts()
    return out


def _ledger(spec: FileSpec, sheet: Sheet, row: int, led: dict) -> dict[str, Any]:
    return {
        "source_file": spec.path,
        "source_sheet": sheet.name,
        "source_row": row,
        "kind": sheet.kind,
        "field": led["field"],
        "value": led["value"],
        "reason": led["reason"],
        "scope": led["scope"],
    }


def _resolve_pub(row, src, seen_url, seen_otd, out: Resolved, clean_months) -> None:
    rec = row.payload
    url = normalise_url(rec["url"]) if rec.get("url") else None
    otd = None
    if rec.get("outlet") and rec.get("title"):
        otd = (normalise(rec["outlet"]), normalise(rec["title"]), rec["date"])
    kept = (seen_url.get(url) if url else None) or (seen_otd.get(otd) if otd else None)
    if kept is not None:
        row.outcome = "duplicate"
        out.duplicates.append(
            {"kind": "publications", "by": "url" if url and url in seen_url else "outlet+title+date",
             **{f"kept_{k}": v for k, v in kept.items()}, **{f"dropped_{k}": v for k, v in src.items()}}
        )  # fmt: skip
        return
    row.outcome = "clean"
    if url:
        seen_url[url] = src
    if otd:
        seen_otd[otd] = src
    out.publications.append({**rec, **src})
    clean_months.setdefault(rec["district_id"], set()).add(rec["month"])


def _resolve_stat(kind, row, src, seen, out: Resolved, spec, sheet) -> None:
    new = conflict = False
    for value in [row.payload] if kind == "population" else row.payload:
        if kind == "population":  # (district_id, year, population)
            did, year, v = value
            key, label = (kind, did, year), f"population {year}"
        elif kind == "legalization":
            did, month, measure, v, bad = value
            if bad:
                continue
            key, label = (kind, did, month, measure), f"{measure} {month:%Y-%m}"
        elif kind == "media_plan":
            did, month, ch, planned, actual = value
            key, v = (kind, did, month, ch), (planned, actual)
            label = f"{ch} {month:%Y-%m}"
        else:  # per-post rows carry a post id: they add up, they never repeat each other
            did, month, platform, posts, users, *post = value
            key, v = (kind, did, month, platform, *post), (posts, users)
            label = f"{key[-1]} {month:%Y-%m}"
        if key in seen:
            prev, where = seen[key]
            if prev != v:
                conflict = True
                out.rejects.append({**_ledger(spec, sheet, row.number, {
                    "field": label, "value": v, "scope": "row",
                    "reason": f"conflicts with {where['source_file']} [{where['source_sheet']}] row {where['source_row']}"})})  # fmt: skip
            else:
                out.duplicates.append({"kind": kind, "key": [str(k) for k in key[1:]],
                                       **{f"kept_{k}": x for k, x in where.items()},
                                       **{f"dropped_{k}": x for k, x in src.items()}})  # fmt: skip
            continue
        new = True
        seen[key] = (v, src)
        if kind == "legalization":
            out.legalization[(did, month, measure)] = v
        elif kind == "population":
            out.population.append(value)
        elif kind == "media_plan":
            out.plan.append(value)
        else:
            out.social.append(value[:5])
    row.outcome = "clean" if new else ("rejected" if conflict else "duplicate")


def _coverage(spec: FileSpec, sheet: Sheet, clean_months: dict[str, set]) -> list[tuple]:
    if sheet.period is not None:
        months = list(pd.date_range(sheet.period[0], sheet.period[1], freq="MS"))
    else:
        all_m = [m for ms in clean_months.values() for m in ms]
        months = list(pd.date_range(min(all_m), max(all_m), freq="MS")) if all_m else []
    if sheet.named_district:
        districts = [sheet.named_district]
    else:
        districts = sorted(d for d in clean_months if d != REGION_ID)
    return [(d, m, spec.path, sheet.name) for d in districts for m in months]


# --- expected tables -----------------------------------------------------------------------
def expected_tables(res: Resolved) -> dict[str, pd.DataFrame]:
    """Expected cleaned tables (the parquet files of ``_truth/``)."""
    pubs = pd.DataFrame(res.publications)
    pubs = pubs[
        ["date", "month", "district_id", "channel", "outlet", "title", "url", "reach", "language", "format",
         "material_key", "source_file", "source_sheet", "source_row"]
    ].copy()  # fmt: skip
    pubs["date"] = pd.to_datetime(pubs["date"])
    pubs["reach"] = pubs["reach"].astype("Int64")
    counts = (
        pubs.groupby(["district_id", "channel", "month"]).size().rename("n").reset_index()
        .sort_values(["district_id", "channel", "month"]).reset_index(drop=True)
    )  # fmt: skip
    leg = pd.Series(res.legalization, dtype=float)
    leg.index.names = ["district_id", "month", "measure"]
    leg = leg.unstack("measure").reset_index()
    leg["applications"] = leg["applications"].astype("Int64")
    leg = leg[["district_id", "month", "applications", "amount_kzt"]].sort_values(
        ["district_id", "month"]
    )
    plan = pd.DataFrame(
        res.plan, columns=["district_id", "month", "channel", "planned", "actual_reported"]
    )
    plan["actual_reported"] = plan["actual_reported"].astype(float)
    plan = plan.sort_values(["district_id", "month", "channel"]).reset_index(drop=True)
    social = pd.DataFrame(
        res.social, columns=["district_id", "month", "platform", "posts", "users_reached"]
    )
    social = social.groupby(["district_id", "month", "platform"], as_index=False)[
        ["posts", "users_reached"]
    ].sum()
    cov = pd.DataFrame(
        res.coverage, columns=["district_id", "month", "source_file", "source_sheet"]
    )
    cov_dm = cov[["district_id", "month"]].drop_duplicates().sort_values(["district_id", "month"])
    pop = pd.DataFrame(res.population, columns=["district_id", "year", "population"])
    return {
        "expected_publications": pubs.reset_index(drop=True),
        "expected_publication_counts": counts,
        "expected_legalization": leg.reset_index(drop=True),
        "expected_media_plan": plan,
        "expected_social_reach": social.reset_index(drop=True),
        "expected_registry_coverage": cov_dm.reset_index(drop=True),
        "expected_registry_coverage_sources": cov.reset_index(drop=True),
        "expected_population": pop,
    }


def calibration_facts(tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """The article's facts as realised in the expected (cleaned) tables."""
    c = tables["expected_publication_counts"]
    until = c[(c.month >= CAMPAIGN_START) & (c.month <= ARTICLE_MONTH)]
    soc = tables["expected_social_reach"]
    internet = c[c.channel.isin(["online", "social"])]
    events = c[c.channel.isin(["seminar", "round_table", "open_day"])]
    pubs = tables["expected_publications"]
    return {
        "period": f"{CAMPAIGN_START:%Y-%m} .. {ARTICLE_MONTH:%Y-%m}",
        "materials_region_wide_until_article": int(until.n.sum()),
        "materials_region_wide_includes_region_level": True,
        "materials_region_level_until_article": int(until[until.district_id == REGION_ID].n.sum()),
        "ayagoz_materials_until_article": int(until[until.district_id == "ayagoz"].n.sum()),
        "ayagoz_materials_whole_campaign": int(c[c.district_id == "ayagoz"].n.sum()),
        "semey_print_until_article": int(
            until[(until.district_id == "semey") & (until.channel == "print")].n.sum()
        ),
        "ridder_online_social_materials": int(internet[internet.district_id == "ridder"].n.sum()),
        "abai_online_social_materials": int(internet[internet.district_id == "abai"].n.sum()),
        "seminars_round_tables_open_days_until_article": int(
            events[events.month <= ARTICLE_MONTH].n.sum()
        ),
        "targeted_or_testimonial_until_article": int(
            pubs[
                (pubs.month <= ARTICLE_MONTH) & pubs.format.isin(["targeted", "testimonial"])
            ].shape[0]
        ),
        "social_users_reached_until_article": int(
            soc[soc.month <= ARTICLE_MONTH].users_reached.sum()
        ),
    }
