"""The performance app's models, one module per wing (catalogue, returns, rollups, dashboards),
gathered here so that Django, the migrations and every caller find them as
``performance.models``. The app label stays ``performance``: no table moved."""
from .catalogue import (
    BreakdownCategory,
    BreakdownDimension,
    Indicator,
    IndicatorAssignment,
    IndicatorTarget,
    Milestone,
    PeriodEvent,
    ReportingPeriod,
    Study,
)
from .comparators import ComparatorArea, ComparatorFigure, ComparatorGroup
from .dashboards import BoardReport, KPQJudgement
from .returns import (
    DataQuality,
    IndicatorReturn,
    MilestoneReturn,
    ReturnBase,
    ReturnComment,
    ReturnEvent,
    ReturnImport,
    WorkflowState,
)
from .rollups import Direction, IndicatorRollup, MilestoneRollup

__all__ = [
    "BoardReport", "BreakdownCategory", "BreakdownDimension", "ComparatorArea", "ComparatorFigure", "ComparatorGroup",
    "DataQuality", "Direction", "Indicator",
    "IndicatorAssignment", "IndicatorReturn", "IndicatorRollup", "IndicatorTarget", "KPQJudgement", "Milestone",
    "MilestoneReturn", "MilestoneRollup", "PeriodEvent", "ReportingPeriod", "ReturnBase", "ReturnComment", "ReturnEvent",
    "ReturnImport", "Study", "WorkflowState",
]
