"""Tracking every vertebra through every frame: :func:`track` and :class:`Tracks`."""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from dynaspine.errors import InputError, TrackingLost
from dynaspine.io import Study
from dynaspine.landmarks import Landmarks
from dynaspine.tracking._options import TrackingOptions
from dynaspine.tracking._refine import PatchStack, back_warped_patch, partial_pose, within
from dynaspine.tracking._register import Registration, register
from dynaspine.tracking._search import global_search
from dynaspine.tracking._template import (
    F64,
    FramePyramid,
    VertebraTemplate,
    build_template,
    orthonormalise,
    rigid_inverse,
)

ProgressCallback = Callable[[int, int], None]
View = Literal["lateral", "ap"]


@dataclass
class Tracks:
    """Per-vertebra poses of a tracked study.

    Attributes
    ----------
    reference_frame
        Index of the frame the landmarks were placed on.
    names
        Vertebra names, cranial to caudal.
    corners
        name -> ``(n_frames, 4, 2)`` corners (x, y pixels, docs/conventions.md order): the
        reference corners mapped by the frame's transform; NaN rows where not found.
    transforms
        name -> ``(n_frames, 2, 3)`` reference->frame rigid transforms
        ``[[cos t, -sin t, tx], [sin t, cos t, ty]]`` in pixels; NaN where not found.
    quality
        name -> ``(n_frames,)`` registration quality in [0, 1] (masked normalised
        cross-correlation of the band-passed template and frame; the template is the mean
        template where template refinement ran); 0 where nothing was found.
    found
        name -> ``(n_frames,)`` whether the vertebra was found (quality at or above the
        threshold, enough of it in the image).
    notes
        Human-readable remarks (mode used, frames where vertebrae were not found).
    """

    reference_frame: int
    names: list[str]
    corners: dict[str, npt.NDArray[np.float64]]
    transforms: dict[str, npt.NDArray[np.float64]]
    quality: dict[str, npt.NDArray[np.float64]]
    found: dict[str, npt.NDArray[np.bool_]]
    notes: list[str] = field(default_factory=list)

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return int(next(iter(self.found.values())).shape[0]) if self.found else 0


def _build_templates(
    reference: npt.NDArray[np.generic],
    landmarks: Landmarks,
    opts: TrackingOptions,
    spacing: float,
    sigma: float,
    highpass: float,
    posterior_margin: float,
) -> dict[str, VertebraTemplate]:
    rows, cols = int(reference.shape[0]), int(reference.shape[1])
    ref_pyr = FramePyramid(reference, sigma=sigma, highpass=highpass)
    templates: dict[str, VertebraTemplate] = {}
    for name in landmarks.names:
        corners = landmarks.vertebrae[name]
        inside = (
            (corners[:, 0] >= 0)
            & (corners[:, 0] <= cols - 1)
            & (corners[:, 1] >= 0)
            & (corners[:, 1] <= rows - 1)
        )
        tm = build_template(
            ref_pyr,
            name,
            corners,
            dilation=opts.template_dilation,
            margin_px=opts.template_margin_mm / spacing,
            posterior_margin=posterior_margin,
            min_template_px=opts.min_template_px,
            search_template_px=opts.search_template_px,
        )
        if tm is None or inside.sum() < 2:
            raise TrackingLost(
                f"vertebra {name}: its corners on reference frame {landmarks.frame} do not "
                f"cover usable image content (outside the {cols}x{rows} image or a flat region)",
                hint="check the landmarks' frame index and that x is the column, y the row",
            )
        templates[name] = tm
    return templates


def _frames_of(study: Study) -> npt.NDArray[np.generic]:
    frames = np.asarray(study.frames)
    if frames.ndim == 4 and frames.shape[-1] in (3, 4):
        frames = frames[..., :3].mean(axis=-1).astype(np.float32)
    if frames.ndim != 3 or frames.shape[0] < 1:
        raise InputError(
            f"study {study.source or '(unnamed)'}: expected frames of shape (n, rows, columns), "
            f"got {frames.shape}"
        )
    if frames.dtype not in (np.uint8, np.uint16, np.float32):
        frames = frames.astype(np.float32)
    return frames


def _apply(m: F64, pts: F64) -> F64:
    return pts @ m[:2, :2].T + m[:2, 2]


@dataclass
class _State:
    """Per-vertebra tracking state while walking away from the reference frame."""

    last: F64 | None
    before: F64 | None = None
    typical: float = 0.0


def _predict(state: _State) -> F64 | None:
    if state.last is None:
        return None
    if state.before is None:
        return state.last
    # Constant-velocity prediction: apply the last inter-frame motion once more.
    return orthonormalise(state.last @ rigid_inverse(state.before) @ state.last)


class _Tracker:
    def __init__(
        self, templates: dict[str, VertebraTemplate], opts: TrackingOptions, spacing_mm: float
    ) -> None:
        self.t = templates
        self.o = opts
        self.px_per_mm = 1.0 / spacing_mm

    def refine(
        self, pyr: FramePyramid, name: str | VertebraTemplate, m0: F64, start: int
    ) -> Registration:
        tm = self.t[name] if isinstance(name, str) else name
        return register(
            pyr,
            tm,
            m0,
            start_level=start,
            max_iterations=self.o.max_iterations,
            tolerance_px=self.o.tolerance_px,
            tukey_c=self.o.tukey_c,
        )

    def ok(self, r: Registration | None) -> bool:
        return (
            r is not None
            and not r.conflict
            and r.quality >= self.o.quality_threshold
            and r.visible >= self.o.min_visible_fraction
        )

    def search(
        self, pyr: FramePyramid, name: str, pred: F64, radius_mm: float, rot_range: float
    ) -> Registration | None:
        tm = self.t[name]
        cands = global_search(
            pyr,
            tm,
            pred,
            radius_px=radius_mm * self.px_per_mm,
            rotation_range_deg=rot_range,
            rotation_step_deg=self.o.rotation_step_deg,
            n_candidates=self.o.candidates,
        )
        best: Registration | None = None
        for c in cands:
            r = self.refine(pyr, name, c.matrix, tm.search.level)
            if best is None or _score(r) > _score(best):
                best = r
        return best


def _frame_quality(results: dict[str, Registration | None]) -> float:
    """Median quality of the vertebrae in one frame (0 if none)."""
    qs = [r.quality for r in results.values() if r is not None and not r.conflict]
    return float(np.median(qs)) if qs else 0.0


def _score(r: Registration) -> float:
    return r.quality * min(1.0, r.visible)


def _resolve_conflicts(tracker: _Tracker, results: dict[str, Registration | None]) -> None:
    """Two vertebrae cannot lie on top of each other: where two found poses put their
    centroids closer than half the smaller vertebra's size, the lower-quality one is
    dropped (it matched its neighbour, e.g. because it left the field)."""
    found = [(nm, r) for nm, r in results.items() if r is not None and tracker.ok(r)]
    centres = {nm: r.matrix[:2, :2] @ tracker.t[nm].centre + r.matrix[:2, 2] for nm, r in found}
    for i, (a, ra) in enumerate(found):
        for b, rb in found[i + 1 :]:
            if results[a] is None or results[b] is None:
                continue
            limit = 0.5 * min(tracker.t[a].size_px, tracker.t[b].size_px)
            if float(np.hypot(*(centres[a] - centres[b]))) < limit:
                loser = a if _score(ra) < _score(rb) else b
                lost = results[loser]
                assert lost is not None
                results[loser] = Registration(
                    matrix=lost.matrix,
                    quality=lost.quality,
                    visible=lost.visible,
                    iterations=lost.iterations,
                    conflict=True,
                )


def _neighbours(names: list[str], name: str) -> list[str]:
    i = names.index(name)
    out = []
    if i + 1 < len(names):
        out.append(names[i + 1])
    if i > 0:
        out.append(names[i - 1])
    return out


def track(
    study: Study,
    landmarks: Landmarks,
    *,
    options: TrackingOptions | None = None,
    view: View | None = None,
    progress: ProgressCallback | None = None,
) -> Tracks:
    """Track every landmarked vertebra through every frame of ``study``.

    Each vertebra's template (its body region on the reference frame, from the four
    corners) is registered rigidly (rotation + translation, sub-pixel) against every frame,
    always against the reference template so errors do not accumulate over long sequences.
    Cine: each frame starts from a constant-velocity prediction; where registration fails
    the poses of the neighbouring vertebrae and then a global search (rotation sweep with
    NCC translation search) are tried. Static films (``mode="static"``, or few frames): the
    global search runs on every frame, caudal vertebrae first, each guiding its cranial
    neighbour. A vertebra whose best pose has a quality below the threshold, or too little of
    it inside the image, is not found in that frame: NaN corners and transform. Cines with
    noise-limited templates get a second pass against a low-noise mean template of the
    tracked frames, anchored to the reference frame (``template_refinement``,
    ``docs/tracking.md``).

    Parameters
    ----------
    study
        The frames (``study.frames``, ``(n, rows, columns)``) and their pixel spacing.
    landmarks
        Four corners per vertebra on the reference frame ``landmarks.frame``.
    options
        :class:`TrackingOptions`; defaults when ``None``.
    view
        ``"lateral"``: with ``options.posterior_margin`` > 0 the templates take in part of
        the posterior elements; ``"ap"`` or ``None`` (unknown): the vertebral body only.
    progress
        ``progress(done, total)`` after each frame.

    Returns
    -------
    Tracks
        Corners, transforms, quality and found flags per vertebra and frame.

    Raises
    ------
    InputError
        The reference frame does not exist or the frames are not 2-D images.
    TrackingLost
        A vertebra's corners do not lie on usable image content in the reference frame.
    """
    opts = options or TrackingOptions()
    frames = _frames_of(study)
    n = int(frames.shape[0])
    ref = landmarks.frame
    if ref >= n:
        raise InputError(
            f"landmarks are on frame {ref} but the study {study.source or ''} has {n} frame(s)",
            hint="set 'frame' in the landmarks file to the 0-based index of the reference frame",
        )
    if view not in (None, "lateral", "ap"):
        raise InputError(f"view must be 'lateral', 'ap' or None, got {view!r}")
    names = landmarks.names
    spacing = float(sum(study.pixel_spacing_mm) / 2.0)
    if not math.isfinite(spacing) or spacing <= 0:
        raise InputError(
            f"study {study.source or ''}: invalid pixel spacing {study.pixel_spacing_mm}"
        )
    bands = [(opts.smoothing_px, opts.highpass_px)]
    if opts.adaptive_band_pass:
        # Low-noise images (radiographs) keep finer detail: a narrower band-pass is used when
        # the noise-based expected quality of the templates stays high with it.
        bands.insert(0, (opts.fine_smoothing_px, opts.fine_highpass_px))
    templates: dict[str, VertebraTemplate] = {}
    sigma, highpass = bands[-1]
    expected = 1.0
    for sigma, highpass in bands:
        templates = _build_templates(frames[ref], landmarks, opts, spacing, sigma, highpass, 0.0)
        expected = float(
            np.median([tm.levels[tm.finest].expected_quality for tm in templates.values()])
        )
        if expected >= opts.fine_min_expected:
            break
    # Lateral views may take in part of the posterior elements (more edges, further from the
    # centre); the noise yardstick above stays that of the body alone.
    posterior = view == "lateral" and opts.posterior_margin > 0
    if posterior:
        templates = _build_templates(
            frames[ref], landmarks, opts, spacing, sigma, highpass, opts.posterior_margin
        )

    # Quality expected from the reference frame's noise alone (template and frame with
    # independent noise of the same level): the yardstick before a vertebra has a history.
    prior = {nm: tm.levels[tm.finest].expected_quality for nm, tm in templates.items()}
    static = opts.mode == "static" or (opts.mode == "auto" and n <= opts.static_max_frames)
    # Cine with noise-limited templates (low expected quality): refined after the first pass
    # (static films: three frames in different positions gained nothing, docs/tracking.md).
    refine = (
        opts.template_refinement and not static and n >= 3 and expected < opts.refine_max_expected
    )
    stacks = {nm: PatchStack() for nm in names} if refine else {}
    total = 2 * n if refine else n
    if refine:
        ref_pyr = FramePyramid(frames[ref], sigma=sigma, highpass=highpass)
        for nm in names:
            patch = back_warped_patch(ref_pyr, templates[nm], np.eye(3))
            if patch is not None:
                stacks[nm].add(ref, patch)
    tracker = _Tracker(templates, opts, spacing)
    mats: dict[str, F64] = {nm: np.full((n, 3, 3), np.nan) for nm in names}
    cands: dict[str, F64] = {nm: np.full((n, 3, 3), np.nan) for nm in names}
    quality: dict[str, npt.NDArray[np.float64]] = {nm: np.zeros(n) for nm in names}
    found: dict[str, npt.NDArray[np.bool_]] = {nm: np.zeros(n, dtype=bool) for nm in names}
    for nm in names:
        mats[nm][ref] = np.eye(3)
        quality[nm][ref] = 1.0
        found[nm][ref] = True

    order = [*range(ref + 1, n), *range(ref - 1, -1, -1)]
    done = 1
    if progress:
        progress(done, total)
    pool = ThreadPoolExecutor(max_workers=opts.threads) if opts.threads > 1 and not static else None
    try:
        states = {nm: _State(last=np.eye(3)) for nm in names}
        for k in order:
            if k == ref - 1:  # turning back from the reference: restart the predictions
                states = {nm: _State(last=np.eye(3)) for nm in names}
            pyr = FramePyramid(frames[k], sigma=sigma, highpass=highpass)
            if static:
                results = _static_frame(tracker, pyr, names, states)
            else:
                results = _cine_frame(tracker, pyr, names, states, pool, prior)
            _resolve_conflicts(tracker, results)
            frame_q = _frame_quality(results)
            for nm, r in results.items():
                quality[nm][k] = 0.0 if r is None else r.quality
                expected = states[nm].typical
                if expected <= 0:  # no history yet: the frame's median or the noise prior
                    expected = max(frame_q, min(prior[nm], opts.prior_cap))
                if r is not None and tracker.ok(r) and r.quality >= expected - opts.found_drop:
                    mats[nm][k] = r.matrix
                    found[nm][k] = True
                    prev_q = states[nm].typical
                    typical = r.quality if prev_q <= 0 else 0.7 * prev_q + 0.3 * r.quality
                    states[nm] = _State(last=r.matrix, before=states[nm].last, typical=typical)
                    if refine:
                        patch = back_warped_patch(pyr, templates[nm], r.matrix)
                        if patch is not None:
                            stacks[nm].add(k, patch)
                else:
                    if refine and r is not None and not r.conflict:
                        cands[nm][k] = r.matrix  # may be found against the refined template
                    # keep the last good pose for the prediction; no velocity across a gap
                    states[nm] = _State(last=states[nm].last, typical=states[nm].typical)
            done += 1
            if progress:
                progress(done, total)
    finally:
        if pool is not None:
            pool.shutdown()
    if refine:
        _refine_pass(
            frames,
            stacks,
            (mats, cands),
            (quality, found),
            tracker,
            (sigma, highpass),
            ref,
            progress,
        )

    corners_out: dict[str, npt.NDArray[np.float64]] = {}
    transforms: dict[str, npt.NDArray[np.float64]] = {}
    for nm in names:
        ref_corners = landmarks.vertebrae[nm]
        m = mats[nm]
        transforms[nm] = m[:, :2, :].copy()
        corners_out[nm] = np.einsum("nij,kj->nki", m[:, :2, :2], ref_corners) + m[:, None, :2, 2]
    notes = [
        f"mode: {'static films (global search on every frame)' if static else 'cine'}",
        f"band-pass: smoothing sigma {sigma:g} px, high-pass sigma {highpass:g} px",
    ]
    if posterior:
        notes.append(
            f"posterior elements: templates extend {opts.posterior_margin:g} of the body "
            "depth posteriorly (lateral view)"
        )
    if refine:
        notes.append(
            f"template refinement: noise-limited templates (median expected quality "
            f"{expected:.2f}); poses re-registered against the mean of the tracked frames"
        )
    for nm in names:
        missing = np.flatnonzero(~found[nm])
        if missing.size:
            shown = ", ".join(str(i) for i in missing[:20]) + (" ..." if missing.size > 20 else "")
            notes.append(f"{nm}: not found in {missing.size} of {n} frame(s): {shown}")
    return Tracks(
        reference_frame=ref,
        names=names,
        corners=corners_out,
        transforms=transforms,
        quality=quality,
        found=found,
        notes=notes,
    )


def _cine_frame(
    tracker: _Tracker,
    pyr: FramePyramid,
    names: list[str],
    states: dict[str, _State],
    pool: ThreadPoolExecutor | None,
    prior: dict[str, float],
) -> dict[str, Registration | None]:
    opts = tracker.o

    def first(name: str) -> Registration | None:
        pred = _predict(states[name])
        if pred is None:
            return None
        tm = tracker.t[name]
        st = states[name]
        if st.before is not None and st.typical > 0:
            # Tracking smoothly: the prediction is close, start at the finest level; the
            # recovery below repeats coarse to fine if this falls short.
            r = tracker.refine(pyr, name, pred, tm.finest)
            if tracker.ok(r) and r.quality >= st.typical - opts.quality_drop:
                return r
        return tracker.refine(pyr, name, pred, min(tm.finest + 1, tm.coarsest))

    if pool is not None:
        results = dict(zip(names, pool.map(first, names), strict=True))
    else:
        results = {nm: first(nm) for nm in names}
    # Recovery where the quality fell below the threshold or clearly below what this
    # vertebra reached recently (or, on the first frames, below what the others reach in
    # this frame or what the reference frame's noise allows: after a large first motion
    # most vertebrae can sit in wrong optima, which pulls the frame's median down too);
    # caudal first so a recovered vertebra can guide its cranial neighbour.
    frame_q = _frame_quality(results)
    for name in reversed(names):
        best = results[name]
        typical = states[name].typical
        expected = typical if typical > 0 else max(frame_q, prior[name])
        if tracker.ok(best) and best is not None and best.quality >= expected - opts.quality_drop:
            continue
        tm = tracker.t[name]
        starts: list[F64] = []
        last = states[name].last
        if last is not None and states[name].before is not None:
            starts.append(last)
        for nb in _neighbours(names, name):
            r_nb = results.get(nb)
            if r_nb is not None and tracker.ok(r_nb):
                starts.append(r_nb.matrix)
        for m0 in starts:
            r = tracker.refine(pyr, name, m0, tm.coarsest)
            if best is None or _score(r) > _score(best):
                best = r
        if not (
            tracker.ok(best) and best is not None and best.quality >= expected - opts.quality_drop
        ):
            pred = states[name].last
            if pred is not None:
                r2 = tracker.search(pyr, name, pred, opts.search_radius_mm, opts.rotation_range_deg)
                if r2 is not None and (best is None or _score(r2) > _score(best)):
                    best = r2
        results[name] = best
    return results


def _static_frame(
    tracker: _Tracker, pyr: FramePyramid, names: list[str], states: dict[str, _State]
) -> dict[str, Registration | None]:
    """Static films: a global search for every vertebra, caudal first, each found
    vertebra guiding its cranial neighbour; a second pass retries the vertebrae not found
    with the guidance of both neighbours."""
    opts = tracker.o
    results: dict[str, Registration | None] = {}

    def attempt(name: str, guides: list[F64]) -> Registration | None:
        tm = tracker.t[name]
        starts: list[F64] = [*guides, np.eye(3)]
        last = states[name].last
        if last is not None:
            starts.append(last)
        cands = [tracker.refine(pyr, name, m0, tm.coarsest) for m0 in starts]
        if guides:
            searches = [(g, opts.neighbour_radius_mm) for g in guides]
        else:
            searches = [(np.eye(3), opts.search_radius_mm)]
            if last is not None and not np.allclose(last, np.eye(3)):
                searches.append((last, opts.search_radius_mm))
        for centre, radius in searches:
            r = tracker.search(pyr, name, centre, radius, opts.rotation_range_deg)
            if r is not None:
                cands.append(r)
        return max(cands, key=_score) if cands else None

    for i in range(len(names) - 1, -1, -1):  # caudal first
        name = names[i]
        lower = results.get(names[i + 1]) if i + 1 < len(names) else None
        guides = [lower.matrix] if lower is not None and tracker.ok(lower) else []
        results[name] = attempt(name, guides)
    for i, name in enumerate(names):
        if tracker.ok(results[name]):
            continue
        guides = []
        for j in (i - 1, i + 1):
            nb = results.get(names[j]) if 0 <= j < len(names) else None
            if nb is not None and tracker.ok(nb):
                guides.append(nb.matrix)
        if guides:
            r = attempt(name, guides)
            best = results[name]
            if r is not None and (best is None or _score(r) > _score(best)):
                results[name] = r
    return results


def _refine_pass(
    frames: npt.NDArray[np.generic],
    stacks: dict[str, PatchStack],
    first: tuple[dict[str, F64], dict[str, F64]],
    out: tuple[dict[str, npt.NDArray[np.float64]], dict[str, npt.NDArray[np.bool_]]],
    tracker: _Tracker,
    band: tuple[float, float],
    ref: int,
    progress: ProgressCallback | None,
) -> None:
    """Second pass (``_refine.py``), in the first pass's order: every found pose is
    registered again, from its first-pass pose at the finest level, against the
    leave-one-out mean template; a vertebra not found in the first pass is registered from
    its best first-pass pose and from its refined pose in the previous frame, and is found
    when its quality against the mean template passes the same rules as in the first pass.
    Poses are then anchored to the reference frame (``refine_anchor``). ``first`` (the found
    poses and the best poses where not found) and ``out`` (quality, found) are updated in
    place."""
    mats, cands = first
    quality, found = out
    opts = tracker.o
    n = int(frames.shape[0])
    names = list(mats)
    new = {nm: np.full((n, 3, 3), np.nan) for nm in names}
    new_q = {nm: np.full(n, np.nan) for nm in names}
    rescued = {nm: np.zeros(n, dtype=bool) for nm in names}
    limit_px = opts.refine_max_change_mm * tracker.px_per_mm
    prev: dict[str, F64 | None] = {}
    order = [ref, *range(ref + 1, n), *range(ref - 1, -1, -1)]
    for i, k in enumerate(order):
        if k == ref or k == ref - 1:  # walking away from the reference, as the first pass
            prev = {
                nm: new[nm][ref] if np.isfinite(new[nm][ref]).all() else np.eye(3) for nm in names
            }
        pyr = FramePyramid(frames[k], sigma=band[0], highpass=band[1])
        results: dict[str, Registration | None] = {}
        for nm in names:
            tm = stacks[nm].template(tracker.t[nm], k)
            if tm is None or (k == ref and opts.refine_anchor <= 0):
                results[nm] = None
                continue
            lt = tm.levels[tm.finest]
            box0 = lt.box * 2.0**lt.level
            if found[nm][k]:
                r = tracker.refine(pyr, tm, mats[nm][k], tm.finest)
                ok = r.visible >= opts.min_visible_fraction and within(
                    r.matrix, mats[nm][k], box0, limit_px
                )
                results[nm] = r if ok else None
                continue
            best: Registration | None = None
            for m0 in (cands[nm][k], prev.get(nm)):
                if m0 is None or not np.isfinite(m0).all():
                    continue
                got = tracker.refine(pyr, tm, m0, min(tm.finest + 1, tm.coarsest))
                if best is None or _score(got) > _score(best):
                    best = got
            results[nm] = best if best is not None and tracker.ok(best) else None
        rescue = {nm for nm, r in results.items() if r is not None and not found[nm][k]}
        _resolve_conflicts(tracker, results)
        for nm, res in results.items():
            if res is None or res.conflict:
                continue
            new[nm][k] = res.matrix
            new_q[nm][k] = res.quality
            rescued[nm][k] = nm in rescue
            prev[nm] = res.matrix
        if progress:
            progress(n + i + 1, 2 * n)
    for nm in names:
        tm = tracker.t[nm]
        # A vertebra not found in the first pass is found where its quality against the mean
        # template stays within found_drop of its median over the frames found before.
        kept = found[nm] & np.isfinite(new_q[nm])
        kept[ref] = False
        typical = float(np.median(new_q[nm][kept])) if kept.any() else 1.0
        good = rescued[nm] & (new_q[nm] >= typical - opts.found_drop)
        good &= new_q[nm] >= opts.quality_threshold
        anchor = np.eye(3)
        if opts.refine_anchor > 0:
            if not np.isfinite(new[nm][ref]).all():
                continue  # the reference could not be re-registered: keep the first pass
            anchor = rigid_inverse(partial_pose(new[nm][ref], opts.refine_anchor, tm.centre))
        ok = kept | good
        mats[nm][ok] = new[nm][ok] @ anchor
        quality[nm][ok] = new_q[nm][ok]
        found[nm][good] = True
        mats[nm][ref] = np.eye(3)
