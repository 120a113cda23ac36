"""The Kent framework loader: the documents' facts are present, exact, and a second run
changes nothing."""
import shutil

import pytest
from django.core.management import call_command

from ambitions.models import KPQ, Ambition, DeliveryPlan, DeliveryPlanAmbition
from kentforum.loaders.framework import framework_load
from localities.models import Locality
from partnerships.models import (
    Board,
    BoardMembership,
    OfficerGroup,
    Organisation,
    Person,
    StrategicPartnership,
)

pytestmark = pytest.mark.django_db

# Annex 1 of the Vision for Kent 2011-2021, word for word.
KPQS = {
    1: [
        "Has GVA risen to compete with the regional / national average?",
        "Is there greater diversity of business sectors in Kent?",
        "Are people in Kent earning a sufficient wage to lead a good quality of life?",
        "Are Kent businesses reporting fewer skills gaps?",
        "Are there sufficient employment opportunities for the workforce at all skills levels?",
    ],
    2: [
        "Are outcomes for disadvantaged people getting better?",
        "Are barriers to improving quality of life being broken down?",
        "Are inequalities in quality of life outcomes reducing?",
        "Is the gap between deprived and non-deprived areas reducing?",
        "Are people in Kent confident that they can achieve good quality of life?",
    ],
    3: [
        "Are there fewer demands being made on public services?",
        "Is there a greater diversity of service provision?",
        "Are more people having a say on the services that affect them?",
        "Are communities finding solutions to their own problems?",
        "Are more people taking responsibility for their own lives?",
    ],
}

GSS = {
    "Ashford": "E07000105", "Canterbury": "E07000106", "Dartford": "E07000107", "Dover": "E07000108",
    "Gravesham": "E07000109", "Maidstone": "E07000110", "Sevenoaks": "E07000111", "Shepway": "E07000112",
    "Swale": "E07000113", "Thanet": "E07000114", "Tonbridge and Malling": "E07000115",
    "Tunbridge Wells": "E07000116",
}


def test_three_ambitions_with_statements_and_vision():
    titles = list(Ambition.objects.values_list("number", "title"))
    assert titles == [(1, "To grow the economy"), (2, "To tackle disadvantage"), (3, "To put citizens in control")]
    economy = Ambition.objects.get(number=1)
    assert economy.statement == "For Kent to be ‘open for business’ with a growing, successful economy and jobs for all"
    assert economy.vision.startswith("Kent will be known as a place where business is thriving")
    citizens = Ambition.objects.get(number=3)
    assert citizens.vision.endswith("Kent will be a place where people have a sense of community, purpose and belonging")


def test_fifteen_kpqs_word_for_word():
    assert KPQ.objects.count() == 15
    for number, texts in KPQS.items():
        loaded = list(KPQ.objects.filter(ambition__number=number).order_by("number").values_list("text", flat=True))
        assert loaded == texts
    assert KPQ.objects.get(ambition__number=2, number=4).code == "A2-KPQ4"


def test_localities_have_gss_codes_and_the_county_area():
    districts = dict(Locality.objects.filter(kind="district").values_list("name", "gss_code"))
    assert districts == GSS
    county = Locality.objects.get(kind="county")
    assert county.gss_code == "E10000016"
    assert Locality.objects.get(name="Shepway").current_name == "Folkestone and Hythe"


def test_boards_forum_chiefs_three_ambition_and_twelve_locality_boards():
    assert Board.objects.filter(kind="forum").count() == 1
    assert Board.objects.filter(kind="joint_chiefs").count() == 1
    ambition_boards = Board.objects.filter(kind="ambition").order_by("ambition__number")
    assert [b.ambition.number for b in ambition_boards] == [1, 2, 3]
    locality_boards = Board.objects.filter(kind="locality")
    assert locality_boards.count() == 12
    assert {b.locality.name for b in locality_boards} == set(GSS)
    forum = Board.objects.get(kind="forum")
    assert all(b.accountable_to == forum for b in ambition_boards)
    assert forum.memberships.get(role="chair").person.name == "Paul Carter"
    assert forum.memberships.get(role="vice_chair").person.name == "John Gilbey"


@pytest.mark.parametrize(
    "number,leaders,chief_executives",
    [
        (1, ["John Gilbey", "Paul Watkins", "John Burden", "Chris Garland", "Kevin Lynes", "John Simmons"],
         ["John Bunnett", "Graham Harris", "William Benson", "David Cockburn"]),
        (2, ["Peter Wood", "Peter Fleming", "Robert Bayford", "Mark Worrall", "Bryan Cope", "Graham Gibbens",
             "Jenny Whittle"],
         ["Colin Carmichael", "Nadeem Aziz", "Alison Broom", "Alistair Stewart", "Abdool Kara", "Malcolm Newsam"]),
        (3, ["Jeremy Kite", "Robert Bliss", "Andrew Bowles", "Robert Atwood", "Mike Hill", "Bryan Sweetland"],
         ["Glyn Thomson", "Richard Samuel", "Robin Hales", "David Hughes", "Ann Millington", "Amanda Honey"]),
    ],
)
def test_ambition_board_nominations_appendix_4_3(number, leaders, chief_executives):
    board = Board.objects.get(kind="ambition", ambition__number=number)
    members = {m.person.name: m for m in board.memberships.select_related("person", "organisation")}
    assert set(members) == set(leaders) | set(chief_executives)
    political = {"kcc_cabinet_member", "district_leader", "fire_chairman"}
    assert {n for n, m in members.items() if m.category in political} == set(leaders)
    primary = [n for n, m in members.items() if m.note == "primary"]
    assert len(primary) == 1 and members[primary[0]].organisation.short_name == "KCC"


def test_kcc_cmt_and_fire_seats_are_recorded():
    cmt = BoardMembership.objects.get(person__name="Amanda Honey", board__ambition__number=3)
    assert cmt.category == "kcc_cmt" and cmt.organisation.tier == "county"
    fire = BoardMembership.objects.get(person__name="Bryan Cope", board__ambition__number=2)
    assert fire.category == "fire_chairman" and fire.organisation.name == "Kent and Medway Fire and Rescue Authority"


def test_partner_organisations_include_the_thirteen_councils_and_partners():
    councils = Organisation.objects.filter(tier__in=["county", "district"])
    assert councils.count() == 13
    assert all(c.locality is not None for c in councils)
    for name in ["Kent Police", "Kent Fire and Rescue Service", "Kent Probation", "Environment Agency",
                 "Natural England", "Kent CAN", "NHS West Kent", "NHS Eastern and Coastal Kent"]:
        assert Organisation.objects.filter(name=name).exists(), name


PLANS = {
    # Diagram 1: name -> (ambitions, primary, group)
    "Growth Without Gridlock": ({1, 2}, 1, "spanning_sectors"),
    "Kent and Medway Housing Strategy": ({1, 2}, 2, "spanning_sectors"),
    "Kent, Greater Essex and East Sussex LEP Agreement": ({1}, None, "spanning_sectors"),
    "Community Safety Agreement": ({3}, None, "spanning_sectors"),
    "Bold Steps for Kent (KCC Medium Term Plan)": ({1, 2, 3}, None, "local_government"),
    "Kent Waste Strategy": ({1, 3}, 3, "local_government"),
    "Kent Highways Strategy": ({1}, None, "local_government"),
    "Policing Kent 2010-13 (Kent Police)": ({1, 2, 3}, 3, "non_local_government"),
    "Strategic Commissioning Plan 2010-2015 - NHS West Kent": ({2, 3}, 2, "non_local_government"),
    "Working in partnership to reduce re-offending in Kent and Medway (Kent Probation)": ({2, 3}, 3, "non_local_government"),
}


def test_every_diagram_1_plan_with_ambitions_primary_and_group():
    assert DeliveryPlan.objects.count() == 40
    assert DeliveryPlan.objects.filter(group="spanning_sectors").count() == 17
    assert DeliveryPlan.objects.filter(group="local_government").count() == 15
    assert DeliveryPlan.objects.filter(group="non_local_government").count() == 8
    for name, (ambitions, primary, group) in PLANS.items():
        plan = DeliveryPlan.objects.get(name=name)
        assert {a.number for a in plan.ambitions.all()} == ambitions, name
        assert (plan.primary_ambition.number if plan.primary_ambition else None) == primary, name
        assert plan.group == group, name
    assert DeliveryPlanAmbition.objects.filter(is_primary=True).count() == 33
    assert all(DeliveryPlan.objects.get(pk=p.pk).ambitions.exists() for p in DeliveryPlan.objects.all())


def test_annex_3_owners_links_and_statuses():
    bold = DeliveryPlan.objects.get(name="Bold Steps for Kent (KCC Medium Term Plan)")
    assert bold.owner.short_name == "KCC"
    assert bold.link.endswith("bold_steps_for_kent.aspx")
    alcohol = DeliveryPlan.objects.get(name="Kent Alcohol Strategy (KDAAT)")
    assert alcohol.owner_name == "Kent Action on Alcohol Steering Group"
    assert alcohol.link == "" and alcohol.link_note == "Link to be included in final version"
    highways = DeliveryPlan.objects.get(name="Kent Highways Strategy")
    assert highways.in_development and highways.link_note == "In development"
    probation = DeliveryPlan.objects.get(name__startswith="Working in partnership to reduce re-offending")
    assert probation.owner.name == "Kent Probation"


LEADS = {
    "Skills, continual learning and support to get into work": (1, {1, 2, 3}),
    "Targeted interventions in / regeneration of deprived areas": (2, {1, 2}),
    "Health inequalities": (2, {2, 3}),
    "Safeguarding vulnerable adults, children and families": (3, {2, 3}),
    "Developing social enterprise and other ways of delivering services": (3, {1, 3}),
    "Culture, recreation and leisure": (3, {3}),
}


def test_fifteen_required_partnerships_with_lead_and_supported_boards():
    assert StrategicPartnership.objects.filter(is_required=True).count() == 15
    led = {n: StrategicPartnership.objects.filter(lead_board__ambition__number=n).count() for n in (1, 2, 3)}
    assert led == {1: 6, 2: 4, 3: 5}
    for name, (lead, supports) in LEADS.items():
        partnership = StrategicPartnership.objects.get(name=name)
        assert partnership.lead_board.ambition.number == lead
        assert {b.ambition.number for b in partnership.supported_boards.all()} == supports


def test_officer_groups_appendix_4_11():
    assert OfficerGroup.objects.count() == 65
    keep = OfficerGroup.objects.get(name="Kent Energy Efficiency Partnership (KEEP)")
    assert (keep.county_members, keep.district_members, keep.other_members) == (False, True, False)
    assert keep.chair == "Shaun Cline, DDC" and keep.meeting_frequency == "Bi monthly"
    assert keep.board.ambition.number == 1
    compact = OfficerGroup.objects.get(name="Compact Implementation Group")
    assert compact.chair == "Malcolm Barry, Age Concern & CASE Chair"
    dover = OfficerGroup.objects.filter(section="locality", locality__name="Dover")
    assert dover.count() == 6


def test_second_run_changes_nothing_and_says_so(capsys):
    before = {
        model.__name__: sorted(model.objects.values_list("pk", flat=True))
        for model in (Ambition, KPQ, Locality, Organisation, Person, Board, BoardMembership, DeliveryPlan,
                      DeliveryPlanAmbition, StrategicPartnership, OfficerGroup)
    }
    report = framework_load()
    assert not report.changed
    after = {name: sorted(m.objects.values_list("pk", flat=True)) for name, m in
             ((m.__name__, m) for m in (Ambition, KPQ, Locality, Organisation, Person, Board, BoardMembership,
                                         DeliveryPlan, DeliveryPlanAmbition, StrategicPartnership, OfficerGroup))}
    assert after == before
    call_command("load_kent_framework")
    assert "No changes: the Kent framework is already up to date." in capsys.readouterr().out


def test_a_corrected_fact_is_updated_in_place(tmp_path, settings):
    data = tmp_path / "framework"
    shutil.copytree(settings.FRAMEWORK_DATA_DIR, data)
    plans = data / "delivery_plans.yaml"
    plans.write_text(plans.read_text(encoding="utf-8").replace("    primary: 1\n    owner_name: Kent County Council\n    owner: Kent County Council\n    title: \"Growth Without Gridlock", "    primary: 2\n    owner_name: Kent County Council\n    owner: Kent County Council\n    title: \"Growth Without Gridlock"), encoding="utf-8")
    plan_id = DeliveryPlan.objects.get(name="Growth Without Gridlock").pk
    report = framework_load(data_dir=data)
    assert report.changed
    assert report.counts["delivery plan ambitions"]["updated"] == 2
    plan = DeliveryPlan.objects.get(name="Growth Without Gridlock")
    assert plan.pk == plan_id and plan.primary_ambition.number == 2


def test_a_bad_data_file_loads_nothing(tmp_path, settings):
    data = tmp_path / "framework"
    shutil.copytree(settings.FRAMEWORK_DATA_DIR, data)
    plans = data / "delivery_plans.yaml"
    text = plans.read_text(encoding="utf-8")
    plans.write_text(text.replace("ambitions: [1, 3]\n    primary: 3", "ambitions: [1, 3]\n    primary: 2"), encoding="utf-8")
    ambitions = data / "ambitions.yaml"
    ambitions.write_text(ambitions.read_text(encoding="utf-8").replace("To grow the economy", "To grow the economy!"), encoding="utf-8")
    with pytest.raises(ValueError, match="primary ambition 2"):
        framework_load(data_dir=data)
    assert Ambition.objects.get(number=1).title == "To grow the economy"
