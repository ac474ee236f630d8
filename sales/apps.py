from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


def _wake_scoring(sender, **kwargs):
    """A contact's data changed: the database marked it stale; wake a worker now rather than at the next beat."""
    from sales.scoring.services import schedule_rescore

    schedule_rescore()


class SalesConfig(AppConfig):
    name = "sales"
    verbose_name = _("Sales")

    def ready(self):
        # Not business rules (those are in the services): only a wake-up call. The contacts app's bulk writes
        # send `contacts_changed`; any other bulk update's marks are picked up by the beat reconciler
        # (`sales.tasks.rescore_dirty_contacts`, every 10 s).
        from contacts.models import Company, Contact, ContactTag, Interaction
        from contacts.signals import contacts_changed
        from sales.models import Order

        for model in (Contact, Company, ContactTag, Interaction, Order):
            post_save.connect(_wake_scoring, sender=model, dispatch_uid=f"scoring-{model.__name__}-save")
            post_delete.connect(_wake_scoring, sender=model, dispatch_uid=f"scoring-{model.__name__}-delete")
        contacts_changed.connect(_wake_scoring, dispatch_uid="scoring-contacts-changed")  # tags, bulk actions, imports
