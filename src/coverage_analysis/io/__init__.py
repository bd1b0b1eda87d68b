"""Reading raw spreadsheets and writing cleaned tables.

- :mod:`~coverage_analysis.io.readers`: every sheet of an xlsx, every CSV
  (encoding and delimiter detected), as :class:`RawSheet` objects;
- :mod:`~coverage_analysis.io.headers`: header vocabulary and header detection;
- :mod:`~coverage_analysis.io.writers`: atomic Parquet, CSV and JSON writers.
"""

from coverage_analysis.io.headers import Header, HeaderVocabulary, detect_header, header_key
from coverage_analysis.io.readers import RawSheet, read_csv_sheets, read_sheets, read_xlsx_sheets
from coverage_analysis.io.writers import atomic_path, write_csv, write_json, write_parquet

__all__ = [
    "Header",
    "HeaderVocabulary",
    "RawSheet",
    "atomic_path",
    "detect_header",
    "header_key",
    "read_csv_sheets",
    "read_sheets",
    "read_xlsx_sheets",
    "write_csv",
    "write_json",
    "write_parquet",
]
