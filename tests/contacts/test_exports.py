"""Exports of a list's current view: visible rows only, chosen columns, Bengali intact, CSV and XLSX."""

import csv
import io
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from contacts import selectors
from contacts.models import Contact
from tests.factories import make_company, make_contact

EXPORT = reverse("contacts:export")
COMPANY_EXPORT = reverse("contacts:company_export")


def content(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def csv_rows(response) -> list[list[str]]:
    body = content(response)
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def xlsx_rows(response) -> list[tuple]:
    sheet = load_workbook(io.BytesIO(content(response)), read_only=True).active
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def test_csv_export_holds_only_the_rows_the_user_may_see(world, client_for):
    make_contact(world.rep_a, first_name="Ours")
    make_contact(world.rep_c, first_name="Theirs")
    rows = csv_rows(client_for(world.rep_a).get(EXPORT, {"format": "csv"}))
    names = [row[0] for row in rows[1:]]
    assert names == ["Ours"]


def test_agent_export_is_empty(world, client_for):
    make_contact(world.rep_a, first_name="Hidden")
    rows = csv_rows(client_for(world.agent1).get(EXPORT, {"format": "csv"}))
    assert len(rows) == 1  # the header only


def test_csv_export_has_the_chosen_columns_in_order(world, client_for):
    make_contact(world.rep_a, first_name="Nadia", last_name="Islam", job_title="Buyer", city="Khulna",
                 tags=["b2b", "eid"], phones=["01812345678"], lifecycle_stage="customer")
    rows = csv_rows(client_for(world.rep_a).get(EXPORT, {
        "format": "csv", "cols": ["city", "job_title", "tags", "phone", "lifecycle_stage"]}))
    assert rows[0] == ["Name", "Phone", "Job title", "Lifecycle stage", "City", "Tags"]
    assert rows[1] == ["Nadia Islam", "01812-345678", "Buyer", "Customer", "Khulna", "b2b, eid"]


def test_csv_export_headers_are_in_the_users_language(world, client_for):
    world.rep_a.language = "bn"
    world.rep_a.save(update_fields=["language"])
    make_contact(world.rep_a, first_name="Nadia")
    rows = csv_rows(client_for(world.rep_a).get(EXPORT, {"format": "csv", "cols": ["email", "owner"]}))
    with translation.override("bn"):
        expected = [str(selectors.CONTACT_NAME.label), str(selectors.CONTACT_COLUMNS["email"].label),
                    str(selectors.CONTACT_COLUMNS["owner"].label)]
    assert rows[0] == expected


def test_csv_export_keeps_bengali_text(world, client_for):
    make_contact(world.rep_a, first_name="রহিমা", last_name="খাতুন", city="ঢাকা")
    body = content(client_for(world.rep_a).get(EXPORT, {"format": "csv", "cols": ["city", "owner"]}))
    text = body.decode("utf-8")
    assert text.startswith("\ufeff")
    assert "রহিমা খাতুন,রহিম উদ্দিন,ঢাকা" in text


def test_csv_export_follows_the_filters_and_the_sort(world, client_for):
    for name in ("Chandni", "Anika", "Babul"):
        make_contact(world.rep_a, first_name=name, lifecycle_stage="lead")
    make_contact(world.rep_a, first_name="Customer", lifecycle_stage="customer")
    rows = csv_rows(client_for(world.rep_a).get(EXPORT, {"format": "csv", "lifecycle_stage": "lead", "sort": "name"}))
    assert [row[0] for row in rows[1:]] == ["Anika", "Babul", "Chandni"]


def test_export_ignores_the_page_and_page_size(world, client_for):
    for i in range(30):
        make_contact(world.rep_a, first_name=f"Row{i}")
    rows = csv_rows(client_for(world.rep_a).get(EXPORT, {"format": "csv", "per_page": 25, "page": 2}))
    assert len(rows) == 31


def test_csv_export_file_is_named_for_the_list_and_the_day(world, client_for):
    response = client_for(world.rep_a).get(EXPORT, {"format": "csv"})
    expected = f'attachment; filename="contacts-{timezone.localdate().isoformat()}.csv"'
    assert response["Content-Disposition"] == expected
    assert response["Content-Type"] == "text/csv; charset=utf-8"


def test_csv_export_is_streamed(world, client_for):
    make_contact(world.rep_a, first_name="Streamed")
    assert client_for(world.rep_a).get(EXPORT, {"format": "csv"}).streaming


def test_dates_are_written_in_the_users_time_zone(world, client_for):
    contact = make_contact(world.rep_a, first_name="Dated")
    created = timezone.now().replace(microsecond=0) - timedelta(days=3)
    Contact.objects.filter(pk=contact.pk).update(created_at=created)
    rows = csv_rows(client_for(world.rep_a).get(EXPORT, {"format": "csv", "cols": "created"}))
    assert rows[1][1] == timezone.localtime(created).strftime("%Y-%m-%d %H:%M")  # Asia/Dhaka by default


def test_formula_like_text_is_not_run_by_spreadsheets(world, client_for):
    make_contact(world.rep_a, first_name="=HYPERLINK(\"http://x\")", phones=["+8801712345678"], job_title="-1+2")
    rows = csv_rows(client_for(world.rep_a).get(EXPORT, {"format": "csv", "cols": ["phone", "job_title"]}))
    assert rows[1] == ["'=HYPERLINK(\"http://x\")", "01712-345678", "'-1+2"]


def test_xlsx_export_opens_in_openpyxl_with_every_row(world, client_for):
    for i in range(12):
        make_contact(world.rep_a, first_name=f"খালেদ {i}", tags=["vip"])
    make_contact(world.rep_c, first_name="Other team")
    response = client_for(world.rep_a).get(EXPORT, {"format": "xlsx", "cols": ["tags", "created"]})
    assert response["Content-Disposition"].endswith(f'filename="contacts-{timezone.localdate().isoformat()}.xlsx"')
    rows = xlsx_rows(response)
    assert rows[0] == ("Name", "Tags", "Created")
    assert len(rows) == 13
    assert {row[0] for row in rows[1:]} == {f"খালেদ {i}" for i in range(12)}
    assert all(row[1] == "vip" and row[2] is not None for row in rows[1:])


def test_xlsx_export_keeps_formula_like_text_as_text(world, client_for):
    make_contact(world.rep_a, first_name="=1+1")
    response = client_for(world.rep_a).get(EXPORT, {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(content(response))).active
    assert sheet["A2"].value == "=1+1" and sheet["A2"].data_type == "s"


def test_company_export_counts_people_and_lists_tags(world, client_for):
    company = make_company(world.rep_a, name="Rupsha Agro", website="rupsha.com.bd", tags=["agro", "export"])
    make_contact(world.rep_a, first_name="One", company=company)
    make_contact(world.rep_a, first_name="Two", company=company)
    make_company(world.rep_c, name="Hidden Co")
    response = client_for(world.rep_a).get(COMPANY_EXPORT, {"format": "csv", "cols": ["domain", "tags", "people"]})
    rows = csv_rows(response)
    assert rows == [["Name", "Domain", "Tags", "People"], ["Rupsha Agro", "rupsha.com.bd", "agro, export", "2"]]


def test_company_export_as_xlsx(world, client_for):
    make_company(world.rep_a, name="Sundarban Courier", size_band="11_50")
    rows = xlsx_rows(client_for(world.rep_a).get(COMPANY_EXPORT, {"format": "xlsx", "cols": ["size", "people"]}))
    assert rows == [("Name", "Size", "People"), ("Sundarban Courier", "11–50 employees", 0)]


def _export_queries(client, params) -> int:
    client.get(EXPORT, {"format": "csv"})  # the first request of a session also writes the session
    with CaptureQueriesContext(connection) as captured:
        content(client.get(EXPORT, params))
    return len(captured)


def test_export_runs_the_same_queries_for_few_or_many_rows(world, client_for):
    company = make_company(world.rep_a, name="Shared Co")
    client = client_for(world.rep_a)
    params = {"format": "csv", "cols": ["company", "owner", "team", "tags", "phone"]}
    make_contact(world.rep_a, first_name="Only", company=company, tags=["x"])
    few = _export_queries(client, params)
    for i in range(40):
        make_contact(world.rep_a, first_name=f"More{i}", company=company, tags=["x", f"t{i}"])
    assert _export_queries(client, params) == few


def test_export_reads_rows_in_chunks_through_a_server_side_cursor(world, client_for, monkeypatch):
    from django.db.models.query import QuerySet

    sizes, iterator = [], QuerySet.iterator

    def spy(self, chunk_size=None):
        sizes.append(chunk_size)
        return iterator(self, chunk_size=chunk_size)

    monkeypatch.setattr(QuerySet, "iterator", spy)
    for i in range(3):
        make_contact(world.rep_a, first_name=f"Chunk{i}")
    client = client_for(world.rep_a)
    client.get(EXPORT, {"format": "csv"})
    sizes.clear()
    with CaptureQueriesContext(connection) as captured:
        rows = csv_rows(client.get(EXPORT, {"format": "csv"}))
    assert len(rows) == 4 and sizes == [selectors.EXPORT_CHUNK]
    assert any(q["sql"].startswith("DECLARE") and "contacts_contact" in q["sql"] for q in captured.captured_queries)


def test_export_with_bad_filters_is_a_field_error(world, client_for):
    make_contact(world.rep_a, first_name="Unexported")
    response = client_for(world.rep_a).get(EXPORT, {"format": "csv", "created_before": "yesterday-ish"})
    text = response.content.decode()
    assert response.status_code == 400 and not response.streaming
    assert "Enter a valid date." in text and "Unexported</a>" not in text


def test_export_of_an_unknown_format_is_404(world, client_for):
    assert client_for(world.rep_a).get(EXPORT, {"format": "pdf"}).status_code == 404


def test_export_needs_sign_in(world, client_for):
    assert client_for(None).get(EXPORT, {"format": "csv"}).status_code == 302
