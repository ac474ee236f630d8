"""Contact import: reading messy files, mapping, validation, duplicates, batches, report, undo, pages, API, worker."""

import csv
import io
from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contacts import imports, services
from contacts.imports import batches, running
from contacts.models import Contact, ContactImport, ImportRow, ImportStatus
from tests.background import wait_for
from tests.factories import make_company, make_contact
from tests.visibility import assert_visibility

# A spreadsheet as people send it: Bengali headers, a BOM, Windows line ends, blank lines,
# a bad email, a duplicate inside the file and one of a contact already in the CRM.
MESSY_ROWS = [
    "নাম,পদবি,ইমেইল,মোবাইল,কোম্পানি,ট্যাগ,Lifecycle stage,নোট",
    'রহিম,উদ্দিন,rahim@example.com,01712-345678,Acme Ltd,"vip, tea",customer,প্রথম ক্রেতা',  # 2 created
    "Karim,Ahmed,karim@@example,01812345678,,,,",  # 3 rejected: email
    "",  # 4 blank
    "Nusrat,Jahan,nusrat@example.com; nusrat.j@example.com,+880 1912-345678,acme ltd,,lead,",  # 5 created
    "Rahim,Again,RAHIM@example.com,,,,,",  # 6 skipped: same email as row 2
    "Old,Friend,existing@example.com,,,,,",  # 7 skipped: already in the CRM
    ",,,,,,,",  # 8 blank
    "Nobody,,,,,,planet,",  # 9 rejected: stage
    ",,,,,,,just a note",  # 10 rejected: no name, email or phone
    "ফাতেমা,বেগম,,০১৫১২৩৪৫৬৭৮,,ট্যাগ১,গ্রাহক,",  # 11 created
    "Tab,Bad,tab@example.com,123,,,,",  # 12 rejected: phone
]


def messy_csv() -> bytes:
    return ("\ufeff" + "\r\n".join(MESSY_ROWS) + "\r\n").encode()


def do_import(user, data: bytes, *, filename="contacts.csv", mode="skip", mapping=None) -> ContactImport:
    """Upload, confirm and run an import the way the worker does (minus Celery)."""
    contact_import = imports.create_import(by=user, filename=filename, data=data)
    imports.start_import(by=user, contact_import=contact_import, mapping=mapping, duplicate_mode=mode)
    assert imports.run(contact_import.pk) == "done", ContactImport.objects.get(pk=contact_import.pk).failure
    contact_import.refresh_from_db()
    return contact_import


def report_rows(content: bytes) -> list[list[str]]:
    assert content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def xlsx(rows: list[list]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
def messy_import(world):
    make_contact(world.rep_a, first_name="Existing", emails=["existing@example.com"])
    return do_import(world.rep_a, messy_csv())


# --- Reading and counting -----------------------------------------------------------------------


def test_messy_csv_counts_add_up_exactly(messy_import):
    imp = messy_import
    assert (imp.status, imp.total_rows, imp.processed_rows) == (ImportStatus.DONE, 9, 9)
    assert (imp.created_count, imp.updated_count, imp.skipped_count, imp.error_count) == (3, 0, 2, 4)
    actions = dict(ImportRow.objects.filter(contact_import=imp).values_list("row_number", "action"))
    assert actions == {2: "created", 3: "rejected", 5: "created", 6: "skipped", 7: "skipped", 9: "rejected",
                       10: "rejected", 11: "created", 12: "rejected"}


def test_error_report_has_every_row_not_imported_with_reasons_and_original_values(messy_import, client_for, world):
    response = client_for(world.rep_a).get(reverse("contacts:import_errors", args=[messy_import.pk]))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = report_rows(b"".join(response.streaming_content))
    assert rows[0] == ["Row", "Result", "Reasons", *MESSY_ROWS[0].split(",")]
    by_row = {r[0]: r for r in rows[1:]}
    assert list(by_row) == ["3", "6", "7", "9", "10", "12"]
    assert by_row["3"][1] == "Rejected" and "ইমেইল: “karim@@example” is not an email address." in by_row["3"][2]
    assert by_row["3"][3:6] == ["Karim", "Ahmed", "karim@@example"]
    assert by_row["6"][1] == "Skipped (duplicate)" and "row 2 of this file" in by_row["6"][2]
    assert "already exists: Existing" in by_row["7"][2]
    assert "“planet” is not a lifecycle stage." in by_row["9"][2]
    assert by_row["10"][2] == "Give at least a name, an email or a phone number."
    assert "মোবাইল: “123” is not a valid phone number." in by_row["12"][2]


def test_imported_values_are_normalised(messy_import):
    rahim = Contact.objects.get(import_batch=messy_import, email="rahim@example.com")
    nusrat = Contact.objects.get(import_batch=messy_import, first_name="Nusrat")
    fatema = Contact.objects.get(import_batch=messy_import, first_name="ফাতেমা")
    assert (rahim.first_name, rahim.last_name, rahim.phone, rahim.lifecycle_stage) == (
        "রহিম", "উদ্দিন", "+8801712345678", "customer")
    assert sorted(rahim.tags.values_list("name", flat=True)) == ["tea", "vip"]
    assert rahim.notes == "প্রথম ক্রেতা"
    assert list(nusrat.emails.values_list("email", "is_primary")) == [
        ("nusrat@example.com", True), ("nusrat.j@example.com", False)]
    assert nusrat.company_id == rahim.company_id and rahim.company.name == "Acme Ltd"
    assert (fatema.phone, fatema.lifecycle_stage) == ("+8801512345678", "customer")


def test_imported_contact_is_made_like_a_hand_made_one(world):
    imp = do_import(world.rep_a, b"First name,Last name,Email,Phone\nRahim,Uddin,R@Example.com,01712345678\n")
    imported = Contact.objects.get(import_batch=imp)
    by_hand = services.create_contact(by=world.rep_a, first_name="Rahim", last_name="Uddin",
                                      emails=["r@example.com"], phones=["01712345678"], allow_duplicate=True)
    for name in ("first_name", "last_name", "email", "phone", "search_text", "owner_id", "team_id", "created_by_id",
                 "lifecycle_stage", "country"):
        assert getattr(imported, name) == getattr(by_hand, name), name
    assert imported.source == "import" and imported.team_id == world.team1.pk
    assert list(imported.phones.values_list("number", "kind", "is_primary")) == [("+8801712345678", "mobile", True)]


def test_xlsx_numeric_phone_and_dates_are_read_as_text(world):
    data = xlsx([["Name", "Mobile", "Birthday", "Email opt-in"],
                 ["Rahim Uddin", 1712345678.0, datetime(1990, 1, 31), True],
                 [None, None, None, None],
                 ["Md. Abdul Karim", 8801812345678, "31/12/1985", "no"]])
    imp = do_import(world.rep_a, data, filename="people.xlsx")
    assert (imp.total_rows, imp.created_count) == (2, 2)
    rahim = Contact.objects.get(import_batch=imp, first_name="Rahim")
    karim = Contact.objects.get(import_batch=imp, last_name="Karim")
    assert (rahim.last_name, rahim.phone, rahim.birth_date, rahim.email_opt_in) == (
        "Uddin", "+8801712345678", date(1990, 1, 31), True)
    assert rahim.email_opt_in_at is not None and "people.xlsx" in rahim.email_opt_in_source
    assert (karim.first_name, karim.phone, karim.birth_date, karim.email_opt_in) == (
        "Md. Abdul", "+8801812345678", date(1985, 12, 31), False)


@pytest.mark.parametrize(("text", "encoding"), [
    ("Name;Email;City\r\nJosé Álvarez;jose@example.com;Dhaka\r\n", "cp1252"),
    ("Name\tEmail\tCity\nJosé Álvarez\tjose@example.com\tDhaka\n", "utf-8"),
    ("sep=;\nName;Email;City\nJosé Álvarez;jose@example.com;Dhaka\n", "utf-8"),
])
def test_csv_encoding_and_delimiter_are_detected(world, text, encoding):
    imp = do_import(world.rep_a, text.encode(encoding))
    contact = Contact.objects.get(import_batch=imp)
    assert (contact.first_name, contact.last_name, contact.email, contact.city) == (
        "José", "Álvarez", "jose@example.com", "Dhaka")


def test_file_over_the_size_limit_is_refused_with_a_field_error(world, client_for, monkeypatch):
    monkeypatch.setattr(imports, "MAX_FILE_BYTES", 100)
    upload = io.BytesIO(b"Name,Email\n" + b"Rahim,rahim@example.com\n" * 10)
    upload.name = "big.csv"
    response = client_for(world.rep_a).post(reverse("contacts:import_upload"), {"file": upload})
    assert response.status_code == 400 and "upload at most 0 MB" in response.content.decode()
    assert not ContactImport.objects.exists()


def test_old_excel_files_are_refused_clearly(world):
    with pytest.raises(Exception, match="xls"):
        imports.create_import(by=world.rep_a, filename="old.xls", data=b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64)


# --- Mapping ------------------------------------------------------------------------------------


def test_mapping_recognises_english_headers():
    headers = ["First Name", "Surname", "E-mail", "Mobile", "Work phone", "Organisation", "Job title", "City",
               "Tags", "Lifecycle stage", "Notes", "Date of birth", "Favourite colour"]
    assert imports.suggest_mapping(headers) == {
        "0": "first_name", "1": "last_name", "2": "email", "3": "phone", "4": "phone_work", "5": "company",
        "6": "job_title", "7": "city", "8": "tags", "9": "lifecycle_stage", "10": "notes", "11": "birth_date"}


def test_mapping_recognises_bengali_headers():
    headers = ["প্রথম নাম", "শেষ নাম", "ই-মেইল", "ফোন", "প্রতিষ্ঠান", "পদবী", "শহর", "ট্যাগ", "নোট"]
    assert imports.suggest_mapping(headers) == {
        "0": "first_name", "1": "last_name", "2": "email", "3": "phone", "4": "company", "5": "job_title",
        "6": "city", "7": "tags", "8": "notes"}


def test_a_lone_name_column_is_a_full_name_to_split():
    assert imports.suggest_mapping(["Name", "Email"]) == {"0": "full_name", "1": "email"}
    assert imports.suggest_mapping(["নাম", "পদবি"]) == {"0": "first_name", "1": "last_name"}
    assert imports.split_full_name("Md. Abdul Karim") == ("Md. Abdul", "Karim")
    assert imports.split_full_name("Karim, Abdul") == ("Abdul", "Karim")


def test_mapping_needs_a_name_email_or_phone_and_one_column_per_field():
    with pytest.raises(Exception) as caught:
        imports.clean_mapping(["City", "Notes"], {"0": "city", "1": "notes"})
    assert "name, an email or a phone" in str(caught.value)
    with pytest.raises(Exception) as caught:
        imports.clean_mapping(["A", "B"], {"0": "first_name", "1": "first_name"})
    assert "Only one column" in str(caught.value)
    assert imports.clean_mapping(["A", "B"], ["email", "email"]) == {"0": "email", "1": "email"}


def test_preview_shows_rows_as_they_will_be_imported_with_cell_errors(world):
    make_contact(world.rep_a, first_name="Existing", emails=["existing@example.com"])
    imp = imports.create_import(by=world.rep_a, filename="c.csv", data=messy_csv())
    rows = imports.preview(imp)
    assert [r.number for r in rows] == [2, 3, 5, 6, 7, 9, 10, 11, 12]
    assert rows[0].shown["মোবাইল"] == "+8801712345678" and rows[0].shown["Lifecycle stage"] == "Customer"
    assert rows[1].errors == {"ইমেইল": ["“karim@@example” is not an email address."]}
    assert rows[4].duplicate.first_name == "Existing"
    assert not ImportRow.objects.exists() and Contact.objects.count() == 1


# --- Duplicates ---------------------------------------------------------------------------------

UPDATE_CSV = (b"Email,Phone,Job title,City,Tags\n"
              b"existing@example.com,01912345678,Manager,,new-tag\n"
              b"brand-new@example.com,,Clerk,Sylhet,\n")


def test_skip_mode_leaves_existing_contacts_alone(world):
    existing = make_contact(world.rep_a, first_name="Existing", emails=["existing@example.com"], job_title="Owner")
    imp = do_import(world.rep_a, UPDATE_CSV, mode="skip")
    assert (imp.created_count, imp.updated_count, imp.skipped_count) == (1, 0, 1)
    existing.refresh_from_db()
    assert existing.job_title == "Owner" and existing.phones.count() == 0


def test_update_mode_fills_existing_contact_with_non_empty_values(world):
    existing = make_contact(world.rep_b, first_name="Existing", emails=["existing@example.com"], job_title="Owner",
                            city="Dhaka")
    imp = do_import(world.rep_a, UPDATE_CSV, mode="update")
    assert (imp.created_count, imp.updated_count, imp.skipped_count) == (1, 1, 0)
    existing.refresh_from_db()
    assert (existing.job_title, existing.city, existing.phone, existing.email) == (
        "Manager", "Dhaka", "+8801912345678", "existing@example.com")
    assert list(existing.tags.values_list("name", flat=True)) == ["new-tag"]
    assert "8801912345678" in existing.search_text
    row = ImportRow.objects.get(contact_import=imp, action="updated")
    assert row.contact_id == existing.pk and row.before == {"job_title": "Owner", "phones": [], "tags": []}


def test_create_mode_creates_a_second_contact_anyway(world):
    make_contact(world.rep_a, first_name="Existing", emails=["existing@example.com"])
    imp = do_import(world.rep_a, UPDATE_CSV, mode="create")
    assert (imp.created_count, imp.updated_count, imp.skipped_count) == (2, 0, 0)
    assert Contact.objects.filter(email="existing@example.com").count() == 2


def test_duplicate_rows_inside_the_file_update_the_first_in_update_mode(world):
    data = b"Name,Email,City\nRahim Uddin,rahim@example.com,\nR. Uddin,RAHIM@example.com,Khulna\n"
    imp = do_import(world.rep_a, data, mode="update")
    assert (imp.created_count, imp.updated_count) == (1, 1)
    contact = Contact.objects.get(import_batch=imp)
    assert (contact.first_name, contact.city) == ("R.", "Khulna")


def test_rep_cannot_update_another_teams_contact_through_an_import(world):
    theirs = make_contact(world.rep_c, first_name="Theirs", emails=["existing@example.com"], job_title="Owner")
    imp = do_import(world.rep_a, UPDATE_CSV, mode="update")
    assert (imp.created_count, imp.updated_count, imp.error_count) == (1, 0, 1)
    row = ImportRow.objects.get(contact_import=imp, action="rejected")
    assert row.errors == {"Email": ["This contact belongs to another team; you cannot update it."]}
    theirs.refresh_from_db()
    assert theirs.job_title == "Owner" and theirs.phones.count() == 0


# --- Batches, resuming, undo --------------------------------------------------------------------


def test_running_the_import_again_does_not_import_twice(messy_import):
    assert imports.run(messy_import.pk) == "skipped"
    ContactImport.objects.filter(pk=messy_import.pk).update(status=ImportStatus.RUNNING)  # a redelivered message
    assert imports.run(messy_import.pk) == "done"
    messy_import.refresh_from_db()
    assert (messy_import.processed_rows, messy_import.created_count) == (9, 3)
    assert Contact.objects.filter(import_batch=messy_import).count() == 3


def test_a_crash_keeps_committed_batches_and_a_second_run_resumes(world, monkeypatch):
    monkeypatch.setattr(running, "BATCH_SIZE", 2)
    real_commit, calls = batches._Batcher.commit, []

    def crash_on_second_batch(self, rows):
        calls.append(rows[0].number)
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        return real_commit(self, rows)

    monkeypatch.setattr(batches._Batcher, "commit", crash_on_second_batch)
    data = "Name,Email\n" + "".join(f"Person {i},p{i}@example.com\n" for i in range(5))
    imp = imports.create_import(by=world.rep_a, filename="c.csv", data=data.encode())
    imports.start_import(by=world.rep_a, contact_import=imp)
    assert imports.run(imp.pk) == "failed"
    imp.refresh_from_db()
    assert imp.status == ImportStatus.FAILED and "stopped at row 4" in imp.failure and "disk on fire" in imp.failure
    assert (imp.processed_rows, Contact.objects.filter(import_batch=imp).count()) == (2, 2)
    assert imports.run(imp.pk) == "done"
    imp.refresh_from_db()
    assert (imp.processed_rows, imp.created_count, imp.total_rows) == (5, 5, 5)
    assert Contact.objects.filter(import_batch=imp).count() == 5


def test_undo_deletes_created_contacts_and_restores_updated_ones(world):
    existing = make_contact(world.rep_a, first_name="Existing", emails=["existing@example.com"], job_title="Owner",
                            tags=["old"])
    before = (existing.job_title, existing.search_text, existing.phone, existing.updated_at)
    imp = do_import(world.rep_a, UPDATE_CSV, mode="update")
    created = list(Contact.objects.filter(import_batch=imp).values_list("pk", flat=True))
    imports.request_undo(by=world.rep_a, contact_import=imp)
    assert imports.undo(imp.pk) == "done"
    imp.refresh_from_db()
    assert imp.status == ImportStatus.UNDONE
    assert not Contact.all_objects.filter(pk__in=created).exists()
    existing.refresh_from_db()
    assert (existing.job_title, existing.search_text, existing.phone) == before[:3]
    assert list(existing.tags.values_list("name", flat=True)) == ["old"]
    assert list(existing.emails.values_list("email", flat=True)) == ["existing@example.com"]
    assert existing.phones.count() == 0


def test_only_a_finished_import_can_be_undone(world):
    imp = imports.create_import(by=world.rep_a, filename="c.csv", data=b"Email\na@example.com\n")
    with pytest.raises(Exception, match="finished"):
        imports.request_undo(by=world.rep_a, contact_import=imp)


def test_stuck_queued_import_is_sent_again_once_per_interval(world):
    imp = imports.create_import(by=world.rep_a, filename="c.csv", data=b"Email\na@example.com\n")
    ContactImport.objects.filter(pk=imp.pk).update(status=ImportStatus.QUEUED,
                                                   updated_at=timezone.now() - timedelta(minutes=30))
    assert imports.stuck_imports() == [(imp.pk, "run")]
    assert imports.stuck_imports() == []


# --- Pages --------------------------------------------------------------------------------------


def upload(client, data: bytes, name="contacts.csv"):
    file = io.BytesIO(data)
    file.name = name
    return client.post(reverse("contacts:import_upload"), {"file": file})


def test_upload_map_start_progress_and_report_through_the_pages(world, client_for):
    client = client_for(world.rep_a)
    response = upload(client, messy_csv())
    imp = ContactImport.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("contacts:import", args=[imp.pk])
    page = client.get(response["Location"]).content.decode()
    assert '<option value="phone" selected>' in page and "+8801712345678" in page
    assert "“karim@@example” is not an email address." in page
    mapping = {f"col_{i}": t for i, t in imp.mapping.items()}
    preview = client.post(response["Location"], {**mapping, "col_6": "", "action": "preview"}, HTTP_HX_REQUEST="true")
    assert preview.status_code == 200 and "<html" not in preview.content.decode()
    assert "“planet” is not a lifecycle stage." not in preview.content.decode()
    started = client.post(response["Location"], {**mapping, "duplicate_mode": "skip", "action": "start"})
    assert started.status_code == 302
    imp.refresh_from_db()
    assert imp.status == ImportStatus.QUEUED and imp.mapping == {k[4:]: v for k, v in mapping.items()}
    polling = client.get(reverse("contacts:import_progress", args=[imp.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in polling
    imports.run(imp.pk)
    done = client.get(reverse("contacts:import_progress", args=[imp.pk])).content.decode()
    assert "hx-trigger" not in done and reverse("contacts:import_errors", args=[imp.pk]) in done
    assert reverse("contacts:import_undo", args=[imp.pk]) in done
    undo = client.post(reverse("contacts:import_undo", args=[imp.pk]))
    assert undo.status_code == 302 and ContactImport.objects.get(pk=imp.pk).status == ImportStatus.UNDOING


def test_starting_without_a_name_email_or_phone_column_shows_the_error_and_starts_nothing(world, client_for):
    client = client_for(world.rep_a)
    upload(client, b"Name,Email\nRahim,rahim@example.com\n")
    imp = ContactImport.objects.get()
    response = client.post(reverse("contacts:import", args=[imp.pk]), {"col_0": "", "col_1": "city", "action": "start"})
    assert response.status_code == 400 and "Import at least one column as a name" in response.content.decode()
    assert ContactImport.objects.get().status == ImportStatus.UPLOADED


@pytest.mark.parametrize("name", ["contacts:import", "contacts:import_progress", "contacts:import_errors"])
def test_import_pages_are_for_the_importer_their_manager_and_admins(world, client_for, name):
    imp = imports.create_import(by=world.rep_a, filename="c.csv", data=b"Email\na@example.com\n")
    assert_visibility(world, client_for, reverse(name, args=[imp.pk]), sees={"rep_a", "manager1", "admin"})


def test_another_team_cannot_undo_an_import(world, client_for):
    imp = do_import(world.rep_a, b"Email\na@example.com\n")
    assert client_for(world.rep_c).post(reverse("contacts:import_undo", args=[imp.pk])).status_code == 404
    assert ContactImport.objects.get(pk=imp.pk).status == ImportStatus.DONE


def test_support_agents_cannot_import(world, client_for):
    assert client_for(world.agent1).get(reverse("contacts:import_upload")).status_code == 403
    assert client_for(world.agent1).get(reverse("contacts:imports")).status_code == 403


def test_import_list_shows_own_imports_in_a_fixed_number_of_queries(world, client_for):
    client = client_for(world.rep_a)
    client.get(reverse("contacts:imports"))
    counts = []
    for _ in range(2):
        for _i in range(3):
            imports.create_import(by=world.rep_a, filename="mine.csv", data=b"Email\na@example.com\n")
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("contacts:imports"))
        counts.append(len(queries))
    imports.create_import(by=world.rep_c, filename="theirs.csv", data=b"Email\na@example.com\n")
    page = client.get(reverse("contacts:imports")).content.decode()
    assert response.status_code == 200 and counts[0] == counts[1]
    assert page.count("mine.csv") == 6 and "theirs.csv" not in page


# --- API ----------------------------------------------------------------------------------------


def api_upload(client, data: bytes, name="contacts.csv"):
    file = io.BytesIO(data)
    file.name = name
    return client.post(reverse("import-list"), {"file": file})


def test_api_upload_answers_headers_suggested_mapping_and_preview(world, client_for):
    response = api_upload(client_for(world.rep_a), messy_csv())
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["headers"][:4] == ["নাম", "পদবি", "ইমেইল", "মোবাইল"] and data["status"] == "uploaded"
    assert data["mapping"]["3"] == "phone" and data["targets"]["phone"] == "Phone (mobile)"
    assert data["preview"][0]["imported"]["মোবাইল"] == "+8801712345678"
    assert data["preview"][1]["errors"] == {"ইমেইল": ["“karim@@example” is not an email address."]}


def test_api_mapping_start_status_errors_and_undo(world, client_for):
    client = client_for(world.rep_a)
    pk = api_upload(client, messy_csv()).json()["id"]
    url = reverse("import-detail", args=[pk])
    bad = client.patch(url, {"mapping": {"ইমেইল": "planet"}}, content_type="application/json")
    assert bad.status_code == 400 and "mapping" in bad.json()["errors"]
    patched = client.patch(url, {"mapping": {"ইমেইল": "email", "নাম": "full_name"}, "duplicate_mode": "update"},
                           content_type="application/json")
    assert patched.status_code == 200 and patched.json()["mapping"] == {"0": "full_name", "2": "email"}
    started = client.post(reverse("import-start", args=[pk]), {}, content_type="application/json")
    assert started.status_code == 202 and started.json()["status"] == "queued"
    imports.run(pk)
    status = client.get(url).json()
    assert (status["status"], status["processed_rows"], status["total_rows"], status["progress"]) == ("done", 9, 9, 1.0)
    report = client.get(reverse("import-errors", args=[pk]), HTTP_ACCEPT="text/csv")
    assert report.status_code == 200 and report_rows(b"".join(report.streaming_content))[1][0] == "3"
    undone = client.post(reverse("import-undo", args=[pk]))
    assert undone.status_code == 202 and undone.json()["status"] == "undoing"


def test_api_imports_of_others_are_404_and_agents_cannot_upload(world, client_for):
    imp = imports.create_import(by=world.rep_a, filename="c.csv", data=b"Email\na@example.com\n")
    assert_visibility(world, client_for, reverse("import-detail", args=[imp.pk]), sees={"rep_a", "manager1", "admin"},
                      api=True)
    response = api_upload(client_for(world.agent1), b"Email\na@example.com\n")
    assert response.status_code == 403 and not ContactImport.objects.exclude(pk=imp.pk).exists()


def test_api_upload_without_a_file_is_a_field_error(world, client_for):
    response = client_for(world.rep_a).post(reverse("import-list"), {})
    assert response.status_code == 400 and "file" in response.json()["errors"]


# --- A real worker ------------------------------------------------------------------------------


def test_import_runs_in_a_real_worker_until_done(world, worker):
    data = "Name,Email,Phone\n" + "".join(f"Person {i},p{i}@example.com,0171{i:07d}\n" for i in range(30))
    imp = imports.create_import(by=world.rep_a, filename="c.csv", data=data.encode())
    imports.start_import(by=world.rep_a, contact_import=imp)  # enqueues on commit
    assert wait_for(lambda: ContactImport.objects.get(pk=imp.pk).status == ImportStatus.DONE, 60), \
        ContactImport.objects.values("status", "failure").get(pk=imp.pk)
    imp.refresh_from_db()
    assert (imp.processed_rows, imp.total_rows, imp.created_count) == (30, 30, 30)
    imports.request_undo(by=world.rep_a, contact_import=imp)
    assert wait_for(lambda: ContactImport.objects.get(pk=imp.pk).status == ImportStatus.UNDONE, 60)
    assert not Contact.all_objects.filter(import_batch=imp).exists()


def test_company_is_matched_to_a_visible_one_or_created(world):
    mine = make_company(world.rep_a, name="Acme Ltd")
    make_company(world.rep_c, name="Beta Ltd")  # another team's: not visible to rep_a
    imp = do_import(world.rep_a, b"Email,Company\na@example.com,ACME LTD\nb@example.com,beta ltd\n")
    a, b = (Contact.objects.get(import_batch=imp, email=e) for e in ("a@example.com", "b@example.com"))
    assert a.company_id == mine.pk
    assert b.company.team_id == world.team1.pk and b.company.name == "beta ltd"


def test_imported_contacts_history_names_the_importer_and_the_import(world):
    from crm import audit

    imp = do_import(world.rep_a, b"Name,Email\nRahim Uddin,rahim@example.com\n")
    contact = Contact.objects.get(import_batch=imp)
    entries = audit.history_for(contact, parts=("contacts.ContactEmailEvent",))
    assert {(e.model_label, e.label) for e in entries} == {("contacts.Contact", "insert"),
                                                           ("contacts.ContactEmail", "insert")}
    assert all(e.user == world.rep_a and e.url == "contacts.import" for e in entries)


def test_run_task_queues_its_own_continuation_when_its_time_is_up(world, monkeypatch):
    from contacts import tasks

    sent = []
    monkeypatch.setattr(running, "BATCH_SIZE", 1)
    monkeypatch.setattr(imports, "SLICE_SECONDS", -1)  # every slice is over after one batch
    monkeypatch.setattr(tasks.run_import, "delay", sent.append)
    imp = imports.create_import(by=world.rep_a, filename="c.csv", data=b"Email\na@example.com\nb@example.com\n")
    imports.start_import(by=world.rep_a, contact_import=imp)
    assert tasks.run_import.apply(args=[imp.pk]).get() == "more" and sent == [imp.pk]
    assert ContactImport.objects.get(pk=imp.pk).processed_rows == 1
    assert tasks.run_import.apply(args=[imp.pk]).get() == "done" and sent == [imp.pk]


def test_requeue_task_sends_lost_imports_again(world, monkeypatch):
    from contacts import tasks

    sent = []
    monkeypatch.setattr(tasks.run_import, "delay", lambda pk: sent.append(("run", pk)))
    monkeypatch.setattr(tasks.undo_import, "delay", lambda pk: sent.append(("undo", pk)))
    queued = imports.create_import(by=world.rep_a, filename="a.csv", data=b"Email\na@example.com\n")
    undoing = imports.create_import(by=world.rep_a, filename="b.csv", data=b"Email\na@example.com\n")
    fresh = imports.create_import(by=world.rep_a, filename="c.csv", data=b"Email\na@example.com\n")
    old = timezone.now() - timedelta(hours=1)
    ContactImport.objects.filter(pk=queued.pk).update(status=ImportStatus.QUEUED, updated_at=old)
    ContactImport.objects.filter(pk=undoing.pk).update(status=ImportStatus.UNDOING, updated_at=old)
    ContactImport.objects.filter(pk=fresh.pk).update(status=ImportStatus.QUEUED)
    assert tasks.requeue_stuck_imports.apply().get() == 2
    assert sorted(sent) == [("run", queued.pk), ("undo", undoing.pk)]
