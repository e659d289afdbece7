"""A DICOMweb archive client: QIDO-RS searches and WADO-RS retrievals (dicomweb-client).

Instances are asked for in the transfer syntax the archive stores them in
(``application/dicom; transfer-syntax=*``) and streamed, one part at a time, into the
local store. TLS certificates are always verified.
"""

import io
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import requests
from dicomweb_client.api import DICOMwebClient
from pydicom import dcmwrite
from pydicom.dataset import Dataset

from mrecist_reader.archive.errors import (
    ArchiveNotFound,
    ArchiveRequestFailed,
    ArchiveTimeout,
    ArchiveUnreachable,
    AuthenticationFailed,
)
from mrecist_reader.archive.nodes import DicomwebNode
from mrecist_reader.archive.records import (
    InstanceRecord,
    SeriesRecord,
    StudyQuery,
    StudyRecord,
)
from mrecist_reader.archive.store import LocalStore

logger = logging.getLogger(__name__)

AS_STORED = (("application/dicom", "*"),)
STUDY_FIELDS = ["00120040", "00080020", "00080061"]  # subject ID, date, modalities
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
        self.client = DICOMwebClient(
            node.url,
            session=session_for(node),
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
                for dataset in self.client.iter_series(
                    first.study_uid, first.series_uid, media_types=AS_STORED
                ):
                    _write(store, dataset)
                return
            for image in wanted:
                if image.sop_uid not in present:
                    _write(store, self._instance(image))

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
