"""Models of the support app (filled in by its own issue)."""
