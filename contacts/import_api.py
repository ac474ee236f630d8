"""API of contact imports: upload (headers, suggested mapping, preview), set the mapping, start, progress,
error report, undo. The work is `contacts.imports`'; this parses input and renders.

    POST   /api/v1/imports/                 multipart `file` -> 201 headers, suggested mapping, preview rows
    PATCH  /api/v1/imports/{id}/            {"mapping": ..., "duplicate_mode": ...} -> the new preview
    POST   /api/v1/imports/{id}/start/      (mapping and duplicate_mode optional) -> 202, queued
    GET    /api/v1/imports/{id}/            status and counts (processed_rows of total_rows)
    GET    /api/v1/imports/{id}/errors/     the rows not imported, as CSV
    POST   /api/v1/imports/{id}/undo/       -> 202, undoing
    POST   /api/v1/imports/{id}/retry/      a failed import continues after its last committed row
"""

from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from contacts import imports
from contacts.models import ContactImport, DuplicateMode
from crm.visibility import can_see


class ImportSerializer(serializers.ModelSerializer):
    owner = serializers.PrimaryKeyRelatedField(read_only=True)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = ContactImport
        fields = ["id", "filename", "status", "owner", "headers", "mapping", "duplicate_mode", "total_rows",
                  "processed_rows", "progress", "created_count", "updated_count", "skipped_count", "error_count",
                  "failure", "created_at", "started_at", "finished_at"]
        read_only_fields = fields

    def get_progress(self, obj) -> float:
        """Share of the rows processed, 0 to 1."""
        return round(obj.processed_rows / obj.total_rows, 4) if obj.total_rows else 0.0


class MappingInput(serializers.Serializer):
    mapping = serializers.JSONField(required=False, help_text="{column index or header: target}, or a list of "
                                                              "targets, one per column (\"\" leaves a column out)")
    duplicate_mode = serializers.ChoiceField(choices=DuplicateMode.choices, required=False)


class UploadInput(serializers.Serializer):
    file = serializers.FileField()


class _CSVRenderer(BaseRenderer):
    """Lets clients ask for `text/csv`; the report view streams its own response."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return str(data).encode()


def _preview_data(request, contact_import: ContactImport) -> list[dict]:
    rows = []
    for row in imports.preview(contact_import):
        duplicate = None
        if row.duplicate is not None:
            visible = can_see(request.user, row.duplicate)
            duplicate = {"id": row.duplicate.pk if visible else None, "name": str(row.duplicate) if visible else ""}
        rows.append({"row": row.number, "values": row.values, "imported": row.shown, "errors": row.errors,
                     "duplicate": duplicate})
    return rows


def _with_preview(request, contact_import: ContactImport) -> dict:
    return {**ImportSerializer(contact_import).data, "preview": _preview_data(request, contact_import),
            "targets": {key: str(label) for key, label in imports.TARGETS.items()}}


_PREVIEW_RESPONSE = inline_serializer("ImportWithPreview", {
    "id": serializers.IntegerField(), "status": serializers.CharField(), "headers": serializers.ListField(),
    "mapping": serializers.DictField(), "preview": serializers.ListField(), "targets": serializers.DictField(),
})


class ImportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your contact imports (a manager's teams'; all for admins), newest first."""

    serializer_class = ImportSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    filterset_fields = ["status"]
    ordering_fields = ["created_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return ContactImport.objects.none()
        return (imports.imports_visible_to(self.request.user).select_related("owner").defer("data")
                .order_by("-created_at", "-id"))

    @extend_schema(request={"multipart/form-data": UploadInput}, responses={201: _PREVIEW_RESPONSE})
    def create(self, request):
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"file": [_("Attach the file to import as `file`.")]})
        if upload.size > imports.MAX_FILE_BYTES:
            raise ValidationError({"file": [_("The file is %(size)s MB; upload at most %(limit)s MB.") % {
                "size": round(upload.size / 1024 / 1024, 1), "limit": imports.MAX_FILE_BYTES // 1024 // 1024}]})
        contact_import = imports.create_import(by=request.user, filename=upload.name,
                                               data=b"".join(upload.chunks()))
        return Response(_with_preview(request, contact_import), status=status.HTTP_201_CREATED)

    @extend_schema(request=MappingInput, responses={200: _PREVIEW_RESPONSE})
    def partial_update(self, request, pk=None):
        """Change the mapping and duplicate mode before starting; answers with the new preview."""
        data = MappingInput(data=request.data)
        data.is_valid(raise_exception=True)
        contact_import = imports.update_mapping(by=request.user, contact_import=self.get_object(),
                                                **data.validated_data)
        return Response(_with_preview(request, contact_import))

    @extend_schema(request=MappingInput, responses={202: ImportSerializer})
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        data = MappingInput(data=request.data)
        data.is_valid(raise_exception=True)
        contact_import = imports.start_import(by=request.user, contact_import=self.get_object(),
                                              **data.validated_data)
        return Response(ImportSerializer(contact_import).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The error report")})
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, _CSVRenderer])
    def errors(self, request, pk=None):
        """The rows that were not imported (rejected or skipped): row, result, reasons, the original columns."""
        contact_import = self.get_object()
        response = StreamingHttpResponse(imports.error_report_lines(contact_import),
                                         content_type="text/csv; charset=utf-8")
        name = (contact_import.filename.rsplit(".", 1)[0] or "import") + "-errors.csv"
        response["Content-Disposition"] = content_disposition_header(True, name)
        return response

    @extend_schema(request=None, responses={202: ImportSerializer})
    @action(detail=True, methods=["post"])
    def undo(self, request, pk=None):
        contact_import = imports.request_undo(by=request.user, contact_import=self.get_object())
        return Response(ImportSerializer(contact_import).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: ImportSerializer})
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        contact_import = imports.retry_import(by=request.user, contact_import=self.get_object())
        return Response(ImportSerializer(contact_import).data, status=status.HTTP_202_ACCEPTED)
