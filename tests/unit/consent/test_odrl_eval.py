"""The ODRL evaluator on its own: actions, parties, operators, logical constraints, duties."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest

from likeness_ledger.consent.odrl import policy_from_jsonld
from likeness_ledger.consent.odrl_eval import (
    ODRL,
    XSD,
    ActionHierarchy,
    Constraint,
    DutyStatus,
    Iri,
    Lit,
    LogicalConstraint,
    Policy,
    PolicyReport,
    Request,
    Rule,
    StateOfTheWorld,
    Term,
    evaluate,
)
from likeness_ledger.errors import InvalidInput

EX = "http://example.org/"
NOW = datetime(2024, 2, 12, 11, 20, 10, tzinfo=UTC)
WORLD = StateOfTheWorld(current_time=NOW)


def ask(action: str = "read", *, who: str = "alice", what: str = "x", **context: tuple[Term, ...]) -> Request:
    return Request(
        uid=f"{EX}request",
        rule_uid=f"{EX}request-permission",
        action=ODRL + action,
        assignee=EX + who,
        target=EX + what,
        context={ODRL + k: v for k, v in context.items()},
    )


def permit(*constraints: Constraint | LogicalConstraint, **rule: Any) -> Policy:
    return Policy(f"{EX}policy", "Set", (Rule(f"{EX}rule", "permission", constraints=constraints, **rule),))


def dt(text: str) -> Lit:
    return Lit(text, f"{XSD}dateTime")


def c(left: str, op: str, *right: Term, uid: str | None = None) -> Constraint:
    return Constraint(uid, ODRL + left, ODRL + op, right)


def decide(policy: Policy, request: Request | None = None, world: StateOfTheWorld = WORLD) -> PolicyReport:
    return evaluate(policy, request or ask(), world)


class TestActions:
    @pytest.mark.parametrize(
        ("requested", "ruled", "expected"),
        [
            ("read", "use", True),
            ("write", "use", True),  # deprecated write is modify, part of use
            ("play", "use", True),  # play is part of display, part of use
            ("sell", "use", False),
            ("sell", "transfer", True),
            ("use", "read", False),
            ("read", "read", True),
        ],
    )
    def test_included_in(self, requested: str, ruled: str, expected: bool) -> None:
        assert ActionHierarchy().satisfies(ODRL + requested, ODRL + ruled) is expected

    def test_profile_actions_extend_the_vocabulary(self) -> None:
        mine = ActionHierarchy().extended({f"{EX}scan": ODRL + "use"})
        assert mine.satisfies(f"{EX}scan", ODRL + "use")
        assert not ActionHierarchy().satisfies(f"{EX}scan", ODRL + "use")


class TestPartiesAndAssets:
    def test_collections_are_followed_transitively(self) -> None:
        world = StateOfTheWorld(
            NOW, part_of={f"{EX}alice": frozenset({f"{EX}team"}), f"{EX}team": frozenset({f"{EX}org"})}
        )
        policy = permit(assignees=(f"{EX}org",), action=ODRL + "read")
        assert decide(policy, world=world).decision == "permit"
        assert decide(policy, ask(who="bob"), world).decision == "deny"

    def test_only_parts_the_rule_names_are_premises(self) -> None:
        report = decide(permit(action=ODRL + "use"))
        assert [p.kind for p in report.rules[0].premises] == ["ActionReport"]
        everything = decide(permit(action=ODRL + "use", targets=(f"{EX}x",), assignees=(f"{EX}bob",)))
        kinds = {p.kind: p.satisfied for p in everything.rules[0].premises}
        assert kinds == {"TargetReport": True, "PartyReport": False, "ActionReport": True}


class TestOperators:
    @pytest.mark.parametrize(
        ("constraint", "expected"),
        [
            (c("dateTime", "eq", dt("2024-02-12T11:20:10Z")), True),
            (c("dateTime", "eq", dt("2024-02-12T12:20:10+01:00")), True),  # the same instant
            (c("dateTime", "lt", dt("2024-02-12T11:20:10Z")), False),
            (c("dateTime", "lteq", Lit("2024-02-12", f"{XSD}date")), True),  # all day on the date
            (c("dateTime", "gt", Lit("2024-02-11", f"{XSD}date")), True),
            (c("dateTime", "gteq", Lit("2024-02-13", f"{XSD}date")), False),
            (c("dateTime", "neq", Lit("5", f"{XSD}integer")), True),  # different kinds are never equal
            (c("dateTime", "lt", Lit("5", f"{XSD}integer")), False),  # ...and in no order
        ],
    )
    def test_time(self, constraint: Constraint, expected: bool) -> None:
        assert decide(permit(constraint)).rules[0].active is expected

    @pytest.mark.parametrize(
        ("constraint", "expected"),
        [
            (c("count", "lteq", Lit("10", f"{XSD}integer")), True),
            (c("count", "lt", Lit("3.5", f"{XSD}decimal")), True),
            (c("count", "gt", Lit("3", f"{XSD}integer")), False),
            (c("purpose", "eq", Lit("research")), True),
            (c("purpose", "isAnyOf", Lit("marketing"), Lit("research")), True),
            (c("purpose", "isNoneOf", Lit("marketing"), Lit("research")), False),
            (c("purpose", "isNoneOf", Lit("marketing")), True),
            (c("spatial", "isAllOf", Iri(f"{EX}be"), Iri(f"{EX}nl")), True),
            (c("spatial", "isAllOf", Iri(f"{EX}be"), Iri(f"{EX}fr")), False),
            (c("spatial", "eq", Iri(f"{EX}be")), False),  # two values, not all equal to be
            (c("spatial", "isPartOf", Iri(f"{EX}benelux")), True),
            (c("spatial", "isPartOf", Iri(f"{EX}nordics")), False),
            (c("recipient", "isA", Iri(f"{EX}University")), True),
            (c("recipient", "hasPart", Iri(f"{EX}lab")), True),
            (c("industry", "eq", Lit("media")), False),  # closed world: nothing known, nothing holds
            (c("industry", "isNoneOf", Lit("media")), False),
        ],
    )
    def test_context_values(self, constraint: Constraint, expected: bool) -> None:
        request = ask(
            count=(Lit("3", f"{XSD}integer"),),
            purpose=(Lit("research"),),
            spatial=(Iri(f"{EX}be"), Iri(f"{EX}nl")),
            recipient=(Iri(f"{EX}ugent"),),
        )
        world = StateOfTheWorld(
            NOW,
            part_of={f"{EX}be": frozenset({f"{EX}benelux"}), f"{EX}lab": frozenset({f"{EX}ugent"})},
            types={f"{EX}ugent": frozenset({f"{EX}University"})},
        )
        report = decide(permit(constraint), request, world)
        assert report.rules[0].active is expected
        (premise,) = report.rules[0].premises
        assert premise.satisfied is expected
        assert premise.right_value == constraint.right_operand

    def test_the_state_of_the_world_can_supply_left_operands(self) -> None:
        world = StateOfTheWorld(NOW, facts={ODRL + "count": (Lit("12", f"{XSD}integer"),)})
        assert decide(permit(c("count", "lt", Lit("10", f"{XSD}integer"))), world=world).decision == "deny"

    def test_malformed_constraints_are_refused(self) -> None:
        with pytest.raises(InvalidInput, match="unknown operator"):
            Constraint(None, ODRL + "count", ODRL + "roughly", (Lit("1"),))
        with pytest.raises(InvalidInput, match="eq takes one rightOperand, got 2"):
            c("purpose", "eq", Lit("a"), Lit("b"))
        with pytest.raises(InvalidInput, match="no member constraints"):
            LogicalConstraint(None, ODRL + "and", ())


class TestLogicalConstraints:
    YES = c("dateTime", "gt", dt("2024-01-01T00:00:00Z"), uid=f"{EX}yes")
    NO = c("dateTime", "lt", dt("2024-01-01T00:00:00Z"), uid=f"{EX}no")

    @pytest.mark.parametrize(
        ("operator", "members", "expected"),
        [
            ("and", (YES, YES), True),
            ("and", (YES, NO), False),
            ("andSequence", (YES, YES), True),
            ("or", (NO, YES), True),
            ("or", (NO, NO), False),
            ("xone", (NO, YES), True),
            ("xone", (YES, YES), False),
        ],
    )
    def test_operators(self, operator: str, members: tuple[Constraint, ...], expected: bool) -> None:
        report = decide(permit(LogicalConstraint(f"{EX}logic", ODRL + operator, members)))
        (premise,) = report.rules[0].premises
        assert (premise.satisfied, report.rules[0].active) == (expected, expected)
        assert [p.satisfied for p in premise.premises] == [m is self.YES for m in members]  # none short-circuited

    def test_nesting(self) -> None:
        inner = LogicalConstraint(f"{EX}inner", ODRL + "or", (self.NO, self.YES))
        outer = LogicalConstraint(f"{EX}outer", ODRL + "and", (inner, self.YES))
        assert decide(permit(outer)).decision == "permit"


class TestDuties:
    DUTY = Rule(f"{EX}duty", "duty", action=ODRL + "compensate")

    @pytest.mark.parametrize(
        ("state", "active"), [(None, True), ("NonSet", True), ("Fulfilled", True), ("Violated", False)]
    )
    def test_a_violated_duty_deactivates_its_permission(self, state: str | None, active: bool) -> None:
        duties = {} if state is None else {f"{EX}duty": DutyStatus(f"{EX}report", f"{EX}duty", state)}  # type: ignore[arg-type]
        report = decide(permit(duties=(self.DUTY,)), world=StateOfTheWorld(NOW, duties=duties))
        assert report.rules[0].active is active
        (condition,) = report.rules[0].conditions
        assert condition.deontic_state == (state or "NonSet")
        if state is not None:
            assert condition.id == f"{EX}report"  # the state of the world's own report is cited

    def test_an_active_prohibition_wins(self) -> None:
        policy = Policy(
            f"{EX}p",
            "Set",
            (
                Rule(f"{EX}may", "permission", action=ODRL + "use"),
                Rule(f"{EX}may-not", "prohibition", action=ODRL + "read", assignees=(f"{EX}alice",)),
            ),
        )
        assert decide(policy).decision == "deny"
        assert decide(policy, ask(who="bob")).decision == "permit"


def test_report_json_names_states_as_force_does() -> None:
    report = decide(permit(c("dateTime", "lt", dt("2025-01-01T00:00:00Z"), uid=f"{EX}c1"), action=ODRL + "read"))
    rule = report.to_json()["rules"][0]
    assert (rule["type"], rule["activationState"], rule["attemptState"]) == ("PermissionReport", "Active", "Attempted")
    constraint = next(p for p in rule["premiseReport"] if p["type"] == "ConstraintReport")
    assert constraint["satisfactionState"] == "Satisfied"
    assert constraint["constraintLeftOperand"] == [{"@value": "2024-02-12T11:20:10Z", "@type": f"{XSD}dateTime"}]
    assert (
        report.id
        == decide(permit(c("dateTime", "lt", dt("2025-01-01T00:00:00Z"), uid=f"{EX}c1"), action=ODRL + "read")).id
    )


class TestJsonLdPolicies:
    """ODRL's own compact JSON-LD, beyond what our grants use."""

    DOC: ClassVar[dict[str, Any]] = {
        "@context": "http://www.w3.org/ns/odrl.jsonld",
        "@type": "Offer",
        "uid": "http://example.com/policy:1",
        "assigner": "http://example.com/party:org",
        "target": "http://example.com/asset:9898",
        "permission": [
            {
                "uid": "http://example.com/rule:1",
                "action": [
                    {
                        "rdf:value": {"@id": "odrl:print"},
                        "refinement": [
                            {
                                "leftOperand": "resolution",
                                "operator": "lteq",
                                "rightOperand": {"@value": "1200", "@type": "xsd:integer"},
                            }
                        ],
                    }
                ],
                "constraint": [
                    {
                        "uid": "http://example.com/c:1",
                        "andSequence": {
                            "@list": [
                                {
                                    "leftOperand": "dateTime",
                                    "operator": "gteq",
                                    "rightOperand": {"@value": "2024-01-01", "@type": "xsd:date"},
                                },
                                {
                                    "leftOperand": "spatial",
                                    "operator": "isAnyOf",
                                    "rightOperand": [
                                        {"@id": "http://example.com/be"},
                                        {"@id": "http://example.com/nl"},
                                    ],
                                },
                            ]
                        },
                    }
                ],
            }
        ],
        "prohibition": {"uid": "http://example.com/rule:2", "action": "sell"},
    }

    def test_reads_and_evaluates(self) -> None:
        policy = policy_from_jsonld(self.DOC)
        assert [r.kind for r in policy.rules] == ["permission", "prohibition"]
        assert policy.rules[0].targets == ("http://example.com/asset:9898",)  # inherited from the policy
        request = Request(
            "urn:r",
            "urn:r:1",
            ODRL + "print",
            assignee="http://example.com/party:me",
            target="http://example.com/asset:9898",
            context={
                ODRL + "resolution": (Lit("600", f"{XSD}integer"),),
                ODRL + "spatial": (Iri("http://example.com/be"),),
            },
        )
        assert evaluate(policy, request, WORLD).decision == "permit"
        too_sharp = replace(request, context={**request.context, ODRL + "resolution": (Lit("2400", f"{XSD}integer"),)})
        assert evaluate(policy, replace(request, action=ODRL + "sell"), WORLD).decision == "deny"
        assert evaluate(policy, too_sharp, WORLD).decision == "deny"

    @pytest.mark.parametrize(
        ("mutate", "message"),
        [
            (lambda d: d.update({"@type": "Thing"}), r"^\$\.@type: 'Thing' is not an ODRL policy type"),
            (lambda d: d.pop("permission") and d.pop("prohibition"), r"^\$: an ODRL policy needs at least one"),
            (
                lambda d: d["permission"][0]["constraint"][0]["andSequence"]["@list"][0].update(operator="about"),
                r"^\$\.permission\[0\]\.constraint\[0\]: .*unknown operator",
            ),
        ],
    )
    def test_errors_name_the_path(self, mutate: Any, message: str) -> None:
        doc = copy.deepcopy(self.DOC)
        mutate(doc)
        with pytest.raises(InvalidInput, match=message):
            policy_from_jsonld(doc)
