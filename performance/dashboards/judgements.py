"""Board members' own answers to KPQs, kept beside the answer derived from the figures."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from performance.dashboards import access
from performance.models import KPQJudgement


@transaction.atomic
def kpq_judgement_add(*, user, kpq, period, answer: str, rationale: str, derived_answer: str):
    """Record a board member's own answer to a KPQ with its rationale, beside the derived one.
    Earlier judgements are kept: this adds a row."""
    access.check_can_judge(user)
    if answer not in KPQJudgement.Answer.values:
        raise ValidationError({"answer": "Select an answer."})
    if not rationale.strip():
        raise ValidationError({"rationale": "Give the rationale for your judgement."})
    return KPQJudgement.objects.create(
        kpq=kpq, period=period, answer=answer, rationale=rationale.strip(), derived_answer=derived_answer,
        author=user, at=timezone.now(),
    )
