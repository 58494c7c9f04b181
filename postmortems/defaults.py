"""The postmortem templates every fresh database starts with, from the reference procedures.

`seed_templates(apps)` works on historical models so the data migration can call it."""

# key, title, group, required, prefill, guidance
STANDARD = [
    ("summary", "Summary", "", True, "summary", "What happened, in two or three sentences, and the facts below."),
    ("impact-users", "Users affected", "Impact", True, "", "How many users, which ones, for how long."),
    ("impact-services", "Services affected", "Impact", False, "services", ""),
    ("impact-data-loss", "Data loss", "Impact", False, "", "Was any data lost or corrupted? Write 'None' if not."),
    ("impact-revenue", "Revenue impact", "Impact", False, "", "Estimated revenue or SLA credit impact."),
    ("timeline", "Timeline", "", True, "timeline", "Key events, times in UTC. Started from the incident's timeline."),
    ("root-cause", "Root cause", "", True, "", "The underlying cause, blameless: systems and processes, not people."),
    ("contributing-factors", "Contributing factors", "", False, "", "What made it worse or slower to fix."),
    ("went-well", "What went well", "", False, "", ""),
    ("could-improve", "What could be improved", "", False, "", ""),
    ("lessons", "Lessons learned", "", False, "", ""),
    ("action-items", "Action items", "", False, "action_items", "Listed from the action items below; each needs an owner and a due date."),
]

RCA = [
    ("executive-summary", "Executive summary", "", True, "summary", "For leadership: what happened, impact, what we are doing."),
    ("timeline", "Timeline", "", True, "timeline", ""),
    ("root-cause", "Root cause", "", True, "", "Use the five whys."),
    ("contributing-factors", "Contributing factors", "", False, "", ""),
    ("impact-assessment", "Impact assessment", "", True, "services", "Customers, services, data and revenue."),
    ("corrective-actions", "Corrective actions", "", False, "action_items", "What was done and what will be done."),
    ("prevention", "Prevention strategies", "", False, "", "How we keep it from happening again."),
]

TEMPLATES = [
    ("Standard postmortem", "Blameless postmortem with the sections of the reference templates.", True, STANDARD, ["P0", "P1", "P2", "P3"]),
    ("Root cause analysis (RCA)", "The RCA layout: executive summary through prevention strategies.", False, RCA, []),
]


def seed_templates(apps) -> None:
    Template = apps.get_model("postmortems", "PostmortemTemplate")
    Section = apps.get_model("postmortems", "TemplateSection")
    Choice = apps.get_model("postmortems", "SeverityTemplate")
    Severity = apps.get_model("incidents", "Severity")
    for name, description, is_default, sections, severity_keys in TEMPLATES:
        template, created = Template.objects.get_or_create(name=name, defaults={"description": description, "is_default": is_default})
        if not created:
            continue
        Section.objects.bulk_create(
            Section(template=template, key=key, title=title, group=group, required=required, prefill=prefill, guidance=guidance, position=i)
            for i, (key, title, group, required, prefill, guidance) in enumerate(sections)
        )
        for severity in Severity.objects.filter(key__in=severity_keys):
            Choice.objects.get_or_create(severity=severity, defaults={"template": template})
