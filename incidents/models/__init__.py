from .access import ApiToken, IdempotencyRecord
from .catalog import CommunicationTemplate, MetricTargets, Service, Severity, SeverityChecklistItem, UpdatePolicy
from .incident import (
    DetectionSource,
    Incident,
    IncidentChecklistItem,
    IncidentCounter,
    IncidentLink,
    IncidentMember,
    IncidentStatus,
    LinkKind,
)
from .maintenance import Maintenance, MaintenanceStatus
from .procedures import IncidentType, IncidentTypeChecklistItem
from .roles import Role
from .timeline import EventDelivery, EventDeliveryStatus, EventKind, StatusUpdate, TimelineEvent, Visibility

__all__ = [
    "ApiToken",
    "IdempotencyRecord",
    "CommunicationTemplate",
    "EventDeliveryStatus",
    "DetectionSource",
    "EventDelivery",
    "EventKind",
    "Incident",
    "IncidentChecklistItem",
    "IncidentCounter",
    "IncidentLink",
    "IncidentMember",
    "IncidentStatus",
    "IncidentType",
    "IncidentTypeChecklistItem",
    "LinkKind",
    "Maintenance",
    "MaintenanceStatus",
    "MetricTargets",
    "Role",
    "Service",
    "Severity",
    "SeverityChecklistItem",
    "StatusUpdate",
    "TimelineEvent",
    "UpdatePolicy",
    "Visibility",
]
