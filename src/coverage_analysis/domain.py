"""Domain constants: the campaign calendar and the channel vocabulary ids.

Numbers here carry meaning and are named once; every module imports them
from here rather than repeating literals.
"""

from __future__ import annotations

import pandas as pd

#: First month of the legalization campaign (Law No. 213-V, from 1 September 2014).
CAMPAIGN_START = pd.Timestamp("2014-09-01")
#: Last month of the campaign after the extension of 13 November 2015.
CAMPAIGN_END = pd.Timestamp("2016-12-01")
#: The originally announced end of the campaign (deadline surge).
FIRST_DEADLINE = pd.Timestamp("2015-12-01")
#: The extended end of the campaign (deadline surge).
FINAL_DEADLINE = pd.Timestamp("2016-12-01")
#: From about 1 December 2015 the 10% fee on money was dropped.
RULE_CHANGE = pd.Timestamp("2015-12-01")
#: The regional meeting reported in the seed article (the article's "a year and a half"
#: after the start; the Prime Minister's meeting followed in April 2016).
ARTICLE_MONTH = pd.Timestamp("2016-02-01")

#: Canonical channel ids (input-formats.md), in display order.
CHANNELS: tuple[str, ...] = (
    "print",
    "tv",
    "radio",
    "online",
    "social",
    "outdoor",
    "transport",
    "print_handout",
    "seminar",
    "round_table",
    "open_day",
    "briefing",
    "interview",
)
#: Channels that are internet presence.
INTERNET_CHANNELS: tuple[str, ...] = ("online", "social")
#: Explanatory events with the public.
EVENT_CHANNELS: tuple[str, ...] = ("seminar", "round_table", "open_day", "briefing")
#: Canonical material formats.
FORMATS: tuple[str, ...] = ("news", "targeted", "testimonial", "explainer")
#: Canonical languages of a material ("both" = Russian and Kazakh).
LANGUAGES: tuple[str, ...] = ("ru", "kk", "both")
#: district_id for material that belongs to the region as a whole.
REGION_ID = "region"
#: Residents per unit of the per-capita indicators.
PER_RESIDENTS = 10_000


def campaign_months(
    start: str | pd.Timestamp | None = None, end: str | pd.Timestamp | None = None
) -> pd.DatetimeIndex:
    """Month starts of the campaign, optionally cut to ``start``..``end``
    (``"YYYY-MM"`` strings or timestamps, both inclusive).

    >>> len(campaign_months())
    28
    >>> list(campaign_months("2016-11", "2016-12").strftime("%Y-%m"))
    ['2016-11', '2016-12']
    """
    lo = CAMPAIGN_START if start is None else pd.Timestamp(start).to_period("M").to_timestamp()
    hi = CAMPAIGN_END if end is None else pd.Timestamp(end).to_period("M").to_timestamp()
    return pd.date_range(lo, hi, freq="MS")
