"""Models of the sales app (filled in by its own issue)."""
