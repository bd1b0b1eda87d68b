"""Shared fixtures: the sample data set, written and cleaned once per test session.

Tests that need the sample use ``sample_raw`` (a raw folder written by the
package's own generator) or ``sample_processed`` (that folder cleaned).
Both are real files on disk, made in a temporary folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")

#: Seed of the sample data set used throughout the tests.
SAMPLE_SEED = 2016


@pytest.fixture(scope="session")
def sample_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from coverage_analysis.sample import write_sample

    raw = tmp_path_factory.mktemp("sample") / "raw"
    write_sample(raw, seed=SAMPLE_SEED)
    return raw


@pytest.fixture(scope="session")
def sample_processed(sample_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from coverage_analysis.clean import clean_folder

    processed = tmp_path_factory.mktemp("processed")
    clean_folder(sample_raw, processed)
    return processed


@pytest.fixture(scope="session")
def dask_cluster() -> object:
    """A ``distributed.LocalCluster`` of two worker processes (one thread each), started
    once for the tests that run batches on a cluster (``test_dask``,
    ``test_national_cluster``); its workers are children of this process."""
    distributed = pytest.importorskip("distributed")
    cl = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    try:
        yield cl
    finally:
        cl.close()
