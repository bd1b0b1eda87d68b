"""Helpers of the tests that run batches (``test_dask``, ``test_national_cluster``,
``test_runner_faults``): the kernels under a process, and a Parquet
table's bytes without the generation id (which names the run)."""

from __future__ import annotations

import io
from pathlib import Path

import psutil
import pyarrow as pa
import pyarrow.parquet as pq

from coverage_analysis.io.generation import GENERATION_KEY


def worker_kernels(pid: int | None = None) -> set[int]:
    """Process ids of the ipykernel processes descended from ``pid`` (default: this
    process, whose children include a ``LocalCluster``'s worker processes)."""
    found = set()
    for proc in psutil.Process(pid).children(recursive=True):
        try:
            if any("ipykernel" in part for part in proc.cmdline()):
                found.add(proc.pid)
        except psutil.Error:
            continue
    return found


def table_bytes(path: Path) -> bytes:
    """The table as Arrow IPC bytes, its schema metadata without the generation id
    (which names the run, so differs between any two runs)."""
    table = pq.read_table(path)
    meta = {k: v for k, v in (table.schema.metadata or {}).items() if k != GENERATION_KEY}
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema.with_metadata(meta)) as writer:
        writer.write_table(table.replace_schema_metadata(meta))
    return sink.getvalue()
