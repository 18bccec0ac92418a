"""Automatic vertebra recognition: find, outline and label vertebral bodies without clicks.

Two stages combined: a small network (U-Net with CenterNet-style heatmaps, trained on
phantom DRRs by ``scripts/train_recognition.py``, run in NumPy from ``data/vertebra_net.npz``)
and a classical pipeline (the spine's centre line by dynamic programming, disc spaces as
minima of the profile along it, each body fitted as a quadrilateral to its four edges with
sub-pixel refinement). Names are counted from the sacrum, a user's anchor, or the field
edge; every body carries a confidence and those below the threshold are reported, not
proposed. See ``docs/recognition.md``.
"""

from dynaspine.recognition._detect import Detection, find_vertebrae, parameters

__all__ = ["Detection", "find_vertebrae", "parameters"]
