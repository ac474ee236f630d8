"""REST API of lead scoring: rules (admins), a contact's score with its reasons and history, recomputes."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from contacts.models import Contact
from crm import policy
from sales.models import RuleKind, ScoreRun, ScoringRule
from sales.scoring import engine, selectors, services


class IsAdmin(permissions.BasePermission):
    def has_permission(self, request, view):
        return policy.is_admin(request.user)


class ScoringRuleSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=RuleKind.choices)
    params = serializers.JSONField(required=False, default=dict)

    class Meta:
        model = ScoringRule
        fields = ["id", "name", "kind", "params", "points", "active", "position", "version", "created_at", "updated_at"]
        read_only_fields = ["id", "position", "version", "created_at", "updated_at"]
        extra_kwargs = {"points": {"validators": []}, "name": {"validators": []}}


class ScoringRuleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                         mixins.UpdateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Scoring rules (admins only). Any change queues one full recompute."""

    serializer_class = ScoringRuleSerializer
    permission_classes = [permissions.IsAuthenticated, IsAdmin]
    queryset = ScoringRule.objects.order_by("position", "id")

    def _fields(self, serializer, instance=None) -> dict:
        data = serializer.validated_data
        return {
            "name": data.get("name", instance.name if instance else ""),
            "kind": data.get("kind", instance.kind if instance else ""),
            "params": data.get("params", instance.params if instance else {}),
            "points": data.get("points", instance.points if instance else None),
            "active": data.get("active", instance.active if instance else True),
        }

    def perform_create(self, serializer):
        serializer.instance = services.save_rule(by=self.request.user, **self._fields(serializer))

    def perform_update(self, serializer):
        rule = serializer.instance
        serializer.instance = services.save_rule(by=self.request.user, rule=rule, **self._fields(serializer, rule))

    def perform_destroy(self, instance):
        services.delete_rule(by=self.request.user, rule=instance)

    @extend_schema(request=ScoringRuleSerializer, responses=inline_serializer("RulePreview", {
        "matched": serializers.IntegerField(), "hot": serializers.IntegerField(), "warm": serializers.IntegerField(),
        "cold": serializers.IntegerField(), "total": serializers.IntegerField()}))
    @action(detail=False, methods=["post"])
    def preview(self, request):
        """How many contacts the rule in the body would match, and the bands if it were saved (nothing is saved).

        Pass `replaces` (a rule id) to preview a change of that rule.
        """
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = self._fields(serializer)
        fields.pop("active")
        candidate = ScoringRule(pk=0, **services.clean_rule(**fields))
        replacing = None
        if request.data.get("replaces"):
            replacing = get_object_or_404(ScoringRule, pk=request.data["replaces"])
        return Response(engine.preview(candidate, replacing=replacing))


class ReasonSerializer(serializers.Serializer):
    rule = serializers.IntegerField(source="rule_id")
    name = serializers.CharField()
    points = serializers.FloatField()
    text = serializers.CharField()


class ContactScoreSerializer(serializers.Serializer):
    contact = serializers.IntegerField(source="contact.pk")
    score = serializers.IntegerField(source="contact.score")
    band = serializers.CharField(source="contact.score_band")
    change_7d = serializers.IntegerField(source="contact.score_change_7d")
    computed_at = serializers.DateTimeField(source="contact.score_updated_at", allow_null=True)
    reasons = ReasonSerializer(many=True)
    history = serializers.SerializerMethodField()

    def get_history(self, obj) -> list[dict]:
        return [{"day": day.isoformat(), "score": score} for day, score in obj.history]


class ContactScoreView(APIView):
    """GET /api/v1/contacts/{id}/score/: the score, the rules that made it, and the last 30 days."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = ContactScoreSerializer

    @extend_schema(responses=ContactScoreSerializer)
    def get(self, request, pk):
        contact = get_object_or_404(Contact.objects.visible_to(request.user), pk=pk)
        return Response(ContactScoreSerializer(selectors.contact_score(contact)).data)


class ScoreRunSerializer(serializers.ModelSerializer):
    percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = ScoreRun
        fields = ["id", "status", "reason", "task_id", "version", "total", "done", "percent", "created_at", "started_at",
                  "finished_at", "error"]
        read_only_fields = fields


class ScoreRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Full recomputes and their progress (admins). POST /api/v1/scoring/recompute/ queues one (202, with its id)."""

    serializer_class = ScoreRunSerializer
    permission_classes = [permissions.IsAuthenticated, IsAdmin]
    queryset = ScoreRun.objects.order_by("-created_at", "-id")

    @extend_schema(request=None, responses={202: ScoreRunSerializer})
    def recompute(self, request):
        run = services.request_recompute(by=request.user, reason="api")
        return Response(ScoreRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


ROUTES = [("scoring-rules", ScoringRuleViewSet, "scoringrule"), ("scoring/runs", ScoreRunViewSet, "scorerun")]
