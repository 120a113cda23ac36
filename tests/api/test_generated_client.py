"""A partner's generated client (issue 17): ``openapi-python-client`` generates a package from the
live ``/api/schema/``; the package is imported as generated (nothing edited) and used as a
partner's developer would: page through a list by its cursor, filter, export approved values as
CSV and read them as JSON, page a CSV list by its Link header, create a return, patch it, and
read the 409 of a stale version. A schema that documents one thing and serves another breaks it."""
import csv
import importlib
import io
import subprocess
import sys
from decimal import Decimal

import httpx
import pytest

from partnerships.models import Organisation, PartnerAPIKey
from performance.returns import validation, workflow
from tests.factories import council, district

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PACKAGE = "kentforum_client"
CONFIG = f"post_hooks: []\nproject_name_override: kentforum-client\npackage_name_override: {PACKAGE}\n"


@pytest.fixture
def generated(live_server, tmp_path):
    """The client generated from the schema the live server serves, importable as ``kentforum_client``."""
    schema = tmp_path / "schema.json"
    schema.write_bytes(httpx.get(f"{live_server.url}/api/schema/?format=json", timeout=30).raise_for_status().content)
    (tmp_path / "config.yaml").write_text(CONFIG)
    result = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(schema), "--meta", "none",
         "--output-path", str(tmp_path / PACKAGE), "--config", str(tmp_path / "config.yaml")],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def api(name: str):
    return importlib.import_module(f"{PACKAGE}.api.v1.{name}")


def test_a_partner_lives_by_the_generated_client(framework, generated, live_server, officer, approver, period,
                                                 count_indicator, rate_indicator):
    # Given: Ashford's count approved (published), and a submit key for Ashford.
    ret = workflow.indicator_return_save_draft(indicator=count_indicator, locality=district(), period=period,
                                               organisation=council(), user=officer,
                                               figures=validation.IndicatorFigures(value=Decimal("17.5")))
    workflow.indicator_return_submit(ret=ret, expected_version=ret.version, user=officer)
    workflow.return_approve(ret=ret, expected_version=ret.version, user=approver)
    key, raw = PartnerAPIKey.objects.create_key(name="partner", partner=Organisation.objects.get(name="Kent Police"),
                                                scope="submit")
    key.organisations.set([council()])
    models = importlib.import_module(f"{PACKAGE}.models")
    client = generated.AuthenticatedClient(base_url=live_server.url, token=raw, prefix="Api-Key",
                                           raise_on_unexpected_status=True)
    gss = district().gss_code

    # Creating Ashford's recycling return (a draft), then patching it with the version read.
    created = api("v1_indicator_returns_create").sync(client=client, body=models.IndicatorReturnWriteRequest(
        indicator=rate_indicator.code, locality=gss, period=period.label, numerator=41, denominator=100,
    ))
    assert isinstance(created, models.IndicatorReturn), created
    assert (created.numerator, created.value, created.state) == (41, 41, "draft")
    patch = api("v1_indicator_returns_partial_update")
    patched = patch.sync(client=client, id=str(created.id),
                         body=models.PatchedIndicatorReturnWriteRequest(numerator=42.5, version=created.version))
    assert isinstance(patched, models.IndicatorReturn), patched
    assert patched.numerator == 42.5 and patched.version == created.version + 1

    # A stale version: 409, parsed, with the current return.
    stale = patch.sync_detailed(client=client, id=str(created.id),
                                body=models.PatchedIndicatorReturnWriteRequest(numerator=43, version=created.version))
    assert stale.status_code == 409 and isinstance(stale.parsed, models.Conflict)
    assert stale.parsed.current.version == patched.version and stale.parsed.current.numerator == 42.5

    # Paging by the cursor the page gives, one return a page: the key sees both of Ashford's returns.
    listing, seen, cursor = api("v1_indicator_returns_list"), [], None
    while True:
        page = listing.sync(client=client, page_size=1, **({"cursor": cursor} if cursor else {}))
        assert isinstance(page, models.PaginatedIndicatorReturnList), page
        seen += [item.id for item in page.results]
        cursor = page.next_cursor
        if not cursor:
            break
    assert sorted(seen) == sorted([ret.pk, created.id])

    # Filtering: approved returns only, with figures as numbers.
    approved = listing.sync(client=client, locality=gss, state=models.V1IndicatorReturnsListState.APPROVED)
    assert [(item.indicator, item.value) for item in approved.results] == [(count_indicator.code, 17.5)]
    # An unknown filter is refused, not ignored.
    refused = httpx.get(f"{live_server.url}/api/v1/indicator-returns/?localty={gss}")
    assert refused.status_code == 400 and "localty" in refused.json()["detail"]

    # The approved-values export as CSV, filtered; the same values as JSON from the list.
    exported = api("v1_exports_approved_values").sync(client=client, locality=gss)
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [(row["indicator_code"], Decimal(row["value"])) for row in rows] == [(count_indicator.code, Decimal("17.5"))]
    assert [item.indicator for item in approved.results] == [row["indicator_code"] for row in rows]

    # A CSV list, paged by its Link header.
    csv_list = api("v1_indicator_returns_list_csv").sync_detailed(client=client, page_size=1)
    assert csv_list.status_code == 200 and 'rel="next"' in csv_list.headers["Link"]
    assert len(list(csv.DictReader(io.StringIO(csv_list.parsed)))) == 1
