"""report (under construction)."""
