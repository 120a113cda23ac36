"""The catalogue wing: what is measured and when. Indicators, targets, breakdowns, milestones,
studies, reporting periods and their calendar, the pure rules of judging a figure, and their
services, selectors, API and the indicator list. It imports only ``performance.models`` and
the shared helpers below it (README, "Where things live")."""
