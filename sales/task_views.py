"""Pages of tasks: My tasks (overdue, today, upcoming in the user's time zone), a task's page, and the tasks panel
of a contact, company or deal, each with quick-add and quick-complete (htmx in place; a POST and a redirect
without JavaScript).

`pk` names a task in the task routes, and the record of the route's prefix in the panels
(`contact_tasks` a contact, `company_tasks` a company, `deal_tasks` a deal).
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views import View

from contacts.models import Company, Contact
from crm import policy
from crm.views import OwnedObjectMixin, PageMixin, form_errors_from, safe_next
from sales import task_services as services
from sales.models import Deal, Task
from sales.task_forms import AssigneeFilterForm, QuickTaskForm, TaskForm


def back_to(request, default: str) -> str:
    """Where to go back to after a POST: the `next` the page sent, if it is on this site."""
    return safe_next(request, request.POST.get("next") or request.GET.get("next") or "", default)


def with_rights(user, tasks):
    """Mark each task with what the user may do to it (no query: the rules need only loaded fields)."""
    for task in tasks:
        task.can_edit = policy.can_edit(user, task)
    return tasks


# --- My tasks --------------------------------------------------------------------------------------------


class TasksView(PageMixin, View):
    """/sales/tasks/: the user's open tasks (or, `?assignee=`, a colleague's they can see) by when they are due."""

    def get(self, request):
        form = AssigneeFilterForm(request.GET)
        assignee = (form.cleaned_data.get("assignee") if form.is_valid() else None) or request.user
        sections = services.task_sections(user=request.user, assignee=assignee)
        for tasks in sections.values():
            with_rights(request.user, tasks)
        return render(request, "sales/tasks/my_tasks.html", {
            "filter_form": form, "assignee": assignee, "sections": sections,
            "section_list": [("overdue", _("Overdue"), sections["overdue"]), ("today", _("Today"), sections["today"]),
                             ("upcoming", _("Upcoming"), sections["upcoming"])],
            "next_url": request.get_full_path(), "limit": services.SECTION_LIMIT,
        }, status=200 if form.is_valid() else 400)


# --- One task --------------------------------------------------------------------------------------------


class TaskCreateView(PageMixin, View):
    """/sales/tasks/new/ (`?contact=`, `?company=`, `?deal=` link it): the whole task form."""

    template = "sales/tasks/task_form.html"

    def get(self, request):
        form = TaskForm(user=request.user, initial={k: request.GET[k] for k in ("contact", "company", "deal")
                                                    if request.GET.get(k, "").isdigit()})
        return render(request, self.template, {"form": form, "next_url": back_to(request, "")})

    def post(self, request):
        form = TaskForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                task = services.create_task(by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("Task “%(title)s” added.") % {"title": task.title})
                return redirect(back_to(request, reverse("sales:tasks")))
        return render(request, self.template, {"form": form, "next_url": back_to(request, "")}, status=400)


class TaskPage(OwnedObjectMixin):
    model = Task

    def get_queryset(self):
        return super().get_queryset().select_related("contact", "company", "deal")


class TaskEditView(TaskPage, View):
    """/sales/tasks/<pk>/: the task; its form for those who may change it."""

    template = "sales/tasks/task_form.html"

    def context(self, task, form=None):
        can_edit = policy.can_edit(self.request.user, task)
        if form is None and can_edit:
            form = TaskForm(user=self.request.user, initial={
                "title": task.title, "kind": task.kind, "priority": task.priority, "due_at": task.due_at,
                "remind_at": task.remind_at if task.remind_at != task.due_at else None,
                "owner": task.owner_id, "note": task.note,
                "contact": task.contact_id, "company": task.company_id, "deal": task.deal_id,
            })
        task.can_edit = can_edit
        return {"task": task, "form": form, "can_edit": can_edit,
                "can_delete": policy.can_delete(self.request.user, task), "next_url": back_to(self.request, "")}

    def get(self, request, pk):
        return render(request, self.template, self.context(self.get_object()))

    def post(self, request, pk):
        task = self.get_editable_object()
        form = TaskForm(request.POST, user=request.user)
        if form.is_valid():
            data = dict(form.cleaned_data)
            owner = data.pop("owner") or task.owner
            try:
                services.update_task(by=request.user, task=task, owner=owner, **data)
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("Task saved."))
                return redirect(back_to(request, reverse("sales:task", args=[task.pk])))
        task.refresh_from_db()
        return render(request, self.template, self.context(task, form), status=400)


class TaskStateView(TaskPage, View):
    """POST: complete or reopen in place (htmx answers the task's row) or, without JS, redirect back."""

    action = None

    def post(self, request, pk):
        task = self.get_object()
        if not policy.can_edit(request.user, task):
            raise PermissionDenied
        task = self.action(by=request.user, task=task)
        task.can_edit = True
        if request.htmx:
            return render(request, "sales/tasks/row.html", {"task": task, "next_url": back_to(request, "")})
        if task.is_done:
            messages.success(request, _("Task “%(title)s” done.") % {"title": task.title})
        return redirect(back_to(request, reverse("sales:tasks")))


class TaskCompleteView(TaskStateView):
    action = staticmethod(services.complete_task)


class TaskReopenView(TaskStateView):
    action = staticmethod(services.reopen_task)


class TaskDeleteView(TaskPage, View):
    def post(self, request, pk):
        task = self.get_object()
        services.delete_task(by=request.user, task=task)
        messages.success(request, _("Task “%(title)s” deleted.") % {"title": task.title})
        return redirect(back_to(request, reverse("sales:tasks")))


# --- Panels on record pages ------------------------------------------------------------------------------


class RecordTasksPanel(PageMixin, View):
    """The open tasks of a contact, company or deal, with a quick-add line.

    htmx gets the panel (it replaces the lazy <section>); a browser without JS gets it in a small page.
    """

    model = None
    field = ""
    record_url_name = ""

    def get_record(self):
        return get_object_or_404(self.model.objects.visible_to(self.request.user), pk=self.kwargs["pk"])

    def render_panel(self, record, form=None, status=200):
        user = self.request.user
        panel_url = reverse(f"sales:{self.field}_tasks", args=[record.pk])
        context = {
            "record": record, "field": self.field, "panel_id": "tasks-panel", "panel_url": panel_url,
            "record_url": reverse(self.record_url_name, args=[record.pk]),
            "tasks": with_rights(user, services.tasks_of(user=user, field=self.field, record=record)),
            "form": form or QuickTaskForm(), "limit": services.PANEL_LIMIT,
        }
        context["next_url"] = context["record_url"]
        template = "sales/tasks/panel.html" if self.request.htmx else "sales/tasks/panel_page.html"
        return render(self.request, template, context, status=status)

    def get(self, request, pk):
        return self.render_panel(self.get_record())

    def post(self, request, pk):
        record = self.get_record()
        form = QuickTaskForm(request.POST)
        if form.is_valid():
            try:
                services.create_task(by=request.user, **form.cleaned_data, **{self.field: record})
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                if request.htmx:
                    return self.render_panel(record)
                messages.success(request, _("Task added."))
                return redirect(reverse(self.record_url_name, args=[record.pk]))
        return self.render_panel(record, form=form, status=400)


class ContactTasksPanel(RecordTasksPanel):
    model, field, record_url_name = Contact, "contact", "contacts:contact"


class CompanyTasksPanel(RecordTasksPanel):
    model, field, record_url_name = Company, "company", "contacts:company"


class DealTasksPanel(RecordTasksPanel):
    model, field, record_url_name = Deal, "deal", "sales:deal"


urlpatterns = [
    path("tasks/", TasksView.as_view(), name="tasks"),
    path("tasks/new/", TaskCreateView.as_view(), name="task_create"),
    path("tasks/<int:pk>/", TaskEditView.as_view(), name="task"),
    path("tasks/<int:pk>/complete/", TaskCompleteView.as_view(), name="task_complete"),
    path("tasks/<int:pk>/reopen/", TaskReopenView.as_view(), name="task_reopen"),
    path("tasks/<int:pk>/delete/", TaskDeleteView.as_view(), name="task_delete"),
    path("contacts/<int:pk>/tasks/", ContactTasksPanel.as_view(), name="contact_tasks"),
    path("companies/<int:pk>/tasks/", CompanyTasksPanel.as_view(), name="company_tasks"),
    path("deals/<int:pk>/tasks/", DealTasksPanel.as_view(), name="deal_tasks"),
]
