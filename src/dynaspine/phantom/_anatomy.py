"""What the renderer composes: a background and rigidly moving parts, as line integrals.

Every image here is a line integral of linear attenuation (dimensionless ``mu * length``)
on the output pixel grid. Additivity of line integrals is what makes the phantom exact:
the background is the patient with each vertebra replaced by soft tissue, each part is
the vertebra's *excess* attenuation over that soft tissue, so moving a part uncovers soft
tissue, never a hole, and the sum is the projection of the moved patient. The background
moves with the whole spine, or (CT) deforms smoothly with the vertebrae around it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
Image = npt.NDArray[np.float32]
F32Image = Image


@dataclass
class Layer:
    """A cropped line-integral image placed in the reference frame.

    Parameters
    ----------
    image
        Line integrals, float32.
    x0, y0
        Reference-frame pixel coordinates of the crop's top-left pixel centre.
    scale
        Cone-beam only: magnification of this depth slab relative to the plane where the
        pixel spacing is defined (1 for parallel projection and for that plane).
    """

    image: Image
    x0: float
    y0: float
    scale: float = 1.0
    depth_mm: float = 0.0
    """Cone-beam only: distance of this slab from the mid-plane towards the X-ray source."""
    thickness_mm: float = 0.0
    """Extent along the beam that a single analytic layer stands for (split for cone beam)."""
    replicate: bool = False
    """Extend the crop's edge pixels beyond it (background) instead of zeros (parts)."""


@dataclass
class Part:
    """A rigidly moving structure (a vertebra with what is attached to it)."""

    name: str
    layers: list[Layer]
    corners: FloatArray
    """Reference corners (4, 2) in pixels, slot order of docs/conventions.md."""


@dataclass
class Anatomy:
    """Everything the renderer needs for one view of one patient, in the reference pose."""

    view: str
    shape: tuple[int, int]
    pixel_spacing_mm: float
    background: list[Layer]
    parts: dict[str, Part]
    pivot_px: FloatArray
    """Whole-spine tilt pivot (near the hip joints) in reference pixels."""
    gas: list[Layer] = field(default_factory=list)
    """Independently moving overlaps (bowel gas: negative line integrals)."""
    principal_point: FloatArray = field(default_factory=lambda: np.zeros(2))
    description: str = ""
    rerender: Callable[[str, float], Layer] | None = None
    """CT only: the part's layer after an axial (out-of-plane) rotation, reference pose."""
    axial_axes: dict[str, FloatArray] = field(default_factory=dict)
    """CT only: each part's superior axis in (beam, a, b) coordinates, for the truth."""
    follow_sigma_px: float = 0.0
    """Soft tissue follows the spine (CT): > 0 warps the background smoothly with the
    vertebrae (Gaussian weights of this width about each vertebra's centre) instead of
    rigidly with the whole spine; 0 keeps it rigid (parametric trunk)."""
    follow_range_px: float = 0.0
    """How far from the vertebrae the soft tissue follows them (Gaussian fall-off); beyond
    it the background moves with the whole spine (pelvis, abdominal wall)."""
    rigid_background: list[Layer] = field(default_factory=list)
    """Background layers that always move rigidly with the whole spine (the CT's pelvis)."""
