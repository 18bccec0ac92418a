"""Tracking: follow every vertebra through every frame by robust rigid registration.

:func:`track` takes a :class:`dynaspine.io.Study` and the reference-frame corners
(:class:`dynaspine.landmarks.Landmarks`) and returns :class:`Tracks`: per vertebra and frame
the reference->frame rigid transform, the mapped corners, a quality value and whether the
vertebra was found (``docs/tracking.md``).
"""

from dynaspine.tracking._options import TrackingOptions
from dynaspine.tracking._track import Tracks, track

__all__ = ["TrackingOptions", "Tracks", "track"]
