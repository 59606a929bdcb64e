"""Classification and grading (分级分类) and personal-information protection.

- ``detectors``: find identifiers and personal information in Chinese text and table cells.
- ``scan``: per-column detection over a table, with a suggested GB/T 43697 grade.
- ``grades``: the one table that maps a detected type to a grade and a personal category.
- ``masking``: masking, HMAC-SM3 pseudonyms, generalisation and suppression, by policy.
- ``tables``: read the head of a CSV (UTF-8 or GB18030) or XLSX file for ``cityos classify``.
"""

from cityos.protection.detectors import TYPES, Match, detect_value, find_all, matches_value
from cityos.protection.scan import ColumnReport, resource_suggestion, scan_columns

__all__ = [
    "TYPES",
    "ColumnReport",
    "Match",
    "detect_value",
    "find_all",
    "matches_value",
    "resource_suggestion",
    "scan_columns",
]
