"""Sub-commands of the ``dynaspine`` CLI: one module per command, each with ``register(app)``.

Modules whose name starts with ``_`` are helpers, not commands.
"""
