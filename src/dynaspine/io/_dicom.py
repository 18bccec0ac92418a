"""One DICOM file: header, grey values, frame times.

Grey values follow DICOM PS3.3 C.11.1 (Modality LUT: RescaleSlope/RescaleIntercept or a
Modality LUT Sequence) and C.7.6.3.1.2 (Photometric Interpretation): MONOCHROME1 is
inverted so that bone is bright as in MONOCHROME2; RGB and YBR images become grey with the
ITU-R BT.601 luma weights. VOI LUTs and windowing are display settings and are not applied.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from dynaspine.errors import InputError
from dynaspine.io._parallel import auto_workers, decode_parallel
from dynaspine.io._syntaxes import require_decoder, syntax_name, transfer_syntax

Progress = Callable[[int, int], None]

BT601 = (0.299, 0.587, 0.114)
"""Luma weights of ITU-R BT.601 (R, G, B) used to turn colour frames grey."""


def label(path: Path, root: Path | None = None) -> str:
    """A file's name for messages: relative to the input folder when there is one."""
    if root is not None:
        try:
            return str(path.relative_to(root))
        except ValueError:
            pass
    return path.name or str(path)


def has_preamble(path: Path) -> bool:
    """Whether the file starts like DICOM: 'DICM' at byte 128 (PS3.10 Section 7.1)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(132)
    except OSError:
        return False
    return len(head) == 132 and head[128:132] == b"DICM"


def read_header(path: Path, *, where: str) -> Any:
    """Read a DICOM header without pixel data.

    Raises
    ------
    InputError
        When the file is not DICOM (no 'DICM' preamble) or is corrupt.
    """
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        return pydicom.dcmread(path, stop_before_pixels=True)
    except InvalidDicomError as exc:
        if has_preamble(path):
            raise InputError(
                f"{where}: the DICOM header cannot be read ({exc}); the file is corrupt or "
                "was copied incompletely.",
                hint="copy or export the file again from the PACS or modality",
            ) from exc
        raise InputError(
            f"{where}: not a DICOM file (no DICOM preamble).",
            hint="check the file; videos and image files are read from their own paths",
        ) from exc
    except (OSError, EOFError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise InputError(
            f"{where}: the DICOM header cannot be read ({type(exc).__name__}: {exc}); "
            "the file is corrupt or was copied incompletely.",
            hint="copy or export the file again from the PACS or modality",
        ) from exc


def transfer_syntax_uid(ds: Any) -> str:
    """The file's transfer syntax UID, Explicit VR Little Endian when the meta omits it."""
    meta = getattr(ds, "file_meta", None)
    uid = meta.get("TransferSyntaxUID") if meta is not None else None
    return str(uid) if uid else "1.2.840.10008.1.2.1"


def n_frames(ds: Any) -> int:
    """NumberOfFrames (1 when absent)."""
    try:
        return max(1, int(ds.get("NumberOfFrames") or 1))
    except (TypeError, ValueError):
        return 1


def _rescale_of(ds: Any) -> tuple[float, float]:
    """RescaleSlope and RescaleIntercept, also from enhanced functional groups."""
    slope, intercept = ds.get("RescaleSlope"), ds.get("RescaleIntercept")
    if slope is None:
        shared = ds.get("SharedFunctionalGroupsSequence")
        if shared:
            pvt = shared[0].get("PixelValueTransformationSequence")
            if pvt:
                slope, intercept = pvt[0].get("RescaleSlope"), pvt[0].get("RescaleIntercept")
    return float(slope if slope not in (None, "") else 1.0), float(
        intercept if intercept not in (None, "") else 0.0
    )


class GreyMapper:
    """Turns decoded frames of one file into float32 grey values, bone bright.

    Parameters
    ----------
    ds
        The file's header.
    where
        The file, for messages.
    """

    def __init__(self, ds: Any, *, where: str) -> None:
        self.where = where
        self.photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).upper()
        self.samples = int(ds.get("SamplesPerPixel", 1) or 1)
        self.lut_ds = None
        bits_stored = int(ds.get("BitsStored") or ds.get("BitsAllocated") or 16)
        signed = int(ds.get("PixelRepresentation", 0) or 0) == 1
        lo_stored = -(2 ** (bits_stored - 1)) if signed else 0
        hi_stored = 2 ** (bits_stored - 1) - 1 if signed else 2**bits_stored - 1
        try:
            self.slope, self.intercept = _rescale_of(ds)
        except (TypeError, ValueError) as exc:
            raise InputError(
                f"{where}: RescaleSlope/RescaleIntercept are not numeric ({exc}).",
                hint="fix the attributes in the file",
            ) from exc
        if "ModalityLUTSequence" in ds and "RescaleSlope" not in ds and self.samples == 1:
            # PS3.3 C.11.1: a Modality LUT Sequence replaces the rescale.
            from pydicom.pixels import apply_modality_lut

            self.lut_ds = ds
            dtype = np.int32 if signed else np.uint32
            stored = np.arange(lo_stored, hi_stored + 1, dtype=np.int64).astype(dtype)
            mapped = np.asarray(apply_modality_lut(stored, ds), dtype=np.float64)
            lo, hi = float(mapped.min()), float(mapped.max())
        else:
            ends = (
                self.slope * lo_stored + self.intercept,
                self.slope * hi_stored + self.intercept,
            )
            lo, hi = min(ends), max(ends)
        self.value_range = (lo, hi)
        self.invert = self.photometric == "MONOCHROME1"
        if self.samples not in (1, 3):
            raise InputError(
                f"{where}: SamplesPerPixel {self.samples} is not supported (1 or 3 expected)."
            )

    def __call__(self, frame: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
        """Map one decoded frame (rows, cols) or (rows, cols, 3) to float32 grey."""
        if self.photometric == "PALETTE COLOR":
            raise InputError(
                f"{self.where}: PALETTE COLOR images are not supported.",
                hint="export the images as MONOCHROME2",
            )
        if frame.ndim == 3:
            # pydicom 3 converts YBR_* to RGB when decoding (raw=False).
            rgb = frame.astype(np.float32)
            return np.asarray(
                rgb[..., 0] * BT601[0] + rgb[..., 1] * BT601[1] + rgb[..., 2] * BT601[2],
                dtype=np.float32,
            )
        if self.lut_ds is not None:
            from pydicom.pixels import apply_modality_lut

            out = np.asarray(apply_modality_lut(frame, self.lut_ds), dtype=np.float32)
        elif self.slope != 1.0 or self.intercept != 0.0:
            out = frame.astype(np.float32) * np.float32(self.slope) + np.float32(self.intercept)
        else:
            out = frame.astype(np.float32)
        if self.invert:
            lo, hi = self.value_range
            out = np.float32(lo + hi) - out
        return out


def decode_file(
    path: Path,
    *,
    where: str,
    header: Any | None = None,
    progress: Progress | None = None,
    done: int = 0,
    total: int | None = None,
    workers: int | None = None,
) -> npt.NDArray[np.float32]:
    """Decode every frame of one DICOM file into ``(n, rows, cols)`` float32 grey values.

    Parameters
    ----------
    path
        The file.
    where
        Its name for messages.
    header
        Its header when already read (avoids a second read).
    progress
        ``progress(done, total)`` after each frame; ``done`` and ``total`` offset it when the
        file is one of many.
    workers
        Processes for slow compressed syntaxes (see :mod:`dynaspine.io._parallel`):
        ``None`` chooses (all CPUs up to 4 for 16 or more frames), 1 decodes serially.

    Raises
    ------
    InputError
        When the transfer syntax cannot be decoded (naming the package to install) or the
        pixel data is missing, truncated or corrupt.
    """
    from pydicom.pixels import iter_pixels

    ds = header if header is not None else read_header(path, where=where)
    uid = transfer_syntax_uid(ds)
    plugin = require_decoder(uid, where=where)
    if "Rows" not in ds or "Columns" not in ds:
        raise InputError(f"{where}: not an image (no Rows/Columns); it holds no pixel data.")
    count = n_frames(ds)
    rows, cols = int(ds.Rows), int(ds.Columns)
    mapper = GreyMapper(ds, where=where)
    out = np.empty((count, rows, cols), dtype=np.float32)
    grand_total = total if total is not None else count
    row = transfer_syntax(uid)
    n_workers = auto_workers(
        workers,
        n_frames=count,
        compressed=row is not None and row.compressed,
        fast=row is None or not row.parallel,
    )
    if n_workers > 1 and count > 1:
        try:
            decode_parallel(
                path,
                out=out,
                plugin=plugin,
                where=where,
                workers=n_workers,
                progress=progress,
                done=done,
                total=grand_total,
            )
            return out
        except Exception:  # any pool failure: decode serially, which names the bad frame
            n_workers = 1
    i = 0  # frames read so far
    try:
        for frame in iter_pixels(path, decoding_plugin=plugin):
            if i >= count:
                break
            if frame.shape[:2] != (rows, cols):
                raise InputError(
                    f"{where}: frame {i} decodes to {frame.shape[:2]} pixels, but the header "
                    f"says {rows} x {cols}; the file is corrupt."
                )
            out[i] = mapper(frame)
            i += 1
            if progress is not None:
                progress(done + i, grand_total)
    except InputError:
        raise
    except (AttributeError, KeyError) as exc:
        raise InputError(
            f"{where}: no pixel data ({exc}); the file is not an image or is corrupt.",
            hint="copy or export the file again from the PACS or modality",
        ) from exc
    except (ValueError, RuntimeError, OSError, EOFError, IndexError, TypeError) as exc:
        name = syntax_name(uid)
        raise InputError(
            f"{where}: frame {i} cannot be decoded ({name}): {exc}. The file is corrupt or "
            "was copied incompletely.",
            hint="copy or export the file again from the PACS or modality",
        ) from exc
    if i < count:
        raise InputError(
            f"{where}: NumberOfFrames is {count} but only {i} frame(s) could be read; "
            "the file is truncated or corrupt."
        )
    return out


# --- times -------------------------------------------------------------------------------


def _parse_da_tm(date: Any, time: Any) -> dt.datetime | None:
    """Combine a DA and a TM value (either may be empty) into a naive datetime."""
    if not time:
        return None
    t = str(time).strip().replace(":", "")
    try:
        hh, mm = int(t[0:2]), int(t[2:4] or 0)
        ss_full = t[4:] or "0"
        ss = float(ss_full)
    except ValueError:
        return None
    d = dt.date(1900, 1, 1)
    if date:
        s = str(date).strip().replace(".", "").replace("-", "")
        try:
            d = dt.date(int(s[0:4]), int(s[4:6]), int(s[6:8]))
        except ValueError:
            pass
    whole = int(ss)
    micro = round((ss - whole) * 1e6)
    if micro >= 1_000_000:
        whole, micro = whole + 1, micro - 1_000_000
    try:
        return dt.datetime(d.year, d.month, d.day, hh, mm) + dt.timedelta(
            seconds=whole, microseconds=micro
        )
    except ValueError:
        return None


def _parse_dt(value: Any) -> dt.datetime | None:
    """Parse a DT value (YYYYMMDDHHMMSS.FFFFFF&ZZXX), ignoring the UTC offset."""
    if not value:
        return None
    s = str(value).strip()
    for sign in ("+", "-"):
        if sign in s[8:]:
            s = s[: 8 + s[8:].index(sign)]
    if len(s) < 8:
        return None
    return _parse_da_tm(s[:8], s[8:] or "000000")


TIME_KEYS: tuple[str, ...] = ("AcquisitionDateTime", "AcquisitionTime", "ContentTime")
"""Attributes that order single-frame images, in DESIGN.md's order of preference."""


def acquisition_time(ds: Any, key: str) -> dt.datetime | None:
    """The image's time by one of :data:`TIME_KEYS` (with its date where there is one)."""
    if key == "AcquisitionDateTime":
        return _parse_dt(ds.get("AcquisitionDateTime"))
    if key == "AcquisitionTime":
        return _parse_da_tm(ds.get("AcquisitionDate") or ds.get("SeriesDate"), ds.get(key))
    return _parse_da_tm(ds.get("ContentDate") or ds.get("SeriesDate"), ds.get(key))


def best_time(ds: Any) -> dt.datetime | None:
    """The first of :data:`TIME_KEYS` that the header has, as a datetime."""
    for key in TIME_KEYS:
        found = acquisition_time(ds, key)
        if found is not None:
            return found
    return None


def multiframe_times(ds: Any, count: int) -> tuple[npt.NDArray[np.float64] | None, str | None]:
    """Frame times (s from the first frame) of a multi-frame object, and their source.

    Order of preference: the attribute FrameIncrementPointer (0028,0009) names; else
    FrameTimeVector (0018,1065, ms between frames; PS3.3 C.7.6.5.1.2); FrameTime (0018,1063,
    ms); CineRate (0018,0040, frames/s); per-frame FrameAcquisitionDateTime of an enhanced
    object (PS3.3 C.7.6.16.2.2); RecommendedDisplayFrameRate (0008,2144, flagged as a display
    rate).
    """
    order = ["FrameTimeVector", "FrameTime", "CineRate"]
    pointer = ds.get("FrameIncrementPointer")
    if pointer is not None:
        from pydicom.datadict import keyword_for_tag

        tags = pointer if isinstance(pointer, list | tuple) else [pointer]
        named = [keyword_for_tag(t) for t in tags]
        order = [k for k in named if k in order] + [k for k in order if k not in named]
    for key in order:
        value = ds.get(key)
        if value in (None, ""):
            continue
        try:
            if key == "FrameTimeVector":
                vec = np.asarray([float(v) for v in value], dtype=np.float64)
                if vec.size == count and np.all(np.isfinite(vec)) and np.all(vec >= 0):
                    vec = vec.copy()
                    vec[0] = 0.0
                    return np.cumsum(vec) / 1000.0, "FrameTimeVector"
                continue
            step = float(value) / 1000.0 if key == "FrameTime" else 1.0 / float(value)
        except (TypeError, ValueError, ZeroDivisionError):
            continue
        if math.isfinite(step) and step > 0:
            return np.arange(count, dtype=np.float64) * step, key
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    if per_frame and len(per_frame) == count:
        stamps: list[dt.datetime] = []
        for item in per_frame:
            content = item.get("FrameContentSequence")
            stamp = _parse_dt(content[0].get("FrameAcquisitionDateTime")) if content else None
            if stamp is None:
                break
            stamps.append(stamp)
        if len(stamps) == count:
            t = np.asarray([(s - stamps[0]).total_seconds() for s in stamps], dtype=np.float64)
            return t, "FrameAcquisitionDateTime"
    rate = ds.get("RecommendedDisplayFrameRate")
    try:
        if rate not in (None, "") and float(rate) > 0:
            return (
                np.arange(count, dtype=np.float64) / float(rate),
                "RecommendedDisplayFrameRate (a display rate; acquisition timing not recorded)",
            )
    except (TypeError, ValueError):
        pass
    return None, None


def describe(ds: Any) -> dict[str, Any]:
    """Non-identifying descriptive facts of a header for :attr:`Study.metadata`."""
    uid = transfer_syntax_uid(ds)

    def text(key: str) -> str | None:
        value = ds.get(key)
        return str(value) if value not in (None, "") else None

    return {
        "modality": text("Modality"),
        "view_position": text("ViewPosition"),
        "body_part": text("BodyPartExamined"),
        "series_description": text("SeriesDescription"),
        "series_instance_uid": text("SeriesInstanceUID"),
        "sop_class_uid": text("SOPClassUID"),
        "transfer_syntax": syntax_name(uid),
        "transfer_syntax_uid": uid,
        "photometric_interpretation": text("PhotometricInterpretation"),
        "bits_stored": int(ds.BitsStored) if "BitsStored" in ds else None,
        "manufacturer": text("Manufacturer"),
    }
