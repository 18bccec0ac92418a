"""Centres of rotation of a motion segment between two positions (finite helical axes in 2-D)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from dynaspine.motion._geometry import (
    FloatArray,
    endplate_coordinates,
    finite_centre_of_rotation,
)


@dataclass(frozen=True)
class CentreOfRotation:
    """Centre of the finite rotation of UPPER relative to LOWER from one frame to another.

    Attributes
    ----------
    from_frame, to_frame
        The two positions (0-based frame indices).
    rotation_deg
        IVR change between them (``ivr(to) - ivr(from)``; flexion positive on lateral views).
    centre_px
        ``(x, y)`` in pixels on ``from_frame`` (LOWER held where it is on that frame), or
        ``None`` with ``reason`` when not computed.
    endplate_x, endplate_y
        The centre relative to LOWER's superior endplate on ``from_frame``: ``x`` from the
        posterior-superior corner (0) to the anterior-superior corner (1), ``y`` above the
        endplate (superior positive), both in endplate depths (Pearcy & Bogduk 1988).
    reason
        Why the centre is missing (``None`` when present).
    """

    from_frame: int
    to_frame: int
    rotation_deg: float | None
    centre_px: tuple[float, float] | None = None
    endplate_x: float | None = None
    endplate_y: float | None = None
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Plain-JSON form used in RESULT.json."""
        return {
            "from_frame": self.from_frame,
            "to_frame": self.to_frame,
            "rotation_deg": self.rotation_deg,
            "centre_px": list(self.centre_px) if self.centre_px is not None else None,
            "endplate_x": self.endplate_x,
            "endplate_y": self.endplate_y,
            "reason": self.reason,
        }


def centre_of_rotation(
    upper_mm: FloatArray,
    lower_mm: FloatArray,
    ivr_deg: FloatArray,
    a: int,
    b: int,
    *,
    spacing_xy: tuple[float, float],
    min_rotation_deg: float,
) -> CentreOfRotation:
    """Centre of rotation of the segment from frame ``a`` to frame ``b``.

    The centre of a finite rotation is ill-conditioned for small angles (its error grows
    as 1/angle), so it is only computed when the segment turns by at least
    ``min_rotation_deg``; otherwise it is ``None`` with the reason. Pearcy & Bogduk
    (Spine 1988;13:1033-1041) found unacceptably large errors below 5 deg of motion.

    Parameters
    ----------
    upper_mm, lower_mm
        ``(n, 4, 2)`` corners in millimetres.
    ivr_deg
        ``(n,)`` IVR of the level.
    a, b
        Frame indices of the two positions.
    spacing_xy
        ``(column_spacing, row_spacing)`` in mm, to return pixels.
    min_rotation_deg
        Smallest rotation for which a centre is reported.
    """
    ok = np.isfinite(upper_mm[[a, b]]).all() and np.isfinite(lower_mm[[a, b]]).all()
    if not ok or not (np.isfinite(ivr_deg[a]) and np.isfinite(ivr_deg[b])):
        return CentreOfRotation(
            a, b, None, reason="a vertebra of the level was not found on one of the frames"
        )
    rotation = float(ivr_deg[b] - ivr_deg[a])
    if abs(rotation) < min_rotation_deg:
        return CentreOfRotation(
            a,
            b,
            rotation,
            reason=(
                f"rotation {abs(rotation):.1f} deg < {min_rotation_deg:g} deg: "
                "the centre is too uncertain to report"
            ),
        )
    centre, _ = finite_centre_of_rotation(upper_mm[a], lower_mm[a], upper_mm[b], lower_mm[b])
    ex, ey = endplate_coordinates(centre, lower_mm[a])
    return CentreOfRotation(
        a,
        b,
        rotation,
        centre_px=(float(centre[0] / spacing_xy[0]), float(centre[1] / spacing_xy[1])),
        endplate_x=ex,
        endplate_y=ey,
    )


def window_centres(
    upper_mm: FloatArray,
    lower_mm: FloatArray,
    ivr_deg: FloatArray,
    *,
    spacing_xy: tuple[float, float],
    min_rotation_deg: float,
) -> list[CentreOfRotation]:
    """Centres over consecutive windows of at least ``min_rotation_deg`` of rotation.

    Starting at the first valid frame, each window ends at the first later frame whose IVR
    differs from the window's start by ``min_rotation_deg`` or more; the next window starts
    there. This follows the motion frame to frame without the 1/angle noise of
    consecutive frames.
    """
    valid = np.flatnonzero(
        np.isfinite(ivr_deg)
        & np.isfinite(upper_mm).all(axis=(1, 2))
        & np.isfinite(lower_mm).all(axis=(1, 2))
    )
    out: list[CentreOfRotation] = []
    if valid.size < 2:
        return out
    start = int(valid[0])
    for idx in valid[1:]:
        i = int(idx)
        if abs(ivr_deg[i] - ivr_deg[start]) >= min_rotation_deg:
            out.append(
                centre_of_rotation(
                    upper_mm,
                    lower_mm,
                    ivr_deg,
                    start,
                    i,
                    spacing_xy=spacing_xy,
                    min_rotation_deg=min_rotation_deg,
                )
            )
            start = i
    return out
