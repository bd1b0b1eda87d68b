"""Cleaning: every raw input kind read, interpreted and accounted for.

``clean_folder(raw_dir, processed_dir)`` is the ``clean`` step; the per-kind
cleaners (frame in, frame out) live in one module each.
"""

from coverage_analysis.clean.folder import CleaningResult, clean_folder

__all__ = ["CleaningResult", "clean_folder"]
