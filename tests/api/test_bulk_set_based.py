"""The API's bulk write is set-based (performance/bulk.py) and stores exactly what entering each
item through ``by_code.indicator_return_save_by_codes``, one by one in one transaction, stores: the
same returns, breakdown rows, versions, states, data-quality fields and audit events (actions,
states, versions, changes, notes, who), or refuses the same items with the same errors. Each
case is applied both ways to the same starting data, in savepoints that are rolled back, and
the outcomes are compared. Runs on SQLite and, with DATABASE_URL, on PostgreSQL (COPY and one
conditional UPDATE). Then: a return changed between the check and the write refuses the whole
write; the write costs the same number of statements for 10 items as for 300; the rate limit
counts items."""
import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from kentforum import actors
from partnerships.models import Organisation, PartnerAPIKey
from performance.catalogue import services
from performance.models import BreakdownDimension, IndicatorReturn, IndicatorTarget, ReturnEvent
from performance.returns import bulk_entry, bulk_write, by_code, validation, workflow
from performance.returns.api.serializers import IndicatorReturnSerializer, IndicatorReturnWriteSerializer
from performance.returns.api.views import indicator_entry
from tests.factories import IndicatorFactory, PercentageIndicatorFactory, council, district, open_quarter

pytestmark = pytest.mark.django_db

ASHFORD, DOVER = "E07000105", "E07000108"


class _Rollback(Exception):
    pass


# --- The two ways --------------------------------------------------------------------------------

def one_by_one(user, items: list[dict]) -> list[int]:
    """The reference: what the bulk service did before it was set-based (each item through
    ``indicator_return_save_by_codes`` in a savepoint, every refusal collected, all or nothing)."""
    errors, saved = [], []
    with transaction.atomic():
        for index, item in enumerate(items):
            try:
                with transaction.atomic():
                    saved.append(by_code.indicator_return_save_by_codes(user=user, **item).pk)
            except workflow.StaleReturnError as stale:
                errors.append((index, {"version": [f"The return is now version {stale.current.version}; read it again."]}))
            except PermissionDenied as denied:
                errors.append((index, {"organisation": [str(denied)]}))
            except ValidationError as invalid:
                errors.append((index, invalid.message_dict if hasattr(invalid, "error_dict") else {"non_field_errors": invalid.messages}))
        if errors:
            raise by_code.BulkErrors(errors)
    return list(dict.fromkeys(saved))


def set_based(user, items: list[dict]) -> list[int]:
    return bulk_entry.indicator_returns_save_by_codes(user=user, items=items)


def snapshot(baseline_event: int) -> dict:
    returns = sorted(
        (
            (*row[:-2], row[-2] is None, row[-1] is None)  # when submitted or decided: only whether
            for row in IndicatorReturn.objects.values_list(
                "indicator__code", "locality__gss_code", "period__label", "breakdown__code", "organisation__name",
                "state", "version", "value", "numerator", "denominator", "commentary", "quality", "source_released",
                "quality_note", "ci_lower", "ci_upper", "sample_base", "return_reason", "confirmed_warnings",
                "submitted_by_id", "submitted_at", "decided_at",
            )
        ),
        key=repr,
    )
    events = sorted(
        (
            (e.indicator_return.indicator.code, e.indicator_return.locality.gss_code,
             e.indicator_return.breakdown_id is not None, e.action, e.from_state, e.to_state, e.version,
             sorted(e.changes.items()), e.note, e.actor_id, e.api_key_id)
            for e in ReturnEvent.objects.filter(pk__gt=baseline_event).select_related(
                "indicator_return__indicator", "indicator_return__locality")
        ),
        key=repr,
    )
    return {"returns": returns, "events": events}


def outcome(way, user, items: list[dict]) -> dict:
    """What ``way`` answers and leaves in the database, which is then put back as it was."""
    baseline = ReturnEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    try:
        with transaction.atomic():
            try:
                ids = way(user, items)
                answer = ("saved", [
                    IndicatorReturn.objects.filter(pk=pk).values_list("indicator__code", "locality__gss_code",
                                                                      "period__label").get()
                    for pk in ids
                ])
            except by_code.BulkErrors as failed:
                answer = ("refused", failed.errors)
            result = {"answer": answer, **snapshot(baseline)}
            raise _Rollback
    except _Rollback:
        return result


# --- The data both ways start from ---------------------------------------------------------------

class Given:
    """The fixtures' indicators (T-KSI, a count with a severity breakdown and a target of 20 for
    Ashford; T-RECYC, a percentage with a general target of 40%), a survey estimate (T-SURV),
    and the steps a case takes through the services before both ways run."""

    def __init__(self, officer, approver, period, count_indicator, rate_indicator):
        self.officer, self.approver, self.period = officer, approver, period
        self.indicators = {"T-KSI": count_indicator, "T-RECYC": rate_indicator}
        survey = PercentageIndicatorFactory(code="T-SURV", name="Residents satisfied (survey)", is_survey=True)
        services.assignment_ensure(organisation=council(), indicator=survey, locality=district())
        IndicatorTarget.objects.create(indicator=survey, period=period, target=Decimal(50), tolerance_percent=Decimal(10))
        self.indicators["T-SURV"] = survey

    def stored(self, code: str, gss: str = ASHFORD):
        return IndicatorReturn.objects.filter(indicator__code=code, locality__gss_code=gss, period=self.period,
                                              breakdown__isnull=True).first()

    def save(self, code: str, user=None, **fields):
        item = entry(code, **fields)
        current = self.stored(code)
        item["expected_version"] = current.version if current else None
        return by_code.indicator_return_save_by_codes(user=user or self.officer, **{**item, "submit": False})

    def submit(self, code: str):
        ret = self.stored(code)
        return workflow.indicator_return_submit(ret=ret, expected_version=ret.version, user=self.officer,
                                                confirm_warnings=True)

    def send_back(self, code: str):
        ret = self.stored(code)
        workflow.return_send_back(ret=ret, reason="Check the figure", expected_version=ret.version, user=self.approver)

    def approve(self, code: str):
        ret = self.stored(code)
        workflow.return_approve(ret=ret, expected_version=ret.version, user=self.approver)

    def history(self, code: str = "T-KSI", values=(10, 11, 9, 10)):
        """Approved values of the four quarters before the period (an outlier is judged on them)."""
        indicator = self.indicators[code]
        for number, value in enumerate(values, start=1):
            earlier = open_quarter(2011, number)
            ret = workflow.indicator_return_save_draft(
                indicator=indicator, locality=district(), period=earlier, organisation=council(), user=self.officer,
                figures=validation.IndicatorFigures(value=Decimal(value), commentary="History"),
            )
            ret = workflow.indicator_return_submit(ret=ret, expected_version=ret.version, user=self.officer,
                                                   confirm_warnings=True)
            workflow.return_approve(ret=ret, expected_version=ret.version, user=self.approver)

    def lock(self):
        services.period_lock(period=self.period)


STORED = "stored"  # in an item: the version stored before both ways run


def entry(code: str, gss: str = ASHFORD, period: str = "2012/13 Q1", **fields) -> dict:
    """One item as the API turns a request's item into the service's arguments."""
    stored = fields.get("version") == STORED
    if stored:
        del fields["version"]
    payload = IndicatorReturnWriteSerializer(data={"indicator": code, "locality": gss, "period": period, **fields})
    assert payload.is_valid(), payload.errors
    item = indicator_entry(payload.validated_data)
    return {**item, "expected_version": STORED} if stored else item

PROVISIONAL = {"quality": "provisional", "quality_note": "Provisional until the annual release",
               "source_released": "2012-07-19"}

# Each case: the steps taken first (methods of Given with their arguments), then the items.
CASES = {
    "new drafts with breakdowns and a rate": (
        [], [entry("T-KSI", value="14", commentary="Fewer\tcrashes\nsee C:\\notes ‘quoted’",
                   breakdowns={"severity:fatal": "1", "severity:serious": "13"}),
             entry("T-RECYC", numerator="4321", denominator="10000")]),
    "new and submitted on target": (
        [], [entry("T-KSI", value="18", commentary="On target", submit=True),
             entry("T-RECYC", numerator="45", denominator="100", submit=True)]),
    "a submission off target needs a commentary": (
        [], [entry("T-KSI", value="30", submit=True), entry("T-RECYC", numerator="45", denominator="100")]),
    "an outlier is refused unless confirmed": (
        [("history",)], [entry("T-KSI", value="100", commentary="A bad winter", submit=True)]),
    "an outlier confirmed is submitted with its warning": (
        [("history",)], [entry("T-KSI", value="100", commentary="A bad winter", submit=True, confirm_warnings=True)]),
    "breakdowns that do not add up raise a warning on submission": (
        [], [entry("T-KSI", value="18", commentary="See the note", breakdowns={"severity:fatal": "2", "severity:serious": "3"},
                   submit=True, confirm_warnings=True)]),
    "breakdowns of two dimensions, warnings in order": (
        [("dimension", "age_band")],
        [entry("T-KSI", value="18", commentary="See the note", submit=True, confirm_warnings=True,
               breakdowns={"severity:fatal": "2", "severity:serious": "3", "age_band:under-16": "4", "age_band:over-65": "1"})]),
    "a draft changed, total and breakdowns": (
        [("save", "T-KSI", {"value": "10", "breakdowns": {"severity:fatal": "2", "severity:serious": "8"}})],
        [entry("T-KSI", value="14", breakdowns={"severity:fatal": "1", "severity:serious": "13"}, version=STORED)]),
    "a draft unchanged makes no version": (
        [("save", "T-KSI", {"value": "10", "commentary": "Same", "breakdowns": {"severity:fatal": "2"}})],
        [entry("T-KSI", value="10", commentary="Same", breakdowns={"severity:fatal": "2"}, version=STORED)]),
    "only a breakdown changed": (
        [("save", "T-KSI", {"value": "10", "breakdowns": {"severity:fatal": "2", "severity:serious": "8"}})],
        [entry("T-KSI", value="10", breakdowns={"severity:fatal": "3"}, version=STORED)]),
    "a breakdown added, one emptied and one left out": (
        [("save", "T-KSI", {"value": "10", "breakdowns": {"severity:fatal": "2"}})],
        [entry("T-KSI", value="12", breakdowns={"severity:serious": "9", "severity:fatal": None}, version=STORED)]),
    "a draft changed and submitted in one item": (
        [("save", "T-KSI", {"value": "10", "breakdowns": {"severity:fatal": "2"}})],
        [entry("T-KSI", value="19", commentary="Checked", breakdowns={"severity:serious": "17"}, version=STORED,
               submit=True, confirm_warnings=True)]),
    "a returned return becomes a draft again": (
        [("save", "T-KSI", {"value": "30", "commentary": "Why"}), ("submit", "T-KSI"), ("send_back", "T-KSI")],
        [entry("T-KSI", value="11", commentary="Corrected", version=STORED)]),
    "a returned return resubmitted unchanged": (
        [("save", "T-KSI", {"value": "18", "commentary": "Why"}), ("submit", "T-KSI"), ("send_back", "T-KSI")],
        [entry("T-KSI", value="18", commentary="Why", version=STORED, submit=True)]),
    "a submitted return cannot be changed": (
        [("save", "T-KSI", {"value": "18", "commentary": "ok"}), ("submit", "T-KSI")],
        [entry("T-KSI", value="19", commentary="ok", version=STORED), entry("T-RECYC", numerator="1", denominator="2")]),
    "an approved return cannot be changed": (
        [("save", "T-KSI", {"value": "18", "commentary": "ok"}), ("submit", "T-KSI"), ("approve", "T-KSI")],
        [entry("T-KSI", value="19", commentary="ok", version=STORED)]),
    "a stale or missing version is refused": (
        [("save", "T-KSI", {"value": "10"}), ("save", "T-KSI", {"value": "11"}), ("save", "T-RECYC", {"numerator": "1", "denominator": "4"})],
        [entry("T-KSI", value="12", version=1), entry("T-RECYC", numerator="2", denominator="4")]),
    "another organisation's slot is refused": (
        [], [entry("T-KSI", gss=DOVER, value="3"), entry("T-KSI", value="4")]),
    "unknown codes, breakdowns and slots": (
        [], [entry("NOPE", gss="E99999999", period="1999/00 Q1", value="1"),
             entry("T-KSI", value="1", breakdowns={"severity:nope": "1", "sex:female": "1"}),
             entry("T-RECYC", gss=DOVER, numerator="1", denominator="2"),
             entry("T-KSI", value="5")]),
    "invalid figures: a zero denominator, a percentage over 100 on submission": (
        [], [entry("T-RECYC", numerator="9", denominator="0"), entry("T-KSI", value="-1", commentary="x", submit=True),
             entry("T-SURV", numerator="120", denominator="100", submit=True, commentary="x")]),
    "a locked period refuses every item": (
        [("save", "T-KSI", {"value": "10"}), ("lock",)],
        [entry("T-KSI", value="12", version=STORED), entry("T-RECYC", numerator="1", denominator="2")]),
    "data quality sent on new returns and a survey's interval": (
        [], [entry("T-KSI", value="18", commentary="ok", **PROVISIONAL),
             entry("T-SURV", numerator="520", denominator="1000", ci_lower="48.1", ci_upper="55.9", submit=True,
                   commentary="Survey")]),
    "data quality not sent keeps what is stored": (
        [("save", "T-KSI", {"value": "10", **PROVISIONAL}),
         ("save", "T-SURV", {"numerator": "52", "denominator": "100", "sample_base": 400})],
        [entry("T-KSI", value="12", version=STORED), entry("T-SURV", numerator="53", denominator="100", version=STORED),
         entry("T-RECYC", numerator="1", denominator="2", quality="estimated", quality_note="")]),
    "data quality changed alone, a note emptied": (
        [("save", "T-KSI", {"value": "10", **PROVISIONAL})],
        [entry("T-KSI", value="10", version=STORED, quality="final", quality_note="")]),
    "data quality refused: an interval on a count, a flag without a note on submission": (
        [], [entry("T-KSI", value="10", ci_lower="1", ci_upper="2"),
             entry("T-RECYC", numerator="45", denominator="100", quality="estimated", submit=True),
             entry("T-SURV", numerator="52", denominator="100", ci_lower="60", ci_upper="50")]),
    "two items for one return: created, then changed at version 1": (
        [], [entry("T-KSI", value="10", breakdowns={"severity:fatal": "1"}),
             entry("T-KSI", value="12", breakdowns={"severity:serious": "11"}, version=1, submit=True,
                   commentary="Twice", confirm_warnings=True)]),
    "two items for one return, the second without the version": (
        [], [entry("T-KSI", value="10"), entry("T-KSI", value="12")]),
    "a refused item leaves the return as it was for the next": (
        [("save", "T-KSI", {"value": "10"})],
        [entry("T-KSI", value="30", version=STORED, submit=True),  # saved, then refused: off target, no commentary
         entry("T-KSI", value="12", version=STORED)]),
    "a second item repeats the first exactly": (
        [("save", "T-KSI", {"value": "10"})],
        [entry("T-KSI", value="11", version=STORED), entry("T-KSI", value="11", version=2)]),
}


def _prepare(given: Given, steps, items) -> list[dict]:
    for name, *args in steps:
        if name == "save":
            code, fields = args
            given.save(code, **fields)
        elif name == "dimension":
            given.indicators["T-KSI"].breakdown_dimensions.add(BreakdownDimension.objects.get(code=args[0]))
        else:
            getattr(given, name)(*args)
    prepared = []
    for item in items:
        item = dict(item)
        if item["expected_version"] == STORED:
            stored = IndicatorReturn.objects.get(indicator__code=item["indicator_code"], locality__gss_code=item["gss_code"],
                                                 period__label=item["period_label"], breakdown__isnull=True)
            item["expected_version"] = stored.version
        prepared.append(item)
    return prepared


@pytest.fixture
def given(officer, approver, period, count_indicator, rate_indicator):
    assert period.label == "2012/13 Q1"
    return Given(officer, approver, period, count_indicator, rate_indicator)


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("who", ["officer", "submit key"])
def test_the_bulk_write_stores_what_the_services_store_one_by_one(case, who, given):
    steps, items = CASES[case]
    items = _prepare(given, steps, items)
    if who == "officer":
        user = given.officer
    else:
        key, _ = PartnerAPIKey.objects.create_key(name="Feed", partner=Organisation.objects.get(name="Kent Police"),
                                                  scope="submit")
        key.organisations.set([council()])
        user = actors.KeyActor(key=key)

    expected, got = outcome(one_by_one, user, items), outcome(set_based, user, items)

    assert got["answer"] == expected["answer"]
    assert got["returns"] == expected["returns"]
    assert got["events"] == expected["events"]
    if case == "a draft unchanged makes no version":
        assert expected["answer"][0] == "saved" and not got["events"]
    if case.startswith(("new drafts", "an outlier confirmed", "data quality sent", "two items for one return: created")):
        assert expected["answer"][0] == "saved", expected["answer"]  # the cases meant to save do save


def test_every_case_is_decided_both_ways_alike_in_one_bulk(given):
    """All the saving cases' items at once (new returns of every kind, on both indicators and the
    survey), against the services item by item."""
    items = [
        entry("T-KSI", value="18", commentary="ok", breakdowns={"severity:fatal": "2", "severity:serious": "16"},
              submit=True),
        entry("T-RECYC", numerator="45", denominator="100", **PROVISIONAL),
        entry("T-SURV", numerator="52", denominator="100", sample_base=400, submit=True, commentary="Survey"),
    ]
    expected, got = outcome(one_by_one, given.officer, items), outcome(set_based, given.officer, items)
    assert expected["answer"][0] == "saved"
    assert got == expected


# --- Concurrency: the write names the versions read --------------------------------------------------

def test_a_return_changed_between_the_check_and_the_write_refuses_the_whole_write(given, monkeypatch):
    given.save("T-KSI", value="10")
    given.save("T-RECYC", numerator="1", denominator="4")
    ksi, recyc = given.stored("T-KSI"), given.stored("T-RECYC")
    items = [entry("T-KSI", value="14", version=ksi.version), entry("T-RECYC", numerator="2", denominator="4", version=recyc.version)]
    # Another officer's save lands after the bulk read the returns and before it writes: the
    # bulk's first check sees version 1 (as read), the database holds version 2.
    given.save("T-RECYC", numerator="3", denominator="4")
    loaded, writes = bulk_entry.Batch.__init__, []

    def read_before_the_other_save(self, *args, **kwargs):
        loaded(self, *args, **kwargs)
        if not writes:
            self.stored[(recyc.indicator_id, recyc.locality_id, recyc.period_id)].version = 1
        writes.append(self)

    monkeypatch.setattr(bulk_entry.Batch, "__init__", read_before_the_other_save)
    events = ReturnEvent.objects.count()

    with pytest.raises(by_code.BulkErrors) as refused:
        bulk_entry.indicator_returns_save_by_codes(user=given.officer, items=items)

    # The write refused (nothing of it kept); checked again against what is stored now, the
    # stale item is named.
    assert len(writes) == 2
    assert refused.value.errors == [(1, {"version": ["The return is now version 2; read it again."]})]
    assert IndicatorReturn.objects.get(pk=ksi.pk).value == 10 and IndicatorReturn.objects.get(pk=ksi.pk).version == 1
    assert IndicatorReturn.objects.get(pk=recyc.pk).numerator == 3
    assert ReturnEvent.objects.count() == events


def test_the_write_refuses_a_total_no_longer_at_the_version_read(given):
    given.save("T-KSI", value="10")
    ksi = given.stored("T-KSI")
    IndicatorReturn.objects.filter(pk=ksi.pk).update(version=5)
    plan = bulk_write.Plan(updates=[bulk_write.TotalUpdate(
        pk=ksi.pk, expected=1, version=2, state="draft", value=Decimal(1), numerator=None, denominator=None,
        commentary="", quality="final", source_released=None, quality_note="", ci_lower=None, ci_upper=None,
        sample_base=None)])
    with pytest.raises(bulk_write.Changed), transaction.atomic():
        bulk_write.write(plan, now=datetime.datetime.now(datetime.timezone.utc), actor_id=None)
    assert IndicatorReturn.objects.get(pk=ksi.pk).value == 10


# --- The write's cost does not grow with the items ------------------------------------------------

def _many_slots(count: int) -> list:
    """``count`` count indicators returned by Ashford (new slots for the bulk to fill)."""
    made = []
    for n in range(count):
        indicator = IndicatorFactory(code=f"T-MANY-{n:04d}")
        services.assignment_ensure(organisation=council(), indicator=indicator, locality=district())
        made.append(indicator)
    return made


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the statement count is PostgreSQL's (COPY)")
def test_the_bulk_costs_the_same_statements_for_10_items_as_for_300(given):
    indicators = _many_slots(300)

    def run(codes):
        # half new (created), half stored drafts changed and submitted
        for code in codes[::2]:
            by_code.indicator_return_save_by_codes(user=given.officer, **entry(code, value="5"))
        items = [
            entry(code, value="6", commentary="ok", submit=True,
                  version=given.stored(code).version if given.stored(code) else None)
            for code in codes
        ]
        with CaptureQueriesContext(connection) as queries:
            saved = bulk_entry.indicator_returns_save_by_codes(user=given.officer, items=items)
        assert len(saved) == len(codes)
        return len(queries)

    codes = [i.code for i in indicators]
    assert run(codes[:10]) == run(codes[10:])


# --- Through the API ----------------------------------------------------------------------------------

@pytest.fixture
def submit_key(db):
    cache.clear()
    key, raw = PartnerAPIKey.objects.create_key(name="Feed", partner=Organisation.objects.get(name="Kent Police"),
                                                scope="submit", rate="10/min")
    key.organisations.set([council()])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    yield client
    cache.clear()


def _items(label: str, count: int, start: int = 0) -> list[dict]:
    return [{"indicator": f"T-MANY-{n:04d}", "locality": ASHFORD, "period": label, "value": str(n)}
            for n in range(start, start + count)]


def test_the_api_answers_what_it_wrote_as_the_serializer_writes_it(given, submit_key):
    _many_slots(4)
    response = submit_key.post("/api/v1/indicator-returns/bulk/", _items(given.period.label, 4), format="json")
    assert response.status_code == 201, response.content
    stored = IndicatorReturn.objects.filter(indicator__code__startswith="T-MANY-").select_related(
        "indicator", "locality", "period", "organisation", "breakdown__dimension")
    assert sorted(response.json(), key=lambda r: r["id"]) == sorted(
        IndicatorReturnSerializer(stored, many=True).data, key=lambda r: r["id"])
    assert all(e.api_key_id and e.actor_id is None for e in ReturnEvent.objects.all())


def test_the_rate_limit_counts_items_and_refuses_what_would_exceed_it(given, submit_key):
    """A key of 10 a minute: 6 items, then 5 more would be 11 (429, nothing saved), 4 more fit,
    and then even a single read is one too many."""
    _many_slots(15)
    label = given.period.label

    first = submit_key.post("/api/v1/indicator-returns/bulk/", _items(label, 6), format="json")
    assert first.status_code == 201

    refused = submit_key.post("/api/v1/indicator-returns/bulk/", _items(label, 5, start=6), format="json")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "5 items" in refused.json()["detail"] and "4" in refused.json()["detail"], refused.json()
    assert IndicatorReturn.objects.count() == 6, "nothing of the refused request was saved"

    fits = submit_key.post("/api/v1/indicator-returns/bulk/", _items(label, 4, start=6), format="json")
    assert fits.status_code == 201 and IndicatorReturn.objects.count() == 10

    after = submit_key.get("/api/v1/ambitions/")
    assert after.status_code == 429 and int(after["Retry-After"]) > 0


def test_a_bulk_larger_than_the_whole_allowance_is_refused_saying_so(given, submit_key):
    _many_slots(11)
    response = submit_key.post("/api/v1/indicator-returns/bulk/", _items(given.period.label, 11), format="json")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "at most 10" in response.json()["detail"], response.json()
    assert not IndicatorReturn.objects.exists()
    # the allowance is untouched: a request that fits is served
    assert submit_key.post("/api/v1/indicator-returns/bulk/", _items(given.period.label, 10), format="json").status_code == 201


def test_a_signed_in_officers_bulk_counts_items_against_the_user_rate(given, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    cache.clear()
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {**SimpleRateThrottle.THROTTLE_RATES, "user": "5/min"})
    _many_slots(6)
    api = APIClient()
    api.force_authenticate(given.officer)
    assert api.post("/api/v1/indicator-returns/bulk/", _items(given.period.label, 4), format="json").status_code == 201
    refused = api.post("/api/v1/indicator-returns/bulk/", _items(given.period.label, 2, start=4), format="json")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert IndicatorReturn.objects.count() == 4
    cache.clear()
