"""The agent pages of the support desk: the inbox (with bulk assign/close), a ticket's page (thread, reply or
internal note, canned replies, fields, merge, the customer 360 panel), opening a ticket for a caller, the
queues overview for managers, and the tickets panel of a contact's page.

`pk` names a Ticket in every `ticket*` route (except `ticket_new`, which has none) and a Contact in
`contact_tickets`. A ticket the user cannot see is a 404; one they may read but not change (a sales rep's
customer, another team's manager) answers 403 to every POST. Rules live in `support.services` and
`support.bulk`; reads in `support.selectors`.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View

from contacts.models import Contact
from crm.listing import CappedPaginator, bulk_summary
from crm.models import Role
from crm.templatetags.crm import localize_digits
from crm.views import PageMixin, form_errors_from, safe_next
from support import bulk, selectors, services
from support.filters import TicketFilter
from support.forms import BulkForm, MergeForm, NewTicketForm, ReplyForm, TicketFieldsForm
from support.models import CannedReply, SlaState, Ticket, TicketStatus

PAGE_SIZE = 50
#: Who may open a ticket for a caller (sales reps read their customers' tickets only).
OPENER_ROLES = {Role.ADMIN, Role.MANAGER, Role.SUPPORT_AGENT}
VIEW_LABELS = {
    "mine": gettext_lazy("My tickets"), "queues": gettext_lazy("My queues"), "unassigned": gettext_lazy("Unassigned"),
    "at_risk": gettext_lazy("At risk"), "breached": gettext_lazy("Breached"), "all": gettext_lazy("All I can see"),
}


# --- SLA countdown -------------------------------------------------------------------------------------


def _duration(seconds: float) -> str:
    """A short span: "2d 3h", "1h 20m", "5m" (at least a minute)."""
    minutes = max(1, int(abs(seconds) // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        text = _("%(d)sd %(h)sh") % {"d": days, "h": hours}
    elif hours:
        text = _("%(h)sh %(m)sm") % {"h": hours, "m": mins}
    else:
        text = _("%(m)sm") % {"m": mins}
    return localize_digits(text)


def sla_display(ticket: Ticket, now) -> dict:
    """What the SLA cell shows (no query): state class, text, and the due time the countdown script ticks to."""
    state = ticket.sla_state
    if ticket.status in (TicketStatus.SOLVED, TicketStatus.CLOSED):
        text = _("Breached") if state == SlaState.BREACHED else (_("Met") if state == SlaState.MET else _("No SLA"))
        return {"state": state, "text": text, "due": None}
    if ticket.is_paused:
        return {"state": SlaState.PAUSED, "text": _("Paused"), "due": None}
    if ticket.sla_due_at is None:
        return {"state": state, "text": _("No SLA"), "due": None}
    due, left = ticket.sla_due_at, (ticket.sla_due_at - now).total_seconds()
    if left <= 0:
        state, text = SlaState.BREACHED, _("overdue by %(time)s") % {"time": _duration(left)}
    else:
        text = _("due in %(time)s") % {"time": _duration(left)}
    return {"state": state, "text": text, "due": due, "due_iso": due.isoformat()}


def _with_sla(tickets, now):
    for ticket in tickets:
        ticket.sla = sla_display(ticket, now)
    return tickets


# --- The inbox ----------------------------------------------------------------------------------------------


class InboxView(PageMixin, View):
    """/support/: the user's tickets by `view` (mine, queues, unassigned, at_risk, breached, all), filtered,
    sorted by SLA due (default), newest, last activity or priority; 50 a page, counted exactly up to 10,000."""

    def get(self, request):
        return self.render_inbox(request, request.GET)

    def render_inbox(self, request, params: QueryDict, bulk_form: BulkForm | None = None, status: int = 200):
        user = request.user
        view = params.get("view") or selectors.default_view(user)
        if view not in selectors.INBOX_VIEWS:
            view = selectors.default_view(user)
        filterset = TicketFilter(params, queryset=Ticket.objects.none(), user=user)
        valid = filterset.is_valid()
        filters = {k: v for k, v in filterset.form.cleaned_data.items() if k != "sort"} if valid else {}
        sort = (filterset.form.cleaned_data.get("sort") if valid else "") or "sla_due_at"
        rows = selectors.inbox_for(user=user, view=view, filters=filters, sort=sort)
        if not valid:
            rows = rows.none()  # a bad filter shows its error, not an unfiltered list
        page = CappedPaginator(rows, PAGE_SIZE).get_page(params.get("page"))
        now = timezone.now()
        tickets = _with_sla(list(page.object_list), now)
        query = params.copy()
        query.pop("page", None)
        query.pop("view", None)
        can_bulk = user.role != Role.SALES_REP
        context = {
            "view": view, "views": [(key, VIEW_LABELS[key]) for key in selectors.INBOX_VIEWS],
            "filter_form": filterset.form, "page": page, "tickets": tickets, "query": query.urlencode(),
            "sort": sort, "can_bulk": can_bulk,
            "bulk_form": bulk_form or (BulkForm(user=user) if can_bulk else None),
            "can_open": user.role in OPENER_ROLES,
            "can_overview": user.role in (Role.ADMIN, Role.MANAGER),
        }
        if request.htmx and request.htmx.target == "inbox-results":
            return render(request, "support/partials/inbox_results.html", context, status=200 if valid else 400)
        return render(request, "support/inbox.html", context, status=status if valid else 400)


class BulkView(PageMixin, View):
    """POST /support/tickets/bulk/: assign or close the ticked tickets; the others are counted as skipped."""

    def post(self, request):
        form = BulkForm(request.POST, user=request.user)
        back = safe_next(request, request.POST.get("next", ""), reverse("support:index"))
        if form.is_valid():
            data = form.cleaned_data
            try:
                outcome = bulk.bulk_update_tickets(by=request.user, ids=data["ids"], action=data["action"],
                                                   assignee=data["assignee"])
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                done = outcome["done"]
                text = (ngettext("%(n)s ticket closed", "%(n)s tickets closed", done) if data["action"] == "close"
                        else ngettext("%(n)s ticket assigned", "%(n)s tickets assigned", done)) % {"n": done}
                messages.success(request, bulk_summary(text, outcome["skipped"]))
                return redirect(back)
        params = QueryDict(back.partition("?")[2])
        return InboxView().render_inbox(request, params, bulk_form=form, status=400)


# --- A ticket ---------------------------------------------------------------------------------------------


def _go(request, url: str):
    """Another page next: htmx follows HX-Redirect, a plain form the redirect."""
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


class TicketMixin(PageMixin):
    """A visible ticket (else 404); `get_workable` also requires the right to change it (else 403)."""

    def get_ticket(self, pk: int) -> Ticket:
        try:
            return selectors.ticket_for(user=self.request.user, pk=pk)
        except Ticket.DoesNotExist:
            raise Http404 from None

    def get_workable(self, pk: int) -> Ticket:
        ticket = self.get_ticket(pk)
        if not services.can_work(self.request.user, ticket):
            raise PermissionDenied
        return ticket

    def page_context(self, ticket: Ticket, *, reply_form=None, fields_form=None, merge_form=None) -> dict:
        user = self.request.user
        can_work = services.can_work(user, ticket)
        context = {
            "ticket": ticket, "thread": selectors.ticket_thread(ticket, user), "can_work": can_work,
            "sla": sla_display(ticket, timezone.now()),
            "customer": selectors.customer_360(contact=ticket.contact, user=user, exclude_ticket=ticket),
        }
        if can_work:
            candidates = selectors.merge_candidates(ticket=ticket, user=user)
            context.update({
                "reply_form": reply_form or ReplyForm(),
                "fields_form": fields_form or self.fields_form(ticket),
                "merge_candidates": candidates,
                "merge_form": merge_form or MergeForm(candidates=candidates),
                "canned_replies": CannedReply.objects.visible_to(user).only("title").order_by("title", "id"),
            })
        return context

    def fields_form(self, ticket: Ticket, data=None) -> TicketFieldsForm:
        initial = {"status": ticket.status, "priority": ticket.priority, "type": ticket.type,
                   "queue": ticket.queue_id, "assignee": ticket.assignee_id, "order": ticket.order_id,
                   "tags": [t.pk for t in ticket.tags.all()]}
        return TicketFieldsForm(data, ticket=ticket, user=self.request.user, initial=initial)

    def render_page(self, ticket: Ticket, status: int = 200, **forms):
        return render(self.request, "support/ticket.html", self.page_context(ticket, **forms), status=status)


class TicketView(TicketMixin, View):
    """/support/tickets/<pk>/: the conversation, the reply box and controls (for those who may change it), the
    customer 360 panel."""

    def get(self, request, pk):
        return self.render_page(self.get_ticket(pk))


class TicketThreadView(TicketMixin, View):
    """GET: the thread partial (htmx refresh)."""

    def get(self, request, pk):
        ticket = self.get_ticket(pk)
        return render(request, "support/partials/thread.html", {
            "ticket": ticket, "thread": selectors.ticket_thread(ticket, request.user)})


class TicketReplyView(TicketMixin, View):
    """POST: a public reply or an internal note (optionally setting the status). htmx gets the conversation
    (thread and an empty box) back, or the box with its errors and the text kept; without JS, a redirect."""

    def post(self, request, pk):
        ticket = self.get_workable(pk)
        form = ReplyForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.add_reply(ticket=ticket, by=request.user, body=data["body"], internal=data["internal"],
                                   attachments=data["attachments"], status=data["status"] or None)
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                if not request.htmx:
                    messages.success(request, _("Internal note added.") if data["internal"] else _("Reply sent."))
                    return redirect("support:ticket", pk=ticket.pk)
                ticket = self.get_ticket(pk)
                response = render(request, "support/partials/conversation.html", {
                    "ticket": ticket, "thread": selectors.ticket_thread(ticket, request.user), "can_work": True,
                    "reply_form": ReplyForm(), "canned_replies": self.canned(), "posted": True})
                response["HX-Trigger"] = "ticket-replied"
                return response
        if request.htmx:
            return render(request, "support/partials/conversation.html", {
                "ticket": ticket, "thread": selectors.ticket_thread(ticket, request.user), "can_work": True,
                "reply_form": form, "canned_replies": self.canned()}, status=400)
        return self.render_page(ticket, status=400, reply_form=form)

    def canned(self):
        return CannedReply.objects.visible_to(self.request.user).only("title").order_by("title", "id")


class TicketCannedView(TicketMixin, View):
    """GET ?reply=<canned reply id>: the reply box's textarea with the canned text filled in (after what the
    agent already typed, sent along as `body`)."""

    def get(self, request, pk):
        ticket = self.get_workable(pk)
        reply_id = request.GET.get("reply", "")
        typed = request.GET.get("body", "")
        text = typed
        if reply_id.isdigit():
            canned = get_object_or_404(CannedReply.objects.visible_to(request.user), pk=int(reply_id))
            filled = services.render_canned_reply(canned, ticket=ticket, agent=request.user)
            text = f"{typed.rstrip()}\n\n{filled}" if typed.strip() else filled
        form = ReplyForm(initial={"body": text})
        return render(request, "support/partials/reply_body.html", {"ticket": ticket, "reply_form": form})


class TicketFieldsView(TicketMixin, View):
    """GET: the fields panel; POST: change status, priority, type, queue, assignee, tags, linked order (all or
    nothing), through the services."""

    template = "support/partials/ticket_fields.html"

    def get(self, request, pk):
        ticket = self.get_ticket(pk)
        return render(request, self.template, self.fields_context(ticket))

    def fields_context(self, ticket, form=None):
        can_work = services.can_work(self.request.user, ticket)
        return {"ticket": ticket, "can_work": can_work, "sla": sla_display(ticket, timezone.now()),
                "fields_form": form or (self.fields_form(ticket) if can_work else None)}

    def post(self, request, pk):
        ticket = self.get_workable(pk)
        form = self.fields_form(ticket, request.POST)
        if form.is_valid():
            try:
                self.apply(ticket, form.changes())
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                try:
                    ticket = self.get_ticket(pk)
                except Http404:  # moved to a queue the user does not serve
                    messages.success(request, _("Ticket #%(number)s moved to another team's queue.") % {
                        "number": ticket.number})
                    return _go(request, reverse("support:index"))
                if not request.htmx:
                    messages.success(request, _("Ticket #%(number)s saved.") % {"number": ticket.number})
                    return redirect("support:ticket", pk=ticket.pk)
                return render(request, self.template, self.fields_context(ticket))
        if request.htmx:
            return render(request, self.template, self.fields_context(ticket, form), status=400)
        return self.render_page(ticket, status=400, fields_form=form)

    @transaction.atomic
    def apply(self, ticket: Ticket, changes: dict) -> None:
        """Fields first (a new queue may drop the assignee), then the assignee, then the status."""
        by = self.request.user
        # The whole form is posted: only values that differ from what the page showed are changes (so moving
        # the ticket to another team's queue does not re-assign the agent that move just dropped).
        shown_assignee, shown_status = ticket.assignee_id, ticket.status
        status = changes.pop("status", None)
        has_assignee = "assignee" in changes
        assignee = changes.pop("assignee", None)
        tags = changes.pop("tags", None)
        fields = {k: v for k, v in changes.items() if v not in ("", None) or k == "order"}
        if fields or tags is not None:
            ticket = services.update_ticket(ticket=ticket, by=by, tags=tags, **fields)
        if has_assignee and (assignee.pk if assignee else None) != shown_assignee:
            ticket = services.assign_ticket(ticket=ticket, by=by, assignee=assignee)
        if status and status != shown_status:
            services.change_status(ticket=ticket, by=by, status=status)


class TicketMergeView(TicketMixin, View):
    """POST: fold this ticket into another open ticket of the same customer, then show that one."""

    def post(self, request, pk):
        ticket = self.get_workable(pk)
        candidates = selectors.merge_candidates(ticket=ticket, user=request.user)
        form = MergeForm(request.POST, candidates=candidates)
        if form.is_valid():
            target = form.cleaned_data["target"]
            if not services.can_work(request.user, target):
                form.add_error("target", _("You cannot change that ticket."))
            else:
                try:
                    services.merge_tickets(by=request.user, source=ticket, target=target)
                except ValidationError as exc:
                    form_errors_from(form, exc)
                else:
                    messages.success(request, _("Ticket #%(source)s was merged into #%(target)s.") % {
                        "source": ticket.number, "target": target.number})
                    return _go(request, reverse("support:ticket", args=[target.pk]))
        if request.htmx:
            return render(request, "support/partials/merge.html", {
                "ticket": ticket, "merge_form": form, "merge_candidates": candidates}, status=400)
        return self.render_page(ticket, status=400, merge_form=form)


class TicketCreateView(PageMixin, View):
    """/support/tickets/new/ (`?contact=<id>` preselects the customer): a ticket typed in for a caller."""

    roles = OPENER_ROLES
    template = "support/ticket_new.html"

    def get(self, request):
        initial = {}
        contact_id = request.GET.get("contact", "")
        if contact_id.isdigit():
            contact = Contact.objects.visible_to(request.user).filter(pk=int(contact_id)).first()
            if contact is not None:
                initial["contact"] = contact
        return self.render_form(NewTicketForm(user=request.user, initial=initial))

    def render_form(self, form, status=200):
        from sales.forms import contact_suggestions

        return render(self.request, self.template, {
            "form": form, "contact_options": contact_suggestions(self.request.user)}, status=status)

    def post(self, request):
        form = NewTicketForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                ticket = services.open_ticket(
                    by=request.user, contact=data["contact"], email=data["email"], phone=data["phone"],
                    name=data["name"], channel=data["channel"], type=data["type"], priority=data["priority"],
                    queue=data["queue"], subject=data["subject"], body=data["body"])
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("Ticket #%(number)s opened.") % {"number": ticket.number})
                return redirect("support:ticket", pk=ticket.pk)
        return self.render_form(form, status=400)


# --- Managers: the queues overview -----------------------------------------------------------------------


class QueuesOverviewView(PageMixin, View):
    """/support/queues/: each queue's open, unassigned, at-risk and breached tickets; each agent's load."""

    roles = {Role.ADMIN, Role.MANAGER}

    def get(self, request):
        return render(request, "support/queues_overview.html", selectors.queue_overview(user=request.user))


# --- The tickets panel of a contact's page -------------------------------------------------------------------


class ContactTicketsPanel(PageMixin, View):
    """/support/contacts/<pk>/tickets/: the contact's tickets the user may see, newest first (lazy panel)."""

    LIMIT = 10

    def get(self, request, pk):
        contact = get_object_or_404(Contact.objects.visible_to(request.user), pk=pk)
        tickets = selectors.contact_tickets(contact=contact, user=request.user, limit=self.LIMIT)
        context = {
            "contact": contact, "tickets": _with_sla(tickets[:self.LIMIT], timezone.now()),
            "has_more": len(tickets) > self.LIMIT,
            "new_url": (reverse("support:ticket_new") + f"?contact={contact.pk}")
            if request.user.role in OPENER_ROLES else "",
        }
        if request.htmx:
            return render(request, "support/partials/contact_tickets.html", context)
        return render(request, "support/contact_tickets_page.html", context)


urlpatterns = [
    path("", InboxView.as_view(), name="index"),
    path("tickets/new/", TicketCreateView.as_view(), name="ticket_new"),
    path("tickets/bulk/", BulkView.as_view(), name="bulk"),
    path("tickets/<int:pk>/", TicketView.as_view(), name="ticket"),
    path("tickets/<int:pk>/thread/", TicketThreadView.as_view(), name="ticket_thread"),
    path("tickets/<int:pk>/reply/", TicketReplyView.as_view(), name="ticket_reply"),
    path("tickets/<int:pk>/canned/", TicketCannedView.as_view(), name="ticket_canned"),
    path("tickets/<int:pk>/fields/", TicketFieldsView.as_view(), name="ticket_fields"),
    path("tickets/<int:pk>/merge/", TicketMergeView.as_view(), name="ticket_merge"),
    path("queues/", QueuesOverviewView.as_view(), name="queues_overview"),
    path("contacts/<int:pk>/tickets/", ContactTicketsPanel.as_view(), name="contact_tickets"),
]
