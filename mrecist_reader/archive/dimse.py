"""A DIMSE archive client: C-ECHO, C-FIND, C-GET and C-MOVE with pynetdicom.

C-GET asks for each SOP class once per transfer syntax we can decode, each in a
presentation context of its own, so the archive sends every file as it stores it (no
transcoding) and nothing needs configuring on the archive. Archives without C-GET get a
C-MOVE to our own storage SCP (``DimseNode.move_port``), which they must know.
"""

import logging
import socket
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from pydicom.dataset import Dataset
from pydicom.uid import (
    HTJ2K,
    JPEG2000,
    UID,
    CTImageStorage,
    DeflatedExplicitVRLittleEndian,
    EnhancedCTImageStorage,
    EnhancedMRImageStorage,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    HTJ2KLossless,
    HTJ2KLosslessRPCL,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    MRImageStorage,
    RLELossless,
    SecondaryCaptureImageStorage,
)
from pynetdicom import AE, build_context, build_role, evt
from pynetdicom.association import Association
from pynetdicom.pdu_primitives import A_ASSOCIATE, SCP_SCU_RoleSelectionNegotiation
from pynetdicom.presentation import PresentationContext

from mrecist_reader.archive.errors import (
    ArchiveRequestFailed,
    ArchiveTimeout,
    ArchiveUnreachable,
    AssociationRejected,
    PullCancelled,
)
from mrecist_reader.archive.nodes import DimseNode
from mrecist_reader.archive.records import (
    InstanceRecord,
    SeriesRecord,
    StudyQuery,
    StudyRecord,
)
from mrecist_reader.archive.store import LocalStore

logger = logging.getLogger(__name__)

Verification = UID("1.2.840.10008.1.1")
StudyRootQueryRetrieveInformationModelFind = UID("1.2.840.10008.5.1.4.1.2.2.1")
StudyRootQueryRetrieveInformationModelMove = UID("1.2.840.10008.5.1.4.1.2.2.2")
StudyRootQueryRetrieveInformationModelGet = UID("1.2.840.10008.5.1.4.1.2.2.3")

STORED_TRANSFER_SYNTAXES: tuple[UID, ...] = (
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    JPEG2000Lossless,
    JPEG2000,
    RLELossless,
    HTJ2KLossless,
    HTJ2KLosslessRPCL,
    HTJ2K,
)
"""Transfer syntaxes the image loader decodes: one C-GET presentation context each."""

FALLBACK_SOP_CLASSES: tuple[str, ...] = (
    CTImageStorage,
    MRImageStorage,
    EnhancedCTImageStorage,
    EnhancedMRImageStorage,
    SecondaryCaptureImageStorage,
)
"""Storage classes asked for when the archive did not say an image's SOP class."""

MAX_CONTEXTS = 128  # PS3.8 §9.3.2.2: context IDs are the odd numbers 1..255
SUCCESS = 0x0000
PENDING = (0xFF00, 0xFF01)
WARNING = 0xB000
OUT_OF_RESOURCES = 0xA700

StoreHandler = Callable[[Any], int]


class DimseArchive:
    """Query and retrieve from one DIMSE node; every failure is an ``ArchiveError``."""

    def __init__(self, node: DimseNode) -> None:
        self.node = node

    def __str__(self) -> str:
        return f"DIMSE {self.node}"

    # ------------------------------------------------------------ verification
    def check(self) -> str:
        """C-ECHO the archive and return a one-line description of the success."""
        with self._association([build_context(Verification)]) as assoc:
            status = assoc.send_c_echo()
            self._raise_for_status(status, "C-ECHO")
        return f"{self.node}: C-ECHO answered"

    # ------------------------------------------------------------ queries
    def find_studies(self, query: StudyQuery) -> list[StudyRecord]:
        """C-FIND at STUDY level by ClinicalTrialSubjectID, study UID and modality."""
        identifier = Dataset()
        identifier.QueryRetrieveLevel = "STUDY"
        identifier.StudyInstanceUID = query.study_uid or ""
        identifier.ClinicalTrialSubjectID = query.subject_id or ""
        identifier.ModalitiesInStudy = query.modality or ""
        identifier.StudyDate = query.date_range()
        identifier.ClinicalTrialTimePointID = query.timepoint or ""
        return [
            StudyRecord(
                study_uid=str(found.StudyInstanceUID),
                subject_id=str(found.get("ClinicalTrialSubjectID", "")),
                study_date=str(found.get("StudyDate", "")),
                modalities=_values(found.get("ModalitiesInStudy")),
                timepoint=str(found.get("ClinicalTrialTimePointID", "")),
            )
            for found in self._find(identifier)
            if found.get("StudyInstanceUID")
        ]

    def find_series(
        self, study_uid: str, modality: str | None = None
    ) -> list[SeriesRecord]:
        """C-FIND the series of one study (optionally of one modality)."""
        identifier = Dataset()
        identifier.QueryRetrieveLevel = "SERIES"
        identifier.StudyInstanceUID = study_uid
        identifier.SeriesInstanceUID = ""
        identifier.Modality = modality or ""
        identifier.SeriesDescription = ""
        identifier.SeriesNumber = None
        identifier.NumberOfSeriesRelatedInstances = None
        return [
            SeriesRecord(
                study_uid=study_uid,
                series_uid=str(found.SeriesInstanceUID),
                modality=str(found.get("Modality", "")),
                description=str(found.get("SeriesDescription", "")),
                number=_int_or_none(found.get("SeriesNumber")),
                instance_count=_int_or_none(
                    found.get("NumberOfSeriesRelatedInstances")
                ),
            )
            for found in self._find(identifier)
            if found.get("SeriesInstanceUID")
        ]

    def find_instances(self, series: SeriesRecord) -> list[InstanceRecord]:
        """C-FIND the images of one series: what a retrieval must bring."""
        identifier = Dataset()
        identifier.QueryRetrieveLevel = "IMAGE"
        identifier.StudyInstanceUID = series.study_uid
        identifier.SeriesInstanceUID = series.series_uid
        identifier.SOPInstanceUID = ""
        identifier.SOPClassUID = ""
        return [
            InstanceRecord(
                series.study_uid,
                series.series_uid,
                str(found.SOPInstanceUID),
                str(found.get("SOPClassUID", "")),
            )
            for found in self._find(identifier)
            if found.get("SOPInstanceUID")
        ]

    def _find(self, identifier: Dataset) -> list[Dataset]:
        model = StudyRootQueryRetrieveInformationModelFind
        found: list[Dataset] = []
        with self._association([build_context(model)]) as assoc:
            for status, answer in assoc.send_c_find(identifier, model):
                code = self._raise_for_status(status, "C-FIND")
                if code in PENDING and answer is not None:
                    found.append(answer)
        return found

    # ------------------------------------------------------------ retrieval
    def retrieve(
        self,
        wanted: Sequence[InstanceRecord],
        store: LocalStore,
        *,
        method: str = "auto",
    ) -> None:
        """Bring ``wanted`` (images of one series) into ``store``.

        ``method`` is ``"get"``, ``"move"`` or ``"auto"`` (C-GET, and C-MOVE when the
        archive does not offer C-GET and ``node.move_port`` is set). What arrived is
        counted by the caller from ``store``: a refused image is simply missing.
        """
        if not wanted:
            return
        if method != "move":
            try:
                self._get(wanted, store)
                return
            except _GetNotSupported:
                if method == "get" or self.node.move_port is None:
                    raise ArchiveRequestFailed(
                        f"{self.node}: the archive does not offer C-GET; give our AE "
                        "title's C-MOVE port (--move-port) to retrieve by C-MOVE"
                    ) from None
                logger.info("%s: no C-GET; falling back to C-MOVE", self.node)
        self._move(wanted, store)

    def _get(self, wanted: Sequence[InstanceRecord], store: LocalStore) -> None:
        sop_classes = sorted(
            {i.sop_class_uid for i in wanted if i.sop_class_uid}
        ) or list(FALLBACK_SOP_CLASSES)
        per_association = (MAX_CONTEXTS - 1) // len(STORED_TRANSFER_SYNTAXES)
        for start in range(0, len(sop_classes), per_association):
            chunk = sop_classes[start : start + per_association]
            self._get_classes(chunk, wanted, store)

    def _get_classes(
        self,
        sop_classes: Sequence[str],
        wanted: Sequence[InstanceRecord],
        store: LocalStore,
    ) -> None:
        model = StudyRootQueryRetrieveInformationModelGet
        contexts = [build_context(model)] + [
            build_context(sop_class, [syntax])
            for sop_class in sop_classes
            for syntax in STORED_TRANSFER_SYNTAXES
        ]
        roles = [build_role(sop_class, scp_role=True) for sop_class in sop_classes]
        handlers = [(evt.EVT_C_STORE, _store_handler(store))]
        with self._association(contexts, roles=roles, handlers=handlers) as assoc:
            if not any(cx.abstract_syntax == model for cx in assoc.accepted_contexts):
                raise _GetNotSupported
            for identifier in _retrieve_identifiers(wanted, store):
                for status, _ in assoc.send_c_get(identifier, model):
                    self._raise_for_retrieve_status(status, "C-GET")

    def _move(self, wanted: Sequence[InstanceRecord], store: LocalStore) -> None:
        if self.node.move_port is None:
            raise ArchiveRequestFailed(
                f"{self.node}: C-MOVE needs our port (--move-port)"
            )
        scp = AE(ae_title=self.node.our_ae_title)
        sop_classes = {i.sop_class_uid for i in wanted if i.sop_class_uid}
        for sop_class in sorted(sop_classes) or FALLBACK_SOP_CLASSES:
            scp.add_supported_context(sop_class, list(STORED_TRANSFER_SYNTAXES))
        try:
            server = scp.start_server(
                (self.node.move_bind, self.node.move_port),
                block=False,
                evt_handlers=[(evt.EVT_C_STORE, _store_handler(store))],
            )
        except OSError as error:
            raise ArchiveRequestFailed(
                f"cannot listen on port {self.node.move_port} for C-MOVE: {error}"
            ) from error
        assert server is not None  # block=False always returns the server
        try:
            model = StudyRootQueryRetrieveInformationModelMove
            with self._association([build_context(model)]) as assoc:
                for identifier in _retrieve_identifiers(wanted, store):
                    for status, _ in assoc.send_c_move(
                        identifier, self.node.our_ae_title, model
                    ):
                        self._raise_for_retrieve_status(status, "C-MOVE")
        finally:
            server.shutdown()

    # ------------------------------------------------------------ storage
    def store(self, dataset: Dataset) -> None:
        """C-STORE one dataset (e.g. an SR) in its own transfer syntax."""
        syntax = dataset.file_meta.TransferSyntaxUID
        context = build_context(dataset.SOPClassUID, [syntax])
        with self._association([context]) as assoc:
            if not assoc.accepted_contexts:
                raise ArchiveRequestFailed(
                    f"{self.node}: the archive does not store {dataset.SOPClassUID.name}"
                )
            status = assoc.send_c_store(dataset)
            self._raise_for_status(status, "C-STORE")
        logger.info("stored %s in %s", dataset.SOPInstanceUID, self.node)

    # ------------------------------------------------------------ plumbing
    @contextmanager
    def _association(
        self,
        contexts: list[PresentationContext],
        *,
        roles: Sequence[SCP_SCU_RoleSelectionNegotiation] = (),
        handlers: Sequence[tuple[evt.EventType, Callable[..., Any]]] = (),
    ) -> Iterator[Association]:
        self._probe()
        ae = AE(ae_title=self.node.our_ae_title)
        for attribute in ("acse_timeout", "dimse_timeout", "network_timeout"):
            setattr(ae, attribute, self.node.timeout_s)
        ae.connection_timeout = self.node.timeout_s
        rejections: list[str] = []

        def on_acse(event: Any) -> None:
            primitive = event.primitive
            if isinstance(primitive, A_ASSOCIATE) and primitive.result in (1, 2):
                rejections.append(f"{primitive.reason_str} ({primitive.source_str})")

        assoc = ae.associate(
            self.node.host,
            self.node.port,
            contexts=contexts,
            ae_title=self.node.ae_title,
            ext_neg=list(roles),
            evt_handlers=[(evt.EVT_ACSE_RECV, on_acse), *handlers],
        )
        if not assoc.is_established:
            raise self._association_failure(assoc, rejections)
        try:
            yield assoc
        finally:
            if assoc.is_established:
                assoc.release()

    def _association_failure(
        self, assoc: Association, rejections: list[str]
    ) -> Exception:
        if assoc.is_rejected:
            reason = rejections[0] if rejections else "no reason given"
            return AssociationRejected(
                f"{self.node}: the archive rejected the association: {reason}; check "
                f"its AE title ({self.node.ae_title}) and that it knows ours "
                f"({self.node.our_ae_title})"
            )
        return ArchiveTimeout(
            f"{self.node}: no DICOM association within {self.node.timeout_s:g} s (is "
            "this port a DICOM service, and does it accept what we proposed?)"
        )

    def _probe(self) -> None:
        """Open and close a TCP connection, to tell 'refused' from 'no answer'."""
        address = (self.node.host, self.node.port)
        try:
            socket.create_connection(address, timeout=self.node.timeout_s).close()
        except socket.gaierror as error:
            raise ArchiveUnreachable(
                f"{self.node}: unknown host {self.node.host!r} ({error.strerror})"
            ) from error
        except TimeoutError as error:
            raise ArchiveTimeout(
                f"{self.node}: no answer from {self.node.host} port {self.node.port} "
                f"within {self.node.timeout_s:g} s (firewall, or wrong host?)"
            ) from error
        except ConnectionRefusedError as error:
            raise ArchiveUnreachable(
                f"{self.node}: connection refused (nothing listens on {self.node.host} "
                f"port {self.node.port}: is the archive running, is the port right?)"
            ) from error
        except OSError as error:
            raise ArchiveUnreachable(f"{self.node}: cannot connect: {error}") from error

    def _raise_for_status(self, status: Dataset, operation: str) -> int:
        if "Status" not in status:
            raise ArchiveTimeout(
                f"{self.node}: {operation} got no answer within "
                f"{self.node.timeout_s:g} s (or the association was aborted)"
            )
        code = int(status.Status)
        if code == SUCCESS or code in PENDING or code & 0xF000 == WARNING:
            return code
        comment = status.get("ErrorComment", "")
        raise ArchiveRequestFailed(
            f"{self.node}: {operation} failed with status 0x{code:04X}"
            + (f" ({comment})" if comment else "")
        )

    def _raise_for_retrieve_status(self, status: Dataset, operation: str) -> None:
        # 0xA702 (some sub-operations failed) and 0xB000 leave missing images, which
        # the caller reports image by image; other failures stop the retrieval.
        if "Status" in status and int(status.Status) in (0xA702, 0xB000):
            return
        self._raise_for_status(status, operation)


class _GetNotSupported(Exception):
    """The archive accepted no C-GET presentation context."""


def _retrieve_identifiers(
    wanted: Sequence[InstanceRecord], store: LocalStore
) -> Iterator[Dataset]:
    """Yield one SERIES identifier when nothing is here yet, else one per missing image.

    Asking image by image on resumption avoids the transfer of what already arrived.
    """
    first = wanted[0]
    present = store.present(first.study_uid, first.series_uid)
    if not present:
        identifier = Dataset()
        identifier.QueryRetrieveLevel = "SERIES"
        identifier.StudyInstanceUID = first.study_uid
        identifier.SeriesInstanceUID = first.series_uid
        yield identifier
        return
    for image in wanted:
        if image.sop_uid in present:
            continue
        identifier = Dataset()
        identifier.QueryRetrieveLevel = "IMAGE"
        identifier.StudyInstanceUID = image.study_uid
        identifier.SeriesInstanceUID = image.series_uid
        identifier.SOPInstanceUID = image.sop_uid
        yield identifier


def _store_handler(store: LocalStore) -> StoreHandler:
    """Return an EVT_C_STORE handler writing each file, as received, into ``store``."""

    def handle(event: Any) -> int:
        request = event.request
        sop_uid = str(request.AffectedSOPInstanceUID)
        try:
            header = event.dataset  # decodes the elements only as far as they are read
            store.write(
                str(header.StudyInstanceUID),
                str(header.SeriesInstanceUID),
                sop_uid,
                event.encoded_dataset(include_meta=True),
            )
        except PullCancelled:  # the file is kept; nothing more is wanted
            logger.info("retrieval cancelled after %s: aborting", sop_uid)
            event.assoc.abort()
            return OUT_OF_RESOURCES
        except Exception:  # a C-STORE status, not a crash of the association
            logger.warning("could not store %s", sop_uid, exc_info=True)
            return OUT_OF_RESOURCES
        return SUCCESS

    return handle


def _values(element: object) -> tuple[str, ...]:
    if element is None or element == "":
        return ()
    if isinstance(element, str):
        return (element,)
    return tuple(str(value) for value in element)  # type: ignore[attr-defined]


def _int_or_none(value: object) -> int | None:
    try:
        return int(str(value)) if value not in (None, "") else None
    except ValueError:
        return None
