from .access import ApiToken, IdempotencyRecord
from .catalog import CommunicationTemplate, Service, Severity, SeverityChecklistItem, UpdatePolicy
from .incident import (
    DetectionSource,
    Incident,
    IncidentChecklistItem,
    IncidentCounter,
    IncidentMember,
    IncidentStatus,
    Role,
)
from .maintenance import Maintenance, MaintenanceStatus
from .timeline import DeliveryStatus, EventDelivery, EventKind, StatusUpdate, TimelineEvent, Visibility

__all__ = [
    "ApiToken",
    "IdempotencyRecord",
    "CommunicationTemplate",
    "DeliveryStatus",
    "DetectionSource",
    "EventDelivery",
    "EventKind",
    "Incident",
    "IncidentChecklistItem",
    "IncidentCounter",
    "IncidentMember",
    "IncidentStatus",
    "Maintenance",
    "MaintenanceStatus",
    "Role",
    "Service",
    "Severity",
    "SeverityChecklistItem",
    "StatusUpdate",
    "TimelineEvent",
    "UpdatePolicy",
    "Visibility",
]
