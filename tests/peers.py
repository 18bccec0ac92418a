"""Real peers for the tests: free loopback ports, and an Orthanc started on them.

Orthanc runs as a subprocess with a temporary JSON configuration (free HTTP and DICOM ports,
storage in a temporary folder, no authentication, the DICOMweb plugin); the system's Orthanc
service is never used. Where a peer cannot be found or started, the tests fail with the reason
under CI (``CI=true``) and are skipped with it elsewhere. ``DYNASPINE_TEST_ORTHANC`` names
another Orthanc executable.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

#: Where the Debian package ``orthanc-dicomweb`` installs the plugin (first found wins).
DICOMWEB_PLUGINS = (
    "/usr/share/orthanc/plugins/libOrthancDicomWeb.so",
    "/usr/lib/orthanc/libOrthancDicomWeb.so",
)


def unavailable(message: str) -> NoReturn:
    """Fail under CI, skip elsewhere, saying why a peer is not there."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def orthanc_unavailable(reason: str) -> NoReturn:
    """:func:`unavailable` for Orthanc, with the packages to install."""
    unavailable(f"Orthanc is not available: {reason} (apt-get install -y orthanc orthanc-dicomweb)")


def free_port() -> int:
    """A TCP port free on loopback now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Orthanc:
    """A running Orthanc: its DICOMweb URL, REST URL and DICOM address."""

    http_url: str
    dicomweb_url: str
    dicom_port: int
    aet: str
    process: subprocess.Popen[bytes]

    def get(self, path: str) -> Any:
        """GET a REST resource of Orthanc as JSON."""
        with urllib.request.urlopen(self.http_url + path, timeout=10) as response:
            return json.loads(response.read())


def _find_plugin() -> str | None:
    for path in DICOMWEB_PLUGINS:
        if Path(path).is_file():
            return path
    return None


@contextmanager
def running_orthanc(root: Path, *, name: str = "dynaspine-test") -> Iterator[Orthanc]:
    """Start Orthanc with the DICOMweb plugin on free loopback ports under ``root``; stop it after."""
    wanted = os.environ.get("DYNASPINE_TEST_ORTHANC")  # another Orthanc binary, if set
    binary = (
        (wanted if Path(wanted).is_file() else None)
        if wanted
        else shutil.which("Orthanc")
        or ("/usr/sbin/Orthanc" if Path("/usr/sbin/Orthanc").is_file() else None)
    )
    if binary is None:
        orthanc_unavailable(
            f"no Orthanc executable ({wanted or 'Orthanc on PATH or /usr/sbin/Orthanc'})"
        )
    plugin = _find_plugin()
    if plugin is None:
        orthanc_unavailable(f"the DICOMweb plugin is not in {', '.join(DICOMWEB_PLUGINS)}")
    http_port, dicom_port = free_port(), free_port()
    config = {
        "Name": name,
        "StorageDirectory": str(root / "storage"),
        "IndexDirectory": str(root / "storage"),
        "HttpPort": http_port,
        "DicomPort": dicom_port,
        "DicomAet": "ORTHANC",
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "DicomCheckCalledAet": False,
        # Orthanc 1.10 listens on every interface: only our AE title from loopback may
        # echo or store (HTTP refuses remote clients with RemoteAccessAllowed false).
        "DicomAlwaysAllowEcho": False,
        "DicomAlwaysAllowStore": False,
        "DicomCheckModalityHost": True,
        "DicomModalities": {"dynaspine": ["DYNASPINE", "127.0.0.1", 104]},
        "SaveJobs": False,
        "ConcurrentJobs": 1,
        "HttpThreadsCount": 4,
        "Plugins": [plugin],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": True},
    }
    config_path = root / "orthanc.json"
    config_path.write_text(json.dumps(config, indent=1), encoding="utf-8")
    log = (root / "orthanc.log").open("wb")
    process = subprocess.Popen(
        [str(binary), str(config_path)], stdout=log, stderr=subprocess.STDOUT, cwd=root
    )
    http_url = f"http://127.0.0.1:{http_port}"
    server = Orthanc(
        http_url=http_url,
        dicomweb_url=f"{http_url}/dicom-web",
        dicom_port=dicom_port,
        aet="ORTHANC",
        process=process,
    )
    deadline = time.monotonic() + 30
    try:
        while True:
            if process.poll() is not None:
                tail = (root / "orthanc.log").read_text(errors="replace")[-600:]
                orthanc_unavailable(
                    f"Orthanc exited with status {process.returncode} on start:\n{tail}"
                )
            try:
                plugins = server.get("/plugins")
                if "dicom-web" not in plugins:
                    orthanc_unavailable(f"the DICOMweb plugin did not load (plugins: {plugins})")
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if time.monotonic() > deadline:
                    orthanc_unavailable("Orthanc did not answer on its HTTP port within 30 s")
                time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
