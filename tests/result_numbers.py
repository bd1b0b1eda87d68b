"""A model result (``CoverageModelResult.to_dict()``) as path -> value pairs, timings
left out: shared by the tests that compare two fits of the same panel number by number."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def result_numbers(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(path, value)`` for every leaf of ``value`` (dicts and lists walked), except
    paths ending in "seconds".

    >>> dict(result_numbers({"a": [1.5, {"b": 2}], "seconds": 0.3}))
    {'/a[0]': 1.5, '/a[1]/b': 2}
    """
    if isinstance(value, dict):
        for k, v in value.items():
            yield from result_numbers(v, f"{prefix}/{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from result_numbers(v, f"{prefix}[{i}]")
    elif not prefix.endswith("seconds"):
        yield prefix, value
