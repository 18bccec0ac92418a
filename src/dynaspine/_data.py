"""Reading the data files bundled inside the package (rules, tables, thresholds)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from dynaspine.errors import DataError


def load_json(package: str, path: str) -> dict[str, Any]:
    """Parse the JSON object bundled as ``path`` (``/``-separated) inside ``package``.

    Raises
    ------
    DataError
        When the file is missing, is not valid JSON or is not a JSON object.
    """
    where = f"{package.replace('.', '/')}/{path}"
    try:
        text = resources.files(package).joinpath(*path.split("/")).read_text("utf-8")
        doc = json.loads(text)
    except (OSError, ValueError) as exc:
        raise DataError(
            f"bundled data file {where} is missing or not valid JSON: {exc}",
            hint="reinstall dynaspine; the package data must ship with it",
        ) from None
    if not isinstance(doc, dict):
        raise DataError(f"bundled data file {where} is not a JSON object")
    return doc
