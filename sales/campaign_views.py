"""Pages of campaigns: the list with its figures, a campaign (figures, members and their status, adding
members), create / edit / delete, and the contact page's campaigns panel (with its source campaign).

`pk` names a Campaign in `campaign*` routes, a CampaignMember in `campaign_member_*` routes and a Contact in
`contact_campaigns`.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views import View

from contacts.models import Contact
from crm import policy
from crm.models import Role
from crm.views import OwnedObjectMixin, PageMixin, form_errors_from
from sales import campaigns as services
from sales.campaign_forms import (
    METRIC_HELP,
    AddMembersForm,
    CampaignFilter,
    CampaignForm,
    ContactSearchForm,
    ContactSourceForm,
    MemberStatusForm,
    search_contacts,
)
from sales.models import Campaign, CampaignMember, MemberStatus

SALES_ROLES = {Role.ADMIN, Role.MANAGER, Role.SALES_REP}
PER_PAGE = 25
MEMBERS_PER_PAGE = 50


class CampaignListView(PageMixin, View):
    """/sales/campaigns/: the campaigns the user sees, filtered and sorted, with their figures (one query a page)."""

    roles = SALES_ROLES

    def get(self, request):
        user = request.user
        filterset = CampaignFilter(request.GET, queryset=Campaign.objects.visible_to(user), user=user)
        page = None
        if filterset.is_valid():
            campaigns = services.campaigns_with_metrics(user=user, queryset=filterset.qs).select_related("owner")
            page = services.FiguresPaginator(campaigns, PER_PAGE).get_page(request.GET.get("page"))
            page.object_list = list(page.object_list)
        params = request.GET.copy()
        params.pop("page", None)
        return render(request, "sales/campaigns/list.html", {
            "filterset": filterset, "page": page, "params": params.urlencode(), "help": METRIC_HELP,
        }, status=200 if page is not None else 400)


class CampaignCreateView(PageMixin, View):
    """/sales/campaigns/new/: a new campaign."""

    roles = SALES_ROLES

    def get(self, request):
        form = CampaignForm(user=request.user, initial={"currency": request.user.org().default_currency})
        return render(request, "sales/campaigns/form.html", {"form": form})

    def post(self, request):
        form = CampaignForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                campaign = services.create_campaign(by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("Campaign “%(name)s” created.") % {"name": campaign.name})
                return redirect("sales:campaign", pk=campaign.pk)
        return render(request, "sales/campaigns/form.html", {"form": form}, status=400)


class CampaignPage(OwnedObjectMixin):
    model = Campaign

    def get_queryset(self):
        return services.campaigns_with_metrics(user=self.request.user).select_related(
            "owner", "team", "target_tag", "target_view")

    def page_context(self, campaign, *, add_form=None, search_form=None) -> dict:
        request, user = self.request, self.request.user
        status = request.GET.get("status") if request.GET.get("status") in MemberStatus.values else ""
        members = services.campaign_members(user=user, campaign=campaign, status=status or None)
        page = Paginator(members, MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
        search_form = search_form or ContactSearchForm(request.GET)
        candidates = search_contacts(user, request.GET.get("q", "")) if search_form.is_valid() else []
        can_edit = policy.can_edit(user, campaign)
        return {
            "campaign": campaign, "members": page, "status": status, "statuses": MemberStatus.choices,
            "can_edit": can_edit, "can_delete": policy.can_delete(user, campaign), "help": METRIC_HELP,
            "search_form": search_form, "candidates": candidates,
            "add_form": (add_form or AddMembersForm(user=user, candidates=candidates)) if can_edit else None,
            "status_choices": MemberStatus.choices,
        }


class CampaignDetailView(CampaignPage, View):
    """/sales/campaigns/<pk>/: figures (with their definitions), members with their status, adding members."""

    def get(self, request, pk):
        campaign = self.get_object()
        return render(request, "sales/campaigns/detail.html", self.page_context(campaign))


class CampaignEditView(OwnedObjectMixin, View):
    """/sales/campaigns/<pk>/edit/: change a campaign's details."""

    model = Campaign

    def get(self, request, pk):
        campaign = self.get_editable_object()
        form = CampaignForm(user=request.user, initial=CampaignForm.initial_for(campaign))
        return render(request, "sales/campaigns/form.html", {"form": form, "campaign": campaign})

    def post(self, request, pk):
        campaign = self.get_editable_object()
        form = CampaignForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                services.update_campaign(by=request.user, campaign=campaign, **form.cleaned_data)
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("Campaign “%(name)s” saved.") % {"name": campaign.name})
                return redirect("sales:campaign", pk=campaign.pk)
        campaign.refresh_from_db()
        return render(request, "sales/campaigns/form.html", {"form": form, "campaign": campaign}, status=400)


class CampaignDeleteView(OwnedObjectMixin, View):
    """POST: delete the campaign (its owner, a manager of its team, an admin)."""

    model = Campaign

    def post(self, request, pk):
        campaign = self.get_object()
        services.delete_campaign(by=request.user, campaign=campaign)
        messages.success(request, _("Campaign “%(name)s” deleted.") % {"name": campaign.name})
        return redirect("sales:campaigns")


class AddMembersView(CampaignPage, View):
    """POST contacts (ids), a tag or a saved view: add those contacts the user sees to the campaign."""

    def post(self, request, pk):
        campaign = self.get_object()
        if not policy.can_edit(request.user, campaign):
            raise PermissionDenied
        form = AddMembersForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                added = services.add_members(by=request.user, campaign=campaign, **form.service_kwargs())
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("%(count)s contacts added.") % {"count": added})
                return redirect("sales:campaign", pk=campaign.pk)
        return render(request, "sales/campaigns/detail.html", self.page_context(campaign, add_form=form), status=400)


class MemberMixin(PageMixin):
    def get_member(self) -> CampaignMember:
        """The member row (404 unless both its campaign and its contact are visible); 403 without the edit right."""
        members = CampaignMember.objects.visible_to(self.request.user).select_related("campaign", "contact")
        member = get_object_or_404(members, pk=self.kwargs["pk"])
        if not policy.can_edit(self.request.user, member.campaign):
            raise PermissionDenied
        return member


class MemberStatusView(MemberMixin, View):
    """POST status: change a member's status (htmx: the row comes back; otherwise back to the campaign)."""

    def post(self, request, pk):
        member = self.get_member()
        form = MemberStatusForm(request.POST)
        error = None
        if form.is_valid():
            try:
                services.set_member_status(by=request.user, member=member, status=form.cleaned_data["status"])
            except ValidationError as exc:
                error = " ".join(exc.messages)
        else:
            error = " ".join(e for errors in form.errors.values() for e in errors)
        if request.htmx:
            return render(request, "sales/campaigns/partials/member_row.html", {
                "member": member, "can_edit": True, "status_choices": MemberStatus.choices, "error": error,
            }, status=400 if error else 200)
        if error:
            messages.error(request, error)
        else:
            messages.success(request, _("Status of %(name)s changed.") % {"name": member.contact})
        return redirect("sales:campaign", pk=member.campaign_id)


class MemberRemoveView(MemberMixin, View):
    """POST: take the contact out of the campaign."""

    def post(self, request, pk):
        member = self.get_member()
        services.remove_member(by=request.user, member=member)
        messages.success(request, _("%(name)s removed from the campaign.") % {"name": member.contact})
        return redirect("sales:campaign", pk=member.campaign_id)


class ContactCampaignsView(PageMixin, View):
    """/sales/contacts/<pk>/campaigns/: the contact page's panel, its campaigns and which is its source.

    POST campaign (or empty): change the contact's source campaign.
    """

    def get_contact(self) -> Contact:
        return get_object_or_404(Contact.objects.visible_to(self.request.user), pk=self.kwargs["pk"])

    def render_panel(self, contact, form=None, status=200):
        user = self.request.user
        memberships = list(services.contact_campaigns(user=user, contact=contact))
        source = next((m for m in memberships if m.is_source), None)
        can_edit = policy.can_edit(user, contact)
        form = form or ContactSourceForm(memberships=memberships,
                                         initial={"campaign": source.campaign_id if source else ""})
        context = {"contact": contact, "memberships": memberships, "source": source,
                   "form": form if can_edit and memberships else None}
        template = ("sales/campaigns/partials/contact_panel.html" if self.request.htmx
                    else "sales/campaigns/contact_campaigns.html")
        return render(self.request, template, context, status=status)

    def get(self, request, pk):
        return self.render_panel(self.get_contact())

    def post(self, request, pk):
        contact = self.get_contact()
        if not policy.can_edit(request.user, contact):
            raise PermissionDenied
        memberships = list(services.contact_campaigns(user=request.user, contact=contact))
        form = ContactSourceForm(request.POST, memberships=memberships)
        if form.is_valid():
            try:
                services.set_contact_source(by=request.user, contact=contact, campaign=form.cleaned_data["campaign"])
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                if request.htmx:
                    return self.render_panel(contact)
                messages.success(request, _("Source campaign changed."))
                return redirect("sales:contact_campaigns", pk=contact.pk)
        return self.render_panel(contact, form=form, status=400)


urlpatterns = [
    path("campaigns/", CampaignListView.as_view(), name="campaigns"),
    path("campaigns/new/", CampaignCreateView.as_view(), name="campaign_create"),
    path("campaigns/<int:pk>/", CampaignDetailView.as_view(), name="campaign"),
    path("campaigns/<int:pk>/edit/", CampaignEditView.as_view(), name="campaign_edit"),
    path("campaigns/<int:pk>/delete/", CampaignDeleteView.as_view(), name="campaign_delete"),
    path("campaigns/<int:pk>/members/add/", AddMembersView.as_view(), name="campaign_add_members"),
    path("campaign-members/<int:pk>/status/", MemberStatusView.as_view(), name="campaign_member_status"),
    path("campaign-members/<int:pk>/remove/", MemberRemoveView.as_view(), name="campaign_member_remove"),
    path("contacts/<int:pk>/campaigns/", ContactCampaignsView.as_view(), name="contact_campaigns"),
]
