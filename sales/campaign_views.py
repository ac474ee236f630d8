"""Pages of the sales app: campaigns (being built)."""

urlpatterns = []
