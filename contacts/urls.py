"""Pages of the contacts app: lists (contacts.lists), contacts (contacts.views), companies (contacts.company_views), imports
(contacts.import_views)."""

from django.urls import path

from contacts import company_views, import_views, lists, views

app_name = "contacts"
urlpatterns = [
    # Lists, bulk actions, exports, trash (contacts/lists.py)
    path("", lists.ContactListView.as_view(), name="index"),
    path("export/", lists.ContactExportView.as_view(), name="export"),
    path("bulk/", lists.ContactBulkView.as_view(), name="bulk"),
    path("companies/", lists.CompanyListView.as_view(), name="companies"),
    path("companies/export/", lists.CompanyExportView.as_view(), name="company_export"),
    path("trash/", lists.TrashView.as_view(), name="trash"),
    path("trash/<slug:kind>/<int:pk>/restore/", lists.RestoreView.as_view(), name="restore"),
    # One contact (contacts/views.py)
    path("new/", views.ContactCreateView.as_view(), name="contact_create"),
    path("quick-create/", views.QuickCreateView.as_view(), name="quick_create"),
    path("<int:pk>/", views.ContactDetailView.as_view(), name="contact"),
    path("<int:pk>/edit/", views.ContactEditView.as_view(), name="contact_edit"),
    path("<int:pk>/timeline/", views.ContactTimelineView.as_view(), name="contact_timeline"),
    path("<int:pk>/tags/", views.ContactTagsView.as_view(), name="contact_tags"),
    path("<int:pk>/social/", views.SocialProfileCreateView.as_view(), name="contact_social"),
    path("<int:pk>/delete/", views.ContactDeleteView.as_view(), name="contact_delete"),
    path("<int:pk>/merge/", views.ContactMergeView.as_view(), name="contact_merge"),
    path("<int:pk>/history/", views.ContactHistoryView.as_view(), name="contact_history"),
    path("social/<int:pk>/delete/", views.SocialProfileDeleteView.as_view(), name="social_delete"),
    path("interactions/<int:pk>/delete/", views.InteractionDeleteView.as_view(), name="interaction_delete"),
    # One company (contacts/company_views.py)
    path("companies/new/", company_views.CompanyCreateView.as_view(), name="company_create"),
    path("companies/<int:pk>/", company_views.CompanyDetailView.as_view(), name="company"),
    path("companies/<int:pk>/edit/", company_views.CompanyEditView.as_view(), name="company_edit"),
    path("companies/<int:pk>/timeline/", company_views.CompanyTimelineView.as_view(), name="company_timeline"),
    path("companies/<int:pk>/delete/", company_views.CompanyDeleteView.as_view(), name="company_delete"),
    path("companies/<int:pk>/history/", company_views.CompanyHistoryView.as_view(), name="company_history"),
    # Import and vCard (contacts/import_views.py)
    path("imports/", import_views.ImportListView.as_view(), name="imports"),
    path("imports/new/", import_views.ImportUploadView.as_view(), name="import_upload"),
    path("imports/<int:pk>/", import_views.ImportDetailView.as_view(), name="import"),
    path("imports/<int:pk>/progress/", import_views.ImportProgressView.as_view(), name="import_progress"),
    path("imports/<int:pk>/errors/", import_views.ImportErrorReportView.as_view(), name="import_errors"),
    path("imports/<int:pk>/undo/", import_views.ImportUndoView.as_view(), name="import_undo"),
    path("<int:pk>/vcard/", import_views.ContactVCardView.as_view(), name="contact_vcard"),
    path("vcard/", import_views.VCardImportView.as_view(), name="vcard_import"),
]
