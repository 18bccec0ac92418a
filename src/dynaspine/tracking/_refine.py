"""Template refinement: a low-noise template from the tracked frames, anchored to the reference.

At fluoroscopic dose the reference template is itself one noisy frame, so every
registration sees the noise of two images. After the first pass, each vertebra's found
frames are warped back to the reference pose (with their first-pass poses) and averaged into
a mean template, and every frame is registered again against it, starting from its
first-pass pose at the finest level. The mean stays anchored to the reference: it is built in
the reference frame's coordinates, and the reference frame keeps the identity pose
(Matthews, Ishikawa & Baker, "The template update problem", IEEE PAMI 26(6):810-815, 2004:
a template updated from tracked frames drifts unless it is re-anchored to the first one).

Each frame is registered against the mean of the *other* frames (leave-one-out), so its own
noise does not pull it towards its first-pass pose. ``anchor`` in [0, 1] sets how the mean
template's coordinates are tied to the reference frame's: 0 takes them as the reference's
(the first-pass poses define them), 1 registers the reference frame against the mean template
and composes every pose with the inverse of that pose; values between interpolate.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from dynaspine.tracking._template import (
    F32,
    F64,
    FramePyramid,
    LevelTemplate,
    VertebraTemplate,
    angle_of,
    rigid,
    to_level,
    warp_patch,
)


@dataclass
class PatchStack:
    """One vertebra's finest-level patches warped back to the reference pose, per frame."""

    patches: dict[int, F64] = field(default_factory=dict)
    total: F64 | None = None

    def add(self, k: int, patch: F64) -> None:
        """Add frame ``k``'s standardised patch."""
        self.patches[k] = patch
        self.total = patch.copy() if self.total is None else self.total + patch

    def template(self, base: VertebraTemplate, leave_out: int) -> VertebraTemplate | None:
        """``base`` with its finest level replaced by the mean of all patches but frame
        ``leave_out``'s; ``None`` when fewer than two other frames are stacked."""
        own = self.patches.get(leave_out)
        count = len(self.patches) - (own is not None)
        if self.total is None or count < 2:
            return None
        mean = (self.total - own if own is not None else self.total) / count
        lt = base.levels[base.finest]
        values = mean.ravel()[lt.index]
        mu, sd = float(values.mean()), float(values.std())
        if sd <= 1e-9:
            return None
        gy, gx = np.gradient(mean)
        new = replace(
            lt,
            values=((values - mu) / sd).astype(np.float32),
            grad_t=np.stack([gx.ravel()[lt.index] / sd, gy.ravel()[lt.index] / sd]).astype(
                np.float32
            ),
        )
        return replace(base, levels={**base.levels, base.finest: new})


def back_warped_patch(pyr: FramePyramid, tm: VertebraTemplate, m: F64) -> F64 | None:
    """Frame ``pyr`` sampled at the template's finest-level pixels mapped by pose ``m``
    (reference -> frame, level-0 pixels), standardised over the template mask; ``None``
    when part of the template falls outside the trusted image area."""
    lt: LevelTemplate = tm.levels[tm.finest]
    ml = to_level(m, lt.level)
    box = lt.box @ ml[:2, :2].T + ml[:2, 2]
    rows, cols = pyr.shape
    lrows, lcols = (rows + 2**lt.level - 1) >> lt.level, (cols + 2**lt.level - 1) >> lt.level
    edge = 1.0 + 2.0 * pyr.highpass + pyr.sigma
    if (
        box[:, 0].min() < edge
        or box[:, 1].min() < edge
        or box[:, 0].max() > lcols - 1 - edge
        or box[:, 1].max() > lrows - 1 - edge
    ):
        return None
    need = (
        float(box[:, 0].min()) - 2,
        float(box[:, 1].min()) - 2,
        float(box[:, 0].max()) + 2,
        float(box[:, 1].max()) + 2,
    )
    patch: F32 = warp_patch(pyr.filtered(lt.level, need), ml, lt.origin, lt.size)
    p = patch.astype(np.float64)
    values = p.ravel()[lt.index]
    sd = float(values.std())
    if sd <= 1e-9:
        return None
    return (p - float(values.mean())) / sd


def partial_pose(m: F64, fraction: float, centre: F64) -> F64:
    """The rigid pose ``fraction`` of the way from the identity to ``m`` (rotation about
    ``centre`` and the displacement of ``centre`` scaled alike)."""
    theta = angle_of(m)
    moved = m[:2, :2] @ centre + m[:2, 2]
    return rigid(fraction * theta, centre, fraction * (moved - centre))


def within(a: F64, b: F64, points: F64, limit_px: float) -> bool:
    """Whether poses ``a`` and ``b`` map every point within ``limit_px`` of each other."""
    pa = points @ a[:2, :2].T + a[:2, 2]
    pb = points @ b[:2, :2].T + b[:2, 2]
    return bool(np.all(np.hypot(*(pa - pb).T) <= limit_px))
