"""RESULT.json: assembling it from kinematics, and reading it back with a version check.

The layout is a contract (DESIGN.md, ``docs/analysis.md``, ``docs/schemas/result.schema.json``);
other tools read it. Values that could not be measured are ``null``, never a guess.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from dynaspine.errors import InputError
from dynaspine.motion._kinematics import Kinematics

RESULT_SCHEMA = "dynaspine.result/1"
"""Schema version written into every RESULT.json (``"schema"`` field)."""

CALIBRATION_STATEMENTS: dict[str, str] = {
    "PixelSpacing": "PixelSpacing (0028,0030): spacing calibrated at the patient by the modality.",
    "ImagerPixelSpacing/EstimatedRadiographicMagnificationFactor": (
        "ImagerPixelSpacing (0018,1164) divided by EstimatedRadiographicMagnificationFactor "
        "(0018,1114): detector spacing corrected to the patient by the stated magnification."
    ),
    "ImagerPixelSpacing": (
        "ImagerPixelSpacing (0018,1164) at the detector, not corrected for magnification: "
        "distances in mm are overstated by the geometric magnification."
    ),
    "user": "Pixel spacing given by the user (--pixel-spacing); not read from the images.",
    "phantom": "Exact pixel spacing of a synthetic phantom.",
}

_PER_FRAME_DIGITS = 6


def _num(x: Any, digits: int = _PER_FRAME_DIGITS) -> float | None:
    if x is None:
        return None
    v = float(x)
    return round(v, digits) if math.isfinite(v) else None


def _series(a: npt.ArrayLike, digits: int = _PER_FRAME_DIGITS) -> list[float | None]:
    return [_num(v, digits) for v in np.asarray(a, dtype=np.float64).ravel()]


def _clean(value: Any) -> Any:
    """Recursively turn numpy scalars into Python and NaN/inf into ``None``."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return _num(value)
    return value


def build_result(
    kin: Kinematics,
    *,
    corners: Mapping[str, npt.ArrayLike],
    calibration_source: str,
    calibration_note: str | None = None,
    quality: Mapping[str, npt.ArrayLike] | None = None,
    frame_times_s: npt.ArrayLike | None = None,
    input_description: Mapping[str, Any] | None = None,
    landmarks: Mapping[str, Any] | None = None,
    notes: Sequence[str] = (),
    positions: Sequence[str | None] | None = None,
) -> dict[str, Any]:
    """Assemble the RESULT.json document from measured kinematics.

    Parameters
    ----------
    kin
        Output of :func:`dynaspine.motion.kinematics`.
    corners
        The tracked corners per vertebra ``(n, 4, 2)`` (NaN where not found).
    calibration_source
        Where the pixel spacing came from (``Study.calibration_source``).
    calibration_note
        What the reader said about the calibration (e.g. which value a user spacing overrode).
    quality
        Per-vertebra per-frame tracking quality in [0, 1] (NaN where not found).
    frame_times_s
        Time of each frame in seconds, or ``None``.
    input_description
        Non-identifying facts on the input (source description, modality, image size).
    landmarks
        The MARKS.json document the tracking started from.
    notes
        Extra plain-language notes (tracking remarks).
    positions
        Per-frame position of static films (``"neutral"``, ``"flexion"``, ...), if known.

    Returns
    -------
    dict
        A document valid against ``docs/schemas/result.schema.json``.
    """
    from dynaspine import __version__

    n = kin.n_frames
    vertebrae: dict[str, Any] = {}
    for name in kin.names:
        arr = np.asarray(corners[name], dtype=np.float64)
        found = np.isfinite(arr).all(axis=(1, 2))
        entry: dict[str, Any] = {
            "corners_px": [
                [[_num(x, 4), _num(y, 4)] for x, y in arr[i]] if found[i] else None
                for i in range(n)
            ],
            "found": [bool(f) for f in found],
        }
        if quality is not None and name in quality:
            q = np.asarray(quality[name], dtype=np.float64)
            entry["quality"] = [_num(q[i], 4) if found[i] else None for i in range(n)]
        vertebrae[name] = entry

    levels: dict[str, Any] = {}
    for name, lk in kin.levels.items():
        doc: dict[str, Any] = {"upper": lk.upper, "lower": lk.lower}
        for key, arr in lk.series.items():
            doc[key] = _series(arr)
        doc["icr_px"] = [
            None if c.centre_px is None else [_num(c.centre_px[0], 3), _num(c.centre_px[1], 3)]
            for c in lk.icr
        ]
        doc["icr_reason"] = [c.reason for c in lk.icr]
        doc.update(_clean(lk.summary))
        doc["icr"] = {
            **{k: (None if v is None else _clean(v.to_json())) for k, v in lk.icr_summary.items()},
            "windows": [_clean(c.to_json()) for c in lk.icr_windows],
        }
        doc["checks"] = _clean(lk.checks)
        doc["flags"] = _clean(lk.flags)
        doc["normal_ranges"] = _clean(lk.normal_ranges)
        levels[name] = doc

    gm = kin.global_motion
    times = None if frame_times_s is None else _series(frame_times_s, 6)
    return {
        "schema": RESULT_SCHEMA,
        "software": {"name": "dynaspine", "version": __version__},
        "created_utc": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "input": _clean(dict(input_description or {})),
        "view": kin.view,
        "frames": n,
        "frame_times_s": times,
        "reference_frame": kin.reference_frame,
        "positions": None if positions is None else list(positions),
        "pixel_spacing_mm": [kin.pixel_spacing_mm[0], kin.pixel_spacing_mm[1]],
        "calibration": {
            "source": calibration_source,
            "statement": CALIBRATION_STATEMENTS.get(calibration_source, calibration_source),
            "note": calibration_note,
        },
        "sign_conventions": _sign_conventions(kin.view),
        "landmarks": _clean(dict(landmarks)) if landmarks is not None else None,
        "vertebrae": vertebrae,
        "levels": levels,
        "global": {
            "cranial": gm["cranial"],
            "caudal": gm["caudal"],
            "angle_deg": _series(gm["angle_deg"]),
            "ivr_deg": _series(gm["ivr_deg"]),
            "rom_deg": _num(gm["rom_deg"]),
        },
        "motion_sharing": _clean(kin.motion_sharing),
        "criteria": kin.criteria.describe(),
        "notes": [*kin.notes, *notes],
    }


def _sign_conventions(view: str) -> dict[str, str]:
    if view == "lateral":
        return {
            "angle_deg": "intervertebral angle, positive when the disc opens anteriorly (lordosis)",
            "ivr_deg": "angle(reference) - angle(frame): flexion positive",
            "ivt_mm": "UPPER relative to LOWER along the disc midplane, anterior positive",
        }
    return {
        "angle_deg": "segmental lateral bending angle, positive when the disc opens on the patient's right",
        "ivr_deg": "angle(frame) - angle(reference): left bending positive",
        "ivt_mm": "UPPER relative to LOWER along the disc midplane, towards the patient's right positive",
    }


def load_result(path: str | Path) -> dict[str, Any]:
    """Read a RESULT.json back, refusing files of another schema version.

    Parameters
    ----------
    path
        The RESULT.json file.

    Returns
    -------
    dict
        The document.

    Raises
    ------
    InputError
        The file cannot be read, is not JSON, or its ``"schema"`` is not
        ``"dynaspine.result/1"`` (with the version found and how to fix it).
    """
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read result file {p}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{p}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    return check_result(doc, source=str(p))


def check_result(doc: Any, *, source: str = "result") -> dict[str, Any]:
    """Check that ``doc`` is a RESULT.json document of the supported schema version."""
    if not isinstance(doc, dict):
        raise InputError(f"{source}: expected a JSON object (a dynaspine RESULT.json)")
    version = doc.get("schema")
    if version != RESULT_SCHEMA:
        found = "no 'schema' field" if version is None else f"schema {version!r}"
        raise InputError(
            f"{source}: {found}; this dynaspine reads {RESULT_SCHEMA!r} only",
            hint="re-run `dynaspine analyze` with this version of dynaspine to regenerate the result",
        )
    missing = [k for k in ("frames", "pixel_spacing_mm", "vertebrae", "levels") if k not in doc]
    if missing:
        raise InputError(f"{source}: missing required field(s) {', '.join(missing)}")
    return doc
