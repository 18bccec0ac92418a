"""tracking (under construction)."""
