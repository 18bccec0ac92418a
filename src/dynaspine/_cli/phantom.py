"""``dynaspine phantom``: render a phantom study with exact ground truth."""

from __future__ import annotations

from pathlib import Path

import typer

from dynaspine._cli._common import err_console, progress_bar
from dynaspine.errors import PhantomError

_CHOICES = {
    "anatomy": ("ct", "parametric"),
    "view": ("lateral", "ap"),
    "program": ("flexion-extension", "lateral-bending", "static"),
    "dose": ("fluoro", "radiograph", "none"),
    "geometry": ("parallel", "cone"),
    "bone": ("ct", "sharp"),
}


def _choice(option: str, value: str) -> str:
    v = value.strip().lower()
    if v not in _CHOICES[option]:
        raise PhantomError(
            f"--{option} {value!r} is not one of {', '.join(_CHOICES[option])}",
        )
    return v


def _names(value: str | None) -> list[str] | None:
    if not value:
        return None
    return [p.strip() for p in value.replace(" ", ",").split(",") if p.strip()]


def register(app: typer.Typer) -> None:
    """Add the ``phantom`` command to ``app``."""

    @app.command("phantom")
    def phantom_cmd(
        out: Path = typer.Argument(..., metavar="OUT", help="Output folder (created)."),
        anatomy: str = typer.Option(
            "ct", "--anatomy", help="ct (bundled lumbar CT) or parametric."
        ),
        view: str = typer.Option("lateral", "--view", help="lateral or ap."),
        program: str | None = typer.Option(
            None,
            "--program",
            help="flexion-extension (lateral cine), lateral-bending (AP cine) or static "
            "(films); default: the cine of the view.",
        ),
        frames: int = typer.Option(30, "--frames", help="Frames of a cine."),
        pixel_spacing: float = typer.Option(
            0.5, "--pixel-spacing", metavar="MM", help="Pixel spacing at the patient, mm."
        ),
        size: int = typer.Option(512, "--size", help="Rows and columns of each frame."),
        dose: str = typer.Option(
            "fluoro", "--dose", help="fluoro, radiograph (quantum noise) or none (noise-free)."
        ),
        geometry: str = typer.Option("parallel", "--geometry", help="parallel or cone."),
        click_noise: float = typer.Option(
            0.0,
            "--click-noise",
            metavar="PX",
            help="Perturb landmarks.json like an operator's clicks (SD, px).",
        ),
        vertebrae: str | None = typer.Option(
            None,
            "--vertebrae",
            help="Comma-separated contiguous vertebrae, e.g. L1,L2,L3,L4,L5,S1.",
        ),
        positions: str | None = typer.Option(
            None,
            "--positions",
            help="Static films' positions, e.g. neutral,flexion,extension (first is the reference).",
        ),
        no_position_tags: bool = typer.Option(
            False,
            "--no-position-tags",
            help="Leave ViewPosition and position names out of the DICOM files.",
        ),
        axial_coupling: float = typer.Option(
            0.0,
            "--axial-coupling",
            metavar="R",
            help="CT only: coupled axial (out-of-plane) rotation as a fraction of each level's rotation.",
        ),
        ct_dir: Path | None = typer.Option(
            None,
            "--ct-dir",
            help="Another CT folder (ct.nii.gz + TotalSegmentator masks); default: bundled.",
        ),
        bone: str | None = typer.Option(
            None,
            "--bone",
            help="CT only: sharp (super-resolved bone with a cortical shell, docs/phantom.md; "
            "the default) or ct (the CT's own 3 mm bone; the default with --axial-coupling).",
        ),
        seed: int = typer.Option(0, "--seed", help="Random seed (drift, gas, noise, clicks)."),
        fps: float | None = typer.Option(None, "--fps", help="Cine frame rate (default 15)."),
        cycle: float | None = typer.Option(
            None,
            "--cycle",
            metavar="S",
            help="Seconds per movement cycle (default: the frames span one cycle).",
        ),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    ) -> None:
        """Render radiographs of a moving spine and write study.dcm, dx/, landmarks.json, truth.json."""
        from dynaspine.phantom import generate

        v = _choice("view", view)
        prog = (
            _choice("program", program)
            if program
            else ("flexion-extension" if v == "lateral" else "lateral-bending")
        )
        with progress_bar("rendering", enabled=not quiet) as cb:
            study = generate(
                anatomy=_choice("anatomy", anatomy),  # type: ignore[arg-type]
                view=v,  # type: ignore[arg-type]
                program=prog,  # type: ignore[arg-type]
                n_frames=frames,
                pixel_spacing_mm=pixel_spacing,
                shape=(size, size),
                dose=_choice("dose", dose),  # type: ignore[arg-type]
                geometry=_choice("geometry", geometry),  # type: ignore[arg-type]
                seed=seed,
                click_noise_px=click_noise,
                vertebrae=_names(vertebrae),
                positions=_names(positions),
                frame_rate_fps=fps,
                cycle_s=cycle,
                axial_coupling=axial_coupling,
                ct_dir=ct_dir,
                bone_model=None if bone is None else _choice("bone", bone),  # type: ignore[arg-type]
                progress=cb,
            )
        with progress_bar("writing DICOM", enabled=not quiet) as cb:
            paths = study.write(out, position_tags=not no_position_tags, progress=cb)
        err_console.print(
            f"wrote {paths['study']}, {len(paths['dx'])} files in {out / 'dx'}, "
            f"{paths['landmarks']} and {paths['truth']}",
            highlight=False,
        )
