"""Notification pages: the bell's list and marking read (being built)."""

urlpatterns = []
