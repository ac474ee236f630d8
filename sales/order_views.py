"""Pages of the sales app: orders (being built)."""

urlpatterns = []
