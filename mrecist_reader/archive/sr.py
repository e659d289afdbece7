"""DICOM SR of a signed timepoint: a TID 1500 Measurement Report written with highdicom.

One SR per timepoint, in the study of that timepoint's images. Each lesion observed at
the timepoint is one measurement group (TID 1501) with

- its tracking identifier (the lesion ID, "T1") and a tracking UID derived from the
  read's key and the lesion ID, so it is the same at every timepoint;
- the finding type (lesion) and finding site (the organ);
- for a recorded diameter, a "Long axis" length in mm whose caliper end points are
  spatial coordinates (SCOORD POLYLINE, column/row) on the referenced image;
- the lesion type and status as qualitative evaluations in the local coding scheme
  ``99MRECIST`` whose code values are the tokens of the data-transfer spec.

The timepoint's responses (target, non-target, new lesions, overall), when given, are
TID 1500's "Qualitative Evaluations" container; the reader is the person observer.

A blinded (central) read's SR carries only the trial's pseudonymous identifiers:
highdicom copies the patient's name, ID, birth date, the study date, accession number,
study ID and institution from the images, and :func:`measurement_report` blanks them.
"""

import copy
import hashlib
import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
from highdicom.spatial import ImageToReferenceTransformer, ReferenceToImageTransformer
from highdicom.sr import (
    CodeContentItem,
    CodedConcept,
    Comprehensive3DSR,
    ContainerContentItem,
    ContentSequence,
    CoordinatesForMeasurement,
    FindingSite,
    GraphicTypeValues,
    Measurement,
    MeasurementReport,
    MeasurementsAndQualitativeEvaluations,
    ObservationContext,
    ObserverContext,
    PersonObserverIdentifyingAttributes,
    QualitativeEvaluation,
    RelationshipTypeValues,
    SourceImageForRegion,
    TrackingIdentifier,
)
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.sr.codedict import codes
from pydicom.uid import generate_uid

from mrecist_reader.core.assess import TimepointAssessment
from mrecist_reader.core.errors import MrecistError
from mrecist_reader.core.model import (
    STATUSES_BY_TYPE,
    Caliper,
    Lesion,
    LesionType,
    Observation,
    Organ,
    PointMm,
    Read,
    ReadStatus,
    ReadType,
)
from mrecist_reader.core.units import from_mm

logger = logging.getLogger(__name__)

SCHEME = "99MRECIST"
LESION_TYPE = CodedConcept("lesion_type", SCHEME, "mRECIST lesion type")
LESION_STATUS = CodedConcept("lesion_status", SCHEME, "mRECIST lesion status")
VIABLE_DIAMETER = codes.SCT.LongAxis
QUALITATIVE_EVALUATIONS = CodedConcept("C0034375", "UMLS", "Qualitative Evaluations")
TARGET_RESPONSE = CodedConcept("target_response", SCHEME, "mRECIST target response")
NON_TARGET_RESPONSE = CodedConcept(
    "non_target_resp", SCHEME, "mRECIST non-target response"
)
NEW_LESIONS = CodedConcept("new_lesions", SCHEME, "mRECIST new lesions")
OVERALL_RESPONSE = CodedConcept("overall_response", SCHEME, "mRECIST overall response")
ORGAN_CODES: dict[Organ, CodedConcept] = {
    Organ.LIVER: codes.SCT.Liver,
    Organ.LYMPH_NODE: codes.SCT.LymphNode,
    Organ.LUNG: codes.SCT.Lung,
    Organ.PERITONEUM: CodedConcept("15425007", "SCT", "Peritoneum"),
    Organ.PORTAL_VEIN: codes.SCT.PortalVein,
}
PROCEDURES = {
    "CT": codes.LN.CTUnspecifiedBodyRegion,
    "MR": codes.LN.MRIUnspecifiedBodyRegion,
}
BLANKED_IN_BLINDED = (
    "PatientBirthDate",
    "PatientSex",
    "StudyDate",
    "StudyTime",
    "AccessionNumber",
    "StudyID",
    "InstitutionName",
    "ReferringPhysicianName",
)
OFF_PLANE_TOLERANCE_MM = 0.5


class SRExportError(MrecistError):
    """An SR cannot be written (unsigned timepoint, an image that cannot be found)."""


@dataclass(frozen=True, slots=True)
class ReportedLesion:
    """A lesion read back from a Measurement Report (what :func:`read_report` returns).

    ``diameter_mm`` is ``None`` without a length; ``caliper_px`` holds the end points as
    (column, row) on the image ``sop_instance_uid``.
    """

    lesion_id: str
    tracking_uid: str
    lesion_type: str
    status: str
    organ_code: str = ""
    diameter_mm: float | None = None
    sop_instance_uid: str = ""
    caliper_px: tuple[tuple[float, float], ...] = ()


def tracking_uid(read: Read, lesion_id: str) -> str:
    """Return the lesion's tracking UID: the same at every timepoint of the read.

    A ``2.25`` UID from a hash of the read's key and the lesion ID (no identity in it
    beyond the pseudonymous subject ID, which the hash does not reveal).
    """
    key = read.key
    text = (
        f"{key.study_id}|{key.subject_id}|{key.reader_id}|{key.read_type}|{lesion_id}"
    )
    digest = hashlib.sha256(text.encode("utf-8")).digest()[:16]
    return f"2.25.{int.from_bytes(digest, 'big')}"


def measurement_report(
    read: Read,
    timepoint_index: int,
    images: Mapping[str, Dataset],
    *,
    series_number: int = 901,
    blinded: bool | None = None,
    responses: TimepointAssessment | None = None,
) -> Comprehensive3DSR:
    """Return the Comprehensive 3D SR (TID 1500) of one signed timepoint of ``read``.

    Parameters
    ----------
    read
        The read; only its observations at ``timepoint_index`` are reported.
    timepoint_index
        The timepoint (0 is baseline); it must be signed.
    images
        Headers of the images, by SOP Instance UID: at least every image an
        observation's caliper lies on (pixel data is not needed).
    series_number
        Series Number of the SR.
    blinded
        Blank identity copied from the images; default: for central reads.
    responses
        The timepoint's assessment (``core.assess``): its target, non-target, new
        lesion and overall responses become the report's qualitative evaluations.

    Raises
    ------
    SRExportError
        The timepoint is not signed, or an image an observation refers to is not in
        ``images`` (its series and SOP Instance UID are named).

    """
    timepoint = next((t for t in read.timepoints if t.index == timepoint_index), None)
    if timepoint is None or timepoint.read_status is not ReadStatus.SIGNED:
        raise SRExportError(
            f"subject {read.key.subject_id} timepoint {timepoint_index}: only a signed "
            "timepoint gets an SR"
        )
    observations = [
        o for o in read.observations if o.timepoint_index == timepoint_index
    ]
    evidence = _evidence(observations, images, read, timepoint_index)
    lesions = {lesion.lesion_id: lesion for lesion in read.lesions}
    groups = [
        _group(read, lesions[o.lesion_id], o, images.get(o.sop_instance_uid))
        for o in observations
        if o.lesion_id in lesions
    ]
    modality = str(evidence[0].get("Modality", "CT"))
    report = MeasurementReport(
        observation_context=_observation_context(read.key.reader_id),
        procedure_reported=PROCEDURES.get(modality, codes.LN.CTUnspecifiedBodyRegion),
        imaging_measurements=groups,
    )
    sr = Comprehensive3DSR(
        evidence=evidence,
        content=report,
        series_instance_uid=generate_uid(),
        series_number=series_number,
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer="mrecist_reader",
        series_description=f"mRECIST {timepoint.label} reader {read.key.reader_id}",
        is_complete=True,
        is_final=True,
    )
    sr.CodingSchemeIdentificationSequence = [_local_scheme()]
    _copy_clinical_trial(sr, evidence[0], read, timepoint.label)
    if responses is not None and _has_responses(responses):
        # at baseline there is no response: an empty container is invalid (Type 1C)
        sr.ContentSequence.append(_responses_container(responses))
    is_blinded = read.key.read_type is ReadType.CENTRAL if blinded is None else blinded
    if is_blinded:
        blank_identity(sr, read.key.subject_id)
    return sr


def _evidence(
    observations: Sequence[Observation],
    images: Mapping[str, Dataset],
    read: Read,
    timepoint_index: int,
) -> list[Dataset]:
    referenced = [o for o in observations if o.sop_instance_uid]
    missing = [o for o in referenced if o.sop_instance_uid not in images]
    if missing:
        named = "; ".join(
            f"lesion {o.lesion_id}: series {o.series_instance_uid or '?'} image "
            f"{o.sop_instance_uid}"
            for o in missing
        )
        raise SRExportError(
            f"subject {read.key.subject_id} timepoint {timepoint_index}: images not "
            f"found ({named}); say where they are (--images)"
        )
    uids = list(dict.fromkeys(o.sop_instance_uid for o in referenced))
    if not uids:
        raise SRExportError(
            f"subject {read.key.subject_id} timepoint {timepoint_index}: no observation "
            "refers to an image; an SR needs the study's images"
        )
    return [_with_type2_attributes(images[uid]) for uid in uids]


TYPE2_COPIED = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "StudyDate",
    "StudyTime",
    "ReferringPhysicianName",
    "StudyID",
    "AccessionNumber",
)
"""Type 2 attributes highdicom copies from the images: empty when an image has none."""


def _with_type2_attributes(image: Dataset) -> Dataset:
    """Return ``image``, or a copy with the Type 2 attributes it lacks made empty."""
    missing = [keyword for keyword in TYPE2_COPIED if keyword not in image]
    if not missing:
        return image
    completed = copy.deepcopy(image)
    for keyword in missing:
        setattr(completed, keyword, "")
    return completed


def _observation_context(reader_id: str) -> ObservationContext:
    return ObservationContext(
        observer_person_context=ObserverContext(
            observer_type=codes.DCM.Person,
            observer_identifying_attributes=PersonObserverIdentifyingAttributes(
                name=f"{reader_id}^"  # a one-component person name (PS3.5 §6.2.1.2)
            ),
        )
    )


def _group(
    read: Read, lesion: Lesion, observation: Observation, image: Dataset | None
) -> MeasurementsAndQualitativeEvaluations:
    measurements = []
    if observation.diameter is not None:
        coordinates = (
            [_caliper_coordinates(observation, image)]
            if observation.caliper is not None and image is not None
            else None
        )
        measurements.append(
            Measurement(
                name=VIABLE_DIAMETER,
                value=observation.diameter / 10,
                unit=codes.UCUM.Millimeter,
                referenced_coordinates=coordinates,
            )
        )
    site = ORGAN_CODES.get(lesion.organ)
    return MeasurementsAndQualitativeEvaluations(
        tracking_identifier=TrackingIdentifier(
            uid=tracking_uid(read, lesion.lesion_id), identifier=lesion.lesion_id
        ),
        finding_type=codes.SCT.Lesion,
        finding_sites=[FindingSite(site)] if site is not None else None,
        measurements=measurements or None,
        qualitative_evaluations=[
            QualitativeEvaluation(LESION_TYPE, _token(str(lesion.lesion_type))),
            QualitativeEvaluation(LESION_STATUS, _token(str(observation.status))),
        ],
    )


def _has_responses(assessment: TimepointAssessment) -> bool:
    return any(
        value is not None
        for value in (
            assessment.target_response,
            assessment.non_target_response,
            assessment.new_lesions,
            assessment.overall_response,
        )
    )


def _responses_container(assessment: TimepointAssessment) -> ContainerContentItem:
    """Return TID 1500's "Qualitative Evaluations" container of the responses."""
    container = ContainerContentItem(
        name=QUALITATIVE_EVALUATIONS, relationship_type=RelationshipTypeValues.CONTAINS
    )
    container.ContentSequence = ContentSequence(
        [
            CodeContentItem(
                name=concept,
                value=_token(str(value)),
                relationship_type=RelationshipTypeValues.CONTAINS,
            )
            for concept, value in (
                (TARGET_RESPONSE, assessment.target_response),
                (NON_TARGET_RESPONSE, assessment.non_target_response),
                (NEW_LESIONS, assessment.new_lesions),
                (OVERALL_RESPONSE, assessment.overall_response),
            )
            if value is not None
        ]
    )
    return container


def read_responses(sr: Dataset) -> dict[str, str]:
    """Return the responses of a report written by :func:`measurement_report`.

    Keys are ``target_response``, ``non_target_response``, ``new_lesions`` and
    ``overall_response`` (those present); values are the data-transfer tokens.
    """
    for item in sr.get("ContentSequence", []):
        name = item.ConceptNameCodeSequence[0]
        if (name.CodeValue, name.CodingSchemeDesignator) == (
            QUALITATIVE_EVALUATIONS.value,
            QUALITATIVE_EVALUATIONS.scheme_designator,
        ):
            return {
                str(code.ConceptNameCodeSequence[0].CodeValue): str(
                    code.ConceptCodeSequence[0].CodeValue
                )
                for code in item.get("ContentSequence", [])
                if code.ValueType == "CODE"
            }
    return {}


def _copy_clinical_trial(sr: Dataset, image: Dataset, read: Read, label: str) -> None:
    """Give the SR the trial's identifiers (Clinical Trial Subject and Study modules).

    So a search by ClinicalTrialSubjectID finds the SR as it finds the images. Only
    when the images carry the module (its sponsor name is Type 1).
    """
    if not image.get("ClinicalTrialSponsorName"):
        return
    for keyword in (
        "ClinicalTrialSponsorName",
        "ClinicalTrialProtocolID",
        "ClinicalTrialProtocolName",
        "ClinicalTrialSiteID",
        "ClinicalTrialSiteName",
    ):
        setattr(sr, keyword, image.get(keyword, ""))
    sr.ClinicalTrialSubjectID = read.key.subject_id
    sr.ClinicalTrialTimePointID = label


def _local_scheme() -> Dataset:
    """Identify the local coding scheme (PS3.3 C.12.1: required for schemes not in PS3.16)."""
    item = Dataset()
    item.CodingSchemeDesignator = SCHEME
    item.CodingSchemeName = "mrecist_reader data-transfer tokens"
    item.CodingSchemeResponsibleOrganization = "mrecist_reader"
    return item


def _token(value: str) -> CodedConcept:
    return CodedConcept(value, SCHEME, value.replace("_", " "))


def _caliper_coordinates(
    observation: Observation, image: Dataset
) -> CoordinatesForMeasurement:
    assert observation.caliper is not None  # checked by the caller
    points = np.array([observation.caliper.p1_mm, observation.caliper.p2_mm])
    transformer = ReferenceToImageTransformer(
        image_position=[float(v) for v in image.ImagePositionPatient],
        image_orientation=[float(v) for v in image.ImageOrientationPatient],
        pixel_spacing=[float(v) for v in image.PixelSpacing],
    )
    projected = transformer(points)
    off_plane = float(np.max(np.abs(projected[:, 2])))
    if off_plane > OFF_PLANE_TOLERANCE_MM:
        raise SRExportError(
            f"lesion {observation.lesion_id}: the caliper lies {off_plane:.1f} mm off "
            f"the plane of image {observation.sop_instance_uid}"
        )
    return CoordinatesForMeasurement(
        graphic_type=GraphicTypeValues.POLYLINE,
        graphic_data=projected[:, :2].astype(np.float32),
        source_image=SourceImageForRegion.from_source_image(image),
    )


def blank_identity(sr: Dataset, subject_id: str) -> None:
    """Leave only the trial's pseudonym of what highdicom copied from the images.

    Each element is replaced, never changed in place: highdicom's copies may share
    their element objects with the images' headers, which must stay as they were
    (another report built from them, e.g. of a local read, keeps its dates).
    """
    values = {"PatientName": f"{subject_id}^", "PatientID": subject_id}
    values |= {keyword: "" for keyword in BLANKED_IN_BLINDED if keyword in sr}
    for keyword, value in values.items():
        if keyword in sr:
            del sr[keyword]
        setattr(sr, keyword, value)


def image_headers(files: Iterable[Path]) -> dict[str, Dataset]:
    """Return the headers (no pixel data) of image files, by SOP Instance UID.

    The caller lists the files, e.g. ``SeriesInfo.files`` of the series a read refers
    to; a file that is not DICOM is skipped with a warning.
    """
    headers: dict[str, Dataset] = {}
    for path in files:
        try:
            header = dcmread(path, stop_before_pixels=True)
        except (OSError, InvalidDicomError) as error:
            logger.warning("%s: not read as DICOM (%s)", path, error)
            continue
        if header.get("SOPInstanceUID"):
            headers[str(header.SOPInstanceUID)] = header
    return headers


def write_reports(
    read: Read, images: Mapping[str, Dataset], folder: Path, **options: Any
) -> list[Path]:
    """Write the SR of every signed timepoint of ``read`` into ``folder``; all or nothing.

    Every SR is built before the first is written, so an image that cannot be found
    leaves the folder as it was. Files are named ``sr_SUBJECT_READER_tpINDEX.dcm``;
    ``options`` go to :func:`measurement_report`.
    """
    signed = [t for t in read.timepoints if t.read_status is ReadStatus.SIGNED]
    reports = [
        (t, measurement_report(read, t.index, images, **options)) for t in signed
    ]
    folder.mkdir(parents=True, exist_ok=True)
    key = read.key
    written: list[Path] = []
    for timepoint, report in reports:
        name = _safe(f"sr_{key.subject_id}_{key.reader_id}_tp{timepoint.index}.dcm")
        target = folder / name
        temporary = folder / f".{name}.part"
        try:
            report.save_as(temporary, enforce_file_format=True)
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
        written.append(target)
    return written


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def read_report(sr: Dataset) -> list[ReportedLesion]:
    """Return the lesions of a TID 1500 Measurement Report, in the report's order."""
    parsed = Comprehensive3DSR.from_dataset(sr, copy=True)
    report = parsed.content
    if not isinstance(report, MeasurementReport):  # pragma: no cover - from_dataset
        raise SRExportError("not a TID 1500 Measurement Report")
    return [_reported(group) for group in report.get_image_measurement_groups()]


def _reported(group: MeasurementsAndQualitativeEvaluations) -> ReportedLesion:
    evaluations = {
        # highdicom annotates QualitativeEvaluation.value as a number; it is the code
        str(item.name.value): str(cast("CodedConcept", item.value).value)
        for item in group.get_qualitative_evaluations()
    }
    lengths = group.get_measurements(name=VIABLE_DIAMETER)
    diameter = float(lengths[0].value) if lengths else None
    sop_uid, caliper = "", cast("tuple[tuple[float, float], ...]", ())
    if lengths and lengths[0].referenced_coordinates:
        scoord = lengths[0].referenced_coordinates[0]
        sop_uid = str(
            scoord.ContentSequence[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID
        )
        caliper = tuple((float(c), float(r)) for c, r in scoord.value)
    sites = group.finding_sites
    return ReportedLesion(
        lesion_id=str(group.tracking_identifier or ""),
        tracking_uid=str(group.tracking_uid or ""),
        lesion_type=evaluations.get(str(LESION_TYPE.value), ""),
        status=evaluations.get(str(LESION_STATUS.value), ""),
        organ_code=str(sites[0].value.value) if sites else "",
        diameter_mm=diameter,
        sop_instance_uid=sop_uid,
        caliper_px=caliper,
    )


def lesions_and_observations(
    sr: Dataset, timepoint_index: int, images: Mapping[str, Dataset]
) -> tuple[tuple[Lesion, ...], tuple[Observation, ...]]:
    """Return a report's lesions and observations as the core model has them (read only).

    For showing a read made elsewhere (e.g. a site read) on the images: calipers are in
    patient millimetres when their image is in ``images``, else left out. Lesion types,
    statuses and organs the report does not name in our terms are refused.
    """
    organs = {concept.value: organ for organ, concept in ORGAN_CODES.items()}
    lesions: list[Lesion] = []
    observations: list[Observation] = []
    for reported in read_report(sr):
        try:
            lesion_type = LesionType(reported.lesion_type)
            status = STATUSES_BY_TYPE[lesion_type](reported.status)
        except ValueError as error:
            raise SRExportError(
                f"lesion {reported.lesion_id}: not an mRECIST lesion of this "
                f"application ({error})"
            ) from error
        organ = organs.get(reported.organ_code, Organ.OTHER)
        lesions.append(Lesion(reported.lesion_id, lesion_type, organ))
        image = images.get(reported.sop_instance_uid)
        caliper = (
            Caliper(*caliper_in_patient_mm(reported, image))
            if image is not None and len(reported.caliper_px) == 2
            else None
        )
        observations.append(
            Observation(
                reported.lesion_id,
                timepoint_index,
                status,  # type: ignore[arg-type]
                diameter=None
                if reported.diameter_mm is None
                else from_mm(reported.diameter_mm),
                caliper=caliper,
                series_instance_uid=str(image.SeriesInstanceUID)
                if image is not None
                else "",
                sop_instance_uid=reported.sop_instance_uid,
            )
        )
    return tuple(lesions), tuple(observations)


def caliper_in_patient_mm(
    lesion: ReportedLesion, image: Dataset
) -> tuple[PointMm, PointMm]:
    """Return the caliper end points of ``lesion`` in patient millimetres (x, y, z)."""
    transformer = ImageToReferenceTransformer(
        image_position=[float(v) for v in image.ImagePositionPatient],
        image_orientation=[float(v) for v in image.ImageOrientationPatient],
        pixel_spacing=[float(v) for v in image.PixelSpacing],
    )
    points = transformer(np.array(lesion.caliper_px, dtype=float))
    p1, p2 = (tuple(float(v) for v in point) for point in points[:2])
    return (p1[0], p1[1], p1[2]), (p2[0], p2[1], p2[2])
