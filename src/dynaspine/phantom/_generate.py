"""``generate``: a phantom study with exact ground truth, and :class:`PhantomStudy`."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
import numpy.typing as npt

from dynaspine._data import load_json
from dynaspine.errors import PhantomError
from dynaspine.io._study import Study
from dynaspine.landmarks import Landmarks
from dynaspine.phantom._anatomy import Anatomy, FloatArray, Layer
from dynaspine.phantom._geometry import apply, compose, invert, rigid
from dynaspine.phantom._motion import (
    ProgramName,
    ViewName,
    chain_motion,
    check_program,
)
from dynaspine.phantom._render import Detector, ProgressCallback, line_integrals
from dynaspine.phantom._truth import Truth

Anatomy_ = Literal["ct", "parametric"]
Geometry = Literal["parallel", "cone"]
Dose = Literal["fluoro", "radiograph", "none"]
BoneModel = Literal["ct", "sharp"]
Metering = Literal["spine", "field"]

DEFAULT_PARAMETRIC = ("L1", "L2", "L3", "L4", "L5", "S1")


@lru_cache(maxsize=1)
def imaging_table() -> dict[str, Any]:
    """The bundled imaging table (``data/imaging.json``)."""
    return load_json("dynaspine.phantom", "data/imaging.json")


@dataclass
class PhantomStudy:
    """A generated study: 12-bit frames, landmarks on the reference frame, and the truth."""

    frames: npt.NDArray[np.uint16]
    pixel_spacing_mm: tuple[float, float]
    frame_times_s: FloatArray
    landmarks: Landmarks
    true_landmarks: Landmarks
    truth: Truth
    positions: list[str] | None
    view: str
    magnification: float
    geometry: str
    dose: str
    description: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return int(self.frames.shape[0])

    def to_study(self) -> Study:
        """The frames as a :class:`dynaspine.io.Study` (calibration source ``"phantom"``)."""
        return Study(
            frames=self.frames,
            pixel_spacing_mm=self.pixel_spacing_mm,
            calibration_source="phantom",
            frame_times_s=self.frame_times_s.copy(),
            source=f"phantom: {self.description}",
            metadata={
                "modality": "RF" if self.positions is None else "DX",
                "view": self.view,
                "positions": self.positions,
                "magnification": self.magnification,
                **self.metadata,
            },
        )

    def write(
        self,
        out_dir: str | Path,
        *,
        position_tags: bool = True,
        progress: ProgressCallback | None = None,
    ) -> dict[str, Any]:
        """Write ``study.dcm`` (multi-frame RF), ``dx/`` (single-frame DX), landmarks and truth.

        Returns the paths written, by kind (``"dx"``: the list of DX files in frame order).
        """
        from dynaspine.io._write import write_multiframe_rf, write_singleframe_dx

        out = Path(out_dir)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PhantomError(f"cannot create output folder {out}: {exc.strerror}") from None
        ps = self.pixel_spacing_mm
        frame_ms = (
            float(np.median(np.diff(self.frame_times_s)) * 1000.0) if self.n_frames > 1 else 0.0
        )
        view_position = "LL" if self.view == "lateral" else "AP"
        desc = f"dynaspine phantom {self.description}"
        if not position_tags:
            desc = f"dynaspine phantom {self.metadata.get('anatomy', '')} {self.view}".strip()
        rf = write_multiframe_rf(
            out / "study.dcm",
            self.frames,
            pixel_spacing_mm=ps,
            imager_pixel_spacing_mm=(ps[0] * self.magnification, ps[1] * self.magnification),
            magnification=self.magnification,
            frame_time_ms=frame_ms,
            series_description=desc,
            view_position=view_position if position_tags else None,
        )
        dx = write_singleframe_dx(
            out / "dx",
            self.frames,
            pixel_spacing_mm=ps,
            imager_pixel_spacing_mm=(ps[0] * self.magnification, ps[1] * self.magnification),
            magnification=self.magnification,
            frame_times_s=self.frame_times_s,
            positions=self.positions if position_tags else None,
            view_position=view_position if position_tags else None,
            series_description=desc,
            seed=int(self.metadata.get("seed", 0)),
            progress=progress,
        )
        marks = out / "landmarks.json"
        self.landmarks.dump(marks)
        truth = out / "truth.json"
        self.truth.dump(truth)
        return {"study": rf, "dx": dx, "landmarks": marks, "truth": truth}


def _gas_motion(n: int, count: int, spacing: float, rng: np.random.Generator) -> list[FloatArray]:
    """Independent slow drift of each gas pocket (peristalsis), px, identity at frame 0."""
    t = np.linspace(0.0, 1.0, n)
    out = []
    for _ in range(count):
        amp = rng.uniform(3.0, 10.0) / spacing
        ph = rng.uniform(0, 2 * np.pi, size=2)
        f = rng.uniform(0.5, 1.5)
        dx = amp * (np.sin(2 * np.pi * f * t + ph[0]) - np.sin(ph[0]))
        dy = amp * (np.sin(2 * np.pi * f * t + ph[1]) - np.sin(ph[1]))
        out.append(np.stack([rigid(0.0, float(dx[k]), float(dy[k])) for k in range(n)]))
    return out


def texture_field(
    shape: tuple[int, ...], *, spacing: float, amplitude: float, rng: np.random.Generator
) -> npt.NDArray[np.float32]:
    """``1 + amplitude * n``, ``n`` unit band-pass noise between about 1 and 3 mm."""
    noise = rng.standard_normal(shape).astype(np.float32)
    fine = cv2.GaussianBlur(noise, (0, 0), max(0.5, 0.6 / spacing))
    coarse = cv2.GaussianBlur(noise, (0, 0), max(1.0, 1.8 / spacing))
    band = fine - coarse
    band /= max(float(band.std()), 1e-6)
    return np.asarray(1.0 + amplitude * np.clip(band, -3, 3), dtype=np.float32)


def add_texture(anat: Anatomy, *, amplitude: float, rng: np.random.Generator) -> None:
    """Multiply every part's image by a :func:`texture_field` (trabecular texture).

    Projected trabecular bone has fine texture that a 3 mm CT cannot hold; this stands in
    for it. Being part of the vertebra's reference image it moves exactly with it.
    """
    sp = anat.pixel_spacing_mm
    for part in anat.parts.values():
        for layer in part.layers:
            if layer.image.size < 16:
                continue
            field_ = texture_field(layer.image.shape, spacing=sp, amplitude=amplitude, rng=rng)
            layer.image = (layer.image * field_).astype(np.float32)
    if anat.rerender is not None:
        base = anat.rerender
        fields = {
            name: texture_field(p.layers[0].image.shape, spacing=sp, amplitude=amplitude, rng=rng)
            for name, p in anat.parts.items()
        }
        for name, p in anat.parts.items():
            p.layers = [base(name, 0.0)]
            p.layers[0].image *= fields[name]

        def textured(name: str, angle: float) -> Layer:
            layer = base(name, angle)
            layer.image *= fields[name]
            return layer

        anat.rerender = textured


def _axial_motion(
    anat: Anatomy,
    level_deg: dict[str, FloatArray],
    ref_corners: dict[str, FloatArray],
    transforms: dict[str, FloatArray],
    truth_t: dict[str, FloatArray],
    coupling: float,
    n: int,
    positions: list[str] | None,
) -> tuple[dict[str, FloatArray], dict[str, FloatArray] | None]:
    """Axial angle (rad) of every part per frame, true corners, and fitted transforms.

    Each vertebra's axial angle is the sum of ``coupling`` x the in-plane rotation of every
    level below it. Updates ``truth_t`` in place with least-squares rigid fits.
    """
    if not coupling:
        return {}, None
    if positions is not None and positions[0] != "neutral":
        raise PhantomError(
            "with axial_coupling the first static film must be 'neutral' (the reference)"
        )
    from dynaspine.phantom._oblique import rigid_fit, rotate_corners

    names = list(anat.parts)
    axial: dict[str, FloatArray] = {names[-1]: np.zeros(n)}
    for upper, lower in reversed(list(itertools.pairwise(names))):
        axial[upper] = axial[lower] + np.radians(coupling * level_deg[f"{upper}-{lower}"])
    corners: dict[str, FloatArray] = {}
    sp = anat.pixel_spacing_mm
    for name in truth_t:
        fc = np.empty((n, 4, 2))
        for k in range(n):
            rc = rotate_corners(
                ref_corners[name], float(axial[name][k]), anat.axial_axes[name], spacing=sp
            )
            fc[k] = apply(transforms[name][k], rc)
        corners[name] = fc
        truth_t[name] = np.stack([rigid_fit(ref_corners[name], fc[k]) for k in range(n)])
    return axial, corners


def generate(
    *,
    anatomy: Anatomy_ = "ct",
    view: ViewName = "lateral",
    program: ProgramName = "flexion-extension",
    n_frames: int = 30,
    pixel_spacing_mm: float = 0.5,
    shape: tuple[int, int] = (512, 512),
    dose: Dose | float = "fluoro",
    blur_mm: float | None = None,
    geometry: Geometry = "parallel",
    magnification: float | None = None,
    seed: int = 0,
    click_noise_px: float = 0.0,
    vertebrae: list[str] | tuple[str, ...] | None = None,
    positions: list[str] | tuple[str, ...] | None = None,
    frame_rate_fps: float | None = None,
    cycle_s: float | None = None,
    rom_scale: float = 1.0,
    motion_overrides: dict[str, dict[str, float]] | None = None,
    drift: bool = True,
    gas: bool = True,
    background: bool = True,
    enhance: float = 1.0,
    texture: float = 0.15,
    axial_coupling: float = 0.0,
    ct_dir: str | Path | None = None,
    bone_model: BoneModel | None = None,
    metering: Metering | None = None,
    progress: ProgressCallback | None = None,
) -> PhantomStudy:
    """Generate a phantom study with exactly known motion of every vertebra.

    Parameters
    ----------
    anatomy
        ``"ct"``: digitally reconstructed radiographs of the bundled lumbar CT (T12-S1);
        ``"parametric"``: analytic vertebrae (any contiguous levels C2-S1), no CT needed.
    view
        ``"lateral"`` (sagittal) or ``"ap"`` (coronal).
    program
        ``"flexion-extension"`` (lateral cine), ``"lateral-bending"`` (AP cine) or
        ``"static"`` (one film per position).
    n_frames
        Frames of a cine (ignored for static films: one per position). Unless ``cycle_s``
        is given, the frames span exactly one movement cycle, so the motion per frame is
        about four times the range of motion divided by ``n_frames``: use 100+ frames for
        the slow movement of a real cine.
    pixel_spacing_mm, shape
        Output grid: isotropic pixel spacing at the patient (mm) and ``(rows, columns)``.
    dose
        ``"fluoro"``, ``"radiograph"`` (quantum noise at typical detector doses,
        data/imaging.json), ``"none"`` (noise-free) or effective quanta per mm^2.
    blur_mm
        Detector blur FWHM in mm (default by dose: data/imaging.json).
    geometry
        ``"parallel"`` (exact 2-D warps) or ``"cone"`` (perspective, magnification by depth).
    magnification
        EstimatedRadiographicMagnificationFactor written to DICOM (ImagerPixelSpacing =
        PixelSpacing x magnification) and, for cone beam, the isocentre magnification.
    seed
        Seeds all randomness (drift, gas, noise, clicks).
    click_noise_px
        Standard deviation of the Gaussian perturbation of :attr:`PhantomStudy.landmarks`,
        like an operator's clicks; :attr:`PhantomStudy.true_landmarks` stays exact.
    vertebrae
        Vertebrae to render, contiguous (parametric: default L1-S1; CT: T12-S1 available).
    positions
        Static films' positions (default: neutral, flexion, extension on lateral views;
        neutral, left-bending, right-bending on AP views).
    frame_rate_fps
        Cine frame rate (default 15).
    cycle_s
        Duration of one full movement cycle (neutral -> flexion -> neutral -> extension ->
        neutral) in seconds; the cine then spans ``n_frames / frame_rate_fps`` seconds,
        possibly several or part of a cycle.
    rom_scale, motion_overrides
        Scale all ranges of motion; or override one level's motion, e.g.
        ``{"L4-L5": {"positive_deg": 20}}`` (see :func:`dynaspine.phantom.level_motions`).
    drift, gas
        Whole-spine drift/tilt in the field; moving bowel-gas pockets.
    background
        Render the rest of the patient (soft tissue, pelvis); ``False`` leaves only the
        moving vertebrae, to validate the generator or a tracker in isolation.
    enhance
        Strength of the unsharp-mask processing of the log image (0 for raw images).
    texture
        Relative amplitude of the trabecular texture added to each vertebra (band-pass
        noise, 1-3 mm, fixed to the vertebra so it moves with it); 0 for none. The 3 mm CT
        and the analytic shapes have no bone texture of their own.
    axial_coupling
        CT, parallel geometry: each level also rotates axially (about the vertebra's
        superior axis, out of the image plane) by this fraction of its in-plane rotation,
        as coupled motion does (Pearcy & Tibrewal 1984); vertebrae are then re-projected
        from 3-D each frame. 0 (default) keeps every motion in plane and the truth exact.
    ct_dir
        A folder with another CT (``ct.nii.gz``) and masks named like the bundled ones
        (TotalSegmentator's ``vertebrae_L1.nii.gz`` ... ``sacrum.nii.gz``), axis-aligned RAS
        with isotropic voxels; default: the bundled CT.
    bone_model
        CT only: ``"sharp"`` (the default, except with ``axial_coupling``) super-resolves
        each vertebra's mask to a 0.5 mm grid (smoothed signed distance, cubic B-splines)
        and models its bone as a 0.35 mm cortical shell of compact bone around the CT's own
        cancellous attenuation, conserving each vertebra's total attenuation
        (``phantom/data/bone.json``, sources there; see docs/phantom.md), so endplates and
        cortices show as the sharp lines of a radiograph; ``"ct"`` projects the CT's own
        bone, whose 3 mm voxels blur every edge over about 3 mm (the default with
        ``axial_coupling``, whose axially rotated vertebrae are re-projected from the CT).
        The motion is the same for both (same seed); the reference corners are fitted to
        each model's own body surface (they differ by up to about 2 mm on lateral views,
        4 mm on AP views). The parametric phantom has its own analytic shell (``"ct"``
        stands for it).
    metering
        Where the automatic exposure control meters the reference frame, so that the
        dose's quanta per mm^2 are reached at the median transmission there: ``"spine"``
        (the spine region, as a fluoroscope's automatic brightness control meters the
        centre of the field, Geise 2001) or ``"field"`` (the whole field); default from
        ``data/imaging.json`` (``"spine"``).
    progress
        ``progress(done, total)`` callback.
    """
    if view not in ("lateral", "ap"):
        raise PhantomError(f"unknown view {view!r}", hint="use 'lateral' or 'ap'")
    pos = check_program(view, program, list(positions) if positions else None)
    if pos is None and (not isinstance(n_frames, int) or n_frames < 2 or n_frames > 5000):
        raise PhantomError(f"n_frames must be an integer in 2..5000 for a cine, got {n_frames!r}")
    if not (math.isfinite(pixel_spacing_mm) and 0.05 <= pixel_spacing_mm <= 5.0):
        raise PhantomError(
            f"pixel spacing {pixel_spacing_mm} mm is out of range", hint="use 0.05..5 mm"
        )
    rows, cols = (int(shape[0]), int(shape[1]))
    if not (16 <= rows <= 4096 and 16 <= cols <= 4096):
        raise PhantomError(
            f"image shape {shape} is out of range", hint="use 16..4096 pixels a side"
        )
    if not (math.isfinite(rom_scale) and 0.0 <= rom_scale <= 3.0):
        raise PhantomError(f"impossible motion: rom_scale {rom_scale} not in 0..3")
    if click_noise_px < 0 or not math.isfinite(click_noise_px):
        raise PhantomError(f"click_noise_px must be >= 0, got {click_noise_px}")
    if not (math.isfinite(enhance) and 0.0 <= enhance <= 5.0):
        raise PhantomError(f"enhance {enhance} out of range", hint="use 0..5")
    if not (math.isfinite(texture) and 0.0 <= texture <= 1.0):
        raise PhantomError(f"texture {texture} out of range", hint="use 0..1")
    if not (math.isfinite(axial_coupling) and -1.0 <= axial_coupling <= 1.0):
        raise PhantomError(f"impossible motion: axial_coupling {axial_coupling} not in -1..1")
    if axial_coupling and (anatomy != "ct" or geometry != "parallel"):
        raise PhantomError(
            "axial_coupling (out-of-plane rotation) needs anatomy='ct' and geometry='parallel'",
            hint="the parametric phantom and cone beam model in-plane motion only",
        )
    if geometry not in ("parallel", "cone"):
        raise PhantomError(f"unknown geometry {geometry!r}", hint="use 'parallel' or 'cone'")
    if anatomy not in ("ct", "parametric"):
        raise PhantomError(f"unknown anatomy {anatomy!r}", hint="use 'ct' or 'parametric'")
    from dynaspine.phantom._ct_bone import check_bone_model

    if bone_model is None:
        bone_model = "sharp" if anatomy == "ct" and not axial_coupling else "ct"
    check_bone_model(bone_model)
    if bone_model != "ct" and anatomy != "ct":
        raise PhantomError(
            f"bone_model={bone_model!r} needs anatomy='ct'",
            hint="the parametric phantom has its own analytic cortical shell; leave "
            "bone_model at 'ct' for it",
        )
    if bone_model != "ct" and axial_coupling:
        raise PhantomError(
            "bone_model='sharp' cannot be combined with axial_coupling",
            hint="axially rotated vertebrae are re-projected from the 3 mm CT; use "
            "bone_model='ct' with axial_coupling",
        )
    table = imaging_table()
    metering = metering or table["exposure_control"]["metering"]
    if metering not in ("spine", "field"):
        raise PhantomError(f"unknown metering {metering!r}", hint="use 'spine' or 'field'")
    if isinstance(dose, str):
        if dose not in ("fluoro", "radiograph", "none"):
            raise PhantomError(
                f"unknown dose {dose!r}", hint="use fluoro, radiograph, none or quanta/mm^2"
            )
        quanta = None if dose == "none" else float(table["dose"][dose]["quanta_per_mm2"])
        dose_name: str = dose
    else:
        if not (math.isfinite(dose) and dose > 0):
            raise PhantomError(f"dose must be > 0 quanta per mm^2, got {dose}")
        quanta, dose_name = float(dose), f"{dose:g} quanta/mm^2"
    default_blur_key = "radiograph" if (dose == "radiograph" or pos is not None) else "fluoro"
    blur = float(table["blur_fwhm_mm"][default_blur_key]) if blur_mm is None else float(blur_mm)
    if not (math.isfinite(blur) and 0.0 <= blur <= 10.0):
        raise PhantomError(f"blur_mm {blur} out of range", hint="use 0..10 mm FWHM")
    cone = table["cone_beam"]
    mag = float(cone["magnification"]) if magnification is None else float(magnification)
    if not (math.isfinite(mag) and 1.0 <= mag <= 3.0):
        raise PhantomError(f"magnification {mag} out of range", hint="use 1.0..3.0")

    rng = np.random.default_rng(seed)
    n = len(pos) if pos is not None else n_frames
    shape2 = (rows, cols)
    names = list(vertebrae) if vertebrae else None
    if anatomy == "parametric":
        from dynaspine.phantom._parametric import build_parametric

        anat = build_parametric(
            view=view,
            names=names or list(DEFAULT_PARAMETRIC),
            shape=shape2,
            pixel_spacing_mm=pixel_spacing_mm,
            rng=rng,
        )
        chosen = list(anat.parts)
    else:
        from dynaspine.phantom._ct import build_ct

        anat, chosen = build_ct(
            view=view,
            names=names,
            shape=shape2,
            pixel_spacing_mm=pixel_spacing_mm,
            rng=rng,
            slabs=int(cone["slabs"]) if geometry == "cone" else 1,
            folder=None if ct_dir is None else str(Path(ct_dir).resolve()),
            oblique=bool(axial_coupling),
            bone_model=bone_model,
        )
    if texture > 0:
        add_texture(anat, amplitude=texture, rng=np.random.default_rng([seed, 7]))
    notes: list[str] = []
    if geometry == "cone":
        from dynaspine.phantom._cone import to_cone

        notes += to_cone(
            anat,
            magnification=mag,
            sid_mm=float(cone["source_image_distance_mm"]),
            slabs=int(cone["slabs"]),
        )
    if not background:
        # keep a uniform slab of soft tissue so exposure and noise stay meaningful
        level = float(np.median(np.concatenate([la.image.ravel() for la in anat.background])))
        anat.background = [
            type(anat.background[0])(
                image=np.full((3, 3), level, np.float32), x0=0.0, y0=0.0, replicate=True
            )
        ]
        anat.rigid_background = []
    ref_corners = {name: part.corners for name, part in anat.parts.items()}
    if len(ref_corners) < 2:
        raise PhantomError("the phantom needs at least two vertebrae (one level)")
    fps = (
        float(table["frame_rate_fps"]["cine"]) if frame_rate_fps is None else float(frame_rate_fps)
    )
    if not (math.isfinite(fps) and 0.1 <= fps <= 1000):
        raise PhantomError(f"frame rate {fps} fps out of range", hint="use 0.1..1000")
    cycles = None
    if cycle_s is not None:
        if not (math.isfinite(cycle_s) and cycle_s > 0):
            raise PhantomError(f"impossible motion: cycle_s must be > 0, got {cycle_s}")
        cycles = (n - 1) / fps / float(cycle_s)
    motion = chain_motion(
        view=view,
        corners=ref_corners,
        program=program,
        n_frames=n,
        positions=pos,
        pixel_spacing_mm=pixel_spacing_mm,
        pivot_px=anat.pivot_px,
        rng=rng,
        rom_scale=rom_scale,
        overrides=motion_overrides,
        drift=drift,
        cycles=cycles,
    )
    transforms = motion.transforms  # from the neutral pose the anatomy was built in
    glob = motion.global_transforms
    truth_t = transforms
    if pos is not None and pos[0] != "neutral":
        # the reference is frame 0: re-base the truth on it
        base = {name: t[0] for name, t in transforms.items()}
        truth_t = {
            name: np.stack([compose(t, invert(base[name])) for t in transforms[name]])
            for name in transforms
        }
        ref_corners = {
            name: ref_corners[name] @ base[name][:, :2].T + base[name][:, 2] for name in ref_corners
        }
    # report only the chosen vertebrae (the CT's T12 moves but is cut by the scan)
    ref_corners = {k: ref_corners[k] for k in chosen}
    truth_t = {k: truth_t[k] for k in chosen}
    axial, frame_corners = _axial_motion(
        anat, motion.level_deg, ref_corners, transforms, truth_t, axial_coupling, n, pos
    )
    if axial:
        notes.append(
            f"axial coupling {axial_coupling:g}: vertebrae rotate out of the image plane; "
            "corners are exact projections, transforms least-squares rigid fits to them"
        )
    gas_t = _gas_motion(n, len(anat.gas), pixel_spacing_mm, rng) if gas else []
    if gas:
        gas_t = [np.stack([compose(glob[k], g[k]) for k in range(n)]) for g in gas_t]
    else:
        anat.gas = []
    # frames
    if pos is None:
        times = np.arange(n, dtype=np.float64) / fps
    else:
        times = np.arange(n, dtype=np.float64) * float(table["static_interval_s"])
    ref_integrals = line_integrals(anat, 0, transforms, glob, gas_t)
    allc = np.concatenate(list(ref_corners.values()))
    lo_c, hi_c = allc.min(axis=0), allc.max(axis=0)
    pad = 0.25 * (hi_c - lo_c)
    box = (
        int(lo_c[0] - pad[0]),
        int(lo_c[1] - pad[1]),
        int(hi_c[0] + pad[0]) + 1,
        int(hi_c[1] + pad[1]) + 1,
    )
    detector = Detector(
        ref_integrals,
        pixel_spacing_mm=pixel_spacing_mm,
        quanta_per_mm2=quanta,
        blur_fwhm_mm=blur,
        window_box=box,
        meter_window=metering == "spine",
        enhance=enhance,
    )
    frames = np.empty((n, rows, cols), dtype=np.uint16)
    for k in range(n):
        over = None
        if axial and anat.rerender is not None:
            over = {name: [anat.rerender(name, float(axial[name][k]))] for name in anat.parts}
        li = ref_integrals if k == 0 else line_integrals(anat, k, transforms, glob, gas_t, over)
        frames[k] = detector.expose(li, rng)
        if progress is not None:
            progress(k + 1, n)
    truth = Truth.from_transforms(
        view=view,
        reference_corners=ref_corners,
        transforms=truth_t,
        pixel_spacing_mm=pixel_spacing_mm,
        shape=shape2,
        frame_times_s=times,
        positions=pos,
        geometry=geometry,
        notes=notes,
        frame_corners=frame_corners,
    )
    true_marks = Landmarks(frame=0, vertebrae={k: v.copy() for k, v in ref_corners.items()})
    clicked = {
        k: v + (rng.normal(0.0, click_noise_px, size=v.shape) if click_noise_px > 0 else 0.0)
        for k, v in ref_corners.items()
    }
    prog_desc = program if pos is None else "static " + "/".join(pos)
    return PhantomStudy(
        frames=frames,
        pixel_spacing_mm=(pixel_spacing_mm, pixel_spacing_mm),
        frame_times_s=times,
        landmarks=Landmarks(frame=0, vertebrae=clicked),
        true_landmarks=true_marks,
        truth=truth,
        positions=pos,
        view=view,
        magnification=mag,
        geometry=geometry,
        dose=dose_name,
        description=f"{anat.description} {view} {prog_desc}",
        metadata={
            "seed": seed,
            "anatomy": anatomy,
            "bone_model": bone_model,
            "metering": metering,
            "blur_fwhm_mm": blur,
            "levels": [
                {
                    "level": m.level,
                    "positive_deg": m.positive_deg,
                    "negative_deg": m.negative_deg,
                    "lag": m.lag,
                    "source": m.source,
                }
                for m in motion.motions
            ],
        },
    )
