"""Key images sent with the SR: a Key Object Selection document per signed timepoint.

The reader's key images (issue 15 item 8: :attr:`mrecist_reader.core.model.Read.key_images`)
name images of the archive's own series, so they travel as DICOM the way a PACS shows
them: a Key Object Selection document ("Of Interest", written with highdicom) that
references each key image by its SOP Instance UID, one per signed timepoint that has
key images, sent beside that timepoint's SR. Its description names the lesions only.
A blinded read's document carries the trial's pseudonymous identifiers only, as its
SR does (:func:`mrecist_reader.archive.sr.blank_identity`).
"""

from collections.abc import Mapping

from highdicom.ko import KeyObjectSelection, KeyObjectSelectionDocument
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.uid import generate_uid

from mrecist_reader.archive.sr import SRExportError, blank_identity
from mrecist_reader.core.model import Read, ReadStatus, ReadType


def key_object_selection(
    read: Read,
    timepoint_index: int,
    images: Mapping[str, Dataset],
    *,
    series_number: int = 902,
    blinded: bool | None = None,
) -> KeyObjectSelectionDocument | None:
    """Return the key images of a signed timepoint as a KOS (``None``: it has none).

    ``images``: headers of the images by SOP Instance UID (no pixel data needed).
    Raises :class:`~mrecist_reader.archive.sr.SRExportError` for a timepoint that is
    not signed or a key image whose header is not in ``images`` (series named).
    """
    timepoint = next((t for t in read.timepoints if t.index == timepoint_index), None)
    if timepoint is None or timepoint.read_status is not ReadStatus.SIGNED:
        raise SRExportError(
            f"subject {read.key.subject_id} timepoint {timepoint_index}: only a signed "
            "timepoint's key images are sent"
        )
    keys = read.key_images_at(timepoint_index)
    if not keys:
        return None
    missing = sorted(
        {k.series_instance_uid for k in keys if k.sop_instance_uid not in images}
    )
    if missing:
        raise SRExportError(
            f"subject {read.key.subject_id} timepoint {timepoint.label}: key images "
            f"not found in series {', '.join(missing)}"
        )
    referenced = list(
        {k.sop_instance_uid: images[k.sop_instance_uid] for k in keys}.values()
    )
    lesions = sorted({k.lesion_id for k in keys})
    document = KeyObjectSelectionDocument(
        evidence=referenced,
        content=KeyObjectSelection(
            document_title=codes.DCM.OfInterest,
            referenced_objects=referenced,
            description=f"mRECIST key images: {', '.join(lesions)}"[:1024],
        ),
        series_instance_uid=generate_uid(),
        series_number=series_number,
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer="mrecist_reader",
    )
    document.SeriesDescription = (
        f"mRECIST key images {timepoint.label} reader {read.key.reader_id}"
    )
    is_blinded = read.key.read_type is ReadType.CENTRAL if blinded is None else blinded
    if is_blinded:
        blank_identity(document, read.key.subject_id)
    return document
