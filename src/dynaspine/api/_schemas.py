"""Request and response models of the REST API (the OpenAPI spec is generated from them)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class SeriesOut(_Out):
    """A series of a study (file reference; pixels are fetched elsewhere)."""

    id: str
    series_instance_uid: str | None
    modality: str | None
    kind: str
    n_instances: int
    n_frames: int | None
    size_bytes: int
    sha256: str | None
    created_at: dt.datetime


class StudyOut(_Out):
    """A study with its series."""

    id: str
    study_instance_uid: str | None
    accession_number: str | None
    patient_id: str | None
    study_date: str | None
    modality: str | None
    description: str | None
    source: str
    created_at: dt.datetime
    series: list[SeriesOut] = Field(default_factory=list)


class StudyList(BaseModel):
    """A page of studies."""

    items: list[StudyOut]
    limit: int
    offset: int


class AnalysisRequest(BaseModel):
    """Start an analysis of a study.

    ``motion``: track the vertebrae of one cine series from the landmarks (MARKS.json) and
    measure intervertebral motion (``dynaspine.motion.analyze``). ``views``: recognise the
    views of a static bending study (``dynaspine.views``), and measure it when landmarks
    are given (one MARKS.json, or image name -> MARKS.json).
    """

    model_config = ConfigDict(extra="forbid")

    kind: Literal["motion", "views"] = "motion"
    series_id: str | None = Field(
        default=None, description="Series to analyse (motion; default: the study's only series)."
    )
    landmarks: dict[str, Any] | None = Field(
        default=None,
        description='MARKS.json: {"frame": 0, "vertebrae": {"L4": [[x, y] x 4], ...}}',
    )
    view: Literal["lateral", "ap"] = "lateral"
    pixel_spacing_mm: float | list[float] | None = Field(
        default=None, description="Only for inputs without calibration (never assumed)."
    )
    region: str | None = Field(default=None, description="views: region of every image.")


class JobOut(_Out):
    """An analysis job and its state."""

    id: str
    study_id: str
    series_id: str | None
    kind: str
    status: str
    progress: float
    error: str | None
    inputs_hash: str | None
    software_version: str
    result_id: str | None
    attempts: int
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


class ResultMeta(_Out):
    """What a result is, without its document."""

    id: str
    study_id: str
    job_id: str | None
    kind: str
    schema_version: str | None
    inputs_hash: str | None
    software_version: str
    created_at: dt.datetime


class CodingRequest(BaseModel):
    """Code an encounter (``dynaspine.encounter/1``), optionally of a stored study.

    With ``study_id`` and an encounter without ``studies`` or ``study_facts``, the study's
    recognised views (from a ``views`` analysis) are used as its study facts.
    """

    model_config = ConfigDict(extra="forbid")

    encounter: dict[str, Any]
    study_id: str | None = None


class CodingOut(BaseModel):
    """A stored coding result."""

    id: str
    study_id: str | None
    ok: bool
    result: dict[str, Any]
    created_at: dt.datetime


class UserIn(BaseModel):
    """A new user."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    role: Literal["clinician", "coder", "admin"]


class UserOut(_Out):
    """A user (never its tokens)."""

    id: str
    name: str
    role: str
    active: bool
    created_at: dt.datetime


class TokenIn(BaseModel):
    """Options of a new token."""

    model_config = ConfigDict(extra="forbid")

    label: str | None = None
    expires_days: float | None = Field(default=None, gt=0)


class TokenOut(BaseModel):
    """A new token: shown once, only its hash is kept."""

    user: str
    token: str


class AuditOut(_Out):
    """An audit entry."""

    id: int
    at: dt.datetime
    user_name: str | None
    action: str
    outcome: str
    study_id: str | None
    method: str | None
    path: str | None
    client: str | None
    detail: dict[str, Any] | None


class Health(BaseModel):
    """Liveness and schema state."""

    status: str
    version: str
    database: str
    schema_revision: str | None
