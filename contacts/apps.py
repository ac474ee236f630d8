from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = _("Contacts")

    def ready(self):
        from contacts.search import company_results, contact_results
        from crm import search

        search.register("contacts", _("Contacts"), contact_results)
        search.register("companies", _("Companies"), company_results)
