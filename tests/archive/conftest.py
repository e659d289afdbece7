"""A real Orthanc for the session, loaded with sample_dicom/, in its own namespace."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.archive import orthanc as orthanc_module
from tests.archive.orthanc import Orthanc
from tests.conftest import SAMPLE_DICOM


@pytest.fixture(scope="session")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Orthanc]:
    """Start Orthanc, upload every file of sample_dicom/, stop it after the session."""
    reason = orthanc_module.unavailable_reason()
    if reason is not None:
        pytest.skip(f"archive tests need a real Orthanc: {reason}")
    server = orthanc_module.start(tmp_path_factory.mktemp("orthanc"))
    running = next(server)
    running.upload(sorted(SAMPLE_DICOM.rglob("*.dcm")))
    yield running
    for _ in server:  # runs start()'s clean-up: Orthanc is stopped
        pass


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    return tmp_path / "pulled"
