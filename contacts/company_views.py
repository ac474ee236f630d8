"""Pages about one company: the record, inline edits, the timeline, its people, history; creating one.

They are the contact pages' shapes (`contacts.views.RecordPage` and the `Record…View` classes) with
a company's templates, forms and services; its timeline also holds its people's entries.
"""


from contacts import selectors, services
from contacts.forms import COMPANY_SECTION_TITLES, COMPANY_SECTIONS, ActivityForm, CompanyForm, QuickCompanyForm
from contacts.models import Company, Contact, InteractionKind
from contacts.record_views import (
    CREATORS,
    RecordCreateView,
    RecordDeleteView,
    RecordDetailView,
    RecordEditView,
    RecordHistoryView,
    RecordPage,
    RecordTimelineView,
    tag_suggestions,
)
from crm import policy

PEOPLE_SHOWN = 25
#: Rows that belong to a company, whose changes show in its history (a tag removed).
COMPANY_HISTORY_PARTS = ("contacts.CompanyTagEvent",)


class CompanyPage(RecordPage):
    model = Company
    record_arg = "company"
    detail_url, list_url, timeline_url = "contacts:company", "contacts:companies", "contacts:company_timeline"
    detail_template = "contacts/company_detail.html"
    form_template = "contacts/company_form.html"
    section_template = "contacts/partials/company_section.html"
    section_form_template = "contacts/partials/company_section_form.html"
    sections, section_titles = COMPANY_SECTIONS, COMPANY_SECTION_TITLES
    header_sections = ("details", "address")
    history_parts = COMPANY_HISTORY_PARTS
    timeline_extra = {"on_company": True}  # its entries name the person they are with
    create_service = staticmethod(services.create_company)
    update_service = staticmethod(services.update_company)
    transfer_service = staticmethod(services.transfer_company)
    delete_service = staticmethod(services.delete_company)

    def record_context(self, company) -> dict:
        """The company, its tags and the first of its people the user can see."""
        user = self.request.user
        people = list(Contact.objects.visible_to(user).filter(company=company)
                      .order_by("first_name", "last_name", "id")[: PEOPLE_SHOWN + 1])
        return {
            "company": company,
            "company_tags": list(company.tags.order_by("name")),
            "people": people[:PEOPLE_SHOWN],
            "more_people": len(people) > PEOPLE_SHOWN,
            "can_create": user.role in CREATORS,
            "on_company": True,
            "activity_form": ActivityForm(initial={"kind": InteractionKind.NOTE}),
        }

    def section_context(self, company, section, form=None) -> dict:
        return {"company": company, "section": section, "title": COMPANY_SECTION_TITLES[section], "form": form,
                "company_tags": list(company.tags.order_by("name")) if section == "tags" else (),
                "can_edit": policy.can_edit(self.request.user, company),
                "tag_suggestions": tag_suggestions() if form is not None and "tags" in form.fields else ()}

    def edit_form(self, *data, record, section=None):
        return CompanyForm(*data, instance=record, section=section)

    def timeline(self, company, *, kind, before) -> dict:
        return selectors.company_timeline(user=self.request.user, company=company, kind=kind, before=before)


class CompanyDetailView(CompanyPage, RecordDetailView):
    pass


class CompanyEditView(CompanyPage, RecordEditView):
    pass


class CompanyTimelineView(CompanyPage, RecordTimelineView):
    pass


class CompanyDeleteView(CompanyPage, RecordDeleteView):
    pass


class CompanyHistoryView(CompanyPage, RecordHistoryView):
    pass


class CompanyCreateView(CompanyPage, RecordCreateView):
    def new_form(self, data=None):
        return CompanyForm(data, user=self.request.user)

    def quick_form(self, *data):
        return QuickCompanyForm(*data)
