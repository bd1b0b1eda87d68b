"""Coverage metrics: indicators per district, the district rating, gap findings, the
akim briefing and (national scope) the republic's rating of regions.

>>> sorted(DEFAULT_WEIGHTS)[:2]
['channels_used', 'events_per_10k']
"""

from coverage_analysis.metrics.briefing import akim_briefing, briefing_table
from coverage_analysis.metrics.gaps import RULES, gap_findings
from coverage_analysis.metrics.indicators import district_indicators, plan_fulfilment_by_channel
from coverage_analysis.metrics.rating import DEFAULT_WEIGHTS, district_rating, rating_sensitivity
from coverage_analysis.metrics.republic import (
    REGION_WEIGHTS,
    region_indicators,
    region_rating,
    region_rating_sensitivity,
    region_rating_table,
)

__all__ = [
    "DEFAULT_WEIGHTS",
    "REGION_WEIGHTS",
    "RULES",
    "akim_briefing",
    "briefing_table",
    "district_indicators",
    "district_rating",
    "gap_findings",
    "plan_fulfilment_by_channel",
    "rating_sensitivity",
    "region_indicators",
    "region_rating",
    "region_rating_sensitivity",
    "region_rating_table",
]
