from .escalation import (
    Condition,
    Escalation,
    EscalationLevel,
    EscalationPolicy,
    EscalationState,
    EscalationStep,
    EscalationTarget,
    IntegrationPolicy,
    LevelMode,
    ServicePolicy,
    StepStatus,
    TargetKind,
    TypePolicy,
)
from .people import Profile
from .schedules import (
    CalendarToken,
    Handoff,
    HandoffNote,
    HandoffStatus,
    Layer,
    LayerMember,
    LayerMembership,
    Override,
    Restriction,
    RotationKind,
    Schedule,
)

__all__ = [
    "CalendarToken", "Condition", "Escalation", "EscalationLevel", "EscalationPolicy", "EscalationState",
    "EscalationStep", "EscalationTarget", "Handoff", "HandoffNote", "HandoffStatus", "Layer", "LayerMember",
    "LayerMembership", "LevelMode", "Override", "Profile", "Restriction", "RotationKind", "Schedule", "ServicePolicy", "IntegrationPolicy",
    "StepStatus", "TargetKind", "TypePolicy",
]
