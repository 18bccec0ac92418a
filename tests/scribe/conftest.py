"""Fixtures of the scribe tests: the spaCy pipeline is built once per session."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

pytest.importorskip("medspacy", reason="the scribe needs the [scribe] extra (medspaCy)")


@pytest.fixture(scope="session")
def read_note() -> Callable[..., object]:
    from dynaspine.scribe import read_note as _read
    from dynaspine.scribe._pipeline import get_pipeline

    get_pipeline()
    return _read


@pytest.fixture(scope="session")
def speak(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Synthesise English speech to a WAV file with espeak-ng (skip when it is absent)."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng; CI installs it)")
    folder = tmp_path_factory.mktemp("speech")

    def _speak(text: str, name: str = "dictation.wav") -> Path:
        out = folder / name
        subprocess.run(
            [exe, "-v", "en-us", "-s", "130", "-g", "4", "-w", str(out), text], check=True
        )
        return out

    return _speak


INSTABLE_NOTE = """INDICATION: Chronic low back pain, evaluate for instability.
TECHNIQUE: Lumbar spine, two views: flexion and extension.
FINDINGS: Grade 1 anterolisthesis of L4 on L5 measuring 3 mm in extension and 8 mm in flexion.
IMPRESSION: Grade 1 degenerative spondylolisthesis at L4-5 with dynamic instability.
Ordering provider: Dr. A
Electronically signed by: Dr. B
"""


@pytest.fixture(scope="session")
def instable_note() -> str:
    """A complete 72120 note documenting lumbar instability and spondylolisthesis."""
    return INSTABLE_NOTE
