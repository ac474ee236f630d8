"""Pages of the sales app: the board and the deal page.

Pipelines and stages are organisation-wide, so their ids are `pipeline_pk`/`stage_pk`; `pk` always names a deal
(the leak matrix in tests/test_leaks.py checks every route with a `pk`).
"""

from django.urls import path

from sales import admin_views, campaign_views, deal_views, order_views, product_views, task_views, views
from sales.scoring import views as scoring_views

app_name = "sales"
urlpatterns = [
    path("", views.BoardView.as_view(), name="index"),
    path("pipelines/<int:pipeline_pk>/", views.BoardView.as_view(), name="pipeline"),
    path("pipelines/<int:pipeline_pk>/deals/", views.QuickAddView.as_view(), name="quick_add"),
    path("pipelines/<int:pipeline_pk>/stages/<int:stage_pk>/cards/", views.ColumnMoreView.as_view(), name="column_more"),
    path("deals/<int:pk>/", views.DealDetailView.as_view(), name="deal"),
    path("deals/<int:pk>/move/", views.MoveView.as_view(), name="deal_move"),
    path("deals/", deal_views.DealListView.as_view(), name="deals"),
    path("deals/bulk/", deal_views.DealBulkView.as_view(), name="deal_bulk"),
    path("deals/new/", deal_views.DealCreateView.as_view(), name="deal_new"),
    path("deals/<int:pk>/edit/", deal_views.DealEditView.as_view(), name="deal_edit"),
    path("deals/<int:pk>/contacts/", deal_views.DealContactsView.as_view(), name="deal_contacts"),
    path("deals/<int:pk>/contacts/remove/", deal_views.DealContactRemoveView.as_view(), name="deal_contact_remove"),
    path("deals/<int:pk>/lines/", deal_views.DealLinesView.as_view(), name="deal_lines"),
    path("forecast/", deal_views.ForecastView.as_view(), name="forecast"),
    path("contacts/<int:pk>/deals/", deal_views.ContactDealsView.as_view(), name="contact_deals"),
    path("companies/<int:pk>/deals/", deal_views.CompanyDealsView.as_view(), name="company_deals"),
    path("admin/pipelines/", admin_views.PipelineListView.as_view(), name="admin_pipelines"),
    path("admin/pipelines/<int:pipeline_pk>/", admin_views.PipelineView.as_view(), name="admin_pipeline"),
    path("admin/pipelines/<int:pipeline_pk>/archive/", admin_views.PipelineArchiveView.as_view(),
         name="admin_pipeline_archive"),
    path("admin/pipelines/<int:pipeline_pk>/stages/", admin_views.StageCreateView.as_view(), name="admin_stage_new"),
    path("admin/pipelines/<int:pipeline_pk>/stages/<int:stage_pk>/", admin_views.StageView.as_view(),
         name="admin_stage"),
    path("admin/pipelines/<int:pipeline_pk>/stages/<int:stage_pk>/move/", admin_views.StageMoveView.as_view(),
         name="admin_stage_move"),
    path("admin/pipelines/<int:pipeline_pk>/stages/<int:stage_pk>/archive/", admin_views.StageArchiveView.as_view(),
         name="admin_stage_archive"),
]
urlpatterns += order_views.urlpatterns + task_views.urlpatterns + campaign_views.urlpatterns + scoring_views.urlpatterns
urlpatterns += product_views.urlpatterns
