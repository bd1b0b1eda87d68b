"""Carry-over (adstock) of coverage, the one definition shared by the
models and the sample generator.

A material published in month *t* keeps informing people for a while; its
weight decays geometrically: ``A[t] = x[t] + decay * A[t-1]``, starting
from ``A = 0`` before the first month of each district's series.

The coverage index that enters the models is ``log2(1 + A)`` with ``A`` in
materials per 10,000 residents, so one unit of the index is one doubling
of (1 + carry-over coverage per 10,000 residents).

>>> import numpy as np
>>> adstock(np.array([1.0, 0.0, 0.0]), 0.5).tolist()
[1.0, 0.5, 0.25]
>>> float(coverage_index(np.array([1.0]), 0.0)[0])
1.0
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def adstock(x: np.ndarray, decay: float) -> np.ndarray:
    """Geometric carry-over of one district's monthly series ``x``."""
    if not 0.0 <= decay < 1.0:
        raise ValueError(f"decay must be in [0, 1), got {decay}")
    x = np.asarray(x, dtype=float)
    out = np.empty_like(x)
    carry = 0.0
    for i, value in enumerate(x):
        carry = value + decay * carry
        out[i] = carry
    return out


def coverage_index(x_per_10k: np.ndarray, decay: float) -> np.ndarray:
    """``log2(1 + adstock(x_per_10k, decay))`` for one district's series."""
    return np.log2(1.0 + adstock(x_per_10k, decay))


def grouped_coverage_index(
    frame: pd.DataFrame, column: str, decay: float, by: str = "district_id"
) -> pd.Series:
    """Coverage index of ``column`` computed within each ``by`` group, rows in
    month order within the group (the frame must be sorted by ``by``, month)."""
    return frame.groupby(by, sort=False)[column].transform(
        lambda s: pd.Series(coverage_index(s.to_numpy(), decay), index=s.index)
    )
