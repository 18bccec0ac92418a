"""The content of a report: what every output (HTML, PDF, SR, FHIR, preview) is made from."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dynaspine._data import load_json
from dynaspine.errors import ReportError
from dynaspine.report._inputs import Patient, SourceImages

if TYPE_CHECKING:
    from fhir.resources.R4B.diagnosticreport import DiagnosticReport


@cache
def load_table(name: str) -> dict[str, Any]:
    """A bundled data file of the report package (``data/NAME``)."""
    return load_json("dynaspine.report", f"data/{name}")


@dataclass
class Measurement:
    """One reported number of a level (or of the study).

    ``normal``: the first matching normal range (``source``, ``low``, ``high``, ``status``)
    or ``None``; ``flags``: labels of exceeded thresholds on this quantity.
    """

    key: str
    value: float | None
    unit: str
    label: str
    short: str
    normal: dict[str, Any] | None = None
    flags: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The value with its unit, or ``"not measured"``."""
        if self.value is None:
            return "not measured"
        unit = {"deg": "°", "1": ""}.get(self.unit, f" {self.unit}")
        digits = 2 if self.unit == "1" else 1
        return f"{self.value:.{digits}f}{unit}"


@dataclass
class Series:
    """One tracked image sequence: a cine, or the lateral or AP films of a static study."""

    kind: str
    view: str
    title: str
    labels: list[str]
    reference: int
    corners: dict[str, list[Any]]
    ivr: dict[str, list[float | None]]
    global_ivr: list[float | None]
    frame_times_s: list[float | None] | None
    positions: list[str] | None
    key_frames: list[tuple[int, str]]
    images: SourceImages | None = None
    image_names: list[str] | None = None

    @property
    def n_frames(self) -> int:
        """Frames (or films) in the sequence."""
        return len(self.labels)


@dataclass
class LevelFindings:
    """Measurements, threshold flags and normal-range comparisons of one level."""

    level: str
    series: int
    view: str
    source: str
    measurements: list[Measurement]
    flags: list[dict[str, Any]]
    normal_ranges: list[dict[str, Any]]
    icr: str | None = None
    notes: list[str] = field(default_factory=list)
    compared: bool = True
    """Whether thresholds or normal ranges exist for this level and view."""

    def get(self, key: str) -> Measurement | None:
        """The measurement named ``key``, if reported."""
        return next((m for m in self.measurements if m.key == key), None)


@dataclass
class Requirement:
    """A documentation requirement and whether the report meets it."""

    id: str
    label: str
    status: str
    severity: str
    message: str
    value: str | None = None


@dataclass
class Curve:
    """A scoliotic curve of a static AP study (Cobb angle and flexibility)."""

    upper_end: str
    lower_end: str
    apex: str | None
    convex: str
    cobb_deg: float
    scoliosis: bool
    flexibility_pct: float | None
    corrective_bending: str | None
    bending: list[dict[str, Any]]


@dataclass
class Report:
    """A radiology report of a dynamic spine study, ready to render.

    Built by :func:`dynaspine.report.build_report`; every output is made from these fields.
    ``requirements`` lists the documentation requirements of the CPT 72120 reference page
    (indication; views and positions; findings and impression; diagnosis; ordering provider;
    signature) and whether each is met; ``warnings`` are the visible warnings.
    """

    title: str
    patient: Patient
    study: dict[str, Any]
    indication: str | None
    indication_source: str | None
    rationale: list[str]
    technique: list[str]
    views: list[dict[str, Any]]
    series: list[Series]
    levels: list[LevelFindings]
    motion_sharing: dict[str, Any] | None
    curves: list[Curve]
    cobb_films: list[dict[str, Any]]
    impression: list[str]
    dictated_impression: str | None
    diagnoses: list[dict[str, Any]]
    ordering_provider: str | None
    supervising_physician: str | None
    physician: str | None
    requirements: list[Requirement]
    warnings: list[str]
    calibration: str | None
    notes: list[str]
    sources: list[str]
    software: str
    created_utc: str
    result: dict[str, Any] | None = None
    study_facts: dict[str, Any] | None = None
    scribe: dict[str, Any] | None = None
    _figures: dict[str, bytes] = field(default_factory=dict, repr=False)
    _dicom: dict[str, Any] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        return (
            f"Report(levels={[lv.level for lv in self.levels]}, "
            f"missing={self.missing}, series={len(self.series)})"
        )

    @property
    def missing(self) -> list[str]:
        """Ids of the documentation requirements the inputs did not meet."""
        return [r.id for r in self.requirements if r.status == "missing"]

    def figures(self) -> dict[str, bytes]:
        """PNG images of the plots and key frames, by name (made once, then cached)."""
        if not self._figures:
            from dynaspine.report._plots import make_figures

            self._figures.update(make_figures(self))
        return self._figures

    def summary(self) -> dict[str, Any]:
        """JSON summary: requirements met or missing, warnings, flags, impression.

        Holds no patient identifiers (only whether they were given).
        """
        return {
            "schema": "dynaspine.report-summary/1",
            "software": self.software,
            "created_utc": self.created_utc,
            "patient_identified": self.patient.identified,
            "requirements": [
                {"id": r.id, "status": r.status, "severity": r.severity, "message": r.message}
                for r in self.requirements
            ],
            "missing": self.missing,
            "warnings": list(self.warnings),
            "levels": {
                lv.level: {
                    "source": lv.source,
                    **{
                        m.key: None if m.value is None else round(m.value, 4)
                        for m in lv.measurements
                    },
                    "flags": [f.get("label") for f in lv.flags],
                    "outside_normal": [
                        f"{n['quantity']} {n['status']} ({n['source']})"
                        for n in lv.normal_ranges
                        if n.get("status") in ("above", "below")
                    ],
                }
                for lv in self.levels
            },
            "curves": [c.__dict__ for c in self.curves],
            "cobb_films": list(self.cobb_films),
            "impression": list(self.impression),
            "diagnoses": [
                {"code": d["code"], "description": d["description"]} for d in self.diagnoses
            ],
        }

    def to_html(self, *, standalone: bool = True) -> str:
        """The report as one self-contained HTML page (plots embedded as PNG data URIs)."""
        from dynaspine.report._render import render_html

        return render_html(self, standalone=standalone)

    def to_pdf(self, path: str | Path) -> Path:
        """Render the report to a PDF file with WeasyPrint; returns the path."""
        from dynaspine.report._render import render_pdf

        return render_pdf(self, Path(path))

    def to_sr(self, path: str | Path) -> Path:
        """Write a DICOM Comprehensive 3D SR (TID 1500 measurement report); returns the path."""
        from dynaspine.report._sr import write_sr

        return write_sr(self, Path(path))

    def to_secondary_capture(self, path: str | Path) -> Path:
        """Write the key frames with the tracked vertebrae as a DICOM Secondary Capture."""
        from dynaspine.report._sr import write_secondary_capture

        return write_secondary_capture(self, Path(path))

    def to_fhir(self) -> DiagnosticReport:
        """A FHIR R4B DiagnosticReport with the measurements as contained Observations."""
        from dynaspine.report._fhir import build_fhir

        return build_fhir(self)

    def write_preview(self, path: str | Path, *, max_size: int = 384) -> Path:
        """Write an animated preview (GIF, or MP4 by suffix) of the first image sequence with
        the tracked vertebrae drawn on it; returns the path."""
        from dynaspine.report._preview import write_preview

        return write_preview(self, Path(path), max_size=max_size)

    def need_images(self, what: str) -> Series:
        """The first series that has pixels, else a :class:`ReportError` naming ``what``."""
        for s in self.series:
            if s.images is not None:
                return s
        raise ReportError(
            f"the {what} needs the source images, and none were given",
            hint="pass the images the analysis was made on with --images (images=...)",
        )
