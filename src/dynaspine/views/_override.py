"""User overrides: the user can always say what an image is.

An override file (JSON) maps images to projection, position and region::

    {"region": "lumbosacral",
     "images": {"dx/IM0003.dcm": {"projection": "lateral", "position": "flexion"},
                "1.2.826.0.1.3680043.8.498.1": {"position": "extension"}}}

Images are named by their path relative to the study folder (as in STUDY.json), by their
file name when that is unique, or by SOPInstanceUID. The top-level ``region`` applies to every
image (like ``dynaspine study --region``); a per-image ``region`` wins over it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dynaspine.errors import InputError

_FIELDS = {
    "projection": ("AP", "PA", "lateral", "oblique"),
    "position": ("neutral", "flexion", "extension", "left-bending", "right-bending"),
    "region": ("cervical", "thoracic", "thoracolumbar", "lumbosacral", "entire-spine"),
}


@dataclass
class Overrides:
    """What the user says about the study.

    Parameters
    ----------
    region
        Region for every image, or ``None``.
    images
        Image key (relative path, file name or SOPInstanceUID) -> field -> value.
    """

    region: str | None = None
    images: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def from_json(cls, doc: Any, *, source: str = "overrides") -> Overrides:
        """Parse and check an override document; errors name the key and the allowed values."""
        if not isinstance(doc, Mapping):
            raise InputError(f"{source}: expected a JSON object with 'images' and/or 'region'")
        unknown = set(doc) - {"region", "images"}
        if unknown:
            raise InputError(
                f"{source}: unknown key(s) {', '.join(sorted(unknown))}",
                hint="an override file has 'region' and 'images' only",
            )
        region = doc.get("region")
        if region is not None:
            region = check_value("region", region, where=f"{source}: region")
        images: dict[str, dict[str, str]] = {}
        raw = doc.get("images", {})
        if not isinstance(raw, Mapping):
            raise InputError(f"{source}: 'images' must map image names to objects")
        for key, spec in raw.items():
            where = f"{source}: images[{key!r}]"
            if not isinstance(spec, Mapping) or not spec:
                raise InputError(f"{where}: expected an object with projection/position/region")
            bad = set(spec) - set(_FIELDS)
            if bad:
                raise InputError(
                    f"{where}: unknown field(s) {', '.join(sorted(bad))}",
                    hint="allowed: projection, position, region",
                )
            images[str(key)] = {
                name: check_value(name, value, where=f"{where}.{name}")
                for name, value in spec.items()
            }
        return cls(region=region, images=images)

    @classmethod
    def load(cls, path: str | Path) -> Overrides:
        """Read an override file."""
        p = Path(path)
        try:
            doc = json.loads(p.read_text(encoding="utf-8"))
        except OSError as exc:
            raise InputError(f"cannot read override file {p}: {exc.strerror}") from None
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{p}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
            ) from None
        return cls.from_json(doc, source=str(p))


def check_value(name: str, value: Any, *, where: str) -> str:
    """Return ``value`` if it is allowed for field ``name``, else raise :class:`InputError`."""
    allowed = _FIELDS[name]
    if isinstance(value, str):
        for a in allowed:
            if value.lower() == a.lower():
                return a
    raise InputError(f"{where}: {value!r} is not a {name}", hint=f"use one of {', '.join(allowed)}")
