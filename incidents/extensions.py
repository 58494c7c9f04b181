"""Places other apps plug into the core pages without the core importing them:
navigation entries, dashboard panels and incident-page panels. Register in `AppConfig.ready()`.

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


nav_items: dict[str, NavItem] = {}
dashboard_panels: dict[str, Panel] = {}
incident_panels: dict[str, Panel] = {}


def register_nav(label: str, url_name: str, *, order: int = 50, permission: str | None = None) -> None:
    nav_items[url_name] = NavItem(label, url_name, order, permission)


def register_dashboard_panel(name: str, template: str, context: Callable, *, order: int = 50) -> None:
    dashboard_panels[name] = Panel(name, template, context, order)


def register_incident_panel(name: str, template: str, context: Callable, *, order: int = 50, slot: str = "side") -> None:
    """`context(request, incident=...)`; shown in the incident page's side column, or with
    slot="top" right under the incident's header (what opened it: the alerts)."""
    incident_panels[name] = Panel(name, template, context, order, slot)


def render_panels(registry: dict[str, Panel], request, **kw) -> list[dict]:
    rendered = []
    for panel in sorted(registry.values(), key=lambda p: (p.order, p.name)):
        ctx = panel.context(request, **kw)
        if ctx is not None:
            rendered.append({"name": panel.name, "template": panel.template, "context": ctx, "slot": panel.slot})
    return rendered
