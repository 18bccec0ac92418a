"""dynaspine: dynamic spine imaging, from bending films and fluoroscopic cine to the claim.

The package is organised by concept (see ``docs/architecture.md``): ``io`` reads
studies, ``phantom`` makes studies with exact ground truth, ``tracking`` follows each
vertebra through the frames, ``motion`` and ``views`` measure, ``report``, ``scribe``
and ``coding`` document and bill, ``store``, ``api`` and ``batch`` serve and scale.
Data flows one way; lower layers never import higher ones.
"""

from importlib.metadata import PackageNotFoundError, version

from dynaspine.errors import (
    CalibrationError,
    CodingError,
    DataError,
    DynaspineError,
    InputError,
    LandmarkError,
    PhantomError,
    ReportError,
    ScribeError,
    StoreError,
    TrackingLost,
)

try:
    __version__ = version("dynaspine")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = [
    "CalibrationError",
    "CodingError",
    "DataError",
    "DynaspineError",
    "InputError",
    "LandmarkError",
    "PhantomError",
    "ReportError",
    "ScribeError",
    "StoreError",
    "TrackingLost",
    "__version__",
]
