"""Pages of the sales app: tasks (being built)."""

urlpatterns = []
