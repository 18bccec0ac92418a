"""``python -m dynaspine``: the same as the ``dynaspine`` command."""

from dynaspine.cli import main

main()
