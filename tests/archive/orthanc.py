"""A real Orthanc for the archive tests, in a network namespace of its own.

Debian's Orthanc 1.10 listens on every interface and has no bind-address option, so it is
started with ``unshare -n`` (a private network namespace whose only interface is the
loopback): nothing outside this machine, nor outside that namespace, can reach it. The
tests reach it by running their client code in a thread that has joined the namespace
(``setns`` changes the namespace of the calling thread only; threads it starts inherit
it), so the C-MOVE storage SCP of the code under test is reachable by Orthanc too.
"""

from __future__ import annotations

import base64
import ctypes
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

ORTHANC = shutil.which("Orthanc") or "/usr/sbin/Orthanc"
DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
CLONE_NEWNET = 0x40000000
ARCHIVE_AET = "ORTHANC"
OUR_AET = "MRECIST"
USER = "reader"
PASSWORD = "s3cret-Pw"
DICOM_PORT = 4242
HTTP_PORT = 8042
MOVE_PORT = 11113


def unavailable_reason() -> str | None:
    """Say why a namespaced Orthanc cannot run here (``None``: it can)."""
    if not os.path.isfile(ORTHANC):
        return "Orthanc is not installed (Debian package 'orthanc'; `make test` installs it)"
    if not DICOMWEB_PLUGIN.is_file():
        return f"the DICOMweb plugin is missing ({DICOMWEB_PLUGIN}, package orthanc-dicomweb)"
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "unshare (util-linux) or ip (iproute2) is missing"
    probe = subprocess.run(
        ["unshare", "-n", "true"], capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        return f"cannot create a network namespace: {probe.stderr.strip()}"
    return None


def config(storage: Path) -> dict[str, object]:
    """Return the Orthanc configuration of the tests (authentication on)."""
    return {
        "Name": "mrecist-test-archive",
        "StorageDirectory": str(storage),
        "IndexDirectory": str(storage),
        "Plugins": [str(DICOMWEB_PLUGIN)],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "Host": "127.0.0.1"},
        "HttpPort": HTTP_PORT,
        "DicomPort": DICOM_PORT,
        "DicomAet": ARCHIVE_AET,
        "DicomCheckCalledAet": True,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": True,
        "RegisteredUsers": {USER: PASSWORD},
        "DicomModalities": {"mrecist": [OUR_AET, "127.0.0.1", MOVE_PORT]},
        "StorageAccessOnFind": "Always",
        "SaveJobs": False,
        "MaximumStorageCacheSize": 0,  # a file removed from storage is really gone
        "ConcurrentJobs": 1,
        "HttpThreadsCount": 8,
        "DicomScuTimeout": 5,
    }


@dataclass
class Orthanc:
    """A running Orthanc and the namespace to reach it from."""

    process: subprocess.Popen[bytes]
    log: Path
    storage: Path

    @property
    def dicomweb_url(self) -> str:
        return f"http://127.0.0.1:{HTTP_PORT}/dicom-web"

    def in_namespace(self, function: Callable[[], T]) -> T:
        """Run ``function`` in a thread inside Orthanc's network namespace."""
        outcome: dict[str, object] = {}

        def target() -> None:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open(f"/proc/{self.process.pid}/ns/net", os.O_RDONLY)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns failed")
            finally:
                os.close(fd)
            try:
                outcome["value"] = function()
            except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread
                outcome["error"] = error

        thread = threading.Thread(target=target, name="in-orthanc-netns")
        thread.start()
        thread.join()
        if "error" in outcome:
            raise outcome["error"]  # type: ignore[misc]
        return outcome["value"]  # type: ignore[return-value]

    def rest(self, method: str, path: str, body: bytes | None = None) -> object:
        """Call Orthanc's REST API (from inside the namespace) and decode its JSON."""

        def call() -> object:
            request = urllib.request.Request(
                f"http://127.0.0.1:{HTTP_PORT}{path}", data=body, method=method
            )
            token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
            with urllib.request.urlopen(request, timeout=10) as response:
                data = response.read()
            return json.loads(data) if data else None

        return self.in_namespace(call)

    def upload(self, files: list[Path]) -> None:
        """Store files through the REST API (one POST per file, as Orthanc wants)."""
        for path in files:
            self.rest("POST", "/instances", path.read_bytes())

    @contextmanager
    def stored_file_lost(self, sop_uid: str) -> Iterator[None]:
        """Hide one instance's file from Orthanc (its index still lists it), then restore.

        Restored because Orthanc reads the files to answer searches: one lost file makes
        every search that reaches its study fail with HTTP 500 (or a C-FIND failure).
        """
        found = self.rest(
            "POST",
            "/tools/find",
            json.dumps(
                {"Level": "Instance", "Query": {"SOPInstanceUID": sop_uid}}
            ).encode(),
        )
        assert isinstance(found, list)
        (instance,) = found
        info = self.rest("GET", f"/instances/{instance}/attachments/dicom/info")
        assert isinstance(info, dict)
        uuid = str(info["Uuid"])
        path = self.storage / uuid[:2] / uuid[2:4] / uuid
        hidden = path.with_name(f"{uuid}.lost")
        path.rename(hidden)
        try:
            yield
        finally:
            hidden.rename(path)

    def wait_ready(self, timeout_s: float = 20.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Orthanc exited: {self.log.read_text()[-2000:]}")
            try:
                self.rest("GET", "/system")
                return
            except (OSError, urllib.error.URLError):
                time.sleep(0.1)
        raise RuntimeError(f"Orthanc did not answer: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        self.process.terminate()
        try:  # its storage is thrown away: no need to wait for a tidy shutdown
            self.process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start(workdir: Path) -> Iterator[Orthanc]:
    """Start Orthanc configured from a file in ``workdir``; stop it afterwards."""
    storage = workdir / "storage"
    storage.mkdir(parents=True)
    config_path = workdir / "orthanc.json"
    config_path.write_text(json.dumps(config(storage), indent=2))
    log = workdir / "orthanc.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [
                "unshare",
                "-n",
                "sh",
                "-c",
                'ip link set lo up && exec "$0" "$1"',
                ORTHANC,
                str(config_path),
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    orthanc = Orthanc(process, log, storage)
    try:
        orthanc.wait_ready()
        yield orthanc
    finally:
        orthanc.stop()


def free_port() -> int:
    """Return a TCP port nobody listens on at 127.0.0.1 (for the failure tests)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
