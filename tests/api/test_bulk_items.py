"""The bulk write's fast path (performance/returns/api/bulk_items.py) against DRF: for every item,
``plain_item`` either gives None (the serializer judges the item) or exactly what
``IndicatorReturnWriteSerializer().run_validation`` gives: the same keys in the same order, the
same values of the same types (Decimal, never float; the same digits and exponent)."""
from __future__ import annotations

import itertools
import json
import random
from decimal import Decimal

import pytest
from rest_framework import exceptions

from performance.returns.api import bulk_items, serializers
from performance.returns.validation import COMMENTARY_MAX_LENGTH

BASE = {"indicator": "DEMO-NI117", "locality": "E07000105", "period": "2012/13 Q4"}

FIGURES = [
    # plain
    "0", "1", "-1", "12", "12.5", "0.0001", "-0.0001", "12.3456", "1234567890123456", "1234567890123456.1234",
    "-1234567890123456.1234", "0000000000000001", "0.0000", "-0", "-0.0", "100.", ".5",
    "  42  ", "\t7.25\n", "", "   ",
    0, 1, -7, 10**15, 10**16 - 1, 10**16, -(10**16), 10**20, 2**63, 10**400,
    0.0, -0.0, 0.1, 1.5, -2.25, 123456789012345.67, 1e16, 1e15, 1e-5, 1e300, 12.34567,
    float("nan"), float("inf"), float("-inf"),
    # too many digits or places, exponents, other spellings
    "12.34567", "0.00001", "0.00000", "12345678901234567", "12345678901234567.5", "99999999999999999999",
    "1e3", "1E3", "1e-2", "1e400", "1e-400", "+5", "+0.5", "1_000", "1,5", "1.2.3", "--1", "- 1", "0x10",
    "NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf", "١٢", "１２", "12\u00a0", "\u00a012", "1 2", "abc",
    "1" * 1001, " " * 1001, True, False, None, [], [1], {}, {"a": 1}, Decimal("1.5"), Decimal("1E+2"),
]
TEXTS = [
    "x", "  padded  ", "DEMO-NI117", "", "   ", "\t", "a\x00b", "\x00", "caf\u00e9", "\u00a0x\u00a0", "line\nbreak",
    "a\ud800b", 5, 5.5, 0, True, False, None, [], {}, ["x"],
]
COMMENTARIES = [
    "", "  ", "ok", "  trimmed  ", "x" * COMMENTARY_MAX_LENGTH, "x" * (COMMENTARY_MAX_LENGTH + 1),
    " " + "x" * COMMENTARY_MAX_LENGTH + " ", "y\x00", 12, None, True, ["a"],
]
NOTES = ["", "note", "n" * 500, "n" * 501, " " + "n" * 500 + " ", None, 3, "\x00"]
QUALITIES = ["final", "provisional", "estimated", "revised", "FINAL", "", " final", None, 1, True, ["final"]]
DATES = [None, "2024-01-31", "", "31/01/2024", "2024-02-30", 20240131]
INTEGERS = [None, 1, 2, 0, -1, 10**18, 2**63, 10**5000, 1.0, 2.5, "3", "3.0", "", " 4 ", True, False, [], "x"]
FLAGS = [True, False, None, 1, 0, "true", "false", "yes", "", "1", 1.0, [], {}]
BREAKDOWNS = [
    {}, {"severity:fatal": "2"}, {"severity:fatal": 2, "severity:serious": "14.5"}, {"a": None}, {"a": ""},
    {"a": "1e3"}, {"a": True}, {"a": 1.5}, {"a": "12.34567"}, {"a": {"b": 1}}, {"a": [1]}, {1: "2"},
    None, [], "x", 5, [["a", 1]],
]


def drf(raw):
    """What the bulk write's fallback gives: the validated dict, or the ValidationError's detail."""
    try:
        return "valid", serializers.IndicatorReturnWriteSerializer().run_validation(raw if isinstance(raw, dict) else {})
    except exceptions.ValidationError as invalid:
        return "invalid", invalid.detail


def same(a, b) -> bool:
    """Equal, of the same type all the way down, and Decimals with the same digits and exponent."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, Decimal):
        return a.as_tuple() == b.as_tuple()
    return a == b


def check(raw) -> str:
    """Assert that the fast path agrees with DRF on ``raw``; say which way it went."""
    fast = bulk_items.plain_item(raw)
    if fast is None:
        return "fallback"
    outcome, expected = drf(raw)
    assert outcome == "valid", f"the fast path accepted {raw!r}, which DRF refuses: {expected}"
    assert same(fast, expected), f"{raw!r}: the fast path gave {fast!r}, DRF {expected!r}"
    return "fast"


def generated_items(count: int, seed: int):
    """Random items mixing every kind of value in every field, and keys left out or added."""
    rng = random.Random(seed)
    pools = {
        "indicator": TEXTS, "locality": TEXTS, "period": TEXTS, "value": FIGURES, "numerator": FIGURES,
        "denominator": FIGURES, "commentary": COMMENTARIES, "breakdowns": BREAKDOWNS, "quality": QUALITIES,
        "source_released": DATES, "quality_note": NOTES, "ci_lower": FIGURES, "ci_upper": FIGURES,
        "sample_base": INTEGERS, "version": INTEGERS, "submit": FLAGS, "confirm_warnings": FLAGS,
    }
    # the values DRF accepts in each field, chosen more often, so that many items are wholly valid
    valid = {name: [v for v in pool if drf({**BASE, name: v})[0] == "valid"] for name, pool in pools.items()}
    for _ in range(count):
        item = dict(BASE)
        for name, pool in pools.items():
            if rng.random() < 0.35:
                item[name] = rng.choice(valid[name] if rng.random() < 0.85 else pool)
        if rng.random() < 0.2:
            del item[rng.choice(list(item))]
        if rng.random() < 0.05:
            item[rng.choice(["unknown", "id", "organisation", "Value"])] = "1"
        yield item


@pytest.mark.parametrize("figure", FIGURES, ids=repr)
@pytest.mark.parametrize("name", ["value", "numerator", "ci_lower"])
def test_every_figure_is_read_as_drf_reads_it(name, figure):
    check({**BASE, name: figure})
    check({**BASE, "breakdowns": {"severity:fatal": figure}})


@pytest.mark.parametrize("name, pool", [
    ("indicator", TEXTS), ("locality", TEXTS), ("period", TEXTS), ("commentary", COMMENTARIES),
    ("quality_note", NOTES), ("quality", QUALITIES), ("source_released", DATES), ("sample_base", INTEGERS),
    ("version", INTEGERS), ("submit", FLAGS), ("confirm_warnings", FLAGS), ("breakdowns", BREAKDOWNS),
])
def test_every_other_field_is_read_as_drf_reads_it(name, pool):
    for value in pool:
        check({**BASE, name: value})


def test_missing_and_unknown_keys_and_other_items_go_to_the_serializer_or_agree():
    for size in range(len(BASE) + 1):
        for kept in itertools.combinations(BASE, size):
            check({name: BASE[name] for name in kept})
    for raw in [None, [], "item", 5, [BASE], {**BASE, "unknown": 1}, {**BASE, "Indicator": "x"}]:
        assert bulk_items.plain_item(raw) is None


def test_defaults_are_drfs():
    assert same(bulk_items.plain_item(dict(BASE)), drf(dict(BASE))[1])
    assert list(bulk_items.plain_item(dict(BASE))) == [*BASE, "commentary", "breakdowns", "submit", "confirm_warnings"]


def test_plain_items_of_the_benchmark_shape_take_the_fast_path():
    """The usual items (figures as strings or numbers, a commentary, breakdowns, a version,
    submit) must not fall back: the fast path is the bulk write's speed."""
    items = [
        {**BASE, "value": "100", "commentary": "Round 1."},
        {**BASE, "numerator": "400", "denominator": "1000"},
        {**BASE, "value": 12.5, "breakdowns": {"severity:fatal": 2, "severity:serious": "14"}, "version": 3,
         "submit": True, "confirm_warnings": False},
        {**BASE, "value": None, "quality": "provisional", "quality_note": "Early figure.", "ci_lower": "1.5",
         "ci_upper": "2.5", "sample_base": 300, "source_released": None},
    ]
    assert [check(item) for item in items] == ["fast"] * len(items)


def test_many_generated_items_agree():
    outcomes = [check(item) for item in generated_items(6000, seed=19)]
    # both ways are exercised: many items are plainly valid, many are not
    assert outcomes.count("fast") > 300 and outcomes.count("fallback") > 300


def test_items_as_parsed_from_json_agree():
    """Through a JSON round trip, as the API receives them (floats and ints as json reads them)."""
    rng = random.Random(7)
    for item in generated_items(2000, seed=23):
        try:
            text = json.dumps(item, allow_nan=False)
        except (TypeError, ValueError):
            continue
        check(json.loads(text))
        figure = rng.choice(["1e400", "-1e400", "1.00000", "0.1", "1E2", "123456789012345678", "12.3456"])
        check(json.loads(text[:-1] + f', "value": {figure}}}'))


def test_the_check_can_fail():
    """The comparison itself catches a fast path that gives a float, an unquantized Decimal, or
    accepts what DRF refuses."""
    raw = {**BASE, "value": "1.5"}
    good = bulk_items.plain_item(raw)
    assert same(good, drf(raw)[1])
    assert not same({**good, "value": 1.5}, drf(raw)[1])
    assert not same({**good, "value": Decimal("1.5")}, drf(raw)[1])
    assert not same({**good, "value": Decimal("-0.0000")}, drf({**BASE, "value": "0"})[1])
    assert drf({**BASE, "value": "1e400"})[0] == "invalid"
    assert drf({**BASE, "value": "12.34567"})[0] == "invalid"
