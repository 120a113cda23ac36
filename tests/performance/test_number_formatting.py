"""Numbers as people write them (issue 15, item 5): thousands separators and the indicator's own
decimal places on the pages and in the board report; the CSV keeps full precision."""
from decimal import Decimal

import pytest
from django.urls import reverse

from kentforum.roles import Role
from performance.models import BoardReport, IndicatorRollup
from performance.templatetags.figures import figure
from tests.performance.conftest import make_user
from tests.performance.test_dashboards import approver, seed  # noqa: F401,F811 - the fixture and the seed


@pytest.mark.parametrize("value,places,written", [
    (Decimal("5177.0000"), 1, "5,177.0"), ("5177.0000", 0, "5,177"), (Decimal("1234567.891"), 2, "1,234,567.89"),
    (Decimal("-0.5"), 1, "-0.5"), (Decimal("0.05"), 1, "0.1"), (None, 1, "—"), ("", 2, "—"), ("n/a", 1, "n/a"),
    (Decimal("42"), None, "42.0"),
])
def test_a_figure_is_written_with_separators_and_its_places(value, places, written):
    assert figure(value, places) == written


@pytest.mark.django_db
def test_the_board_report_writes_figures_as_people_do_and_its_csv_keeps_them_whole(client, approver):
    indicators, period = seed(approver, 2, 12)
    IndicatorRollup.objects.filter(indicator=indicators[0], locality__kind="county", period=period,
                                   breakdown_key="").update(value=Decimal("5177.0000"))
    admin = make_user("numbers.admin", "Kent County Council", Role.FORUM_ADMIN)
    client.force_login(admin)
    preview = client.get(reverse("dashboards:board-report-publish", args=[2]))
    client.post(reverse("dashboards:board-report-publish", args=[2]), {"fingerprint": preview.context["fingerprint"]})
    report = BoardReport.objects.get()
    page = client.get(reverse("dashboards:report", args=[report.pk])).content.decode()
    assert "5,177.0" in page and "5177.0000" not in page
    csv = client.get(reverse("dashboards:report", args=[report.pk]), {"format": "csv"}).content.decode()
    assert "5177.0000" in csv
