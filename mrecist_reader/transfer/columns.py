"""The CSV columns of shared/spec/data-transfer.md: the single source of truth."""

import logging

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

MEASUREMENT_COLUMNS: tuple[str, ...] = (
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
"""measurements.csv: one row per lesion per timepoint per read."""

RESPONSE_COLUMNS: tuple[str, ...] = (
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
"""responses.csv: one row per timepoint per read."""

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
