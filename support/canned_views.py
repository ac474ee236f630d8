"""Pages of canned replies: the list (one's own and the team's shared ones) with the new-reply form, a reply's page
(edit, or read-only for a shared reply one may use but not change) and delete.

`pk` names a canned reply in every route. A reply one cannot see answers 404; one that can be seen but not
changed answers 403 to a POST.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from crm.views import PageMixin, form_errors_from
from support import services
from support.configuration import can_change_canned_reply
from support.models import CannedReply

#: The placeholders `services.render_canned_reply` fills in, shown beside the form.
PLACEHOLDERS = [
    ("{{ contact.first_name }}", gettext_lazy("The customer's first name")),
    ("{{ contact.full_name }}", gettext_lazy("The customer's full name")),
    ("{{ ticket.number }}", gettext_lazy("The ticket's number")),
    ("{{ ticket.subject }}", gettext_lazy("The ticket's subject")),
    ("{{ agent.first_name }}", gettext_lazy("Your first name")),
]


class CannedReplyForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=100)
    body = forms.CharField(label=gettext_lazy("Text"), widget=forms.Textarea(attrs={"rows": 8}),
                           help_text=gettext_lazy("Markdown; the placeholders below are filled in for each ticket."))
    shared = forms.BooleanField(label=gettext_lazy("Share with my team"), required=False)


def _replies(user):
    return CannedReply.objects.visible_to(user).select_related("owner").order_by("title", "id")


class CannedReplyListView(PageMixin, View):
    """/support/canned-replies/: mine and the ones shared with my team, and a form to add one."""

    template = "support/canned/list.html"

    def context(self, form):
        user = self.request.user
        replies = list(_replies(user))
        for reply in replies:
            reply.can_change = can_change_canned_reply(user, reply)
        return {"form": form, "placeholders": PLACEHOLDERS,
                "mine": [r for r in replies if r.owner_id == user.pk],
                "shared": [r for r in replies if r.owner_id != user.pk]}

    def get(self, request):
        return render(request, self.template, self.context(CannedReplyForm()))

    def post(self, request):
        form = CannedReplyForm(request.POST)
        if form.is_valid():
            try:
                reply = services.save_canned_reply(by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("Canned reply “%(title)s” is saved.") % {"title": reply.title})
                return redirect("support:canned_replies")
        return render(request, self.template, self.context(form), status=400)


class CannedReplyDetailView(PageMixin, View):
    """/support/canned-replies/<pk>/: edit one's reply; read a shared one."""

    template = "support/canned/detail.html"

    def get_object(self):
        return get_object_or_404(_replies(self.request.user), pk=self.kwargs["pk"])

    def context(self, reply, form):
        return {"reply": reply, "form": form, "placeholders": PLACEHOLDERS,
                "can_change": can_change_canned_reply(self.request.user, reply)}

    def get(self, request, pk):
        reply = self.get_object()
        form = CannedReplyForm(initial={"title": reply.title, "body": reply.body, "shared": reply.shared})
        return render(request, self.template, self.context(reply, form))

    def post(self, request, pk):
        reply = self.get_object()
        if not can_change_canned_reply(request.user, reply):
            raise PermissionDenied
        form = CannedReplyForm(request.POST)
        if form.is_valid():
            try:
                services.save_canned_reply(by=request.user, reply=reply, **form.cleaned_data)
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("Canned reply “%(title)s” is saved.") % {"title": reply.title})
                return redirect("support:canned_replies")
        reply.refresh_from_db()
        return render(request, self.template, self.context(reply, form), status=400)


class CannedReplyDeleteView(PageMixin, View):
    def post(self, request, pk):
        reply = get_object_or_404(_replies(request.user), pk=pk)
        services.delete_canned_reply(by=request.user, reply=reply)  # PermissionDenied (403) if not theirs to delete
        messages.success(request, _("Canned reply “%(title)s” is deleted.") % {"title": reply.title})
        return redirect("support:canned_replies")


urlpatterns = [
    path("canned-replies/", CannedReplyListView.as_view(), name="canned_replies"),
    path("canned-replies/<int:pk>/", CannedReplyDetailView.as_view(), name="canned_reply"),
    path("canned-replies/<int:pk>/delete/", CannedReplyDeleteView.as_view(), name="canned_reply_delete"),
]
