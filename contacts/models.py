"""Models of the contacts app (filled in by its own issue)."""
