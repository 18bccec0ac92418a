"""Synthetic AP vertebral corners with known tilts for the views tests."""

from __future__ import annotations

import math

import numpy as np

NAMES = ["T10", "T11", "T12", "L1", "L2", "L3", "L4", "L5"]


def ap_spine(
    tilts_deg: list[float], *, mirror: bool = False, roll_deg: float = 0.0
) -> dict[str, np.ndarray]:
    """AP corners with each vertebra tilted by ``tilts_deg`` (positive: patient-right end up).

    Patient right is on the image's left (standard AP display) unless ``mirror``; the whole
    image may be rotated by ``roll_deg``.
    """
    out = {}
    roll = math.radians(roll_deg)
    rot = np.array([[math.cos(roll), -math.sin(roll)], [math.sin(roll), math.cos(roll)]])
    for k, (name, t) in enumerate(zip(NAMES, tilts_deg, strict=False)):
        th = math.radians(t)
        right = np.array([-math.cos(th), -math.sin(th)])  # patient right, right end higher (y up)
        up = np.array([right[1], -right[0]])
        if up[1] > 0:
            up = -up
        c = np.array([200.0, 100.0 + 32 * k])
        w, h = 40.0, 25.0
        pts = np.array(
            [
                c + right * w / 2 + up * h / 2,
                c - right * w / 2 + up * h / 2,
                c - right * w / 2 - up * h / 2,
                c + right * w / 2 - up * h / 2,
            ]
        )
        if mirror:
            pts[:, 0] = 400 - pts[:, 0]
        out[name] = (pts - 200) @ rot.T + 200
    return out
