"""Reference-frame landmarks: the MARKS.json contract of DESIGN.md.

``{"frame": 0, "vertebrae": {"L1": [[x, y], [x, y], [x, y], [x, y]], ...}}``: the four
vertebral-body corners in pixel coordinates of the reference frame. x is the column, y the
row, and the centre of the top-left pixel is (0, 0).

Corner order on lateral (sagittal) views: anterior-superior, posterior-superior,
posterior-inferior, anterior-inferior. On AP (coronal) views the same slots hold
patient-right-superior, patient-left-superior, patient-left-inferior,
patient-right-inferior (see ``docs/conventions.md``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from dynaspine.anatomy import check_vertebra, sort_vertebrae
from dynaspine.errors import LandmarkError

CORNER_NAMES: tuple[str, str, str, str] = (
    "anterior-superior",
    "posterior-superior",
    "posterior-inferior",
    "anterior-inferior",
)
"""Order of the four corners of each vertebral body (lateral views)."""

Corners = npt.NDArray[np.float64]
"""A (4, 2) array of corner (x, y) pixel coordinates in :data:`CORNER_NAMES` order."""


@dataclass
class Landmarks:
    """Four corners per vertebra on one reference frame.

    Parameters
    ----------
    frame
        Index of the reference frame (0-based) the corners were placed on.
    vertebrae
        Vertebra name -> (4, 2) corners, x = column and y = row in pixels.
    """

    frame: int = 0
    vertebrae: dict[str, Corners] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.frame, int) or isinstance(self.frame, bool) or self.frame < 0:
            raise LandmarkError(
                f"landmarks 'frame' must be a non-negative integer, got {self.frame!r}"
            )
        checked: dict[str, Corners] = {}
        for name in sort_vertebrae(check_vertebra(str(n)) for n in self.vertebrae):
            checked[name] = _as_corners(self.vertebrae[name], name)
        self.vertebrae = checked

    @property
    def names(self) -> list[str]:
        """Vertebra names, cranial to caudal."""
        return list(self.vertebrae)

    def to_json(self) -> dict[str, Any]:
        """The MARKS.json document as a plain dict."""
        return {
            "frame": self.frame,
            "vertebrae": {
                name: [[float(x), float(y)] for x, y in corners]
                for name, corners in self.vertebrae.items()
            },
        }

    def dump(self, path: str | Path) -> None:
        """Write MARKS.json to ``path``."""
        Path(path).write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def from_json(cls, doc: Any, *, source: str = "landmarks") -> Landmarks:
        """Parse a MARKS.json document, raising :class:`LandmarkError` with its location."""
        if not isinstance(doc, dict):
            raise LandmarkError(f"{source}: expected a JSON object with 'frame' and 'vertebrae'")
        verts = doc.get("vertebrae")
        if not isinstance(verts, dict) or not verts:
            raise LandmarkError(
                f"{source}: 'vertebrae' must be a non-empty object of name -> 4 corners",
                hint='e.g. {"frame": 0, "vertebrae": {"L4": [[x,y],[x,y],[x,y],[x,y]]}}',
            )
        for name in verts:
            try:
                check_vertebra(str(name))
            except Exception as exc:
                raise LandmarkError(f"{source}: {exc}") from None
        frame = doc.get("frame", 0)
        try:
            return cls(frame=frame, vertebrae={str(k): v for k, v in verts.items()})
        except LandmarkError as exc:
            raise LandmarkError(f"{source}: {exc.message}", hint=exc.hint) from None

    @classmethod
    def load(cls, path: str | Path) -> Landmarks:
        """Read MARKS.json from ``path``."""
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise LandmarkError(f"cannot read landmarks file {p}: {exc.strerror}") from None
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise LandmarkError(
                f"{p}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
            ) from None
        return cls.from_json(doc, source=str(p))


def _as_corners(value: Any, name: str) -> Corners:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        arr = np.empty((0,))
    if arr.shape != (4, 2) or not all(math.isfinite(v) for v in arr.ravel()):
        raise LandmarkError(
            f"vertebra {name}: expected 4 corners of [x, y] numbers "
            f"(anterior-superior, posterior-superior, posterior-inferior, anterior-inferior)"
        )
    return arr
