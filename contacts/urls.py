"""Pages of the contacts app (filled in by its own issue)."""

app_name = "contacts"
urlpatterns: list = []
