"""Pages of the sales app: the board and the deal page.

Pipelines and stages are organisation-wide, so their ids are `pipeline_pk`/`stage_pk`; `pk` always names a deal
(the leak matrix in tests/test_leaks.py checks every route with a `pk`).
"""

from django.urls import path

from sales import campaign_views, order_views, task_views, views

app_name = "sales"
urlpatterns = [
    path("", views.BoardView.as_view(), name="index"),
    path("pipelines/<int:pipeline_pk>/", views.BoardView.as_view(), name="pipeline"),
    path("pipelines/<int:pipeline_pk>/deals/", views.QuickAddView.as_view(), name="quick_add"),
    path("pipelines/<int:pipeline_pk>/stages/<int:stage_pk>/cards/", views.ColumnMoreView.as_view(), name="column_more"),
    path("deals/<int:pk>/", views.DealDetailView.as_view(), name="deal"),
    path("deals/<int:pk>/move/", views.MoveView.as_view(), name="deal_move"),
]
urlpatterns += order_views.urlpatterns + task_views.urlpatterns + campaign_views.urlpatterns
