"""Coverage metrics: indicators per district, the district rating, gap findings and the
akim briefing.

>>> sorted(DEFAULT_WEIGHTS)[:2]
['channels_used', 'events_per_10k']
"""

from coverage_analysis.metrics.briefing import akim_briefing, briefing_table
from coverage_analysis.metrics.gaps import RULES, gap_findings
from coverage_analysis.metrics.indicators import district_indicators, plan_fulfilment_by_channel
from coverage_analysis.metrics.rating import DEFAULT_WEIGHTS, district_rating, rating_sensitivity

__all__ = [
    "DEFAULT_WEIGHTS",
    "RULES",
    "akim_briefing",
    "briefing_table",
    "district_indicators",
    "district_rating",
    "gap_findings",
    "plan_fulfilment_by_channel",
    "rating_sensitivity",
]
