"""The phantom: radiographs of a moving spine with exactly known motion.

:func:`generate` renders a fluoroscopic cine or static films of either the bundled real
lumbar CT (digitally reconstructed radiographs) or analytic vertebrae, with every
vertebra moved rigidly along a chain of levels; :class:`Truth` holds the exact
transforms, corners and per-level motion that tracking and kinematics are scored against.
See ``docs/phantom.md``.
"""

from dynaspine.phantom._generate import PhantomStudy, generate
from dynaspine.phantom._motion import POSITIONS, LevelMotion, level_motions, motion_table
from dynaspine.phantom._truth import LevelTruth, Truth

__all__ = [
    "POSITIONS",
    "LevelMotion",
    "LevelTruth",
    "PhantomStudy",
    "Truth",
    "generate",
    "level_motions",
    "motion_table",
]
