from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    """The delivery layer (see the `delivery` package's docstring). It imports no other app of
    the portal; the apps register their purposes here in their own `ready()`."""

    name = "delivery"
    label = "delivery"
    verbose_name = "Deliveries"
    default_auto_field = "django.db.models.BigAutoField"
    portal_app = True  # its view permission is the Viewer group's (incidents.groups)

    def ready(self):
        from . import outbox, tasks

        outbox.send_task.bind(tasks.delivery_send_task)
