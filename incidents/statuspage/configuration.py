"""The public page's configuration: its settings (one row) with their footer links, component
groups, and the public face of an incident (its public name, impact, postmortem link). Every
verb checks what the public will be shown (links http(s) only, names not blank), writes an audit
entry with who and what changed, and refreshes the public page's cache after commit, whoever
calls it (the admin, the staff pages, the API)."""

from django.core.exceptions import ValidationError
from django.db import transaction

from delivery import safetext
from incidents.audit import audit_record
from incidents.exceptions import InvalidInput
from incidents.model_update import invalid_input, model_update

from . import cache
from .models import ComponentGroup, FooterLink, PageSettings, PublicIncident

PAGE_FIELDS = ("name", "url", "time_zone", "logo", "logo_url", "brand_colour", "header_background", "header_text_colour",
               "support_email", "support_url", "about")
PAGE_URLS = ("url", "logo_url", "support_url")
FOOTER_LINK_FIELDS = ("label", "url", "position")
GROUP_FIELDS = ("name", "description", "position")
PUBLIC_INCIDENT_FIELDS = ("name", "impact", "postmortem_summary", "postmortem_url")


def _check_links(values: dict, names) -> None:
    """Links the public page renders: absolute http(s) only."""
    for name in names:
        value = values.get(name)
        if value and not safetext.url(value):
            raise InvalidInput("Only an absolute http:// or https:// address is allowed here.", field=name)


def _check_text(values: dict, name: str, message: str) -> None:
    if name in values:
        values[name] = (values[name] or "").strip()
        if not values[name]:
            raise InvalidInput(message, field=name)


def _new(model, allowed, values: dict):
    unknown = set(values) - set(allowed)
    if unknown:
        raise InvalidInput(f"Cannot set {', '.join(sorted(unknown))}.", field=sorted(unknown)[0])
    obj = model(**values)
    try:
        obj.full_clean()
    except ValidationError as exc:
        raise invalid_input(exc) from exc
    obj.save()
    return obj


def _file(values: dict, name: str) -> dict:
    """A cleared file input gives False: the field's empty value is ""."""
    if name in values and not values[name]:
        values[name] = ""
    return values


# --- page settings -------------------------------------------------------------------------


@transaction.atomic
def page_settings_create(*, by, **fields) -> PageSettings:
    """The page's one row of settings (refused when it has them already: change those)."""
    if PageSettings.objects.select_for_update().exists():
        raise InvalidInput("The page has its settings already: change them instead.")
    _check_links(fields, PAGE_URLS)
    _check_text(fields, "name", "Name the page.")
    page = _new(PageSettings, PAGE_FIELDS, _file(fields, "logo"))
    audit_record(by=by, obj=page, action="added")
    cache.bump_on_commit()
    return page


@transaction.atomic
def page_settings_update(*, page: PageSettings, by, **fields) -> PageSettings:
    _check_links(fields, PAGE_URLS)
    _check_text(fields, "name", "Name the page.")
    changes = model_update(instance=page, fields=PAGE_FIELDS, data=_file(fields, "logo"))
    if changes:
        audit_record(by=by, obj=page, action="changed", message=changes.describe())
        cache.bump_on_commit()
    return page


@transaction.atomic
def page_settings_delete(*, page: PageSettings, by) -> None:
    """Back to the defaults (the page makes a fresh row when it next needs one)."""
    audit_record(by=by, obj=page, action="deleted")
    page.delete()
    cache.bump_on_commit()


@transaction.atomic
def footer_link_add(*, page: PageSettings, by, label: str, url: str, position: int = 0) -> FooterLink:
    values = {"label": label, "url": url, "position": position or 0}
    _check_text(values, "label", "Give the link a label.")
    _check_links(values, ("url",))
    link = _new(FooterLink, ("page", *FOOTER_LINK_FIELDS), {"page": page, **values})
    audit_record(by=by, obj=page, action="changed", message=f"footer link added: “{link.label}”")
    cache.bump_on_commit()
    return link


@transaction.atomic
def footer_link_update(*, link: FooterLink, by, **fields) -> FooterLink:
    _check_text(fields, "label", "Give the link a label.")
    _check_links(fields, ("url",))
    changes = model_update(instance=link, fields=FOOTER_LINK_FIELDS, data=fields)
    if changes:
        audit_record(by=by, obj=link.page, action="changed", message=f"footer link “{link.label}”: {changes.describe('changed ')}")
        cache.bump_on_commit()
    return link


@transaction.atomic
def footer_link_delete(*, link: FooterLink, by) -> None:
    audit_record(by=by, obj=link.page, action="changed", message=f"footer link removed: “{link.label}”")
    link.delete()
    cache.bump_on_commit()


# --- component groups ----------------------------------------------------------------------


@transaction.atomic
def component_group_create(*, by, **fields) -> ComponentGroup:
    _check_text(fields, "name", "Name the group.")
    group = _new(ComponentGroup, GROUP_FIELDS, fields)
    audit_record(by=by, obj=group, action="added")
    cache.bump_on_commit()
    return group


@transaction.atomic
def component_group_update(*, group: ComponentGroup, by, **fields) -> ComponentGroup:
    _check_text(fields, "name", "Name the group.")
    changes = model_update(instance=group, fields=GROUP_FIELDS, data=fields)
    if changes:
        audit_record(by=by, obj=group, action="changed", message=changes.describe())
        cache.bump_on_commit()
    return group


@transaction.atomic
def component_group_delete(*, group: ComponentGroup, by) -> None:
    """Its components stay on the page, ungrouped."""
    names = sorted(group.components.values_list("name", flat=True))
    audit_record(by=by, obj=group, action="deleted", message=f"ungrouped: {', '.join(names)}" if names else "")
    group.delete()
    cache.bump_on_commit()


# --- an incident's public face ---------------------------------------------------------------


@transaction.atomic
def public_incident_update(*, pub: PublicIncident, by, **fields) -> PublicIncident:
    """The public name, impact and postmortem link of a published incident (the updates
    themselves are posted from the incident page)."""
    _check_text(fields, "name", "Give the incident a public name.")
    _check_links(fields, ("postmortem_url",))
    changes = model_update(instance=pub, fields=PUBLIC_INCIDENT_FIELDS, data=fields)
    if changes:
        audit_record(by=by, obj=pub, action="changed", message=changes.describe())
        cache.bump_on_commit()
    return pub


@transaction.atomic
def public_incident_remove(*, pub: PublicIncident, by) -> None:
    """Off the public page (published by mistake); the incident and its updates stay. A later
    public update puts it back."""
    audit_record(by=by, obj=pub, action="deleted", message=f"{pub.incident.number} taken off the public page")
    pub.delete()
    cache.bump_on_commit()
