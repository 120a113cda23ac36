"""Load the Kent framework (ambitions, KPQs, localities, partner organisations, boards and their
members and relationships, the Locality Boards' community strategies, delivery plans, strategic
partnerships, existing partnerships, officer groups, breakdowns, the documents' data tables) from the readable data files
in ``data/kent_framework/``. Idempotent: a second run changes nothing."""
from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils.text import slugify

from ambitions.models import KPQ, Ambition, DeliveryPlan, DeliveryPlanAmbition, TopPriority
from localities.models import Locality
from partnerships.models import (
    Board,
    BoardMembership,
    CommunityStrategy,
    ExistingPartnership,
    OfficerGroup,
    Organisation,
    Person,
    StrategicPartnership,
)
from performance.models import BreakdownCategory, BreakdownDimension

from .base import LoadReport, Upserter, read_yaml
from .source_tables import SourceTableLoader

OFFICER_GROUP_SECTION_AMBITION = {"ambition_board_1": 1, "ambition_board_2": 2, "ambition_board_3": 3}


class FrameworkLoader:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.up = Upserter()
        self.ambitions: dict[int, Ambition] = {}
        self.localities: dict[str, Locality] = {}
        self.organisations: dict[str, Organisation] = {}
        self.boards_by_ambition: dict[int, Board] = {}
        self.locality_boards: dict[str, Board] = {}

    def data(self, name: str) -> dict:
        return read_yaml(self.data_dir / name)

    def load(self) -> LoadReport:
        self.load_ambitions()
        self.load_top_priorities()
        self.load_localities()
        self.load_organisations()
        self.load_boards()
        self.load_community_strategies()
        self.load_delivery_plans()
        self.load_partnerships()
        self.load_existing_partnerships()
        self.load_officer_groups()
        self.load_breakdowns()
        # The documents' data tables, after the breakdowns their rows and columns name.
        SourceTableLoader(self.up, self.data_dir).load()
        return self.up.report

    def load_ambitions(self) -> None:
        for item in self.data("ambitions.yaml")["ambitions"]:
            ambition = self.up.upsert(
                Ambition,
                {"number": item["number"]},
                {
                    "title": item["title"], "short_name": item["short_name"], "slug": slugify(item["title"]),
                    "statement": item["statement"], "vision": item["vision"],
                },
            )
            self.ambitions[ambition.number] = ambition
            for kpq in item["kpqs"]:
                self.up.upsert(KPQ, {"ambition": ambition, "number": kpq["number"]}, {"text": kpq["text"]})

    def load_top_priorities(self) -> None:
        """Chapter 4's top priorities per ambition; KPQ links only as the data file gives them."""
        for group in self.data("top_priorities.yaml")["top_priorities"]:
            ambition = self.ambitions[group["ambition"]]
            for item in group["priorities"]:
                priority = self.up.upsert(
                    TopPriority, {"ambition": ambition, "number": item["number"]},
                    {"text": item["text"], "detail": "\n".join(item.get("detail", []))},
                )
                kpqs = [KPQ.objects.get(ambition=ambition, number=n) for n in item.get("kpqs", [])]
                self.up.set_related(priority, "kpqs", kpqs, "top priority KPQs")

    def load_localities(self) -> None:
        data = self.data("localities.yaml")
        county = data["county"]
        self.localities["county"] = self.up.upsert(
            Locality, {"gss_code": county["gss_code"]},
            {"name": county["name"], "slug": slugify(county["name"]), "kind": Locality.Kind.COUNTY},
        )
        for item in data["districts"]:
            self.localities[item["name"]] = self.up.upsert(
                Locality, {"gss_code": item["gss_code"]},
                {
                    "name": item["name"], "slug": slugify(item["name"]), "kind": Locality.Kind.DISTRICT,
                    "current_name": item.get("current_name", ""),
                },
            )

    def load_organisations(self) -> None:
        for item in self.data("organisations.yaml")["organisations"]:
            locality = self.localities[item["locality"]] if item.get("locality") else None
            self.organisations[item["name"]] = self.up.upsert(
                Organisation, {"name": item["name"]},
                {
                    "short_name": item.get("short_name", ""), "slug": slugify(item["name"]),
                    "sector": item["sector"], "tier": item["tier"], "locality": locality,
                },
            )

    def _board(
        self, *, kind: str, name: str, roles: str, ambition=None, locality=None, accountable_to=None,
        decision_making: bool | None = None, advises: list[Organisation] | None = None,
    ) -> Board:
        board = self.up.upsert(
            Board, {"name": name},
            {
                "kind": kind, "slug": slugify(name), "roles": roles.strip(), "ambition": ambition,
                "locality": locality, "accountable_to": accountable_to, "decision_making": decision_making,
            },
        )
        self.up.set_related(board, "advises", advises or [], "board advised councils")
        return board

    def _person(self, item: dict, organisation: Organisation) -> Person:
        """A member by name and organisation. ``previously_loaded_as`` names the key a corrected
        person was loaded under before, so the row is renamed in place rather than duplicated."""
        values = {"other_spellings": item.get("other_spellings", "")}
        key = {"name": item["name"], "organisation": organisation}
        if not Person.objects.filter(**key).exists():
            for old in item.get("previously_loaded_as", []):
                old_key = {"name": old["name"], "organisation__name": old["organisation"]}
                if Person.objects.filter(**old_key).exists():
                    return self.up.upsert(Person, old_key, {**key, **values})
        return self.up.upsert(Person, key, values)

    def _members(self, board: Board, members: list[dict]) -> None:
        for item in members:
            organisation = self.organisations[item["organisation"]]
            person = self._person(item, organisation)
            self.up.upsert(
                BoardMembership, {"board": board, "person": person, "end_date": None},
                {
                    "organisation": organisation, "role": item.get("role", BoardMembership.Role.MEMBER),
                    "category": item["category"], "note": item.get("note", ""), "is_core": True,
                },
            )

    def load_boards(self) -> None:
        data = self.data("boards.yaml")
        forum = self._board(
            kind=Board.Kind.FORUM, name=data["forum"]["name"], roles=data["forum"]["roles"],
            decision_making=data["forum"].get("decision_making"),
        )
        self._members(forum, data["forum"]["members"])
        boards = {"forum": forum, None: None}
        chiefs = self._board(
            kind=Board.Kind.JOINT_CHIEFS, name=data["joint_chiefs"]["name"], roles=data["joint_chiefs"]["roles"],
            accountable_to=boards[data["joint_chiefs"].get("accountable_to")],
            decision_making=data["joint_chiefs"].get("decision_making"),
        )
        self._members(chiefs, data["joint_chiefs"]["members"])
        for item in data["ambition_boards"]:
            board = self._board(
                kind=Board.Kind.AMBITION, name=item["name"], roles=data["ambition_roles"],
                ambition=self.ambitions[item["ambition"]], accountable_to=boards[data.get("ambition_accountable_to")],
            )
            self.boards_by_ambition[item["ambition"]] = board
            self._members(board, item["members"])
        relations = data["locality_boards"]
        county_council = Organisation.objects.get(tier=Organisation.Tier.COUNTY)
        for name, locality in self.localities.items():
            if locality.kind != Locality.Kind.DISTRICT:
                continue
            councils = {"county": county_council, "district": Organisation.objects.get(tier=Organisation.Tier.DISTRICT, locality=locality)}
            self.locality_boards[name] = self._board(
                kind=Board.Kind.LOCALITY, name=f"{name} Locality Board", roles=data["locality_roles"],
                locality=locality, accountable_to=boards[relations.get("accountable_to")],
                decision_making=relations.get("decision_making"), advises=[councils[a] for a in relations["advises"]],
            )

    def load_community_strategies(self) -> None:
        for order, item in enumerate(self.data("community_strategies.yaml")["community_strategies"], start=1):
            strategy = self.up.upsert(
                CommunityStrategy, {"name": item["name"]},
                {
                    "slug": slugify(item["name"])[:250], "listed_under": item["listed_under"],
                    "link": item.get("link", ""), "source_note": item.get("source_note", ""), "order": order,
                },
            )
            self.up.set_related(
                strategy, "boards", [self.locality_boards[name] for name in item["districts"]],
                "community strategy boards",
            )

    def load_delivery_plans(self) -> None:
        for order, item in enumerate(self.data("delivery_plans.yaml")["delivery_plans"], start=1):
            owner = self.organisations[item["owner"]] if item.get("owner") else None
            plan = self.up.upsert(
                DeliveryPlan, {"name": item["name"]},
                {
                    "slug": slugify(item["name"])[:250], "title": item.get("title", ""), "group": item["group"],
                    "owner_name": item.get("owner_name", ""), "owner": owner, "link": item.get("link", ""),
                    "link_note": item.get("link_note", ""), "in_development": item.get("in_development", False),
                    "source_note": item.get("source_note", ""), "order": order,
                },
            )
            wanted = set(item["ambitions"])
            primary = item.get("primary")
            if primary is not None and primary not in wanted:
                raise ValueError(f"{plan}: primary ambition {primary} is not one of its ambitions {sorted(wanted)}")
            stale = plan.ambition_links.exclude(ambition__number__in=wanted)
            if stale.exists():
                stale.delete()
                self.up.report.count("delivery plan ambitions", "updated")
            # Clear a primary flag first, so the one-primary constraint holds throughout.
            for number in sorted(wanted, key=lambda n: n == primary):
                self.up.upsert(
                    DeliveryPlanAmbition, {"plan": plan, "ambition": self.ambitions[number]},
                    {"is_primary": number == primary},
                )

    def load_partnerships(self) -> None:
        for order, item in enumerate(self.data("partnerships.yaml")["partnerships"], start=1):
            partnership = self.up.upsert(
                StrategicPartnership, {"name": item["name"]},
                {
                    "slug": slugify(item["name"]), "is_required": True,
                    "lead_board": self.boards_by_ambition[item["lead"]], "order": order,
                },
            )
            self.up.set_related(
                partnership, "supported_boards", [self.boards_by_ambition[n] for n in item["supports"]],
                "partnership supported boards",
            )

    def load_existing_partnerships(self) -> None:
        """Existing partnerships: document facts on every load; the decision (status, note, date,
        required partnerships) only when the row is created, so the Forum team's admin edits stay."""
        for order, item in enumerate(self.data("existing_partnerships.yaml")["existing_partnerships"], start=1):
            values = {
                "slug": slugify(item["name"]),
                "aligned_board": self.boards_by_ambition[item["aligned_board"]] if item.get("aligned_board") else None,
                "source_line": item.get("source_line"), "source_note": item.get("source_note", ""), "order": order,
            }
            is_new = not ExistingPartnership.objects.filter(name=item["name"]).exists()
            if is_new:
                values |= {
                    "status": item.get("status", ExistingPartnership.Status.TO_BE_REVIEWED),
                    "status_note": item.get("status_note", ""), "decided_on": item.get("decided_on"),
                }
            existing = self.up.upsert(ExistingPartnership, {"name": item["name"]}, values)
            if is_new and item.get("required"):
                self.up.set_related(
                    existing, "required_partnerships",
                    [StrategicPartnership.objects.get(slug=slug) for slug in item["required"]],
                    "existing partnership mappings",
                )

    def load_officer_groups(self) -> None:
        for order, item in enumerate(self.data("officer_groups.yaml")["officer_groups"], start=1):
            number = OFFICER_GROUP_SECTION_AMBITION.get(item["section"])
            self.up.upsert(
                OfficerGroup, {"section": item["section"], "name": item["name"]},
                {
                    "board": self.boards_by_ambition[number] if number else None,
                    "locality": self.localities[item["locality"]] if item.get("locality") else None,
                    "county_members": item["county_members"], "district_members": item["district_members"],
                    "other_members": item["other_members"], "chair": item["chair"],
                    "meeting_frequency": item["meeting_frequency"], "comment": item["comment"], "order": order,
                },
            )

    def load_breakdowns(self) -> None:
        for item in self.data("breakdowns.yaml")["breakdown_dimensions"]:
            dimension = self.up.upsert(BreakdownDimension, {"code": item["code"]}, {"name": item["name"]})
            for order, category in enumerate(item["categories"], start=1):
                self.up.upsert(
                    BreakdownCategory, {"dimension": dimension, "code": category["code"]},
                    {"label": category["label"], "order": order},
                )


def framework_load(*, data_dir: Path | None = None) -> LoadReport:
    """Load (or bring up to date) the Kent framework in one transaction: all or nothing."""
    with transaction.atomic():
        return FrameworkLoader(data_dir or settings.FRAMEWORK_DATA_DIR).load()
