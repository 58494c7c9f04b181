"""No delete of a person, a service or a status component takes history with it: every foreign
key to them is PROTECT or SET_NULL, unless the row belongs to them and means nothing without
them (listed here with the reason). A new CASCADE fails this test until someone decides."""

from django.apps import apps
from django.conf import settings
from django.db import models

from incidents.groups import portal_app_configs

OWNED = {
    # (model, field): why it may go with its target
    ("incidents.apitoken", "user"): "a person's API key",
    ("incidents.idempotencyrecord", "user"): "a stored response for a retried request",
    ("notifications.contactmethod", "user"): "a person's own contact method",
    ("notifications.notificationrule", "user"): "a person's own notification rule",
    ("oncall.calendartoken", "user"): "a person's feed secret",
    ("oncall.profile", "user"): "a person's time zone",
    ("postmortems.gamedayfeedtoken", "user"): "a person's game-day calendar secret",
    ("oncall.servicepolicy", "service"): "a service's own paging setting",
}


def test_foreign_keys_to_people_services_and_components_never_cascade_history():
    targets = {apps.get_model(settings.AUTH_USER_MODEL), apps.get_model("incidents", "Service"),
               apps.get_model("statuspage", "StatusComponent")}
    labels = {c.label for c in portal_app_configs()}
    cascading = []
    for model in apps.get_models():
        if model._meta.app_label not in labels:
            continue
        for field in model._meta.get_fields():
            if (isinstance(field, models.ForeignKey) and field.related_model in targets
                    and field.remote_field.on_delete is models.CASCADE and (model._meta.label_lower, field.name) not in OWNED):
                cascading.append(f"{model._meta.label}.{field.name}")
    assert not cascading, f"these cascade from a person, service or component into history: {cascading}"
