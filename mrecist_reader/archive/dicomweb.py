"""A DICOMweb archive client: QIDO-RS searches and WADO-RS retrievals (dicomweb-client).

Instances are asked for in the transfer syntax the archive stores them in
(``application/dicom; transfer-syntax=*``) and streamed, one part at a time, into the
local store. TLS certificates are always verified.
"""

import io
import logging
import queue
import struct
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import requests
from dicomweb_client.api import DICOMwebClient
from pydicom import dcmread, dcmwrite
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ImplicitVRLittleEndian,
)

from mrecist_reader.archive.errors import (
    ArchiveNotFound,
    ArchiveRequestFailed,
    ArchiveTimeout,
    ArchiveUnreachable,
    AuthenticationFailed,
)
from mrecist_reader.archive.multipart import boundary_of, split_parts
from mrecist_reader.archive.nodes import DicomwebNode
from mrecist_reader.archive.records import (
    InstanceRecord,
    SeriesRecord,
    StudyQuery,
    StudyRecord,
)
from mrecist_reader.archive.store import LocalStore, check_uid

logger = logging.getLogger(__name__)

AS_STORED = (("application/dicom", "*"),)
SERIES_ACCEPT = 'multipart/related; type="application/dicom"; transfer-syntax=*'
CHUNK_BYTES = 1 << 20
PARTS_AHEAD = 16
LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"UC", b"UN", b"UR", b"UT"}
SEQUENCE_DELIMITER = b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"  # (FFFE,E0DD), length 0
STUDY_FIELDS = ["00120040", "00080020", "00080061", "00120050"]  # + timepoint ID
SERIES_FIELDS = ["0008103E", "00200011", "00201209"]  # description, number, count
INSTANCE_FIELDS = ["00080016"]  # SOP Class UID


def session_for(node: DicomwebNode) -> requests.Session:
    """Return an HTTP session with the node's authentication and TLS verification."""
    session = requests.Session()
    session.verify = node.ca_bundle or True
    if node.username is not None and node.password is not None:
        session.auth = (node.username, node.password)
    if node.token is not None:
        session.headers["Authorization"] = f"Bearer {node.token}"
    return session


class DicomwebArchive:
    """Query and retrieve from one DICOMweb service; failures are ``ArchiveError``s."""

    def __init__(self, node: DicomwebNode) -> None:
        self.node = node
        self.session = session_for(node)
        self.client = DICOMwebClient(
            node.url,
            session=self.session,
            timeout=(node.connect_timeout_s, node.read_timeout_s),
        )
        # dicomweb-client's default is 5 attempts 2, 4, 8 and 16 s apart, also after
        # "connection refused": half a minute before "test connection" could answer.
        self.client.set_http_retry_params(
            retry=node.attempts > 1,
            max_attempts=max(node.attempts, 1),
            wait_exponential_multiplier=250,
        )

    def __str__(self) -> str:
        return f"DICOMweb {self.node}"

    def check(self) -> str:
        """Run a one-study QIDO-RS search and describe the success."""
        with self._translated("QIDO-RS search"):
            self.client.search_for_studies(limit=1)
        return f"{self.node}: QIDO-RS answered"

    def find_studies(self, query: StudyQuery) -> list[StudyRecord]:
        """QIDO-RS studies by ClinicalTrialSubjectID, study UID and modality."""
        filters: dict[str, Any] = {}
        if query.subject_id:
            filters["ClinicalTrialSubjectID"] = query.subject_id
        if query.study_uid:
            filters["StudyInstanceUID"] = query.study_uid
        if query.modality:
            filters["ModalitiesInStudy"] = query.modality
        if query.date_range():
            filters["StudyDate"] = query.date_range()
        if query.timepoint:
            filters["ClinicalTrialTimePointID"] = query.timepoint
        with self._translated("QIDO-RS study search"):
            found = self.client.search_for_studies(
                search_filters=filters, fields=STUDY_FIELDS
            )
        return [
            StudyRecord(
                study_uid=uid,
                subject_id=_first(item, "00120040"),
                study_date=_first(item, "00080020"),
                modalities=tuple(str(v) for v in _all(item, "00080061")),
                timepoint=_first(item, "00120050"),
            )
            for item in found
            if (uid := _first(item, "0020000D"))
        ]

    def find_series(
        self, study_uid: str, modality: str | None = None
    ) -> list[SeriesRecord]:
        """QIDO-RS the series of one study (optionally of one modality)."""
        filters = {"Modality": modality} if modality else {}
        with self._translated(f"QIDO-RS series search of study {study_uid}"):
            found = self.client.search_for_series(
                study_uid, search_filters=filters, fields=SERIES_FIELDS
            )
        return [
            SeriesRecord(
                study_uid=study_uid,
                series_uid=uid,
                modality=_first(item, "00080060"),
                description=_first(item, "0008103E"),
                number=_int_or_none(_first(item, "00200011")),
                instance_count=_int_or_none(_first(item, "00201209")),
            )
            for item in found
            if (uid := _first(item, "0020000E"))
        ]

    def find_instances(self, series: SeriesRecord) -> list[InstanceRecord]:
        """QIDO-RS the images of one series: what a retrieval must bring."""
        with self._translated(f"QIDO-RS instance search of series {series.series_uid}"):
            found = self.client.search_for_instances(
                series.study_uid, series.series_uid, fields=INSTANCE_FIELDS
            )
        return [
            InstanceRecord(
                series.study_uid, series.series_uid, uid, _first(item, "00080016")
            )
            for item in found
            if (uid := _first(item, "00080018"))
        ]

    def retrieve(
        self,
        wanted: Sequence[InstanceRecord],
        store: LocalStore,
        *,
        method: str = "auto",
    ) -> None:
        """Bring ``wanted`` (images of one series) into ``store`` by WADO-RS.

        With nothing of the series here, the whole series is streamed; on resumption,
        only the missing instances are asked for. ``method`` is unused (DIMSE only).
        """
        if not wanted:
            return
        first = wanted[0]
        present = store.present(first.study_uid, first.series_uid)
        with self._translated(f"WADO-RS retrieval of series {first.series_uid}"):
            if not present:
                self._stream_series(first.study_uid, first.series_uid, store)
                return
            for image in wanted:
                if image.sop_uid not in present:
                    _write(store, self._instance(image))

    def _stream_series(self, study_uid: str, series_uid: str, store: LocalStore) -> int:
        """WADO-RS a whole series, each part written as it arrives; return the count.

        The parts' bytes are the archive's files as stored (``transfer-syntax=*``),
        written without being decoded (:mod:`~mrecist_reader.archive.multipart`).
        """
        url = (
            f"{self.node.url.rstrip('/')}/studies/{check_uid(study_uid, 'a study UID')}"
            f"/series/{check_uid(series_uid, 'a series UID')}"
        )
        with self.session.get(
            url,
            headers={"Accept": SERIES_ACCEPT},
            stream=True,
            timeout=(self.node.connect_timeout_s, self.node.read_timeout_s),
        ) as response:
            response.raise_for_status()
            boundary = boundary_of(response.headers.get("Content-Type", ""))
            chunks = response.iter_content(CHUNK_BYTES)
            parts = split_parts(boundary, chunks, is_whole_file)
            count = _write_behind(
                parts,
                lambda part: store.write(study_uid, series_uid, _sop_uid(part), part),
            )
        return count

    def store(self, dataset: Dataset) -> None:
        """STOW-RS one dataset (e.g. an SR); a refusal is an ``ArchiveError``."""
        with self._translated(f"STOW-RS of {dataset.SOPInstanceUID}"):
            answer = self.client.store_instances([dataset])
        failed = answer.get("FailedSOPSequence")
        if failed:
            reason = failed[0].get("FailureReason", "?")
            raise ArchiveRequestFailed(
                f"{self.node}: STOW-RS refused {dataset.SOPInstanceUID} (reason {reason})"
            )
        logger.info("stored %s in %s", dataset.SOPInstanceUID, self.node)

    def _instance(self, image: InstanceRecord) -> Dataset:
        dataset: Dataset = self.client.retrieve_instance(
            image.study_uid, image.series_uid, image.sop_uid, media_types=AS_STORED
        )
        return dataset

    @contextmanager
    def _translated(self, what: str) -> Iterator[None]:
        """Turn the ``requests`` exceptions of ``what`` into ``ArchiveError``s."""
        try:
            yield
        except requests.exceptions.SSLError as error:
            raise ArchiveUnreachable(
                f"{self.node}: TLS certificate verification failed ({_reason(error)}); "
                "give the archive's CA certificate, never turn verification off"
            ) from error
        except requests.exceptions.Timeout as error:
            raise ArchiveTimeout(
                f"{self.node}: {what}: no answer within the time allowed "
                f"({self.node.connect_timeout_s:g} s to connect, "
                f"{self.node.read_timeout_s:g} s to answer)"
            ) from error
        except requests.exceptions.ConnectionError as error:
            raise ArchiveUnreachable(
                f"{self.node}: {what}: cannot connect ({_reason(error)}: is the archive "
                "running, and are the host and port right?)"
            ) from error
        except requests.exceptions.HTTPError as error:
            raise _http_failure(self.node, what, error) from error


def _http_failure(
    node: DicomwebNode, what: str, error: requests.exceptions.HTTPError
) -> Exception:
    status = error.response.status_code if error.response is not None else 0
    if status in (401, 403):
        given = "the token" if node.token else "the user name and password"
        return AuthenticationFailed(
            f"{node}: {what}: HTTP {status}, the archive refused {given}"
            if node.token or node.username
            else f"{node}: {what}: HTTP {status}, the archive needs authentication"
            " (user name and password, or a token)"
        )
    if status == 404:
        return ArchiveNotFound(
            f"{node}: {what}: HTTP 404, not found (is the base URL right, e.g. "
            "https://host/dicom-web, and does the UID exist?)"
        )
    return ArchiveRequestFailed(f"{node}: {what}: HTTP {status}")


def _write(store: LocalStore, dataset: Dataset) -> None:
    buffer = io.BytesIO()
    dcmwrite(buffer, dataset, enforce_file_format=True)
    store.write(
        str(dataset.StudyInstanceUID),
        str(dataset.SeriesInstanceUID),
        str(dataset.SOPInstanceUID),
        buffer.getvalue(),
    )


def _write_behind(parts: Iterator[bytes], write: Callable[[bytes], object]) -> int:
    """Write each part in a thread of its own while the next ones arrive; the count.

    Receiving and writing overlap (both release the GIL); at most
    :data:`PARTS_AHEAD` parts wait. A stream cut short keeps what arrived; an error
    while writing is raised here once the receiving has stopped.
    """
    waiting: queue.Queue[bytes | None] = queue.Queue(maxsize=PARTS_AHEAD)
    failure: list[BaseException] = []
    written = 0

    def writer() -> None:
        nonlocal written
        while (part := waiting.get()) is not None:
            if failure:
                continue  # drain: the receiver stops at its next part
            try:
                write(part)
                written += 1
            except BaseException as error:  # noqa: BLE001 - raised in the receiver
                failure.append(error)

    thread = threading.Thread(target=writer, name="wado-rs-writer", daemon=True)
    thread.start()
    try:
        for part in parts:
            if failure:
                break
            waiting.put(part)
    except requests.exceptions.ChunkedEncodingError as error:
        # cut short: what arrived is kept; the pull names what did not
        logger.warning("WADO-RS stream cut short: %s", error)
    finally:
        waiting.put(None)
        thread.join()
    if failure:
        raise failure[0]
    return written


_SOP_INSTANCE_UID = 0x00080018
_NOT_WALKED = frozenset({ExplicitVRBigEndian, DeflatedExplicitVRLittleEndian})
"""Syntaxes whose dataset is not plain little endian: left to pydicom."""


def dataset_sop_uid(data: bytes) -> str:
    """Return the dataset's SOP Instance UID (0008,0018) from a Part 10 file's bytes.

    The dataset's, not the file meta's MediaStorageSOPInstanceUID: the two differ in
    files pseudonymised without their meta (a real GE CT in ``../shared`` keeps its
    scanner's UIDs in the meta, ten images sharing them), and the archive announces
    (QIDO) and indexes the dataset's. Read without pydicom, walking the elements before
    (0008,0018); empty when the bytes are not plain enough for that (no preamble, a
    deflated or big-endian syntax, a sequence of undefined length first): the caller
    asks pydicom then.
    """
    found = _meta_end_and_syntax(data)
    if found is None:
        return ""
    position, syntax = found
    if syntax in _NOT_WALKED:
        return ""
    implicit = syntax == ImplicitVRLittleEndian
    while position + 8 <= len(data):
        group, element = struct.unpack_from("<HH", data, position)
        tag = group << 16 | element
        if tag > _SOP_INSTANCE_UID:
            return ""
        length, value = _length_and_value(data, position, implicit=implicit)
        if length == 0xFFFFFFFF:
            return ""
        if tag == _SOP_INSTANCE_UID:
            return _uid_text(data[value : value + length])
        position = value + length
    return ""


def _meta_end_and_syntax(data: bytes) -> tuple[int, str] | None:
    """Return where the dataset starts and its transfer syntax, or None (no meta)."""
    if data[128:132] != b"DICM":
        return None
    position, syntax = 132, ""
    while position + 8 <= len(data):
        group, element = struct.unpack_from("<HH", data, position)
        if group != 2:
            return (position, syntax) if syntax else None
        length, value = _length_and_value(data, position, implicit=False)
        if element == 0x10:
            syntax = _uid_text(data[value : value + length])
        position = value + length
    return None


def _length_and_value(data: bytes, position: int, *, implicit: bool) -> tuple[int, int]:
    """Return the value length and offset of the little-endian element at ``position``."""
    if implicit:
        return struct.unpack_from("<I", data, position + 4)[0], position + 8
    if data[position + 4 : position + 6] in LONG_VRS:
        return struct.unpack_from("<I", data, position + 8)[0], position + 12
    return struct.unpack_from("<H", data, position + 6)[0], position + 8


def _uid_text(raw: bytes) -> str:
    return raw.rstrip(b"\0 ").decode("ascii", errors="replace")


def is_whole_file(data: bytes) -> bool:
    """Return whether ``data`` is a whole DICOM file (not cut within its pixel data).

    For the last part of a stream that ended without its closing delimiter.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "End of file reached before delimiter"
        try:
            dataset = dcmread(io.BytesIO(data))
        except Exception:  # noqa: BLE001 - whatever pydicom finds wrong: not whole
            return False
    if "PixelData" not in dataset:
        return "SOPInstanceUID" in dataset
    if dataset.file_meta.TransferSyntaxUID.is_encapsulated:
        return data.endswith(SEQUENCE_DELIMITER)  # the fragments' end, last in the file
    bits = int(dataset.get("BitsAllocated", 8))
    expected = (
        int(dataset.Rows)
        * int(dataset.Columns)
        * int(dataset.get("SamplesPerPixel", 1))
        * int(dataset.get("NumberOfFrames", 1) or 1)
        * bits
        + 7
    ) // 8
    return len(dataset.PixelData) >= expected


def _sop_uid(part: bytes) -> str:
    """Return the SOP Instance UID of a DICOM file's bytes (its header only is read)."""
    uid = dataset_sop_uid(part)
    if uid:
        return uid
    try:
        header = dcmread(
            io.BytesIO(part), stop_before_pixels=True, specific_tags=["SOPInstanceUID"]
        )
        uid = header.get("SOPInstanceUID")
    except (InvalidDicomError, ValueError, EOFError) as error:
        raise ArchiveRequestFailed(
            f"WADO-RS sent a part that is not DICOM: {error}"
        ) from error
    if not uid:
        raise ArchiveRequestFailed("WADO-RS sent an image without SOP Instance UID")
    return str(uid)


def _reason(error: Exception) -> str:
    text = str(error.args[0]) if error.args else str(error)
    for known in (
        "Connection refused",
        "Name or service not known",
        "certificate verify failed",
    ):
        if known in text:
            return known
    return text[:200]


def _all(item: dict[str, Any], tag: str) -> list[object]:
    values = item.get(tag, {}).get("Value", [])
    return list(values) if isinstance(values, list) else []


def _first(item: dict[str, Any], tag: str) -> str:
    values = _all(item, tag)
    return str(values[0]) if values else ""


def _int_or_none(text: str) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None
