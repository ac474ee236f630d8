"""REST API for campaigns: (prefix, viewset, basename) rows that crm/urls.py registers.

/campaigns/ lists the campaigns you can see with their figures (one query a page); /campaigns/{id}/members/
lists (GET) and adds (POST) members; /campaigns/{id}/members/{member_id}/ changes a member's status (PATCH)
or removes it (DELETE). Writes go through `sales.campaigns`.
"""

from django.shortcuts import get_object_or_404
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.response import Response

from crm import policy
from crm.api import OwnedViewSet
from crm.rest import PageNumberPagination
from sales import campaigns as services
from sales.campaign_forms import CAMPAIGN_SORTS, CampaignFilter
from sales.campaign_serializers import (
    AddMembersSerializer,
    CampaignMemberSerializer,
    CampaignSerializer,
    MemberStatusSerializer,
)
from sales.models import Campaign, CampaignMember


class CampaignPagination(PageNumberPagination):
    django_paginator_class = services.FiguresPaginator


_SORT_KEYS = ", ".join(f"`{key}`" for key in CAMPAIGN_SORTS)
_FIGURES = (
    "Figures (read-only, first touch, only amounts in the campaign's currency): `leads` = members whose source is "
    "the campaign; `deals_won` = won deals whose `source_campaign` is it; `revenue` = those deals' amounts + paid, "
    "shipped or delivered orders of contacts it sourced that are not a deal's order; `conversion_rate` = converted "
    "/ members; `cost_per_lead` = actual cost / leads; `roi` = (revenue - actual cost) / actual cost, null when the "
    "cost is 0."
)


@extend_schema_view(list=extend_schema(description=(
    f"Campaigns you can see, latest start first. Sort with `sort` ({_SORT_KEYS}). {_FIGURES}"
)))
class CampaignViewSet(OwnedViewSet):
    """Campaigns with their figures; members through the nested `members/` routes."""

    model = Campaign
    serializer_class = CampaignSerializer
    filterset_class = CampaignFilter
    filter_backends = [filters.DjangoFilterBackend]
    pagination_class = CampaignPagination
    select_related = ("owner", "team")

    def get_queryset(self):
        return services.campaigns_with_metrics(user=self.request.user, queryset=super().get_queryset()).select_related(
            *self.select_related)

    def reload(self, campaign):
        return self.get_queryset().get(pk=campaign.pk)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        campaign = services.create_campaign(by=request.user, **serializer.validated_data)
        return Response(self.get_serializer(self.reload(campaign)).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        campaign = self.get_object()
        serializer = self.get_serializer(campaign, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        campaign = services.update_campaign(by=request.user, campaign=campaign, **serializer.validated_data)
        return Response(self.get_serializer(self.reload(campaign)).data)

    def destroy(self, request, *args, **kwargs):
        services.delete_campaign(by=request.user, campaign=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    def campaign(self) -> Campaign:
        """The campaign of a nested route (404 when invisible), without the list's filters."""
        return get_object_or_404(Campaign.objects.visible_to(self.request.user), pk=self.kwargs["pk"])

    @extend_schema(methods=["get"], responses=CampaignMemberSerializer(many=True),
                   summary="Members of the campaign whose contact you can see, newest first")
    @extend_schema(methods=["post"], request=AddMembersSerializer,
                   summary="Add contacts you can see (ids, a tag or a saved contacts view); answers how many were new")
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def members(self, request, pk=None):
        campaign = self.campaign()
        if request.method == "POST":
            serializer = AddMembersSerializer(data=request.data, context=self.get_serializer_context())
            serializer.is_valid(raise_exception=True)
            added = services.add_members(by=request.user, campaign=campaign, **serializer.validated_data)
            return Response({"added": added}, status=status.HTTP_201_CREATED if added else status.HTTP_200_OK)
        members = services.campaign_members(user=request.user, campaign=campaign, status=request.query_params.get(
            "status") or None)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(members, request, view=self)
        return paginator.get_paginated_response(CampaignMemberSerializer(page, many=True).data)

    @extend_schema(methods=["patch"], request=MemberStatusSerializer, responses=CampaignMemberSerializer,
                   summary="Change a member's status (sent, responded, converted)")
    @extend_schema(methods=["delete"], request=None, responses=None, summary="Take a contact out of the campaign")
    @action(detail=True, methods=["patch", "delete"], url_path=r"members/(?P<member_pk>[0-9]+)", url_name="member",
            filter_backends=[])
    def member(self, request, pk=None, member_pk=None):
        campaign = self.campaign()
        member = get_object_or_404(CampaignMember.objects.visible_to(request.user).select_related("contact"),
                                   pk=member_pk, campaign=campaign)
        if not policy.can_edit(request.user, campaign):
            raise exceptions.PermissionDenied()
        if request.method == "DELETE":
            services.remove_member(by=request.user, member=member)
            return Response(status=status.HTTP_204_NO_CONTENT)
        serializer = MemberStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        member = services.set_member_status(by=request.user, member=member, status=serializer.validated_data["status"])
        return Response(CampaignMemberSerializer(member).data)


ROUTES = [("campaigns", CampaignViewSet, "campaign")]
