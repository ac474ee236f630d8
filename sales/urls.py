"""Pages of the sales app (filled in by its own issue)."""

app_name = "sales"
urlpatterns: list = []
