"""An ODRL 2.2 evaluator that writes FORCE compliance reports.

Given a policy (a Set, Offer or Agreement), a request (who asks to do what to which asset, plus
any context the request carries, such as a purpose) and a state of the world (the current time,
collection memberships, facts for left operands and earlier duty reports), :func:`evaluate`
returns a :class:`PolicyReport` in the shape of the FORCE compliance report model
(https://w3id.org/force/compliance-report#) that the SolidLab ODRL test suite uses:

- one rule report per permission and prohibition of the policy, each ``Active`` or ``Inactive``
  and ``Attempted`` (the request attempts the rule's action);
- under each rule report, one premise report per part of the rule that must hold for the rule to
  be in force: the target (``TargetReport``), the assignee (``PartyReport``), the action
  (``ActionReport``) and each constraint (``ConstraintReport``, nested for logical constraints),
  each ``Satisfied`` or ``Unsatisfied``. Parts the rule leaves out are not premises: a rule with no
  assignee applies to every party. Every premise is evaluated, none is short-circuited, so a
  report says everything that is wrong with a request at once;
- under each permission report, a condition report per duty: the state of the world's report for
  that duty where it has one, else a fresh ``DutyReport`` whose deontic state is ``NonSet``. A
  permission whose duty is ``Violated`` is ``Inactive`` (FORCE ``conditionReport``).

A request is permitted when some permission is ``Active`` and no prohibition is ``Active``
(:attr:`PolicyReport.decision`).

Semantics chosen where ODRL 2.2 leaves room (each is what the SolidLab suite expects where it
tests it):

- actions: a request for action A satisfies a rule on action B when A is B or A is (transitively)
  ``includedIn`` B in the ODRL 2.2 vocabulary (``read`` is part of ``use``; ``sell`` is part of
  ``transfer``, not of ``use``). Deprecated ODRL 2.1 actions count as their 2.2 replacement
  (``write`` as ``modify``);
- parties and assets: a rule's assignee or target is matched by the request's party or asset
  itself, or by any collection the state of the world says it is ``partOf`` (transitively);
- closed world: a constraint whose left operand has no value in the request or the state of the
  world is ``Unsatisfied``;
- dates: a timestamp without a time zone is read as UTC; comparing a date with a timestamp
  compares the timestamp's UTC date with the date, so ``dateTime lteq 2025-05-31`` holds all day on
  the 31st;
- scalar operators (``eq``, ``neq``, ``lt``, ``lteq``, ``gt``, ``gteq``) hold when the left
  operand has at least one value and every value compares true with the single right operand;
  values of different kinds (a number and a date) never compare true;
- set operators: ``isAnyOf`` holds when some left value is among the right operand's values,
  ``isAllOf`` when every right value is among the left values, ``isNoneOf`` when no left value is
  (and at least one left value is known); ``isPartOf``/``hasPart`` use the ``partOf`` facts;
  ``isA`` uses the state of the world's ``rdf:type`` facts;
- logical constraints: ``and`` and ``andSequence`` hold when all members hold (a single request is
  one point in time, so the sequence adds nothing to evaluate), ``or`` when at least one does,
  ``xone`` when exactly one does.

The model is plain frozen dataclasses; reading Turtle and the test suite lives in
:mod:`likeness_ledger.consent.odrl_suite`, and our grants' JSON-LD in
:mod:`likeness_ledger.consent.odrl`.
"""

from __future__ import annotations

import operator
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Literal

from likeness_ledger.errors import InvalidInput

ODRL: Final = "http://www.w3.org/ns/odrl/2/"
REPORT: Final = "https://w3id.org/force/compliance-report#"
XSD: Final = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE: Final = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

#: Namespace of the UUIDs given to report nodes, so one evaluation always names its reports alike.
_REPORT_IDS: Final = uuid.UUID("5b0c7c36-1d2b-4a8e-9e54-6f3c1f0d7a21")


# --- terms -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Iri:
    """An IRI (a party, an asset, an action, a class)."""

    value: str

    def python(self) -> str:
        """The IRI as a string; IRIs compare only for (in)equality."""
        return self.value


@dataclass(frozen=True, slots=True)
class Lit:
    """A literal: its lexical form and its datatype IRI (``None`` for a plain string)."""

    lexical: str
    datatype: str | None = None

    def python(self) -> object:
        """The literal's value: a datetime, date, Decimal, bool or str.

        Unparseable lexical forms fall back to the string, so a bad value never compares true
        against a typed one.
        """
        kind = (self.datatype or "").removeprefix(XSD)
        try:
            if kind in {"dateTime", "dateTimeStamp"}:
                return _aware(datetime.fromisoformat(self.lexical))
            if kind == "date":
                return date.fromisoformat(self.lexical.removesuffix("Z"))
            if kind in _NUMERIC:
                return Decimal(self.lexical)
            if kind == "boolean":
                return self.lexical.strip() in {"true", "1"}
        except (ValueError, InvalidOperation):
            return self.lexical
        return self.lexical


Term = Iri | Lit

_NUMERIC: Final = frozenset(
    {
        "integer",
        "decimal",
        "double",
        "float",
        "int",
        "long",
        "short",
        "nonNegativeInteger",
        "positiveInteger",
        "nonPositiveInteger",
        "negativeInteger",
        "unsignedInt",
        "unsignedLong",
    }
)


def _aware(moment: datetime) -> datetime:
    # XSD leaves a timestamp without a zone "local"; a server has no locality to give it, so UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# --- policies ----------------------------------------------------------------------------------

RuleKind = Literal["permission", "prohibition", "duty"]

LOGICAL_OPERATORS: Final = frozenset({f"{ODRL}and", f"{ODRL}or", f"{ODRL}xone", f"{ODRL}andSequence"})
OPERATORS: Final = frozenset(
    f"{ODRL}{name}"
    for name in (
        "eq",
        "neq",
        "lt",
        "lteq",
        "gt",
        "gteq",
        "isA",
        "isPartOf",
        "hasPart",
        "isAnyOf",
        "isAllOf",
        "isNoneOf",
    )
)


@dataclass(frozen=True, slots=True)
class Constraint:
    """``leftOperand operator rightOperand``: one condition on the context of a request."""

    uid: str | None
    left_operand: str
    operator: str
    right_operand: tuple[Term, ...]
    unit: str | None = None

    def __post_init__(self) -> None:
        if self.operator not in OPERATORS:
            raise InvalidInput(f"constraint {self.uid or '(anonymous)'}: unknown operator {self.operator}")
        if not self.right_operand:
            raise InvalidInput(f"constraint {self.uid or '(anonymous)'}: no rightOperand")
        if self.operator in _SCALAR_OPERATORS and len(self.right_operand) != 1:
            raise InvalidInput(
                f"constraint {self.uid or '(anonymous)'}: {self.operator.removeprefix(ODRL)} takes one rightOperand, "
                f"got {len(self.right_operand)}"
            )


@dataclass(frozen=True, slots=True)
class LogicalConstraint:
    """``and``/``or``/``xone``/``andSequence`` over other constraints."""

    uid: str | None
    operator: str
    members: tuple[Constraint | LogicalConstraint, ...]

    def __post_init__(self) -> None:
        if self.operator not in LOGICAL_OPERATORS:
            raise InvalidInput(f"logical constraint {self.uid or '(anonymous)'}: unknown operator {self.operator}")
        if not self.members:
            raise InvalidInput(f"logical constraint {self.uid or '(anonymous)'}: no member constraints")


AnyConstraint = Constraint | LogicalConstraint


@dataclass(frozen=True, slots=True)
class Rule:
    """A permission, prohibition or duty.

    ``action_refinements`` narrow the action (ODRL ``refinement``); ``duties`` are a permission's
    conditions (ODRL ``duty``). Policy-level ``assigner``/``assignee``/``target`` are copied onto
    every rule by the readers, as ODRL 2.2 §2.7 asks.
    """

    uid: str
    kind: RuleKind
    action: str | None = None
    action_refinements: tuple[AnyConstraint, ...] = ()
    targets: tuple[str, ...] = ()
    assignees: tuple[str, ...] = ()
    assigners: tuple[str, ...] = ()
    constraints: tuple[AnyConstraint, ...] = ()
    duties: tuple[Rule, ...] = ()


@dataclass(frozen=True, slots=True)
class Policy:
    """An ODRL policy: its uid, type (``Set``, ``Offer``, ``Agreement``) and rules."""

    uid: str
    type: str
    rules: tuple[Rule, ...]

    def __post_init__(self) -> None:
        if not self.rules:
            raise InvalidInput(f"policy {self.uid}: no permission, prohibition or obligation")


@dataclass(frozen=True, slots=True)
class Request:
    """An access request: one party asking to do one action on one asset.

    ``context`` gives values for left operands the request itself carries (its ``purpose``, say,
    or, for a replica, the production it is for), keyed by the left operand's IRI.
    """

    uid: str
    rule_uid: str
    action: str
    assignee: str | None = None
    target: str | None = None
    context: Mapping[str, tuple[Term, ...]] = field(default_factory=dict)


DeonticState = Literal["NonSet", "Violated", "Fulfilled"]
PerformanceState = Literal["Performed", "Unperformed", "Unknown"]


@dataclass(frozen=True, slots=True)
class DutyStatus:
    """What the state of the world already reports about a duty (a FORCE ``DutyReport``)."""

    report_id: str
    rule: str
    deontic_state: DeonticState | None = None
    performance_state: PerformanceState | None = None
    attempted: bool | None = None


@dataclass(frozen=True, slots=True)
class StateOfTheWorld:
    """Everything outside the policy and the request that the evaluation may look at."""

    current_time: datetime
    part_of: Mapping[str, frozenset[str]] = field(default_factory=dict)
    types: Mapping[str, frozenset[str]] = field(default_factory=dict)
    facts: Mapping[str, tuple[Term, ...]] = field(default_factory=dict)
    duties: Mapping[str, DutyStatus] = field(default_factory=dict)

    def collections_of(self, entity: str) -> frozenset[str]:
        """Every collection ``entity`` is part of, following ``partOf`` transitively."""
        seen: set[str] = set()
        todo = [entity]
        while todo:
            for parent in self.part_of.get(todo.pop(), frozenset()):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return frozenset(seen)


# --- actions -----------------------------------------------------------------------------------

#: ODRL 2.2 Vocabulary & Expression §3.3 (Actions for Rules), ``includedIn`` of each common action.
#: ``use`` and ``transfer`` are the two top actions; everything else refines one of them.
ODRL_INCLUDED_IN: Final[Mapping[str, str]] = {
    f"{ODRL}{child}": f"{ODRL}{parent}"
    for child, parent in {
        "acceptTracking": "use",
        "aggregate": "use",
        "annotate": "use",
        "anonymize": "use",
        "archive": "use",
        "attribute": "use",
        "compensate": "use",
        "concurrentUse": "use",
        "delete": "use",
        "derive": "use",
        "digitize": "use",
        "display": "use",
        "distribute": "use",
        "ensureExclusivity": "use",
        "execute": "use",
        "extract": "reproduce",
        "give": "transfer",
        "grantUse": "use",
        "include": "use",
        "index": "use",
        "inform": "use",
        "install": "use",
        "modify": "use",
        "move": "use",
        "nextPolicy": "use",
        "obtainConsent": "use",
        "play": "display",
        "present": "use",
        "print": "use",
        "read": "use",
        "reproduce": "use",
        "reviewPolicy": "use",
        "sell": "transfer",
        "stream": "use",
        "synchronize": "use",
        "textToSpeech": "use",
        "transform": "use",
        "translate": "use",
        "uninstall": "use",
        "watermark": "use",
        # Deprecated in 2.2 (Vocabulary §4), read as their replacements.
        "write": "modify",
        "writeTo": "modify",
        "append": "modify",
        "appendTo": "modify",
        "copy": "reproduce",
        "export": "transform",
        "extractChar": "extract",
        "extractWord": "extract",
        "extractPage": "extract",
        "pay": "compensate",
        "secondaryUse": "use",
    }.items()
}


@dataclass(frozen=True, slots=True)
class ActionHierarchy:
    """Which action is part of which (``includedIn``), with profile actions added on top of ODRL's."""

    included_in: Mapping[str, str] = field(default_factory=lambda: dict(ODRL_INCLUDED_IN))

    def extended(self, extra: Mapping[str, str]) -> ActionHierarchy:
        """Return this hierarchy plus a profile's own actions."""
        return ActionHierarchy({**self.included_in, **extra})

    def satisfies(self, requested: str, ruled: str) -> bool:
        """Whether a request for ``requested`` is an exercise of ``ruled``."""
        current: str | None = requested
        seen: set[str] = set()
        while current is not None and current not in seen:
            if current == ruled:
                return True
            seen.add(current)
            current = self.included_in.get(current)
        return False


# --- reports -----------------------------------------------------------------------------------

PremiseKind = Literal["TargetReport", "PartyReport", "ActionReport", "ConstraintReport"]
RuleReportKind = Literal["PermissionReport", "ProhibitionReport", "DutyReport"]


@dataclass(frozen=True, slots=True)
class PremiseReport:
    """Whether one premise of a rule holds, with what was compared for a constraint.

    ``kind`` is ``None`` only in a report read from a file that names a premise without
    describing it (the comparison then reports it).
    """

    id: str
    kind: PremiseKind | None
    satisfied: bool | None
    constraint: str | None = None
    left_value: tuple[Term, ...] | None = None
    operator: str | None = None
    right_value: tuple[Term, ...] | None = None
    logical_operator: str | None = None
    premises: tuple[PremiseReport, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleReport:
    """The state of one rule for the request: active or not, and why."""

    id: str
    kind: RuleReportKind
    rule: str
    active: bool | None
    attempted: bool | None = None
    rule_request: str | None = None
    premises: tuple[PremiseReport, ...] = ()
    conditions: tuple[RuleReport, ...] = ()
    performance_state: PerformanceState | None = None
    deontic_state: DeonticState | None = None


@dataclass(frozen=True, slots=True)
class PolicyReport:
    """A compliance report: one rule report per rule of the policy."""

    id: str
    policy: str
    request: str | None
    created: datetime | None
    rules: tuple[RuleReport, ...]

    @property
    def decision(self) -> Literal["permit", "deny"]:
        """``permit`` when a permission is active and no prohibition is."""
        permitted = any(r.kind == "PermissionReport" and r.active for r in self.rules)
        prohibited = any(r.kind == "ProhibitionReport" and r.active for r in self.rules)
        return "permit" if permitted and not prohibited else "deny"

    def to_json(self) -> dict[str, Any]:
        """A JSON-friendly form of the report (states named as in FORCE)."""
        return {
            "id": self.id,
            "policy": self.policy,
            "request": self.request,
            "created": self.created.isoformat() if self.created else None,
            "decision": self.decision,
            "rules": [_rule_json(r) for r in self.rules],
        }


def _term_json(term: Term) -> dict[str, str]:
    if isinstance(term, Iri):
        return {"@id": term.value}
    return {"@value": term.lexical, **({"@type": term.datatype} if term.datatype else {})}


def _state(flag: bool | None, yes: str, no: str) -> str | None:
    return None if flag is None else (yes if flag else no)


def _premise_json(premise: PremiseReport) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": premise.id,
        "type": premise.kind,
        "satisfactionState": _state(premise.satisfied, "Satisfied", "Unsatisfied"),
    }
    if premise.constraint is not None:
        out["constraint"] = premise.constraint
    if premise.logical_operator is not None:
        out["constraintLogicalOperand"] = premise.logical_operator
    if premise.left_value is not None:
        out["constraintLeftOperand"] = [_term_json(t) for t in premise.left_value]
    if premise.operator is not None:
        out["constraintOperator"] = premise.operator
    if premise.right_value is not None:
        out["constraintRightOperand"] = [_term_json(t) for t in premise.right_value]
    if premise.premises:
        out["premiseReport"] = [_premise_json(p) for p in premise.premises]
    return out


def _rule_json(report: RuleReport) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": report.id,
        "type": report.kind,
        "rule": report.rule,
        "activationState": _state(report.active, "Active", "Inactive"),
    }
    if report.attempted is not None:
        out["attemptState"] = "Attempted" if report.attempted else "NotAttempted"
    if report.rule_request is not None:
        out["ruleRequest"] = report.rule_request
    if report.performance_state is not None:
        out["performanceState"] = report.performance_state
    if report.deontic_state is not None:
        out["deonticState"] = report.deontic_state
    out["premiseReport"] = [_premise_json(p) for p in report.premises]
    if report.conditions:
        out["conditionReport"] = [_rule_json(c) for c in report.conditions]
    return out


# --- evaluation --------------------------------------------------------------------------------

_SCALAR_OPERATORS: Final = frozenset(f"{ODRL}{n}" for n in ("eq", "neq", "lt", "lteq", "gt", "gteq"))


def evaluate(
    policy: Policy,
    request: Request,
    world: StateOfTheWorld,
    *,
    actions: ActionHierarchy | None = None,
) -> PolicyReport:
    """Evaluate ``request`` against ``policy`` in ``world``; see the module docstring."""
    hierarchy = actions or ActionHierarchy()
    ids = _Ids(policy.uid, request.uid)
    reports = tuple(
        _evaluate_rule(rule, request, world, hierarchy, ids)
        for rule in policy.rules
        if rule.kind in ("permission", "prohibition")
    )
    return PolicyReport(
        id=ids.make("policy-report"),
        policy=policy.uid,
        request=request.uid,
        created=world.current_time,
        rules=reports,
    )


@dataclass(frozen=True, slots=True)
class _Ids:
    """Deterministic report ids: the same evaluation always names its report nodes alike."""

    policy: str
    request: str

    def make(self, *path: str) -> str:
        return uuid.uuid5(_REPORT_IDS, "\x1f".join((self.policy, self.request, *path))).urn


def _evaluate_rule(
    rule: Rule, request: Request, world: StateOfTheWorld, hierarchy: ActionHierarchy, ids: _Ids
) -> RuleReport:
    premises: list[PremiseReport] = []
    if rule.targets:
        premises.append(
            PremiseReport(
                id=ids.make(rule.uid, "target"),
                kind="TargetReport",
                satisfied=_matches_any(request.target, rule.targets, world),
            )
        )
    if rule.assignees:
        premises.append(
            PremiseReport(
                id=ids.make(rule.uid, "party"),
                kind="PartyReport",
                satisfied=_matches_any(request.assignee, rule.assignees, world),
            )
        )
    if rule.action is not None:
        refinements = tuple(
            _evaluate_constraint(c, request, world, ids, (rule.uid, "action", str(i)))
            for i, c in enumerate(rule.action_refinements)
        )
        premises.append(
            PremiseReport(
                id=ids.make(rule.uid, "action"),
                kind="ActionReport",
                satisfied=hierarchy.satisfies(request.action, rule.action) and all(r.satisfied for r in refinements),
                premises=refinements,
            )
        )
    premises.extend(
        _evaluate_constraint(c, request, world, ids, (rule.uid, "constraint", str(i)))
        for i, c in enumerate(rule.constraints)
    )
    conditions = tuple(_duty_report(duty, request, world, ids) for duty in rule.duties)
    violated = any(c.deontic_state == "Violated" for c in conditions)
    return RuleReport(
        id=ids.make(rule.uid),
        kind="PermissionReport" if rule.kind == "permission" else "ProhibitionReport",
        rule=rule.uid,
        active=all(p.satisfied for p in premises) and not violated,
        attempted=True,
        rule_request=request.rule_uid,
        premises=tuple(premises),
        conditions=conditions,
    )


def _duty_report(duty: Rule, request: Request, world: StateOfTheWorld, ids: _Ids) -> RuleReport:
    known = world.duties.get(duty.uid)
    if known is not None:
        return RuleReport(
            id=known.report_id,
            kind="DutyReport",
            rule=duty.uid,
            active=None,
            attempted=known.attempted,
            performance_state=known.performance_state,
            deontic_state=known.deontic_state,
        )
    # Nothing is known about the duty yet: it is in force when its own constraints hold, and it
    # is neither fulfilled nor violated (FORCE NonSet, performance Unknown).
    premises = tuple(
        _evaluate_constraint(c, request, world, ids, (duty.uid, "constraint", str(i)))
        for i, c in enumerate(duty.constraints)
    )
    return RuleReport(
        id=ids.make(duty.uid),
        kind="DutyReport",
        rule=duty.uid,
        active=all(p.satisfied for p in premises),
        premises=premises,
        performance_state="Unknown",
        deontic_state="NonSet",
    )


def _matches_any(entity: str | None, wanted: Iterable[str], world: StateOfTheWorld) -> bool:
    if entity is None:
        return False
    memberships = {entity} | world.collections_of(entity)
    return any(w in memberships for w in wanted)


def _evaluate_constraint(
    constraint: AnyConstraint,
    request: Request,
    world: StateOfTheWorld,
    ids: _Ids,
    path: tuple[str, ...],
) -> PremiseReport:
    report_id = ids.make(*path, constraint.uid or "")
    if isinstance(constraint, LogicalConstraint):
        members = tuple(
            _evaluate_constraint(m, request, world, ids, (*path, str(i))) for i, m in enumerate(constraint.members)
        )
        held = sum(1 for m in members if m.satisfied)
        name = constraint.operator.removeprefix(ODRL)
        satisfied = held >= 1 if name == "or" else held == 1 if name == "xone" else held == len(members)
        return PremiseReport(
            id=report_id,
            kind="ConstraintReport",
            satisfied=satisfied,
            constraint=constraint.uid,
            logical_operator=constraint.operator,
            premises=members,
        )
    left = _left_values(constraint.left_operand, request, world)
    return PremiseReport(
        id=report_id,
        kind="ConstraintReport",
        satisfied=_holds(constraint.operator, left, constraint.right_operand, world),
        constraint=constraint.uid,
        left_value=left,
        operator=constraint.operator,
        right_value=constraint.right_operand,
    )


def _left_values(left_operand: str, request: Request, world: StateOfTheWorld) -> tuple[Term, ...]:
    if left_operand in request.context:
        return tuple(request.context[left_operand])
    if left_operand in world.facts:
        return tuple(world.facts[left_operand])
    if left_operand == f"{ODRL}dateTime":
        return (Lit(_xsd_datetime(world.current_time), f"{XSD}dateTime"),)
    return ()


def _xsd_datetime(moment: datetime) -> str:
    text = moment.isoformat()
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text


def _holds(operator: str, left: Sequence[Term], right: Sequence[Term], world: StateOfTheWorld) -> bool:
    if not left:
        return False  # closed world: nothing known about the left operand satisfies nothing
    name = operator.removeprefix(ODRL)
    if operator in _SCALAR_OPERATORS:
        return all(_compare(name, value, right[0]) for value in left)
    if name in _SET_TESTS:
        return _SET_TESTS[name]({_key(t) for t in left}, {_key(t) for t in right})
    lefts = [t.value for t in left if isinstance(t, Iri)]
    rights = [t.value for t in right if isinstance(t, Iri)]
    if name == "isPartOf":
        return any(_part_of(a, b, world) for a in lefts for b in rights)
    if name == "hasPart":
        return any(_part_of(b, a, world) for a in lefts for b in rights)
    # isA: the only operator left (Constraint validates the operator when it is built).
    return any(b in world.types.get(a, ()) for a in lefts for b in rights)


_SET_TESTS: Final[Mapping[str, Callable[[set[tuple[str, object]], set[tuple[str, object]]], bool]]] = {
    "isAnyOf": lambda lefts, rights: bool(lefts & rights),
    "isAllOf": lambda lefts, rights: rights <= lefts,
    "isNoneOf": lambda lefts, rights: not lefts & rights,
}


def _part_of(part: str, whole: str, world: StateOfTheWorld) -> bool:
    return part == whole or whole in world.collections_of(part)


def _key(term: Term) -> tuple[str, object]:
    """A value to put in a set: IRIs and literal values never collide."""
    if isinstance(term, Iri):
        return ("iri", term.value)
    value = term.python()
    if isinstance(value, datetime):
        return ("datetime", value.astimezone(UTC))
    return (type(value).__name__, value)


_COMPARISONS: Final[Mapping[str, Callable[[Any, Any], bool]]] = {
    "eq": operator.eq,
    "neq": operator.ne,
    "lt": operator.lt,
    "lteq": operator.le,
    "gt": operator.gt,
    "gteq": operator.ge,
}


def _compare(name: str, left: Term, right: Term) -> bool:
    if isinstance(left, Iri) or isinstance(right, Iri):
        # IRIs are only ever equal or not; they have no order.
        same = isinstance(left, Iri) and isinstance(right, Iri) and left.value == right.value
        return {"eq": same, "neq": not same}.get(name, False)
    a, b = _comparable(left.python(), right.python())
    if a is None or b is None:
        return name == "neq"  # values of different kinds differ, and are in no order
    try:
        return bool(_COMPARISONS[name](a, b))
    except TypeError:
        return name == "neq"


def _comparable(a: object, b: object) -> tuple[Any, Any]:
    """Bring two literal values to one kind, or ``(None, None)`` when they have none in common."""
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a.astimezone(UTC), b.astimezone(UTC)
    if isinstance(a, datetime) and isinstance(b, date):
        return a.astimezone(UTC).date(), b
    if isinstance(a, date) and isinstance(b, datetime):
        return a, b.astimezone(UTC).date()
    if isinstance(a, bool) or isinstance(b, bool):
        return (a, b) if isinstance(a, bool) and isinstance(b, bool) else (None, None)
    if type(a) is type(b) or (isinstance(a, date) and isinstance(b, date)):
        return a, b
    return None, None


# --- comparing reports -------------------------------------------------------------------------


def compare_reports(expected: PolicyReport, actual: PolicyReport) -> list[str]:
    """List every way ``actual`` departs from ``expected``; empty when they agree.

    Report node ids are not compared (they are arbitrary); rules are matched by the rule they
    report on, premises by kind and constraint, condition reports by duty. A state is compared
    when the expected report gives it; a constraint's compared values likewise (expected reports
    often leave out the operator and right operand). Every premise the expected report lists must
    be in the actual one and the other way round.
    """
    problems: list[str] = []
    if expected.policy != actual.policy:
        problems.append(f"policy: expected {expected.policy}, got {actual.policy}")
    _compare_rule_sets("", expected.rules, actual.rules, problems)
    return problems


def _compare_rule_sets(
    where: str, expected: Sequence[RuleReport], actual: Sequence[RuleReport], problems: list[str]
) -> None:
    by_rule = {r.rule: r for r in actual}
    for exp in expected:
        got = by_rule.pop(exp.rule, None)
        label = f"{where}{exp.kind} {exp.rule}"
        if got is None:
            problems.append(f"{label}: missing")
            continue
        _compare_rule(label, exp, got, problems)
    problems.extend(f"{where}{r.kind} {r.rule}: not expected" for r in by_rule.values())


def _compare_rule(label: str, exp: RuleReport, got: RuleReport, problems: list[str]) -> None:
    checks: list[tuple[str, object, object]] = [
        ("type", exp.kind, got.kind),
        ("activationState", exp.active, got.active),
        ("attemptState", exp.attempted, got.attempted),
        ("performanceState", exp.performance_state, got.performance_state),
        ("deonticState", exp.deontic_state, got.deontic_state),
    ]
    for name, want, have in checks:
        if want is not None and want != have:
            problems.append(f"{label}: {name} expected {_show(want)}, got {_show(have)}")
    _compare_premises(label, exp.premises, got.premises, problems)
    _compare_rule_sets(f"{label} > condition ", exp.conditions, got.conditions, problems)


def _show(value: object) -> str:
    if value is True:
        return "Active/Satisfied/Attempted"
    if value is False:
        return "Inactive/Unsatisfied/NotAttempted"
    return str(value)


def _premise_key(premise: PremiseReport) -> tuple[str, str]:
    return (premise.kind or "?", premise.constraint or "")


def _compare_premises(
    label: str, expected: Sequence[PremiseReport], actual: Sequence[PremiseReport], problems: list[str]
) -> None:
    remaining = {_premise_key(p): p for p in actual}
    for exp in expected:
        if exp.kind is None:
            problems.append(f"{label}: expected premise {exp.id} has no type or state (dangling reference)")
            continue
        key = _premise_key(exp)
        where = f"{label} > {exp.kind}{' ' + exp.constraint if exp.constraint else ''}"
        got = remaining.pop(key, None)
        if got is None:
            problems.append(f"{where}: missing")
            continue
        if exp.satisfied is not None and exp.satisfied != got.satisfied:
            problems.append(f"{where}: expected {_show(exp.satisfied)}, got {_show(got.satisfied)}")
        if exp.logical_operator is not None and exp.logical_operator != got.logical_operator:
            problems.append(f"{where}: logical operand expected {exp.logical_operator}, got {got.logical_operator}")
        if exp.operator is not None and exp.operator != got.operator:
            problems.append(f"{where}: operator expected {exp.operator}, got {got.operator}")
        for name, want, have in (("left", exp.left_value, got.left_value), ("right", exp.right_value, got.right_value)):
            if want is not None and not _same_values(want, have or ()):
                problems.append(f"{where}: {name} operand expected {_values(want)}, got {_values(have or ())}")
        _compare_premises(where, exp.premises, got.premises, problems)
    problems.extend(
        f"{label} > {p.kind}{' ' + p.constraint if p.constraint else ''}: not expected" for p in remaining.values()
    )


def _same_values(a: Sequence[Term], b: Sequence[Term]) -> bool:
    return sorted(map(repr, map(_key, a))) == sorted(map(repr, map(_key, b)))


def _values(terms: Sequence[Term]) -> str:
    return ", ".join(t.value if isinstance(t, Iri) else t.lexical for t in terms) or "(none)"
