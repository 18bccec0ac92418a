"""Pure plane geometry on vertebral corners: axes, angles, Frobin measures, finite rotations.

Every function works on arrays of frames: corners are ``(n, 4, 2)`` in millimetres
(x to the image right, y down), in the slot order of ``docs/conventions.md``. Missing
frames are NaN rows and give NaN results; nothing here guesses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def _unit(v: FloatArray) -> FloatArray:
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return v / norm


def _dot(a: FloatArray, b: FloatArray) -> FloatArray:
    return np.einsum("...i,...i->...", a, b)


def _perpendicular_towards(axis: FloatArray, towards: FloatArray) -> FloatArray:
    """Unit vector perpendicular to ``axis`` on the side of ``towards``."""
    perp = np.stack([-axis[..., 1], axis[..., 0]], axis=-1)
    sign = np.sign(_dot(perp, towards))
    sign = np.where(sign == 0, 1.0, sign)
    return perp * sign[..., None]


@dataclass(frozen=True)
class VertebraFrame:
    """Per-frame body frame of one vertebra (all arrays have a leading frame axis).

    Attributes
    ----------
    axis
        Unit vector from posterior to anterior (lateral) or patient-left to patient-right
        (AP): mean of the superior (slot 1 -> 0) and inferior (slot 2 -> 3) endplate directions.
    superior
        Unit vector perpendicular to ``axis``, towards the superior endplate.
    centre
        Centroid of the four corners.
    superior_depth, inferior_depth
        Lengths of the superior (slot 0-1) and inferior (slot 2-3) endplates.
    """

    axis: FloatArray
    superior: FloatArray
    centre: FloatArray
    superior_depth: FloatArray
    inferior_depth: FloatArray


def vertebra_frame(corners: FloatArray) -> VertebraFrame:
    """Body frame of a vertebra from its ``(n, 4, 2)`` corners (docs/conventions.md)."""
    c = np.asarray(corners, dtype=np.float64)
    sup_dir = _unit(c[:, 0] - c[:, 1])
    inf_dir = _unit(c[:, 3] - c[:, 2])
    axis = _unit(sup_dir + inf_dir)
    up = 0.5 * (c[:, 0] + c[:, 1]) - 0.5 * (c[:, 2] + c[:, 3])
    return VertebraFrame(
        axis=axis,
        superior=_perpendicular_towards(axis, up),
        centre=c.mean(axis=1),
        superior_depth=np.linalg.norm(c[:, 0] - c[:, 1], axis=-1),
        inferior_depth=np.linalg.norm(c[:, 3] - c[:, 2], axis=-1),
    )


def intervertebral_angle_deg(upper: VertebraFrame, lower: VertebraFrame) -> FloatArray:
    """Angle of UPPER's axis from LOWER's axis, positive when the disc opens at slot 0/3.

    On lateral views slots 0/3 are anterior, so the angle is lordosis-positive; on AP views
    they are the patient's right, so it is positive in left bending (docs/conventions.md).
    Being built from dot products with LOWER's own superior direction, the value does not
    change when the image is mirrored or the patient faces the other way.
    """
    return np.degrees(np.arctan2(_dot(upper.axis, lower.superior), _dot(upper.axis, lower.axis)))


@dataclass(frozen=True)
class DiscGeometry:
    """Frobin et al. (1997) disc measures per frame, in the units of the corners.

    Attributes
    ----------
    translation
        Distance between the projections of the two vertebral-body centres onto the disc
        midplane (bisector of the adjacent endplates), UPPER relative to LOWER, positive
        towards slot 0 (anterior on lateral views, patient-right on AP views).
    height_front, height_middle, height_back
        Disc heights perpendicular to the midplane at the slot-0/3 side (anterior), at the
        endplate midpoints, and at the slot-1/2 side (posterior).
    lower_superior_depth
        Depth of LOWER's superior endplate (normaliser of the translation).
    upper_mean_depth
        Mean endplate depth of UPPER: the normaliser of the disc heights, which makes them
        dimensionless in the manner of Frobin et al. (1997).
    """

    translation: FloatArray
    height_front: FloatArray
    height_middle: FloatArray
    height_back: FloatArray
    lower_superior_depth: FloatArray
    upper_mean_depth: FloatArray


def disc_geometry(upper_corners: FloatArray, lower_corners: FloatArray) -> DiscGeometry:
    """Translation and disc heights of a motion segment after Frobin et al. (1997).

    Frobin W, Brinckmann P, Biggemann M, Tillotson M, Burton K. Precision measurement of
    disc height, vertebral height and sagittal plane displacement from lateral radiographic
    views of the lumbar spine. Clin Biomech 1997;12 Suppl 1:S1-S63. The disc midplane is the
    bisector of UPPER's inferior endplate and LOWER's superior endplate; sagittal
    displacement is the distance between the perpendiculars dropped from the two
    vertebral-body centres onto it, so a pure rotation about the disc centre gives none.
    """
    u = np.asarray(upper_corners, dtype=np.float64)
    lo = np.asarray(lower_corners, dtype=np.float64)
    fu = vertebra_frame(u)
    fl = vertebra_frame(lo)
    mid_dir = _unit(_unit(u[:, 3] - u[:, 2]) + _unit(lo[:, 0] - lo[:, 1]))
    normal = _perpendicular_towards(mid_dir, fl.superior + fu.superior)
    return DiscGeometry(
        translation=_dot(mid_dir, fu.centre - fl.centre),
        height_front=_dot(normal, u[:, 3] - lo[:, 0]),
        height_middle=_dot(normal, 0.5 * (u[:, 2] + u[:, 3]) - 0.5 * (lo[:, 0] + lo[:, 1])),
        height_back=_dot(normal, u[:, 2] - lo[:, 1]),
        lower_superior_depth=fl.superior_depth,
        upper_mean_depth=0.5 * (fu.superior_depth + fu.inferior_depth),
    )


def rigid_fit(src: FloatArray, dst: FloatArray) -> tuple[float, FloatArray]:
    """Least-squares rotation angle (radians) and translation mapping ``src`` to ``dst``.

    2-D Procrustes (Kabsch) fit of matching ``(k, 2)`` point sets: ``dst ~ R src + t``.
    """
    ps = src - src.mean(axis=0)
    qs = dst - dst.mean(axis=0)
    theta = float(
        np.arctan2(
            np.sum(ps[:, 0] * qs[:, 1] - ps[:, 1] * qs[:, 0]),
            np.sum(ps[:, 0] * qs[:, 0] + ps[:, 1] * qs[:, 1]),
        )
    )
    rot = _rotation(theta)
    return theta, dst.mean(axis=0) - rot @ src.mean(axis=0)


def _rotation(theta: float) -> FloatArray:
    c, s = np.cos(theta), np.sin(theta)
    return np.array([[c, -s], [s, c]])


def finite_centre_of_rotation(
    upper_a: FloatArray, lower_a: FloatArray, upper_b: FloatArray, lower_b: FloatArray
) -> tuple[FloatArray, float]:
    """Centre of the finite rotation of UPPER relative to LOWER between positions a and b.

    LOWER is held where it is in position a: UPPER's motion relative to LOWER is
    ``T_rel = T_lower^-1 o T_upper`` (each ``T`` the rigid fit of that vertebra's corners from
    a to b), and the centre is its fixed point ``c = (I - R)^-1 t`` (Reuleaux's construction,
    as used for the instantaneous centres of Pearcy & Bogduk, Spine 1988;13:1033-1041).

    Returns
    -------
    centre, rotation
        The centre in the coordinates of position a and the relative rotation in radians
        (in the image's own sense: positive from +x towards +y).
    """
    th_u, t_u = rigid_fit(upper_a, upper_b)
    th_l, t_l = rigid_fit(lower_a, lower_b)
    r_l_inv = _rotation(-th_l)
    theta = th_u - th_l
    t_rel = r_l_inv @ (t_u - t_l)
    centre = np.linalg.solve(np.eye(2) - _rotation(theta), t_rel)
    return centre, float(np.arctan2(np.sin(theta), np.cos(theta)))


def endplate_coordinates(point: FloatArray, lower_corners: FloatArray) -> tuple[float, float]:
    """Position of ``point`` relative to LOWER's superior endplate, in endplate depths.

    ``x``: along the endplate from the posterior-superior corner (0) to the
    anterior-superior corner (1); ``y``: height above the endplate (superior positive).
    The normalisation follows Pearcy & Bogduk (1988), who located centres relative to the
    lower vertebra's superior endplate and in proportion to its depth.
    """
    c = np.asarray(lower_corners, dtype=np.float64)
    along = c[0] - c[1]
    depth = float(np.linalg.norm(along))
    e = along / depth
    frame = vertebra_frame(c[None])
    up = _perpendicular_towards(e, frame.superior[0])
    rel = np.asarray(point, dtype=np.float64) - c[1]
    return float(rel @ e) / depth, float(rel @ up) / depth
