"""A TID 1500 report shown read only: its lesions, and each caliper on its image (no Qt).

For File > Open SR... (``ui/sr_dialog.py``): a report written here or elsewhere (a
site read, an SR from the archive) is listed lesion by lesion; a lesion's image is
looked for in the folders its series was opened from
(:mod:`~mrecist_reader.desk.image_places`) and in a folder the reader names, and
shown with the caliper's end points in pixel coordinates (row, column).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from pydicom import dcmread
from pydicom.errors import InvalidDicomError

from mrecist_reader.archive.sr import (
    ORGAN_CODES,
    ReportedLesion,
    read_report,
    read_responses,
)
from mrecist_reader.core.errors import MrecistError
from mrecist_reader.desk.image_places import folders_for
from mrecist_reader.imaging.load import load_volume
from mrecist_reader.imaging.scan import scan

COLUMNS = ("Lesion", "Type", "Status", "Site", "Viable diameter")
SITES = {
    str(code.value): str(organ).replace("_", " ") for organ, code in ORGAN_CODES.items()
}


class NotAReport(MrecistError):
    """The file is not a TID 1500 measurement report (named, with the reason)."""


@dataclass(frozen=True, slots=True)
class ShownImage:
    """A lesion's image: its pixels and the caliper's end points as (row, column)."""

    pixels: npt.NDArray[np.float32]
    caliper_rc: tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class ReportView:
    """A report's lesions, rows for a table, its responses and where its images are."""

    path: Path
    lesions: tuple[ReportedLesion, ...]
    responses: dict[str, str]
    series_of: dict[str, str]  # SOP Instance UID -> Series Instance UID (evidence)

    @property
    def rows(self) -> tuple[tuple[str, ...], ...]:
        """Return one row of :data:`COLUMNS` per lesion."""
        return tuple(
            (
                lesion.lesion_id,
                lesion.lesion_type.replace("_", " "),
                lesion.status.replace("_", " "),
                SITES.get(lesion.organ_code, lesion.organ_code),
                "" if lesion.diameter_mm is None else f"{lesion.diameter_mm:g} mm",
            )
            for lesion in self.lesions
        )

    def responses_text(self) -> str:
        """Say the timepoint's responses in one line (empty without any)."""
        return ", ".join(
            f"{name.replace('_', ' ')} {value}"
            for name, value in self.responses.items()
        )

    def image(self, row: int, folders: Iterable[Path] = ()) -> ShownImage | None:
        """Return the image of a lesion with its caliper.

        ``None``: the lesion has no caliper, or its image is neither in the folders
        its series was opened from nor in ``folders``.
        """
        lesion = self.lesions[row]
        if not lesion.caliper_px or not lesion.sop_instance_uid:
            return None
        series_uid = self.series_of.get(lesion.sop_instance_uid, "")
        roots = [*folders_for([series_uid]), *folders]
        for root in roots:
            for series in scan(root).series:
                if lesion.sop_instance_uid not in series.sop_instance_uids:
                    continue
                volume = load_volume(series)
                index = volume.sop_instance_uids.index(lesion.sop_instance_uid)
                pixels = np.asarray(volume.array[index], dtype=np.float32)
                # SCOORD image coordinates: (0, 0) is the top left pixel's corner
                caliper = tuple((r - 0.5, c - 0.5) for c, r in lesion.caliper_px)
                return ShownImage(pixels, caliper)
        return None


def open_report(path: Path) -> ReportView:
    """Read a TID 1500 report; raise :class:`NotAReport` naming the file otherwise."""
    try:
        sr = dcmread(path)
        lesions = read_report(sr)
    except (OSError, InvalidDicomError, ValueError, AttributeError) as error:
        raise NotAReport(
            f"{path}: not a TID 1500 measurement report ({error})"
        ) from error
    series_of = {
        str(image.ReferencedSOPInstanceUID): str(series.SeriesInstanceUID)
        for study in sr.get("CurrentRequestedProcedureEvidenceSequence", [])
        for series in study.get("ReferencedSeriesSequence", [])
        for image in series.get("ReferencedSOPSequence", [])
    }
    return ReportView(path, tuple(lesions), read_responses(sr), series_of)
