"""Fixtures of the views tests: small DICOM files written with pydicom into tmp_path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from views_dicom import write_dx


@pytest.fixture
def dx() -> Callable[..., Path]:
    """The :func:`views_dicom.write_dx` writer."""
    return write_dx
