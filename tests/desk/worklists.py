"""A desk over a given worklist, and every text its worklist would show (for blinding)."""

from collections.abc import Sequence

from mrecist_reader.core.model import ReadType
from mrecist_reader.desk.desk import ReaderContext, ReadingDesk
from mrecist_reader.imaging.worklist import SubjectEntry
from mrecist_reader.resources import load_profile


def desk_over(read_type: ReadType, subjects: Sequence[SubjectEntry]) -> ReadingDesk:
    """Return R01's desk (NCT06779461, an in-memory database) showing ``subjects``."""
    context = ReaderContext(
        reader_id="R01",
        read_type=read_type,
        profile=load_profile("nct06779461"),
        db_url="sqlite://",
    )
    desk = ReadingDesk(context)
    desk.set_worklist(tuple(subjects))
    return desk


def worklist_texts(desk: ReadingDesk) -> list[str]:
    """Return every text of the desk's worklist: subjects, timepoints, series."""
    texts: list[str] = []
    for subject in desk.worklist.subjects:
        texts.extend([subject.subject_id, subject.study_id, subject.site_id])
        for timepoint in subject.timepoints:
            texts.append(timepoint.label)
            for series in (*timepoint.series, *timepoint.localizers):
                texts.extend(
                    [
                        series.subject_id,
                        series.series_description,
                        series.stack_label,
                        *series.warnings,
                    ]
                )
    return texts
