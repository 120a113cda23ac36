"""What the deployment tests need in the deployment's database, made through the portal's own
services: run as ``python -m tests.deploy.seed`` in the deployment's environment (production
settings), after ``migrate`` and ``load_kent_framework``. Prints one JSON line: what it made.

Environment: DEPLOY_PASSWORD (every user's password), DEPLOY_OFFICERS (how many officers of
Ashford Borough Council), DEPLOY_RETURNS (how many draft returns for the concurrency test).
"""
from __future__ import annotations

import json
import os
from datetime import timedelta
from decimal import Decimal


def main() -> dict:
    import django

    django.setup()
    from django.db import transaction
    from django.utils import timezone

    from ambitions.models import KPQ
    from kentforum.roles import Role
    from localities.models import Locality
    from partnerships.models import Organisation
    from partnerships.services import person_user_ensure
    from performance.catalogue import periods, services
    from performance.models import Indicator
    from performance.returns import validation, workflow

    password = os.environ["DEPLOY_PASSWORD"]
    officers = int(os.environ.get("DEPLOY_OFFICERS", "16"))
    returns = int(os.environ.get("DEPLOY_RETURNS", "3"))
    ashford = Organisation.objects.get(name="Ashford Borough Council")
    kcc = Organisation.objects.get(tier="county")
    locality = Locality.objects.get(name="Ashford")

    with transaction.atomic():
        approver, _ = person_user_ensure(
            username="deploy.approver", name="Deploy Approver", organisation=kcc, roles=[Role.APPROVER],
            password=password, email="deploy.approver@example.org",
        )
        officer_users = [
            person_user_ensure(
                username=f"deploy.officer{n:02d}", name=f"Deploy Officer{n:02d}", organisation=ashford,
                roles=[Role.OFFICER], password=password, email=f"deploy.officer{n:02d}@example.org",
            )[0]
            for n in range(1, officers + 1)
        ]
        today = timezone.localdate()
        period, _ = services.period_ensure(span=periods.quarter_containing(today))
        period = services.period_open(period=period, deadline=today + timedelta(days=90))

        # Shown on Ambition 3's board dashboard once approved and rolled up by the worker.
        kpq = KPQ.objects.get(ambition__number=3, number=5)
        topo = Indicator.objects.create(
            code="DEPLOY-RECYC", name="Deployment check: household waste recycled", definition="A deployment test.",
            unit=Indicator.Unit.PERCENTAGE, polarity=Indicator.Polarity.HIGHER, aggregation=Indicator.Aggregation.RATIO,
            numerator_label="Households recycling", denominator_label="Households", min_value=Decimal(0),
            max_value=Decimal(100), data_owner=kcc,
        )
        topo.kpqs.add(kpq)
        topo.ambitions.add(kpq.ambition)
        services.assignment_ensure(organisation=ashford, indicator=topo, locality=locality)

        # An approved return from the start, rolled up by the worker once it runs (the rollup task is
        # queued on Redis at commit), so the back-up has rollup rows whichever test runs first.
        approved = Indicator.objects.create(
            code="DEPLOY-APPROVED", name="Deployment check: an approved count", definition="A deployment test.",
            unit=Indicator.Unit.COUNT, polarity=Indicator.Polarity.LOWER, aggregation=Indicator.Aggregation.SUM,
            min_value=Decimal(0), data_owner=kcc,
        )
        services.assignment_ensure(organisation=ashford, indicator=approved, locality=locality)
        ret = workflow.indicator_return_save_draft(
            indicator=approved, locality=locality, period=period, organisation=ashford, user=officer_users[0],
            figures=validation.IndicatorFigures(value=Decimal(42), commentary="seeded and approved"),
        )
        ret = workflow.indicator_return_submit(ret=ret, expected_version=ret.version, user=officer_users[0])
        workflow.return_approve(ret=ret, expected_version=ret.version, user=approver)

        drafts = []
        for n in range(1, returns + 1):
            indicator = Indicator.objects.create(
                code=f"DEPLOY-C{n}", name=f"Deployment concurrency count {n}", definition="A deployment test.",
                unit=Indicator.Unit.COUNT, polarity=Indicator.Polarity.LOWER, aggregation=Indicator.Aggregation.SUM,
                min_value=Decimal(0), data_owner=kcc,
            )
            services.assignment_ensure(organisation=ashford, indicator=indicator, locality=locality)
            ret = workflow.indicator_return_save_draft(
                indicator=indicator, locality=locality, period=period, organisation=ashford, user=officer_users[0],
                figures=validation.IndicatorFigures(value=Decimal(n), commentary=f"seeded {n}"),
            )
            drafts.append({"pk": ret.pk, "code": indicator.code})

    return {
        "period_id": period.pk, "period_label": period.label, "gss_code": locality.gss_code,
        "approver": approver.username, "officers": [u.username for u in officer_users],
        "topology_indicator": {"code": topo.code, "name": topo.name, "ambition": kpq.ambition.number},
        "drafts": drafts, "approved_indicator": approved.code,
    }


if __name__ == "__main__":
    print(json.dumps(main()))
