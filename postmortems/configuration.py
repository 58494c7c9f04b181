"""Postmortem templates (data, not code): their sections, and which template each severity's
postmortems start from. Every verb checks, writes an audit entry with who and what changed, and is
the one path the admin (and any page or API that edits templates) takes. Postmortems already
opened copied their sections: editing a template never changes them."""

from django.core.exceptions import ValidationError
from django.db import transaction

from incidents.audit import audit_record
from incidents.exceptions import InUse, InvalidInput
from incidents.model_update import invalid_input, model_update

from .models import PostmortemTemplate, SeverityTemplate, TemplateSection

TEMPLATE_FIELDS = ("name", "description", "is_default")
SECTION_FIELDS = ("key", "title", "group", "guidance", "required", "prefill", "position")
CHOICE_FIELDS = ("severity", "template")


def _new(model, allowed, values: dict, *, exclude=()):
    unknown = set(values) - set(allowed)
    if unknown:
        raise InvalidInput(f"Cannot set {', '.join(sorted(unknown))}.", field=sorted(unknown)[0])
    obj = model(**values)
    try:
        obj.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        raise invalid_input(exc) from exc
    obj.save()
    return obj


def _take_default(template: PostmortemTemplate | None, by) -> None:
    """One default template: making one the default moves the flag off the previous one."""
    for previous in PostmortemTemplate.objects.select_for_update().filter(is_default=True).exclude(pk=getattr(template, "pk", None)):
        PostmortemTemplate.objects.filter(pk=previous.pk).update(is_default=False)
        audit_record(by=by, obj=previous, action="changed", message="No longer the default template.")


# --- templates -------------------------------------------------------------------------------


@transaction.atomic
def template_create(*, by, **fields) -> PostmortemTemplate:
    if fields.get("is_default"):
        _take_default(None, by)
    template = _new(PostmortemTemplate, TEMPLATE_FIELDS, fields)
    audit_record(by=by, obj=template, action="added", message="the default" if template.is_default else "")
    return template


@transaction.atomic
def template_update(*, template: PostmortemTemplate, by, **fields) -> PostmortemTemplate:
    if fields.get("is_default") and not template.is_default:
        _take_default(template, by)
    changes = model_update(instance=template, fields=TEMPLATE_FIELDS, data=fields)
    if changes:
        audit_record(by=by, obj=template, action="changed", message=changes.describe())
    return template


@transaction.atomic
def template_delete(*, template: PostmortemTemplate, by) -> None:
    """Only a template no postmortem was written from, and never the last one (postmortems open
    from a template when incidents resolve)."""
    if template.postmortems.exists():
        raise InUse(f"Postmortems were written from “{template.name}”: it stays (rename it, or make another the default).")
    if not PostmortemTemplate.objects.exclude(pk=template.pk).exists():
        raise InUse("The last postmortem template stays: postmortems open from it when incidents resolve.")
    choices = sorted(SeverityTemplate.objects.filter(template=template).values_list("severity__key", flat=True))
    audit_record(by=by, obj=template, action="deleted",
                 message=f"severities {', '.join(choices)} now use the default" if choices else "")
    template.delete()


@transaction.atomic
def template_section_add(*, template: PostmortemTemplate, by, **fields) -> TemplateSection:
    section = _new(TemplateSection, ("template", *SECTION_FIELDS), {"template": template, **fields})
    audit_record(by=by, obj=template, action="changed", message=f"section added: “{section.title}”")
    return section


@transaction.atomic
def template_section_update(*, section: TemplateSection, by, **fields) -> TemplateSection:
    changes = model_update(instance=section, fields=SECTION_FIELDS, data=fields)
    if changes:
        audit_record(by=by, obj=section.template, action="changed", message=f"section “{section.title}”: {changes.describe('changed ')}")
    return section


@transaction.atomic
def template_section_delete(*, section: TemplateSection, by) -> None:
    audit_record(by=by, obj=section.template, action="changed", message=f"section removed: “{section.title}”")
    section.delete()


# --- which template a severity uses ------------------------------------------------------------


@transaction.atomic
def severity_template_set(*, severity, template: PostmortemTemplate, by) -> SeverityTemplate:
    """The template `severity`'s postmortems start from (one per severity)."""
    if severity is None:
        raise InvalidInput("Choose the severity.", field="severity")
    if template is None:
        raise InvalidInput("Choose the template.", field="template")
    if SeverityTemplate.objects.filter(severity=severity).exists():
        raise InvalidInput(f"{severity.key} has a template already: change that one.", field="severity")
    choice = _new(SeverityTemplate, CHOICE_FIELDS, {"severity": severity, "template": template})
    audit_record(by=by, obj=template, action="changed", message=f"used for {severity.key}")
    return choice


@transaction.atomic
def severity_template_update(*, choice: SeverityTemplate, by, **fields) -> SeverityTemplate:
    before = choice.template
    changes = model_update(instance=choice, fields=CHOICE_FIELDS, data=fields)
    if changes:
        message = f"{choice.severity.key} uses “{choice.template}” (was “{before}”)" if "template" in changes else changes.describe()
        audit_record(by=by, obj=choice.template, action="changed", message=message)
    return choice


@transaction.atomic
def severity_template_delete(*, choice: SeverityTemplate, by) -> None:
    audit_record(by=by, obj=choice.template, action="changed", message=f"no longer used for {choice.severity.key} (the default is)")
    choice.delete()
