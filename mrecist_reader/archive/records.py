"""What a search asks for and what it finds, without any patient identity.

Records hold UIDs, the trial's subject identifier, modality and counts only: the
archive's PatientName, PatientID and AccessionNumber are never requested, so a blinded
read's search results cannot show them.
"""

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class StudyQuery:
    """Which studies to look for; ``None`` fields match anything.

    ``dates`` is an inclusive range of study dates (either end may be ``None``): for
    local reads only, since a blinded read must not see dates.
    """

    subject_id: str | None = None
    study_uid: str | None = None
    modality: str | None = None
    dates: tuple[date | None, date | None] | None = None
    timepoint: str | None = None  # ClinicalTrialTimePointID, e.g. "FU1"

    def date_range(self) -> str:
        """Return ``dates`` as a DICOM range matching value (``""``: any date)."""
        if self.dates is None:
            return ""
        start, end = self.dates
        if start is None and end is None:
            return ""
        first = start.strftime("%Y%m%d") if start is not None else ""
        last = end.strftime("%Y%m%d") if end is not None else ""
        return f"{first}-{last}"


@dataclass(frozen=True, slots=True)
class StudyRecord:
    """A study the archive announced."""

    study_uid: str
    subject_id: str = ""
    study_date: str = ""
    modalities: tuple[str, ...] = ()
    timepoint: str = ""


@dataclass(frozen=True, slots=True)
class SeriesRecord:
    """A series the archive announced; ``instance_count`` as the archive said."""

    study_uid: str
    series_uid: str
    modality: str = ""
    description: str = ""
    number: int | None = None
    instance_count: int | None = None


@dataclass(frozen=True, slots=True)
class InstanceRecord:
    """An image the archive announced."""

    study_uid: str
    series_uid: str
    sop_uid: str
    sop_class_uid: str = ""
