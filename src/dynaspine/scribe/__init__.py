"""scribe (under construction)."""
