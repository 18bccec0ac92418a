"""Ground truth of a phantom study: exact transforms, corners and per-level motion.

``truth.json`` mirrors RESULT.json's layout (docs/formats.md): ``"vertebrae"[name]``
holds ``"corners_px"`` and ``"transforms"`` per frame, ``"levels"[level]`` holds per-frame
``"ivr_deg"``, ``"angle_deg"``, ``"ivt_mm"`` and ``"icr_px"``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dynaspine.anatomy import levels_of
from dynaspine.errors import InputError
from dynaspine.phantom._geometry import (
    FloatArray,
    apply,
    compose,
    frobin_translation,
    invert,
    level_angle_deg,
    rotation_centre,
)

SCHEMA = "dynaspine.phantom-truth/1"


@dataclass
class LevelTruth:
    """True motion of one level per frame.

    Attributes
    ----------
    ivr_deg
        Change of the intervertebral angle from the reference frame: flexion positive on
        lateral views (``angle(ref) - angle(frame)``), left bending positive on AP views
        (``angle(frame) - angle(ref)``).
    angle_deg
        Intervertebral angle (lordosis positive; AP: left bending positive).
    ivt_mm
        Frobin et al. (1997) translation of UPPER relative to LOWER, mm, anterior
        (slot 0 side) positive.
    icr_px
        Centre of the rotation of UPPER relative to LOWER from the reference frame to this
        frame, in reference-frame pixels (attached to LOWER); NaN where there is no
        rotation.
    """

    ivr_deg: FloatArray
    angle_deg: FloatArray
    ivt_mm: FloatArray
    icr_px: FloatArray


@dataclass
class Truth:
    """Exact motion of every vertebra of a phantom study."""

    view: str
    pixel_spacing_mm: tuple[float, float]
    transforms: dict[str, FloatArray]
    corners: dict[str, FloatArray]
    levels: dict[str, LevelTruth]
    reference_frame: int = 0
    frame_times_s: FloatArray | None = None
    positions: list[str] | None = None
    geometry: str = "parallel"
    notes: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        """Vertebra names, cranial to caudal."""
        return list(self.transforms)

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return int(next(iter(self.transforms.values())).shape[0])

    @classmethod
    def from_transforms(
        cls,
        *,
        view: str,
        reference_corners: dict[str, FloatArray],
        transforms: dict[str, FloatArray],
        pixel_spacing_mm: float,
        shape: tuple[int, int],
        frame_times_s: FloatArray | None = None,
        positions: list[str] | None = None,
        geometry: str = "parallel",
        notes: list[str] | None = None,
        frame_corners: dict[str, FloatArray] | None = None,
    ) -> Truth:
        """Truth from reference corners and exact transforms (corners NaN out of field).

        ``frame_corners`` gives the true corners per frame where they are not the
        transformed reference corners (out-of-plane motion); the levels then follow them.
        """
        rows, cols = shape
        full: dict[str, FloatArray] = {}
        corners: dict[str, FloatArray] = {}
        for name, t in transforms.items():
            if frame_corners is not None:
                c = np.asarray(frame_corners[name], dtype=np.float64)
            else:
                c = np.stack([apply(t[k], reference_corners[name]) for k in range(t.shape[0])])
            full[name] = c
            out = (
                (c[..., 0] < -0.5)
                | (c[..., 0] > cols - 0.5)
                | (c[..., 1] < -0.5)
                | (c[..., 1] > rows - 0.5)
            ).any(axis=1)
            shown = c.copy()
            shown[out] = np.nan
            corners[name] = shown
        levels: dict[str, LevelTruth] = {}
        sign = -1.0 if view == "lateral" else 1.0
        for upper, lower in levels_of(transforms):
            ang = level_angle_deg(full[upper], full[lower])
            ivr = sign * (ang - ang[0])
            ivt = frobin_translation(full[upper], full[lower]) * pixel_spacing_mm
            icr = np.stack(
                [
                    rotation_centre(compose(invert(transforms[lower][k]), transforms[upper][k]))
                    for k in range(ang.shape[0])
                ]
            )
            levels[f"{upper}-{lower}"] = LevelTruth(
                ivr_deg=ivr, angle_deg=ang, ivt_mm=ivt, icr_px=icr
            )
        return cls(
            view=view,
            pixel_spacing_mm=(pixel_spacing_mm, pixel_spacing_mm),
            transforms={k: np.asarray(v, dtype=np.float64) for k, v in transforms.items()},
            corners=corners,
            levels=levels,
            frame_times_s=frame_times_s,
            positions=positions,
            geometry=geometry,
            notes=list(notes or []),
        )

    def to_json(self) -> dict[str, Any]:
        """The truth.json document as a plain dict (NaN written as ``null``)."""

        def num(x: float) -> float | None:
            return None if not math.isfinite(x) else float(x)

        def pts(a: FloatArray) -> list[Any] | None:
            if not np.all(np.isfinite(a)):
                return None
            return [[float(x), float(y)] for x, y in a]

        return {
            "schema": SCHEMA,
            "view": self.view,
            "geometry": self.geometry,
            "frames": self.n_frames,
            "reference_frame": self.reference_frame,
            "pixel_spacing_mm": list(self.pixel_spacing_mm),
            "frame_times_s": None
            if self.frame_times_s is None
            else [float(t) for t in self.frame_times_s],
            "positions": self.positions,
            "notes": self.notes,
            "vertebrae": {
                name: {
                    "corners_px": [pts(c) for c in self.corners[name]],
                    "transforms": [
                        [[float(v) for v in row] for row in t] for t in self.transforms[name]
                    ],
                }
                for name in self.transforms
            },
            "levels": {
                level: {
                    "ivr_deg": [num(v) for v in lt.ivr_deg],
                    "angle_deg": [num(v) for v in lt.angle_deg],
                    "ivt_mm": [num(v) for v in lt.ivt_mm],
                    "icr_px": [
                        None if not np.all(np.isfinite(p)) else [float(p[0]), float(p[1])]
                        for p in lt.icr_px
                    ],
                }
                for level, lt in self.levels.items()
            },
        }

    def dump(self, path: str | Path) -> None:
        """Write truth.json."""
        Path(path).write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def from_json(cls, doc: Any, *, source: str = "truth") -> Truth:
        """Parse a truth.json document."""
        if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
            raise InputError(f"{source}: not a phantom truth document (schema {SCHEMA!r} expected)")
        try:
            nan4 = np.full((4, 2), np.nan)
            transforms = {
                n: np.asarray(v["transforms"], dtype=np.float64)
                for n, v in doc["vertebrae"].items()
            }
            corners = {
                n: np.stack(
                    [
                        nan4 if c is None else np.asarray(c, dtype=np.float64)
                        for c in v["corners_px"]
                    ]
                )
                for n, v in doc["vertebrae"].items()
            }

            def arr(values: list[Any]) -> FloatArray:
                return np.array([np.nan if v is None else v for v in values], dtype=np.float64)

            levels = {
                lv: LevelTruth(
                    ivr_deg=arr(d["ivr_deg"]),
                    angle_deg=arr(d["angle_deg"]),
                    ivt_mm=arr(d["ivt_mm"]),
                    icr_px=np.array(
                        [[np.nan, np.nan] if p is None else p for p in d["icr_px"]],
                        dtype=np.float64,
                    ),
                )
                for lv, d in doc["levels"].items()
            }
            times = doc.get("frame_times_s")
            return cls(
                view=str(doc["view"]),
                pixel_spacing_mm=(
                    float(doc["pixel_spacing_mm"][0]),
                    float(doc["pixel_spacing_mm"][1]),
                ),
                transforms=transforms,
                corners=corners,
                levels=levels,
                reference_frame=int(doc.get("reference_frame", 0)),
                frame_times_s=None if times is None else np.asarray(times, dtype=np.float64),
                positions=doc.get("positions"),
                geometry=str(doc.get("geometry", "parallel")),
                notes=list(doc.get("notes", [])),
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise InputError(f"{source}: malformed truth document ({exc})") from None

    @classmethod
    def load(cls, path: str | Path) -> Truth:
        """Read truth.json."""
        p = Path(path)
        try:
            doc = json.loads(p.read_text(encoding="utf-8"))
        except OSError as exc:
            raise InputError(f"cannot read truth file {p}: {exc.strerror}") from None
        except json.JSONDecodeError as exc:
            raise InputError(f"{p}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
        return cls.from_json(doc, source=str(p))
