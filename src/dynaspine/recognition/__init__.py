"""Automatic vertebra recognition: find, outline and label vertebral bodies without clicks.

A classical pipeline (no trained weights): the spine's centre line by dynamic programming
over a bright-band and endplate-edge score, disc spaces as minima of the profile along it,
each body fitted as a quadrilateral to its four edges with sub-pixel refinement, names
counted from the sacrum, a user's anchor, or the field edge. See ``docs/recognition.md``.
"""

from dynaspine.recognition._detect import Detection, find_vertebrae, parameters

__all__ = ["Detection", "find_vertebrae", "parameters"]
