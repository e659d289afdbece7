"""The CSV columns of shared/spec/data-transfer.md: the single source of truth."""

import logging
from collections import Counter
from collections.abc import Iterable
from enum import StrEnum

logger = logging.getLogger(__name__)

SCHEMA_VERSION = "1"
"""The ``schema_version`` this release writes and reads."""

READ_COLUMNS: tuple[str, ...] = (
    "schema_version",
    "study_id",
    "site_id",
    "subject_id",
    "reader_id",
    "read_type",
    "criteria",
    "protocol_profile",
    "timepoint",
    "timepoint_index",
    "scan_date",
    "study_day",
)
"""The leading columns shared by measurements.csv and responses.csv."""

CALIPER_COLUMNS: tuple[str, ...] = (
    "p1_x_mm",
    "p1_y_mm",
    "p1_z_mm",
    "p2_x_mm",
    "p2_y_mm",
    "p2_z_mm",
)
"""Caliper end points in DICOM patient coordinates, millimetres."""

SIGN_COLUMNS: tuple[str, ...] = ("read_status", "signed_at", "software_version")
"""The trailing columns shared by both files."""

MEASUREMENT_COLUMNS_V1: tuple[str, ...] = (
    *READ_COLUMNS,
    "lesion_id",
    "lesion_type",
    "organ",
    "location",
    "status",
    "viable_diameter_mm",
    "series_instance_uid",
    "sop_instance_uid",
    *CALIPER_COLUMNS,
    "method",
    "comment",
    *SIGN_COLUMNS,
)
"""measurements.csv's columns of the first version of the files (the spec's table): a
file must have them, first and in this order."""

RESPONSE_COLUMNS_V1: tuple[str, ...] = (
    *READ_COLUMNS,
    "target_sum_mm",
    "baseline_sum_mm",
    "nadir_sum_mm",
    "change_from_baseline_pct",
    "change_from_nadir_pct",
    "target_response",
    "non_target_response",
    "new_lesions",
    "overall_response",
    "progression_backdated_to",
    "best_response_to_date",
    *SIGN_COLUMNS,
)
"""responses.csv's columns of the first version of the files (the spec's table): a
file must have them, first and in this order."""

ROLE_COLUMNS: tuple[str, ...] = ("read_role", "source_reader")
"""Added in the second version of both files (data-transfer.md, central-review.md
§Exports): what the read is (:class:`ReadRole`) and, for a ``final`` read, the reader
whose read was chosen or was concordant (empty otherwise)."""

SECOND_DIAMETER_COLUMNS: tuple[str, ...] = (
    "whole_diameter_mm",
    "viable_perpendicular_mm",
)
"""Added to measurements.csv in the second version: the whole lesion's longest
diameter (viable and necrotic, RECIST 1.1) and the longest diameter perpendicular to
the viable one; empty when not measured. Written from a semi-automatic click's evidence
(:class:`~mrecist_reader.core.model.MeasurementEvidence`) and read back into it;
mRECIST responses never use them."""

MEASUREMENT_COLUMNS: tuple[str, ...] = (
    *MEASUREMENT_COLUMNS_V1,
    *ROLE_COLUMNS,
    *SECOND_DIAMETER_COLUMNS,
)
"""measurements.csv as written: one row per lesion per timepoint per read.

The spec appends the second version's columns in two bullet points without fixing
their order across them; this release writes them as listed there: ``read_role``,
``source_reader`` (both files), then ``whole_diameter_mm``,
``viable_perpendicular_mm`` (measurements.csv only)."""

RESPONSE_COLUMNS: tuple[str, ...] = (*RESPONSE_COLUMNS_V1, *ROLE_COLUMNS)
"""responses.csv as written: one row per timepoint per read."""


ROI_FILE = "rois.csv"
"""The file of ROIs kept as evidence, written beside measurements.csv (issue 15)."""

ROI_COLUMNS: tuple[str, ...] = (
    *READ_COLUMNS,
    "lesion_id",
    "roi_label",
    "shape",
    "series_instance_uid",
    "sop_instance_uid",
    "area_mm2",
    "pixel_count",
    "mean",
    "sd",
    "min",
    "max",
    "unit",
    "outline_mm",
    *SIGN_COLUMNS,
    *ROLE_COLUMNS,
)
"""rois.csv as written: one row per ROI kept with a read, in the order kept per
timepoint. ``lesion_id`` is empty for an ROI kept for its timepoint only (a liver
reference); ``outline_mm`` is the outline's points in patient millimetres, ``x y z``
separated by ``;``. Blinded rows follow measurements.csv's rule."""

ROI_NUMERIC_COLUMNS: frozenset[str] = frozenset(
    {
        "schema_version",
        "timepoint_index",
        "study_day",
        "area_mm2",
        "pixel_count",
        "mean",
        "sd",
        "min",
        "max",
        "outline_mm",
    }
)
"""rois.csv's columns holding numbers (never prefixed for spreadsheet safety;
``outline_mm`` holds only numbers the application formats)."""


class ReadRole(StrEnum):
    """The ``read_role`` values (central-review.md §Exports).

    :class:`mrecist_reader.core.adjudication.ReadRole` names the review's two (primary,
    final); a file also holds sites' ``local`` reads.
    """

    PRIMARY = "primary"
    FINAL = "final"
    LOCAL = "local"


NUMERIC_COLUMNS: frozenset[str] = frozenset(
    {
        "schema_version",
        "timepoint_index",
        "study_day",
        "viable_diameter_mm",
        *CALIPER_COLUMNS,
        "target_sum_mm",
        "baseline_sum_mm",
        "nadir_sum_mm",
        "change_from_baseline_pct",
        "change_from_nadir_pct",
        "whole_diameter_mm",
        "viable_perpendicular_mm",
    }
)
"""Columns holding numbers: never prefixed for spreadsheet safety (every other cell is
text, see :mod:`mrecist_reader.transfer.spreadsheet`)."""


def repeated_columns(header: Iterable[str]) -> list[str]:
    """Return the column names a header holds more than once, sorted.

    One pass over the header (a count per name): a header of 100,000 columns is
    checked in linear time (issue 21, item 17: counting each name's occurrences
    separately made it quadratic, 102 s).
    """
    counts = Counter(header)
    return sorted(column for column, count in counts.items() if count > 1)
