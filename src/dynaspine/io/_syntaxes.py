"""Transfer syntaxes: names, whether they are lossy, and which package decodes them.

The table is data (``transfer_syntaxes.json`` beside this module, from DICOM PS3.5 and the
pydicom 3 decoder documentation); this module only reads it and turns "no decoder" into an
:class:`~dynaspine.errors.InputError` that names the syntax and the package to install.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from dynaspine.errors import DataError, InputError


@dataclass(frozen=True)
class TransferSyntax:
    """One row of ``transfer_syntaxes.json``.

    Parameters
    ----------
    uid
        Transfer syntax UID (DICOM PS3.5 Annex A).
    name
        Its name as DICOM PS3.6 Table A-1 gives it.
    compressed
        Whether pixel data is encapsulated (compressed).
    lossy
        Whether the compression may lose information.
    packages
        PyPI packages that decode it with pydicom 3, preferred first.
    plugins
        pydicom decoding plug-ins in order of preference (fastest first, measured).
    parallel
        Whether long multi-frame files in this syntax are worth decoding in several
        processes (slow, single-threaded decoders).
    """

    uid: str
    name: str
    compressed: bool
    lossy: bool
    packages: tuple[str, ...]
    plugins: tuple[str, ...] = ()
    parallel: bool = False


@lru_cache(maxsize=1)
def _table() -> tuple[dict[str, TransferSyntax], str]:
    try:
        text = resources.files("dynaspine.io").joinpath("transfer_syntaxes.json").read_text()
        raw: dict[str, Any] = json.loads(text)
        rows = {
            row["uid"]: TransferSyntax(
                uid=row["uid"],
                name=row["name"],
                compressed=bool(row["compressed"]),
                lossy=bool(row["lossy"]),
                packages=tuple(row["packages"]),
                plugins=tuple(row.get("plugins", ())),
                parallel=bool(row.get("parallel", False)),
            )
            for row in raw["syntaxes"]
        }
        return rows, str(raw["unsupported_hint"])
    except (OSError, KeyError, TypeError, ValueError) as exc:  # pragma: no cover - packaging bug
        raise DataError(
            f"dynaspine/io/transfer_syntaxes.json is missing or malformed: {exc}",
            hint="reinstall dynaspine",
        ) from exc


def transfer_syntax(uid: str) -> TransferSyntax | None:
    """Return the table row for ``uid``, or ``None`` when dynaspine does not know it."""
    return _table()[0].get(str(uid))


def syntax_name(uid: str) -> str:
    """Human-readable name of a transfer syntax: the table's, else pydicom's, else the UID."""
    row = transfer_syntax(uid)
    if row is not None:
        return row.name
    from pydicom.uid import UID

    name = UID(str(uid)).name
    return name if name and name != str(uid) else str(uid)


def require_decoder(uid: str, *, where: str) -> str:
    """Raise :class:`InputError` unless pydicom can decode pixel data in syntax ``uid``.

    Parameters
    ----------
    uid
        The file's transfer syntax UID (file meta (0002,0010)).
    where
        The file, for the message.

    Returns
    -------
    str
        The pydicom decoding plug-in to use: the first available one of the table's
        preferences, or ``""`` (pydicom's choice) for native data or when none is listed.

    Raises
    ------
    InputError
        Naming the transfer syntax and the package to install, or saying that dynaspine
        does not read that syntax at all (e.g. MPEG-4 encapsulated video).
    """
    from pydicom.pixels import get_decoder

    uid = str(uid)
    row = transfer_syntax(uid)
    name = syntax_name(uid)
    hint_unsupported = _table()[1]
    if row is None:
        raise InputError(
            f"{where}: transfer syntax {name} ({uid}) is not one dynaspine can decode.",
            hint=hint_unsupported,
        )
    if not row.compressed:
        return ""
    plugins: tuple[str, ...] = ()
    try:
        decoder = get_decoder(uid)
        available = bool(decoder.is_available)
        plugins = tuple(decoder.available_plugins) if available else ()
    except NotImplementedError:
        available = False
    if not available:
        packages = " or ".join(row.packages)
        raise InputError(
            f"{where}: cannot decode transfer syntax {name} ({uid}): no decoder is installed.",
            hint=f"install {packages} (`pip install {row.packages[0]}`), or {hint_unsupported[0].lower()}{hint_unsupported[1:]}",
        )
    return next((p for p in row.plugins if p in plugins), "")
