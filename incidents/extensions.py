"""Places other apps plug into the core without the core importing them: navigation entries,
dashboard panels, incident-page panels, the one public-update path and the parts of a team's
procedure an app configures (`load_procedure`). Register in `AppConfig.ready()`.

A panel is a template plus a function `context(request, **kw) -> dict | None`; returning None
hides the panel.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    order: int = 50
    permission: str | None = None


@dataclass(frozen=True)
class Panel:
    name: str
    template: str
    context: Callable
    order: int = 50
    slot: str = "side"


@dataclass(frozen=True)
class PublicUpdates:
    """How a public status update is published: `publish(incident=, body=, status=, by=)` returns
    the StatusUpdate; `permission` is what the publisher needs."""

    publish: Callable
    permission: str


nav_items: dict[str, NavItem] = {}
dashboard_panels: dict[str, Panel] = {}
incident_panels: dict[str, Panel] = {}
drills_panels: dict[str, Panel] = {}
_public_updates: list[PublicUpdates] = []
# name -> step(proc, *, by, report): what an app configures from a procedure module's dict
# (e.g. the postmortems app its postmortem templates); run by oncall.procedures.loader after
# its own parts. `report.write(heading)` and `report.line(what, outcome, detail)` say what it did.
procedure_steps: dict[str, Callable] = {}


def register_nav(label: str, url_name: str, *, order: int = 50, permission: str | None = None) -> None:
    nav_items[url_name] = NavItem(label, url_name, order, permission)


def register_dashboard_panel(name: str, template: str, context: Callable, *, order: int = 50) -> None:
    dashboard_panels[name] = Panel(name, template, context, order)


def register_incident_panel(name: str, template: str, context: Callable, *, order: int = 50, slot: str = "side") -> None:
    """`context(request, incident=...)`; shown in the incident page's side column, or with
    slot="top" right under the incident's header (what opened it: the alerts)."""
    incident_panels[name] = Panel(name, template, context, order, slot)


def register_drills_panel(name: str, template: str, context: Callable, *, order: int = 50) -> None:
    """`context(request, rows=...)` (the drills report's rows); shown on the drills page under
    its table (game days, what was learnt, action items)."""
    drills_panels[name] = Panel(name, template, context, order)


def register_procedure_step(name: str, step: Callable) -> None:
    procedure_steps[name] = step


def register_public_updates(publish: Callable, *, permission: str) -> None:
    """The status page registers its publish service: the core's API posts public updates
    through it, so there is one public path whatever the entry point."""
    _public_updates[:] = [PublicUpdates(publish, permission)]


def public_updates() -> PublicUpdates | None:
    """The registered public-update path, or None when no status page is installed."""
    return _public_updates[0] if _public_updates else None


def render_panels(registry: dict[str, Panel], request, **kw) -> list[dict]:
    rendered = []
    for panel in sorted(registry.values(), key=lambda p: (p.order, p.name)):
        ctx = panel.context(request, **kw)
        if ctx is not None:
            rendered.append({"name": panel.name, "template": panel.template, "context": ctx, "slot": panel.slot})
    return rendered
