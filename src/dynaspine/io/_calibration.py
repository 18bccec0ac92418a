"""Pixel spacing at the patient: which DICOM attribute, or the user, says how big a pixel is.

Rules (DESIGN.md, after DICOM PS3.3 C.7.6.2.1.1 and C.8.11.7, "Pixel Spacing" and
"Imager Pixel Spacing"):

1. ``PixelSpacing`` (0028,0030), or the Pixel Measures functional group of an enhanced
   multi-frame object, is already calibrated at the patient: use it.
2. Else ``ImagerPixelSpacing`` (0018,1164) is at the detector plane; divided by
   ``EstimatedRadiographicMagnificationFactor`` (0018,1114) it estimates the spacing at the
   patient (PS3.3 C.8.11.7: spacing at the patient = imager spacing / magnification).
3. Else the user must give it (``--pixel-spacing``); 1 mm is never assumed.

A spacing the user gives overrides all of these, and the study says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dynaspine.errors import CalibrationError, InputError

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

    from dynaspine.io._study import CalibrationSource

PIXEL_SPACING_HINT = (
    "pass the spacing at the patient in mm, e.g. `--pixel-spacing 0.15` "
    "(or `--pixel-spacing ROW,COLUMN`), or `pixel_spacing_mm=` in Python"
)


@dataclass(frozen=True)
class Calibration:
    """A pixel spacing and where it came from.

    Parameters
    ----------
    spacing_mm
        ``(row, column)`` spacing at the patient in mm.
    source
        Which rule gave it (a :data:`~dynaspine.io.CalibrationSource`).
    note
        One sentence saying what was used, with the values, for results and reports.
    """

    spacing_mm: tuple[float, float]
    source: CalibrationSource
    note: str


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def _fmt_pair(pair: tuple[float, float]) -> str:
    if math.isclose(pair[0], pair[1], rel_tol=1e-9):
        return f"{_fmt(pair[0])} mm"
    return f"{_fmt(pair[0])} x {_fmt(pair[1])} mm (row x column)"


def parse_pixel_spacing(value: float | tuple[float, float] | str) -> tuple[float, float]:
    """Turn a user-given pixel spacing into ``(row, column)`` mm.

    Parameters
    ----------
    value
        One number (square pixels), a pair ``(row, column)``, or a string such as
        ``"0.15"``, ``"0.15,0.16"`` or ``"0.15\\0.16"`` (DICOM order: row, then column).

    Raises
    ------
    CalibrationError
        When it is not one or two positive finite numbers.
    """
    parts: list[float]
    try:
        if isinstance(value, str):
            text = value.replace("\\", ",").replace("x", ",").replace(" ", ",")
            parts = [float(p) for p in text.split(",") if p.strip()]
        elif isinstance(value, int | float):
            parts = [float(value)]
        else:
            parts = [float(v) for v in value]
    except (TypeError, ValueError) as exc:
        raise CalibrationError(
            f"pixel spacing {value!r} is not a number or a pair of numbers.",
            hint=PIXEL_SPACING_HINT,
        ) from exc
    if len(parts) == 1:
        parts = [parts[0], parts[0]]
    if len(parts) != 2 or not all(math.isfinite(p) and p > 0 for p in parts):
        raise CalibrationError(
            f"pixel spacing {value!r} must be one or two positive numbers in mm.",
            hint=PIXEL_SPACING_HINT,
        )
    return parts[0], parts[1]


def _pair(ds: Dataset, keyword: str, *, where: str) -> tuple[float, float] | None:
    raw = ds.get(keyword)
    if raw is None or raw == "":
        return None
    try:
        values = [float(v) for v in (raw if isinstance(raw, list | tuple) else list(raw))]
    except (TypeError, ValueError):
        try:
            values = [float(raw)]
        except (TypeError, ValueError) as exc:
            raise InputError(
                f"{where}: {keyword} is not numeric.",
                hint=f"fix the {keyword} attribute or pass --pixel-spacing",
            ) from exc
    if len(values) == 1:
        values = values * 2
    if len(values) != 2 or not all(math.isfinite(v) and v > 0 for v in values):
        raise InputError(
            f"{where}: {keyword} must hold two positive numbers, found {len(values)} value(s).",
            hint=f"fix the {keyword} attribute or pass --pixel-spacing",
        )
    return values[0], values[1]


def _functional_pixel_spacing(ds: Dataset, *, where: str) -> tuple[float, float] | None:
    """PixelSpacing from the shared (or first per-frame) Pixel Measures functional group."""
    for seq_name in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
        seq = ds.get(seq_name)
        if not seq:
            continue
        measures = seq[0].get("PixelMeasuresSequence")
        if measures:
            found = _pair(measures[0], "PixelSpacing", where=where)
            if found is not None:
                return found
    return None


def dicom_calibration(ds: Dataset, *, where: str) -> Calibration | None:
    """Apply the DESIGN.md calibration rules to one DICOM header.

    Parameters
    ----------
    ds
        The header (pixel data not needed).
    where
        The file, for messages.

    Returns
    -------
    Calibration or None
        ``None`` when neither rule applies (the caller decides whether that is an error).
    """
    spacing = _pair(ds, "PixelSpacing", where=where) or _functional_pixel_spacing(ds, where=where)
    if spacing is not None:
        return Calibration(
            spacing,
            "PixelSpacing",
            f"PixelSpacing {_fmt_pair(spacing)} (calibrated at the patient)",
        )
    imager = _pair(ds, "ImagerPixelSpacing", where=where)
    if imager is None:
        return None
    raw_mag = ds.get("EstimatedRadiographicMagnificationFactor")
    if raw_mag is None or raw_mag == "":
        return None
    try:
        mag = float(raw_mag)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"{where}: EstimatedRadiographicMagnificationFactor is not numeric.",
            hint="fix the attribute or pass --pixel-spacing",
        ) from exc
    if not (math.isfinite(mag) and mag > 0):
        raise InputError(
            f"{where}: EstimatedRadiographicMagnificationFactor {mag!r} must be positive.",
            hint="fix the attribute or pass --pixel-spacing",
        )
    spacing = (imager[0] / mag, imager[1] / mag)
    note = (
        f"ImagerPixelSpacing {_fmt_pair(imager)} / EstimatedRadiographicMagnificationFactor "
        f"{_fmt(mag)} = {_fmt_pair(spacing)} at the patient"
    )
    return Calibration(spacing, "ImagerPixelSpacing/EstimatedRadiographicMagnificationFactor", note)


def missing_calibration_error(ds: Dataset | None, *, where: str) -> CalibrationError:
    """The error for an input whose pixel spacing is unknown, with what the file does say."""
    hint = PIXEL_SPACING_HINT
    if ds is None:
        return CalibrationError(
            f"{where}: the pixel spacing is unknown (videos and image files carry none); "
            "dynaspine never assumes 1 mm.",
            hint=hint,
        )
    detail = "it has neither PixelSpacing nor ImagerPixelSpacing"
    try:
        imager = _pair(ds, "ImagerPixelSpacing", where=where)
    except InputError:
        imager = None
    if imager is not None:
        detail = (
            f"it has ImagerPixelSpacing {_fmt_pair(imager)}, which is at the detector, but no "
            "EstimatedRadiographicMagnificationFactor to scale it to the patient"
        )
        sid, sod = ds.get("DistanceSourceToDetector"), ds.get("DistanceSourceToPatient")
        try:
            if sid and sod and float(sod) > 0:
                mag = float(sid) / float(sod)
                hint += (
                    f"; DistanceSourceToDetector / DistanceSourceToPatient = {_fmt(mag)} suggests "
                    f"about {_fmt(imager[0] / mag)} mm"
                )
        except (TypeError, ValueError):
            pass
    return CalibrationError(
        f"{where}: the pixel spacing at the patient is unknown: {detail}; dynaspine never "
        "assumes 1 mm.",
        hint=hint,
    )


def user_calibration(spacing: tuple[float, float], *, found: Calibration | None) -> Calibration:
    """A user-given spacing, with a note saying what it overrides (if anything)."""
    note = f"user-given pixel spacing {_fmt_pair(spacing)}"
    if found is not None:
        note += f" overrides {found.note}"
    return Calibration(spacing, "user", note)
