"""Validation of report parameters, done before any notebook runs.

Every value a user passes (district ids, months, language, formats, job
count) is checked here and refused with a :class:`ParameterError` that shows
the bad value. Output file names are built only from validated ids.

>>> validate_month("2016-02")
'2016-02'
>>> try:
...     validate_month("2016-13")
... except ParameterError as exc:
...     print(exc)
month '2016-13' is not a valid YYYY-MM month
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from coverage_analysis import domain
from coverage_analysis.errors import ParameterError
from coverage_analysis.reference import district_ids

#: Report languages.
LANGS: tuple[str, ...] = ("en", "ru")
#: Export formats.
FORMATS: tuple[str, ...] = ("html", "pdf")
#: A month parameter: four-digit year, dash, two-digit month.
MONTH_PATTERN = re.compile(r"\d{4}-\d{2}")
#: Largest number of parallel workers accepted (more only adds kernel start-up).
MAX_JOBS = 32


def validate_month(value: object, name: str = "month") -> str | None:
    """``value`` as a ``"YYYY-MM"`` string inside the campaign, or ``None`` for ``None``/``""``.

    >>> validate_month(None) is None
    True
    """
    if value is None or value == "":
        return None
    text = value if isinstance(value, str) else None
    if text is None or not MONTH_PATTERN.fullmatch(text) or not 1 <= int(text[5:7]) <= 12:
        raise ParameterError(f"{name} {value!r} is not a valid YYYY-MM month")
    stamp = pd.Timestamp(f"{text}-01")
    if not domain.CAMPAIGN_START <= stamp <= domain.CAMPAIGN_END:
        raise ParameterError(
            f"{name} {value!r} is outside the campaign "
            f"{domain.CAMPAIGN_START:%Y-%m}..{domain.CAMPAIGN_END:%Y-%m}"
        )
    return text


def validate_district(value: object, known: Sequence[str] | None = None) -> str:
    """``value`` when it is a district id of the reference.

    >>> validate_district("ayagoz")
    'ayagoz'
    """
    ids = list(known) if known is not None else district_ids()
    if not isinstance(value, str) or value not in ids:
        raise ParameterError(f"unknown district id {value!r}; known ids: {', '.join(ids)}")
    return value


def validate_lang(value: object) -> str:
    """``value`` when it is a report language.

    >>> validate_lang("ru")
    'ru'
    """
    if value not in LANGS:
        raise ParameterError(f"lang {value!r} is not one of {', '.join(LANGS)}")
    return str(value)


def validate_formats(values: Iterable[object]) -> tuple[str, ...]:
    """The formats, de-duplicated in the order given, each one of :data:`FORMATS`.

    >>> validate_formats(["pdf", "html", "pdf"])
    ('pdf', 'html')
    """
    if isinstance(values, str):
        values = [values]
    out: list[str] = []
    for value in values:
        if value not in FORMATS:
            raise ParameterError(f"format {value!r} is not one of {', '.join(FORMATS)}")
        if value not in out:
            out.append(str(value))
    if not out:
        raise ParameterError("no output format given; use html, pdf or both")
    return tuple(out)


def validate_jobs(value: object) -> int:
    """``value`` as a worker count between 1 and :data:`MAX_JOBS`.

    >>> validate_jobs(2)
    2
    """
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_JOBS:
        raise ParameterError(f"jobs {value!r} must be an integer from 1 to {MAX_JOBS}")
    return value


@dataclass(frozen=True)
class ReportParams:
    """Validated parameters of one batch of reports."""

    districts: tuple[str, ...]
    lang: str = "en"
    formats: tuple[str, ...] = FORMATS
    start_month: str | None = None
    end_month: str | None = None
    jobs: int = 2


def validate_params(
    districts: Iterable[object] | None = None,
    lang: object = "en",
    formats: Iterable[object] = FORMATS,
    start_month: object = None,
    end_month: object = None,
    jobs: object = 2,
) -> ReportParams:
    """Check every parameter of a batch; ``districts=None`` means all of the reference.

    >>> p = validate_params(["ayagoz"], lang="ru", start_month="2015-01")
    >>> p.districts, p.start_month, p.end_month
    (('ayagoz',), '2015-01', None)
    >>> try:
    ...     validate_params(["ayagoz\\n"])
    ... except ParameterError as exc:
    ...     print(str(exc).split(';')[0])
    unknown district id 'ayagoz\\n'
    """
    known = district_ids()
    if districts is None:
        chosen = tuple(known)
    else:
        if isinstance(districts, str):
            districts = [districts]
        chosen = tuple(dict.fromkeys(validate_district(d, known) for d in districts))
        if not chosen:
            raise ParameterError("an empty list of districts was given")
    start = validate_month(start_month, "start_month")
    end = validate_month(end_month, "end_month")
    if start and end and start > end:
        raise ParameterError(f"start_month {start!r} is after end_month {end!r}")
    return ReportParams(
        districts=chosen,
        lang=validate_lang(lang),
        formats=validate_formats(formats),
        start_month=start,
        end_month=end,
        jobs=validate_jobs(jobs),
    )
