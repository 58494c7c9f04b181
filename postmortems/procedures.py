"""The postmortems app's part of a team's procedure (`load_procedure`, registered with
`incidents.extensions.register_procedure_step`): the postmortem templates the document gives,
with their sections, and the severities that start from each. Idempotent like the rest of the
loader: a second load changes nothing, a template edited by hand is put back as the document
says (its sections replaced only when they differ), postmortems already opened keep theirs."""

from incidents.models import Severity

from . import configuration
from .models import PostmortemTemplate, SeverityTemplate

SECTION_DEFAULTS = {"group": "", "guidance": "", "required": False, "prefill": ""}


def _sections(spec: dict) -> list[dict]:
    return [{**SECTION_DEFAULTS, **section, "position": n} for n, section in enumerate(spec["sections"])]


def _current(template: PostmortemTemplate) -> list[dict]:
    return [{name: getattr(s, name) for name in ("key", "title", *SECTION_DEFAULTS, "position")}
            for s in template.sections.order_by("position", "pk")]


def load_templates(proc: dict, *, by, report) -> None:
    specs = proc.get("postmortem_templates", [])
    if not specs:
        return
    report.write("Postmortem templates")
    for spec in specs:
        template = PostmortemTemplate.objects.filter(name=spec["name"]).first()
        sections = _sections(spec)
        if template is None:
            template = configuration.template_create(by=by, name=spec["name"], description=spec.get("description", ""))
            for section in sections:
                configuration.template_section_add(template=template, by=by, **section)
            outcome, detail = "created", f"{len(sections)} sections"
        else:
            changed = []
            if template.description != spec.get("description", ""):
                configuration.template_update(template=template, by=by, description=spec.get("description", ""))
                changed.append("description")
            if _current(template) != sections:
                for section in list(template.sections.all()):
                    configuration.template_section_delete(section=section, by=by)
                for section in sections:
                    configuration.template_section_add(template=template, by=by, **section)
                changed.append("sections")
            outcome, detail = ("updated", ", ".join(changed)) if changed else ("unchanged", "")
        report.line(f"postmortem template {spec['name']}", outcome, detail)
        for severity in Severity.objects.filter(key__in=spec.get("severities", [])).order_by("rank"):
            choice = SeverityTemplate.objects.filter(severity=severity).first()
            if choice is None:
                configuration.severity_template_set(severity=severity, template=template, by=by)
            elif choice.template_id != template.pk:
                configuration.severity_template_update(choice=choice, by=by, template=template)
            else:
                continue
            report.line(f"postmortems of {severity.key}", "use", spec["name"])
