"""Pages of the analytics app (filled in by its own issue)."""

app_name = "analytics"
urlpatterns: list = []
