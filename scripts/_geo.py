"""What the build scripts share: reading the boundary shapefiles and writing CSV text.

``build_geo.py`` (national reference, map GeoJSON) and ``build_lineage.py`` (how later
units map onto the campaign's districts) read the same geokz shapefiles (CC BY 4.0,
``../shared/geo/README.md``); each then repairs and measures the shapes its own way.
Run the scripts from the repository root; this module sits beside them on ``sys.path``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import shapefile  # pyshp
import shapely
from shapely.geometry import shape

#: Text encoding of the geokz shapefiles' attribute tables.
SHAPEFILE_ENCODING = "utf-8"


def read_shapes(path: Path) -> list[tuple[dict[str, object], shapely.Geometry]]:
    """Each record's attributes and its shape as read (not repaired) from the shapefile
    ``path`` (without extension)."""
    reader = shapefile.Reader(str(path), encoding=SHAPEFILE_ENCODING)
    try:
        return [
            (sr.record.as_dict(), shape(sr.shape.__geo_interface__))
            for sr in reader.iterShapeRecords()
        ]
    finally:
        reader.close()


def read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a UTF-8 CSV file (a BOM is allowed)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def csv_text(
    rows: Iterable[Mapping[str, object]], columns: Sequence[str], comment: str | None = None
) -> str:
    """``rows`` as CSV text with LF line ends, columns in ``columns`` order (other keys
    ignored), after an optional ``# comment`` line."""
    buf = io.StringIO()
    if comment:
        buf.write(f"# {comment}\n")
    writer = csv.DictWriter(
        buf, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore"
    )
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()
