"""Pages of the support app (filled in by its own issue)."""

app_name = "support"
urlpatterns: list = []
