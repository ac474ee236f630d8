"""Notification pages: the list, the bell's dropdown, marking read (one, or all).

`pk` names a notification; someone else's is a 404 like any record one cannot see.
"""

from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views import View

from crm import notifications
from crm.models import Notification
from crm.views import PageMixin, safe_next

PER_PAGE = 50
BELL_SIZE = 10


class NotificationListView(PageMixin, View):
    """/notifications/: every notification of the user, newest first (`?unread=1` for the unread ones)."""

    def get(self, request):
        qs = Notification.objects.visible_to(request.user).order_by("-created_at", "-id")
        unread_only = request.GET.get("unread") == "1"
        if unread_only:
            qs = qs.unread()
        # The page slice, and one extra row to know whether there is a next page (no COUNT).
        try:
            number = max(int(request.GET.get("page", "1")), 1)
        except ValueError:
            number = 1
        start = (number - 1) * PER_PAGE
        rows = list(qs[start:start + PER_PAGE + 1])
        return render(request, "crm/notifications.html", {
            "notifications": rows[:PER_PAGE], "page_number": number, "has_next": len(rows) > PER_PAGE,
            "unread_only": unread_only,
        })


class BellView(PageMixin, View):
    """The bell's dropdown (htmx): the latest unread notifications."""

    def get(self, request):
        rows = list(Notification.objects.visible_to(request.user).unread().order_by("-created_at", "-id")[:BELL_SIZE])
        here = request.htmx.current_url_abs_path if request.htmx else ""
        return render(request, "partials/bell.html", {"notifications": rows, "next_url": here or ""})


class BellCountView(PageMixin, View):
    """The bell's unread count (htmx, on every page's load): one COUNT, cached until something changes it."""

    def get(self, request):
        return render(request, "partials/bell_count.html", {"unread": notifications.unread_count(request.user)})


class NotificationReadView(PageMixin, View):
    """POST: mark one notification read, then go to what it is about (or back)."""

    def post(self, request, pk):
        notification = get_object_or_404(Notification.objects.visible_to(request.user), pk=pk)
        notifications.mark_read(user=request.user, notification=notification)
        if request.POST.get("go") and notification.url:
            return redirect(safe_next(request, notification.url, reverse("notifications")))
        return redirect(safe_next(request, request.POST.get("next", ""), reverse("notifications")))


class NotificationReadAllView(PageMixin, View):
    def post(self, request):
        notifications.mark_all_read(user=request.user)
        return redirect(safe_next(request, request.POST.get("next", ""), reverse("notifications")))


urlpatterns = [
    path("", NotificationListView.as_view(), name="notifications"),
    path("bell/", BellView.as_view(), name="notification_bell"),
    path("count/", BellCountView.as_view(), name="notification_count"),
    path("<int:pk>/read/", NotificationReadView.as_view(), name="notification_read"),
    path("read-all/", NotificationReadAllView.as_view(), name="notifications_read_all"),
]
