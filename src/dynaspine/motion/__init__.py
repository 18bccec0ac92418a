"""motion (under construction)."""
