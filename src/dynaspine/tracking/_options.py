"""Tracking options; defaults come from ``defaults.toml`` next to this module."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from functools import cache
from importlib import resources
from typing import Any, Literal

from dynaspine.errors import DataError, InputError

Mode = Literal["auto", "cine", "static"]


@cache
def _defaults() -> dict[str, Any]:
    try:
        text = resources.files("dynaspine.tracking").joinpath("defaults.toml").read_text("utf-8")
        doc = tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as exc:  # pragma: no cover - packaging error
        raise DataError(f"dynaspine/tracking/defaults.toml cannot be read: {exc}") from None
    flat: dict[str, Any] = {}
    for section, values in doc.items():
        for key, value in values.items():
            flat[f"{section}.{key}"] = value
    return flat


def _d(key: str) -> Any:
    return _defaults()[key]


@dataclass(frozen=True, kw_only=True)
class TrackingOptions:
    """Settings of :func:`dynaspine.tracking.track`.

    Defaults are read from ``dynaspine/tracking/defaults.toml`` (with its source and date).

    Parameters
    ----------
    mode
        ``"cine"``: frame-to-frame prediction, a global search only where registration fails;
        ``"static"``: static films with large motion, a global search on every frame;
        ``"auto"``: static when the study has at most ``static_max_frames`` frames.
    quality_threshold
        Masked normalised cross-correlation (0..1) below which a vertebra is not found in a
        frame: its corners and transform are NaN there, never a guess.
    quality_drop
        Cine: a registration whose quality falls this far below the vertebra's recent
        quality (an exponential average) triggers the recovery steps (neighbours' poses,
        global search), which keep the best pose found.
    found_drop
        A vertebra whose best quality in a frame is this far below its recent quality (or,
        before it has one, below the median quality of the vertebrae in that frame) is not
        found there: a sudden loss of similarity means a wrong or unreliable pose.
    prior_cap
        Before a vertebra has a history, its expected quality is the larger of the frame's
        median quality and its noise-based expectation (Immerkaer noise estimate on the
        reference frame) capped at this value.
    min_visible_fraction
        Smallest fraction of the template inside the image for a vertebra to be found.
    rotation_range_deg, rotation_step_deg
        Rotation sweep of the global search, about the predicted rotation.
    search_radius_mm
        Translation search radius of the global search around the prediction.
    neighbour_radius_mm
        Search radius when the prediction comes from a neighbouring vertebra's pose.
    template_dilation
        Dilation of the corner polygon about its centroid, as a fraction of its size.
    template_margin_mm
        Extra template margin beyond the dilated polygon, in mm.
    adaptive_band_pass, fine_smoothing_px, fine_highpass_px, fine_min_expected
        With ``adaptive_band_pass``, the narrower band-pass (``fine_*``) is used when the
        median noise-based expected quality of the templates (Immerkaer noise estimate on
        the reference frame with a detector-blur model, see
        :func:`~dynaspine.tracking._template.band_passed_noise_variance`) is at least
        ``fine_min_expected``: low-noise radiographs keep
        finer detail, noisy fluoroscopy gets the broader default.
    posterior_margin
        Extension of the template towards the posterior elements, as a fraction of the
        vertebral body depth (0 = body only, the default); applied on lateral views only
        (``track(..., view="lateral")``). It helps where the bodies' own edges are faint
        and the images noisy, and costs accuracy where the bodies have sharp cortices
        (docs/tracking.md).
    smoothing_px
        Gaussian smoothing sigma in pixels of the working pyramid level.
    highpass_px
        Sigma (pixels of the working level) of the broad blur subtracted from the smoothed
        images (a difference of Gaussians) so slowly varying overlapping structures carry
        little weight; 0 registers the smoothed intensities.
    min_template_px
        The finest pyramid level used keeps the template at least this many pixels across.
    max_iterations, tolerance_px, tukey_c
        Gauss-Newton iterations per pyramid level, convergence tolerance (pixels) and the
        Tukey biweight constant for the robust weights.
    search_template_px
        Template size (pixels across) at the pyramid level of the coarse global search.
    candidates
        Number of coarse-search candidates refined by registration.
    static_max_frames
        See ``mode``.
    template_refinement, refine_max_expected
        Cine only. With ``template_refinement``, when the median noise-based expected quality of the
        templates is below ``refine_max_expected`` (noise-limited images, e.g. fluoroscopy
        of low-contrast bodies), the found frames are warped back to the reference pose and
        averaged into a low-noise template, and every found pose is registered again against
        it (leave-one-out; ``docs/tracking.md``). Costs a second registration pass.
    refine_anchor
        How the mean template is tied to the reference frame (0..1): 0 takes its coordinates
        as the reference frame's, 1 registers the reference frame against it and composes
        every pose with the inverse; values between interpolate. The reference pose stays
        the identity either way.
    refine_max_change_mm
        A refined pose moving any template corner more than this from its first-pass pose
        is rejected (the first-pass pose is kept).
    threads
        Worker threads registering vertebrae in parallel (1 = no threads).
    """

    mode: Mode = "auto"
    quality_threshold: float = _d("quality.threshold")
    min_visible_fraction: float = _d("quality.min_visible_fraction")
    quality_drop: float = _d("quality.drop")
    found_drop: float = _d("quality.found_drop")
    prior_cap: float = _d("quality.prior_cap")
    rotation_range_deg: float = _d("search.rotation_range_deg")
    rotation_step_deg: float = _d("search.rotation_step_deg")
    search_radius_mm: float = _d("search.radius_mm")
    neighbour_radius_mm: float = _d("search.neighbour_radius_mm")
    template_dilation: float = _d("template.dilation")
    template_margin_mm: float = _d("template.margin_mm")
    posterior_margin: float = _d("template.posterior_margin")
    smoothing_px: float = _d("template.smoothing_px")
    highpass_px: float = _d("template.highpass_px")
    adaptive_band_pass: bool = True
    fine_smoothing_px: float = _d("template.fine_smoothing_px")
    fine_highpass_px: float = _d("template.fine_highpass_px")
    fine_min_expected: float = _d("template.fine_min_expected")
    min_template_px: int = _d("template.min_template_px")
    max_iterations: int = _d("registration.max_iterations")
    tolerance_px: float = _d("registration.tolerance_px")
    tukey_c: float = _d("registration.tukey_c")
    search_template_px: int = _d("search.search_template_px")
    candidates: int = _d("search.candidates")
    static_max_frames: int = _d("search.static_max_frames")
    template_refinement: bool = _d("refinement.enabled")
    refine_max_expected: float = _d("refinement.max_expected")
    refine_anchor: float = _d("refinement.anchor")
    refine_max_change_mm: float = _d("refinement.max_change_mm")
    threads: int = 1

    def __post_init__(self) -> None:
        if self.mode not in ("auto", "cine", "static"):
            raise InputError(f"tracking mode must be 'auto', 'cine' or 'static', got {self.mode!r}")
        checks = {
            "quality_threshold": 0.0 <= self.quality_threshold <= 1.0,
            "quality_drop": 0.0 <= self.quality_drop <= 1.0,
            "found_drop": 0.0 <= self.found_drop <= 1.0,
            "prior_cap": 0.0 <= self.prior_cap <= 1.0,
            "min_visible_fraction": 0.0 < self.min_visible_fraction <= 1.0,
            "rotation_range_deg": 0.0 <= self.rotation_range_deg <= 180.0,
            "rotation_step_deg": self.rotation_step_deg > 0.0,
            "search_radius_mm": self.search_radius_mm >= 0.0,
            "neighbour_radius_mm": self.neighbour_radius_mm >= 0.0,
            "template_dilation": 0.0 <= self.template_dilation <= 1.0,
            "template_margin_mm": self.template_margin_mm >= 0.0,
            "posterior_margin": 0.0 <= self.posterior_margin <= 2.0,
            "smoothing_px": self.smoothing_px >= 0.0,
            "fine_smoothing_px": self.fine_smoothing_px >= 0.0,
            "fine_highpass_px": self.fine_highpass_px == 0.0
            or self.fine_highpass_px > self.fine_smoothing_px,
            "fine_min_expected": 0.0 <= self.fine_min_expected <= 1.0,
            "highpass_px": self.highpass_px == 0.0 or self.highpass_px > self.smoothing_px,
            "min_template_px": self.min_template_px >= 8,
            "max_iterations": self.max_iterations >= 1,
            "tolerance_px": self.tolerance_px > 0.0,
            "tukey_c": self.tukey_c > 0.0,
            "search_template_px": self.search_template_px >= 8,
            "candidates": self.candidates >= 1,
            "static_max_frames": self.static_max_frames >= 0,
            "refine_max_expected": 0.0 <= self.refine_max_expected <= 1.0,
            "refine_anchor": 0.0 <= self.refine_anchor <= 1.0,
            "refine_max_change_mm": self.refine_max_change_mm > 0.0,
            "threads": self.threads >= 1,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            values = ", ".join(f"{name}={getattr(self, name)!r}" for name in bad)
            raise InputError(
                f"invalid tracking option(s): {values}",
                hint="see dynaspine.tracking.TrackingOptions for the allowed ranges",
            )

    def replace(self, **changes: Any) -> TrackingOptions:
        """A copy with ``changes`` applied (validated again)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return TrackingOptions(**values)
