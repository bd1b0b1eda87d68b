"""One exception hierarchy for the package.

Every error a user can cause carries enough to find the problem by hand:
the file, the sheet, the row (1-based, as a person sees it) and the value.
The CLI turns these into one line on standard error, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


class CoverageAnalysisError(Exception):
    """Base class of every error the package raises on purpose."""


@dataclass
class InputFileError(CoverageAnalysisError):
    """A raw file (or one sheet or row of it) that cannot be read.

    >>> str(InputFileError("a.xlsx", "no recognisable header", sheet="Лист1"))
    'a.xlsx [sheet Лист1]: no recognisable header'
    """

    file: str
    reason: str
    sheet: str | None = None
    row: int | None = None
    value: object | None = None

    def __str__(self) -> str:
        where = self.file
        if self.sheet:
            where += f" [sheet {self.sheet}]"
        if self.row is not None:
            where += f" row {self.row}"
        text = f"{where}: {self.reason}"
        if self.value is not None:
            text += f" (value {self.value!r})"
        return text


class ParameterError(CoverageAnalysisError, ValueError):
    """A parameter (district id, month, language, folder) that is not valid."""


class DataNotFoundError(CoverageAnalysisError, FileNotFoundError):
    """An input table or folder that a step needs does not exist."""


class SchemaError(CoverageAnalysisError):
    """A table that does not satisfy its declared schema."""
