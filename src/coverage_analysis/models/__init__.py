"""Statistical models of coverage against applications and amounts.

Public API:

- :func:`fit_coverage_model` -> :class:`CoverageModelResult`: PPML with district
  and month effects for one of two estimands (``"exposure"``: population as
  offset, default; ``"rate"``: rate per 10,000 residents, each district weighs
  by its rate), the other shown beside it; slope averaged over the carry-over
  decay grid (fixed in advance); cluster jackknife (CV3) interval, randomisation test
  (primary p-value), wild cluster score bootstrap, effective number of
  clusters; placebo with the carry-over one and two months later. Its stages
  are :func:`fit_coverage`, :func:`infer_coverage` and
  :mod:`~coverage_analysis.models.describe` (words, en/ru); results are
  dataclasses (:class:`Effect`) serialised to the JSON Schema in
  ``model_summary.schema.json``.
- :func:`fit_channel_models` -> :class:`ChannelModelResult`: one slope per
  channel group, Holm-adjusted, with a collinearity report.
- :func:`district_effects` (DataFrame for a forest plot), :func:`what_if`,
  :func:`cross_section`, :func:`diagnostics`.
- :func:`write_model_summary` (the ``coverage-analysis model`` command),
  :func:`read_model_summary` (validated), :func:`model_summary`, :func:`load_panel`.
- :func:`simulate_panel`: simulated panels with a known truth.
- :class:`InsufficientDataError`: too few usable district-months (a
  :class:`~coverage_analysis.errors.CoverageAnalysisError`).
- :func:`adstock`, :func:`coverage_index`, :func:`grouped_coverage_index`.

>>> from coverage_analysis.models import fit_coverage_model, simulate_panel
>>> fit_coverage_model(simulate_panel("null", seed=0), n_boot=99, n_perm=99).n_clusters
19
"""

from coverage_analysis.models.adstock import adstock, coverage_index, grouped_coverage_index
from coverage_analysis.models.channels import ChannelModelResult, fit_channel_models
from coverage_analysis.models.coverage import (
    ESTIMANDS,
    CoverageModelResult,
    Effect,
    InsufficientDataError,
    fit_coverage,
    fit_coverage_model,
    infer_coverage,
)
from coverage_analysis.models.diagnostics import diagnostics
from coverage_analysis.models.districts import cross_section, district_effects, what_if
from coverage_analysis.models.simulate import simulate_panel
from coverage_analysis.models.summary import (
    load_panel,
    model_summary,
    read_model_summary,
    write_model_summary,
)

__all__ = [
    "ESTIMANDS",
    "ChannelModelResult",
    "CoverageModelResult",
    "Effect",
    "InsufficientDataError",
    "adstock",
    "coverage_index",
    "cross_section",
    "diagnostics",
    "district_effects",
    "fit_channel_models",
    "fit_coverage",
    "fit_coverage_model",
    "grouped_coverage_index",
    "infer_coverage",
    "load_panel",
    "model_summary",
    "read_model_summary",
    "simulate_panel",
    "what_if",
    "write_model_summary",
]
