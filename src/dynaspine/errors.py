"""The one exception tree of dynaspine.

Every error a user can cause derives from :class:`DynaspineError`. Messages say what was
wrong, where (file, frame, tag, field) and how to fix it; the CLI prints the message and
exits non-zero without a traceback. Messages never contain patient identifiers.
"""

from __future__ import annotations


class DynaspineError(Exception):
    """Base of every error dynaspine raises on purpose.

    Parameters
    ----------
    message
        What was wrong, where, and how to fix it.
    hint
        Optional extra line on how to fix it, shown after the message.
    """

    exit_code: int = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message


class InputError(DynaspineError):
    """An input file, folder or argument is missing, unreadable or inconsistent."""


class LandmarkError(InputError):
    """A landmarks (MARKS.json) file is malformed or names an unknown vertebra."""


class CalibrationError(InputError):
    """Pixel spacing cannot be determined; the user must supply it (never assumed 1 mm)."""


class DataError(DynaspineError):
    """A bundled data file (code table, rule, CT volume) is missing or malformed."""


class PhantomError(DynaspineError):
    """A phantom cannot be generated as asked (unknown vertebra, impossible motion)."""


class TrackingLost(DynaspineError):
    """A vertebra cannot be tracked at all (e.g. not found on the reference frame)."""


class CodingError(DynaspineError):
    """An encounter cannot be coded at all (findings cover everything short of this)."""


class ScribeError(DynaspineError):
    """A dictation cannot be read (empty note, unreadable audio, unsupported language)."""


class ReportError(DynaspineError):
    """A report cannot be produced from the given result (version mismatch, no calibration)."""


class StoreError(DynaspineError):
    """The database cannot be reached, migrated or queried."""
