"""Admin pages of the support desk: settings and holidays, queues, SLA policies (admins only; others get 403).

Queues, policies and holidays are organisation-wide records: `pk` names a Queue, an SlaPolicy or a Holiday.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views import View

from crm.views import AdminPageMixin, form_errors_from
from support import configuration
from support.admin_forms import WEEKDAYS, HolidayForm, QueueForm, SlaPolicyForm, SupportSettingsForm
from support.models import OPEN_STATUSES, Holiday, Queue, SlaPolicy, SupportSettings


def hours_and_minutes(minutes: int) -> str:
    """A target in business minutes as the list shows it: "4 h", "1 h 30 min", "45 min"."""
    hours, rest = divmod(int(minutes), 60)
    if hours and rest:
        return _("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": rest}
    if hours:
        return _("%(hours)s h") % {"hours": hours}
    return _("%(minutes)s min") % {"minutes": rest}


# --- Settings and holidays -----------------------------------------------------------------------


class SettingsView(AdminPageMixin, View):
    """/support/settings/: the working week, the day's hours, auto-close; the holidays below."""

    def render_page(self, *, form=None, holiday_form=None, status=200):
        settings = SupportSettings.load()
        return render(self.request, "support/admin/settings.html", {
            "form": form or SupportSettingsForm.for_settings(settings),
            "holiday_form": holiday_form or HolidayForm(auto_id="holiday_%s"),
            "holidays": Holiday.objects.order_by("date"),
            "working_day_names": [str(label) for day, label in WEEKDAYS if day in settings.working_days],
            "settings": settings,
        }, status=status)

    def get(self, request):
        return self.render_page()

    def post(self, request):
        form = SupportSettingsForm(request.POST)
        if form.is_valid():
            try:
                configuration.update_support_settings(by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("Support settings saved."))
                return redirect("support:admin_settings")
        return self.render_page(form=form, status=400)


class HolidayAddView(SettingsView):
    def get(self, request):
        return redirect("support:admin_settings")

    def post(self, request):
        form = HolidayForm(request.POST, auto_id="holiday_%s")
        if form.is_valid():
            try:
                holiday = configuration.add_holiday(by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("Holiday “%(name)s” added.") % {"name": holiday.name})
                return redirect("support:admin_settings")
        return self.render_page(holiday_form=form, status=400)


class HolidayDeleteView(AdminPageMixin, View):
    def post(self, request, pk):
        holiday = get_object_or_404(Holiday, pk=pk)
        configuration.delete_holiday(by=request.user, holiday=holiday)
        messages.success(request, _("Holiday “%(name)s” removed.") % {"name": holiday.name})
        return redirect("support:admin_settings")


# --- Queues ------------------------------------------------------------------------------------------


class QueueListView(AdminPageMixin, View):
    """/support/settings/queues/: every queue with its team and open tickets; POST adds one."""

    def render_page(self, form=None, status=200):
        queues = (Queue.objects.select_related("team")
                  .annotate(open_tickets=Count("tickets", filter=Q(tickets__status__in=OPEN_STATUSES)))
                  .order_by("-is_active", "name"))
        return render(self.request, "support/admin/queues.html", {"queues": queues, "form": form or QueueForm()},
                      status=status)

    def get(self, request):
        return self.render_page()

    def post(self, request):
        form = QueueForm(request.POST)
        if form.is_valid():
            try:
                queue = configuration.save_queue(by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("Queue “%(name)s” added.") % {"name": queue.name})
                return redirect("support:admin_queues")
        return self.render_page(form, status=400)


class QueueView(AdminPageMixin, View):
    """/support/settings/queues/<pk>/: change a queue."""

    def render_page(self, queue, form=None, status=200):
        return render(self.request, "support/admin/queue.html",
                      {"queue": queue, "form": form or QueueForm.for_queue(queue)}, status=status)

    def get(self, request, pk):
        return self.render_page(get_object_or_404(Queue.objects.select_related("team"), pk=pk))

    def post(self, request, pk):
        queue = get_object_or_404(Queue, pk=pk)
        form = QueueForm(request.POST)
        if form.is_valid():
            try:
                configuration.save_queue(by=request.user, queue=queue, **form.cleaned_data)
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("Queue saved."))
                return redirect("support:admin_queues")
        return self.render_page(queue, form, status=400)


# --- SLA policies ----------------------------------------------------------------------------------


class SlaListView(AdminPageMixin, View):
    """/support/settings/sla/: every policy with its targets in hours and minutes; POST adds one."""

    def render_page(self, form=None, status=200):
        policies = list(SlaPolicy.objects.select_related("queue").order_by("-is_active", "priority", "name"))
        for policy in policies:
            policy.first_response_label = hours_and_minutes(policy.first_response_minutes)
            policy.resolution_label = hours_and_minutes(policy.resolution_minutes)
        return render(self.request, "support/admin/sla.html", {"policies": policies, "form": form or SlaPolicyForm()},
                      status=status)

    def get(self, request):
        return self.render_page()

    def post(self, request):
        form = SlaPolicyForm(request.POST)
        if form.is_valid():
            try:
                policy = configuration.save_sla_policy(by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("SLA policy “%(name)s” added.") % {"name": policy.name})
                return redirect("support:admin_sla")
        return self.render_page(form, status=400)


class SlaPolicyView(AdminPageMixin, View):
    """/support/settings/sla/<pk>/: change a policy, or deactivate it."""

    def render_page(self, policy, form=None, status=200):
        return render(self.request, "support/admin/sla_policy.html",
                      {"policy": policy, "form": form or SlaPolicyForm.for_policy(policy),
                       "first_response_label": hours_and_minutes(policy.first_response_minutes),
                       "resolution_label": hours_and_minutes(policy.resolution_minutes)}, status=status)

    def get(self, request, pk):
        return self.render_page(get_object_or_404(SlaPolicy, pk=pk))

    def post(self, request, pk):
        policy = get_object_or_404(SlaPolicy, pk=pk)
        form = SlaPolicyForm(request.POST)
        if form.is_valid():
            try:
                configuration.save_sla_policy(by=request.user, policy=policy, **form.cleaned_data)
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("SLA policy saved."))
                return redirect("support:admin_sla")
        return self.render_page(policy, form, status=400)


class SlaPolicyDeactivateView(AdminPageMixin, View):
    def post(self, request, pk):
        policy = configuration.deactivate_sla_policy(by=request.user, policy=get_object_or_404(SlaPolicy, pk=pk))
        messages.success(request, _("SLA policy “%(name)s” deactivated.") % {"name": policy.name})
        return redirect("support:admin_sla")


urlpatterns = [
    path("settings/", SettingsView.as_view(), name="admin_settings"),
    path("settings/holidays/", HolidayAddView.as_view(), name="admin_holiday_add"),
    path("settings/holidays/<int:pk>/delete/", HolidayDeleteView.as_view(), name="admin_holiday_delete"),
    path("settings/queues/", QueueListView.as_view(), name="admin_queues"),
    path("settings/queues/<int:pk>/", QueueView.as_view(), name="admin_queue"),
    path("settings/sla/", SlaListView.as_view(), name="admin_sla"),
    path("settings/sla/<int:pk>/", SlaPolicyView.as_view(), name="admin_sla_policy"),
    path("settings/sla/<int:pk>/deactivate/", SlaPolicyDeactivateView.as_view(), name="admin_sla_policy_deactivate"),
]
