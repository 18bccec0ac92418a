"""From a study and reference landmarks to the RESULT.json document."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from dynaspine.errors import CalibrationError, InputError
from dynaspine.motion._kinematics import View, kinematics
from dynaspine.motion._result import build_result

if TYPE_CHECKING:
    from dynaspine.io import Study
    from dynaspine.landmarks import Landmarks

_DESCRIPTIVE_METADATA = (
    "modality",
    "view_position",
    "body_part",
    "transfer_syntax",
    "manufacturer",
)


@dataclass(frozen=True)
class AnalysisOptions:
    """Options of :func:`analyze` beyond the view.

    Attributes
    ----------
    tracking
        ``dynaspine.tracking.TrackingOptions`` passed to the tracker (its defaults if ``None``).
    region
        Region label of every level (by default from the level names); see
        :func:`dynaspine.motion.kinematics`.
    icr_min_rotation_deg
        Smallest rotation for which a centre of rotation is reported.
    laxity_window_deg
        Global motion over which laxity is measured.
    sharing_min_global_deg
        Frames with less global motion are left out of proportions and motion sharing.
    """

    tracking: Any = None
    region: str | None = None
    icr_min_rotation_deg: float = 5.0
    laxity_window_deg: float = 10.0
    sharing_min_global_deg: float = 5.0


def check_landmarks_on_study(study: Study, landmarks: Landmarks) -> None:
    """Refuse landmarks that cannot belong to ``study`` (frame out of range, off the image).

    Raises
    ------
    InputError
        With the frame or vertebra at fault and how to fix it.
    CalibrationError
        When the study has no usable pixel spacing.
    """
    n = study.n_frames
    if landmarks.frame >= n:
        raise InputError(
            f"landmarks reference frame {landmarks.frame} is out of range: the study has "
            f"{n} frame(s) (0..{n - 1})",
            hint="set 'frame' in the landmarks file to the frame the corners were placed on",
        )
    rows, cols = study.shape
    for name, corners in landmarks.vertebrae.items():
        xs, ys = corners[:, 0], corners[:, 1]
        if xs.min() < -0.5 or ys.min() < -0.5 or xs.max() > cols - 0.5 or ys.max() > rows - 0.5:
            raise InputError(
                f"vertebra {name}: its corners ({xs.min():.0f}..{xs.max():.0f}, "
                f"{ys.min():.0f}..{ys.max():.0f}) lie outside the image "
                f"({cols} columns x {rows} rows) of frame {landmarks.frame}",
                hint="check that the landmarks belong to this study and use x = column, y = row",
            )
    spacing = study.pixel_spacing_mm
    if spacing is None or len(spacing) != 2 or not all(np.isfinite(s) and s > 0 for s in spacing):
        raise CalibrationError(
            f"the study has no usable pixel spacing ({spacing!r})",
            hint="give it with --pixel-spacing MM (never assumed 1 mm)",
        )


def analyze(
    study: Study,
    landmarks: Landmarks,
    *,
    view: View = "lateral",
    options: AnalysisOptions | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Track the landmarked vertebrae through ``study`` and measure their motion.

    Parameters
    ----------
    study
        Ordered, calibrated frames (:func:`dynaspine.io.load_study`).
    landmarks
        Corners of each vertebra on the reference frame (MARKS.json).
    view
        ``"lateral"`` or ``"ap"``.
    options
        :class:`AnalysisOptions`.
    progress
        ``progress(done, total)`` callback, passed to the tracker.

    Returns
    -------
    dict
        The RESULT.json document (schema ``"dynaspine.result/1"``).
    """
    from dynaspine.tracking import track

    if view not in ("lateral", "ap"):
        raise InputError(f"view must be 'lateral' or 'ap', got {view!r}")
    opts = options or AnalysisOptions()
    check_landmarks_on_study(study, landmarks)
    tracks = track(study, landmarks, options=opts.tracking, view=view, progress=progress)
    corners = {}
    for name, arr in tracks.corners.items():
        masked = np.array(arr, dtype=np.float64, copy=True)
        found = np.asarray(tracks.found.get(name, np.isfinite(masked).all(axis=(1, 2))))
        masked[~found] = np.nan
        corners[name] = masked
    kin = kinematics(
        corners,
        pixel_spacing_mm=(float(study.pixel_spacing_mm[0]), float(study.pixel_spacing_mm[1])),
        view=view,
        reference_frame=int(tracks.reference_frame),
        region=opts.region,
        icr_min_rotation_deg=opts.icr_min_rotation_deg,
        laxity_window_deg=opts.laxity_window_deg,
        sharing_min_global_deg=opts.sharing_min_global_deg,
    )
    rows, cols = study.shape
    description: dict[str, Any] = {
        "source": study.source,
        "rows": rows,
        "columns": cols,
    }
    for key in _DESCRIPTIVE_METADATA:
        if key in study.metadata and isinstance(study.metadata[key], str | int | float):
            description[key] = study.metadata[key]
    return build_result(
        kin,
        corners=corners,
        quality=tracks.quality,
        calibration_source=study.calibration_source,
        calibration_note=study.metadata.get("calibration_note"),
        frame_times_s=study.frame_times_s,
        input_description=description,
        landmarks=landmarks.to_json(),
        notes=list(getattr(tracks, "notes", [])),
        positions=_positions(study),
    )


def _positions(study: Study) -> list[str | None] | None:
    """Per-frame positions of static films (neutral/flexion/...) when the reader knows them."""
    positions = study.metadata.get("positions")
    if not isinstance(positions, list | tuple) or len(positions) != study.n_frames:
        return None
    return [p if isinstance(p, str) else None for p in positions]
