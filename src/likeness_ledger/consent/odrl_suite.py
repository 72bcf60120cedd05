"""ODRL and FORCE reports in RDF, and the SolidLab ODRL test suite run through our evaluator.

This module reads ODRL policies, requests, states of the world and FORCE compliance reports from
RDF graphs, writes our reports as RDF, and runs the SolidLab ODRL test suite
(https://github.com/SolidLabResearch/ODRL-Test-Suite) through
:mod:`likeness_ledger.consent.odrl_eval`.

A suite folder holds ``test_cases/*.ttl``, each an ``ex:TestCase`` naming (by IRI) a policy, a
request, a state of the world and an expected report; the policies, requests and states live in
``policies/``, ``requests/`` and ``sotw/``, each file read into its own graph and found by the IRI
it defines, so the suite's ``index.ttl`` (which points at upstream URLs) is not needed.

A state of the world (``ex:Sotw``) is read as: ``temp:currentTime dct:issued`` for the current
time, ``odrl:partOf`` and ``rdf:type`` statements about the things it ``ex:includes``, and the
FORCE ``DutyReport`` nodes of the policy reports it includes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final, Literal, cast

from rdflib import RDF, BNode, Graph, Namespace, URIRef
from rdflib import Literal as RdfLiteral
from rdflib.collection import Collection
from rdflib.term import Node

from likeness_ledger.consent.odrl_eval import (
    ODRL,
    REPORT,
    AnyConstraint,
    Constraint,
    DeonticState,
    DutyStatus,
    Iri,
    Lit,
    LogicalConstraint,
    PerformanceState,
    Policy,
    PolicyReport,
    PremiseKind,
    PremiseReport,
    Request,
    Rule,
    RuleKind,
    RuleReport,
    RuleReportKind,
    StateOfTheWorld,
    Term,
    compare_reports,
    evaluate,
)
from likeness_ledger.errors import InvalidInput

ODRL_NS: Final = Namespace(ODRL)
R: Final = Namespace(REPORT)
EX: Final = Namespace("http://example.org/")
DCT: Final = Namespace("http://purl.org/dc/terms/")
TEMP_CURRENT_TIME: Final = URIRef("http://example.com/request/currentTime")

_POLICY_TYPES: Final = {
    ODRL_NS.Set,
    ODRL_NS.Offer,
    ODRL_NS.Agreement,
    ODRL_NS.Policy,
    ODRL_NS.Privacy,
    ODRL_NS.Request,
    ODRL_NS.Ticket,
    ODRL_NS.Assertion,
}
_RULE_PROPERTIES: Final[tuple[tuple[URIRef, RuleKind], ...]] = (
    (ODRL_NS.permission, "permission"),
    (ODRL_NS.prohibition, "prohibition"),
    (ODRL_NS.obligation, "duty"),
)
_LOGICAL: Final = (ODRL_NS["and"], ODRL_NS["or"], ODRL_NS.xone, ODRL_NS.andSequence)


# --- reading ODRL from a graph -----------------------------------------------------------------


def _name(node: Node) -> str:
    return str(node) if isinstance(node, URIRef) else f"_:{node}"


def _objects(graph: Graph, subject: Node, prop: URIRef) -> list[Node]:
    """Values of ``prop``, an RDF list's items expanded, in a stable order."""
    values: list[Node] = []
    for obj in sorted(graph.objects(subject, prop), key=str):
        if isinstance(obj, BNode | URIRef) and (obj, RDF.first, None) in graph:
            values.extend(Collection(graph, obj))
        elif obj != RDF.nil:
            values.append(obj)
    return values


def _term(node: Node) -> Term:
    if isinstance(node, RdfLiteral):
        return Lit(str(node), str(node.datatype) if node.datatype else None)
    return Iri(_name(node))


def _one(graph: Graph, subject: Node, prop: URIRef, what: str) -> Node | None:
    values = _objects(graph, subject, prop)
    if len(values) > 1:
        raise InvalidInput(f"{what} {_name(subject)}: more than one {prop.removeprefix(ODRL)}")
    return values[0] if values else None


def constraint_from_graph(graph: Graph, node: Node) -> AnyConstraint:
    """Read an ``odrl:Constraint`` or ``odrl:LogicalConstraint`` (typed or not) at ``node``."""
    uid = _name(node) if isinstance(node, URIRef) else None
    for prop in _LOGICAL:
        members = _objects(graph, node, prop)
        if members:
            return LogicalConstraint(uid, str(prop), tuple(constraint_from_graph(graph, m) for m in members))
    left = _one(graph, node, ODRL_NS.leftOperand, "constraint")
    operator = _one(graph, node, ODRL_NS.operator, "constraint")
    if left is None or operator is None:
        raise InvalidInput(f"constraint {_name(node)}: needs a leftOperand and an operator, or a logical operand")
    right = [_term(v) for v in _objects(graph, node, ODRL_NS.rightOperand)]
    right += [_term(v) for v in _objects(graph, node, ODRL_NS.rightOperandReference)]
    unit = _one(graph, node, ODRL_NS.unit, "constraint")
    return Constraint(uid, str(left), str(operator), tuple(right), str(unit) if unit is not None else None)


def _parties(graph: Graph, node: Node, prop: URIRef, inherited: tuple[str, ...]) -> tuple[str, ...]:
    own = tuple(_name(v) for v in _objects(graph, node, prop))
    return own or inherited


def _rule_from_graph(graph: Graph, node: Node, kind: RuleKind, inherited: dict[URIRef, tuple[str, ...]]) -> Rule:
    action_node = _one(graph, node, ODRL_NS.action, "rule")
    action: str | None = None
    refinements: tuple[AnyConstraint, ...] = ()
    if action_node is not None:
        value = graph.value(action_node, RDF.value) if isinstance(action_node, BNode) else None
        action = _name(value if value is not None else action_node)
        refinements = tuple(constraint_from_graph(graph, c) for c in _objects(graph, action_node, ODRL_NS.refinement))
    return Rule(
        uid=_name(node),
        kind=kind,
        action=action,
        action_refinements=refinements,
        targets=_parties(graph, node, ODRL_NS.target, inherited[ODRL_NS.target]),
        assignees=_parties(graph, node, ODRL_NS.assignee, inherited[ODRL_NS.assignee]),
        assigners=_parties(graph, node, ODRL_NS.assigner, inherited[ODRL_NS.assigner]),
        constraints=tuple(constraint_from_graph(graph, c) for c in _objects(graph, node, ODRL_NS.constraint)),
        duties=tuple(
            _rule_from_graph(graph, d, "duty", {ODRL_NS.target: (), ODRL_NS.assignee: (), ODRL_NS.assigner: ()})
            for d in _objects(graph, node, ODRL_NS.duty)
        ),
    )


def policy_from_graph(graph: Graph, uid: str | None = None) -> Policy:
    """Read the policy ``uid`` (or the only policy in ``graph``)."""
    if uid is not None:
        node: Node = URIRef(uid)
    else:
        found = {s for t in _POLICY_TYPES - {ODRL_NS.Request} for s in graph.subjects(RDF.type, t)}
        if len(found) != 1:
            raise InvalidInput(f"expected one ODRL policy in the graph, found {len(found)}")
        node = found.pop()
    kinds = [str(t).removeprefix(ODRL) for t in graph.objects(node, RDF.type) if t in _POLICY_TYPES]
    if not kinds:
        raise InvalidInput(f"policy {_name(node)}: not found, or not typed as an ODRL policy")
    inherited = {
        p: tuple(_name(v) for v in _objects(graph, node, p))
        for p in (ODRL_NS.target, ODRL_NS.assignee, ODRL_NS.assigner)
    }
    rules = tuple(
        _rule_from_graph(graph, r, kind, inherited)
        for prop, kind in _RULE_PROPERTIES
        for r in _objects(graph, node, prop)
    )
    return Policy(uid=_name(node), type=kinds[0], rules=rules)


def request_from_graph(graph: Graph, uid: str) -> Request:
    """Read an ``odrl:Request`` with one permission: who asks to do what to which asset."""
    node = URIRef(uid)
    asks = _objects(graph, node, ODRL_NS.permission)
    if len(asks) != 1:
        raise InvalidInput(f"request {uid}: expected one permission, found {len(asks)}")
    rule = _rule_from_graph(
        graph, asks[0], "permission", {ODRL_NS.target: (), ODRL_NS.assignee: (), ODRL_NS.assigner: ()}
    )
    if rule.action is None:
        raise InvalidInput(f"request {uid}: the permission names no action")
    context: dict[str, tuple[Term, ...]] = {}
    for constraint in rule.constraints:
        # A request states its context as `leftOperand eq value` constraints (its purpose, say).
        if isinstance(constraint, Constraint) and constraint.operator == f"{ODRL}eq":
            context[constraint.left_operand] = constraint.right_operand
    return Request(
        uid=uid,
        rule_uid=rule.uid,
        action=rule.action,
        assignee=rule.assignees[0] if rule.assignees else None,
        target=rule.targets[0] if rule.targets else None,
        context=context,
    )


def _state_name(node: Node | None) -> str | None:
    return None if node is None else str(node).removeprefix(REPORT)


def world_from_graph(graph: Graph, uid: str) -> StateOfTheWorld:
    """Read a state of the world (``ex:Sotw``) and what it includes."""
    node = URIRef(uid)
    included = set(graph.objects(node, EX.includes))
    if (node, RDF.type, EX.Sotw) not in graph:
        raise InvalidInput(f"state of the world {uid}: not found")
    issued = graph.value(TEMP_CURRENT_TIME, DCT.issued)
    if not isinstance(issued, RdfLiteral) or TEMP_CURRENT_TIME not in included:
        raise InvalidInput(f"state of the world {uid}: no temp:currentTime dct:issued timestamp")
    current = Lit(str(issued), str(issued.datatype)).python()
    if not isinstance(current, datetime):
        raise InvalidInput(f"state of the world {uid}: currentTime {issued!s} is not an xsd:dateTime")
    part_of: dict[str, set[str]] = defaultdict(set)
    types: dict[str, set[str]] = defaultdict(set)
    duties: dict[str, DutyStatus] = {}
    for thing in included:
        for whole in graph.objects(thing, ODRL_NS.partOf):
            part_of[_name(thing)].add(_name(whole))
        for kind in graph.objects(thing, RDF.type):
            types[_name(thing)].add(_name(kind))
        for report in graph.objects(thing, R.ruleReport):
            if (report, RDF.type, R.DutyReport) in graph:
                status = _duty_status(graph, report)
                duties[status.rule] = status
    return StateOfTheWorld(
        current_time=current,
        part_of={k: frozenset(v) for k, v in part_of.items()},
        types={k: frozenset(v) for k, v in types.items()},
        duties=duties,
    )


def _duty_status(graph: Graph, report: Node) -> DutyStatus:
    rule = graph.value(report, R.rule)
    if rule is None:
        raise InvalidInput(f"duty report {_name(report)}: names no rule")
    attempt = _state_name(graph.value(report, R.attemptState))
    return DutyStatus(
        report_id=_name(report),
        rule=_name(rule),
        deontic_state=cast("DeonticState | None", _state_name(graph.value(report, R.deonticState))),
        performance_state=cast("PerformanceState | None", _state_name(graph.value(report, R.performanceState))),
        attempted=None if attempt is None else attempt == "Attempted",
    )


# --- reading and writing FORCE reports ---------------------------------------------------------


def _flag(graph: Graph, node: Node, prop: URIRef, yes: str) -> bool | None:
    state = _state_name(graph.value(node, prop))
    return None if state is None else state == yes


def _premise_from_graph(graph: Graph, node: Node) -> PremiseReport:
    kind = _state_name(graph.value(node, RDF.type))
    left = _objects(graph, node, R.constraintLeftOperand)
    right = _objects(graph, node, R.constraintRightOperand)
    operator = graph.value(node, R.constraintOperator)
    logical = graph.value(node, R.constraintLogicalOperand)
    constraint = graph.value(node, R.constraint)
    return PremiseReport(
        id=_name(node),
        kind=cast("PremiseKind | None", kind),
        satisfied=_flag(graph, node, R.satisfactionState, "Satisfied"),
        constraint=_name(constraint) if constraint is not None else None,
        left_value=tuple(_term(v) for v in left) if left else None,
        operator=str(operator) if operator is not None else None,
        right_value=tuple(_term(v) for v in right) if right else None,
        logical_operator=str(logical) if logical is not None else None,
        premises=tuple(_premise_from_graph(graph, p) for p in _objects(graph, node, R.premiseReport)),
    )


def _rule_report_from_graph(graph: Graph, node: Node) -> RuleReport:
    kind = _state_name(graph.value(node, RDF.type))
    rule = graph.value(node, R.rule)
    if kind not in ("PermissionReport", "ProhibitionReport", "DutyReport") or rule is None:
        raise InvalidInput(f"rule report {_name(node)}: not a typed rule report naming its rule")
    request = graph.value(node, R.ruleRequest)
    return RuleReport(
        id=_name(node),
        kind=cast("RuleReportKind", kind),
        rule=_name(rule),
        active=_flag(graph, node, R.activationState, "Active"),
        attempted=_flag(graph, node, R.attemptState, "Attempted"),
        rule_request=_name(request) if request is not None else None,
        premises=tuple(_premise_from_graph(graph, p) for p in _objects(graph, node, R.premiseReport)),
        conditions=tuple(_rule_report_from_graph(graph, c) for c in _objects(graph, node, R.conditionReport)),
        performance_state=cast("PerformanceState | None", _state_name(graph.value(node, R.performanceState))),
        deontic_state=cast("DeonticState | None", _state_name(graph.value(node, R.deonticState))),
    )


def report_from_graph(graph: Graph, uid: str) -> PolicyReport:
    """Read a FORCE ``PolicyReport``; ``graph`` must also hold any state-of-the-world reports it cites."""
    node = URIRef(uid)
    policy = graph.value(node, R.policy)
    if policy is None:
        raise InvalidInput(f"policy report {uid}: not found or names no policy")
    request = graph.value(node, R.policyRequest)
    created = graph.value(node, DCT.created)
    created_at = Lit(str(created), f"{DCT}dateTime").python() if created is not None else None
    return PolicyReport(
        id=uid,
        policy=_name(policy),
        request=_name(request) if request is not None else None,
        created=created_at if isinstance(created_at, datetime) else None,
        rules=tuple(_rule_report_from_graph(graph, r) for r in _objects(graph, node, R.ruleReport)),
    )


def _node(name: str) -> Node:
    return BNode(name[2:]) if name.startswith("_:") else URIRef(name)


def _rdf_term(term: Term) -> Node:
    if isinstance(term, Iri):
        return _node(term.value)
    return RdfLiteral(term.lexical, datatype=URIRef(term.datatype) if term.datatype else None)


def report_to_graph(report: PolicyReport) -> Graph:
    """The report as RDF in the FORCE vocabulary (serialize it with ``.serialize(format="turtle")``)."""
    graph = Graph()
    graph.bind("report", R)
    graph.bind("odrl", ODRL_NS)
    graph.bind("dct", DCT)
    node = URIRef(report.id)
    graph.add((node, RDF.type, R.PolicyReport))
    graph.add((node, R.policy, _node(report.policy)))
    if report.request is not None:
        graph.add((node, R.policyRequest, _node(report.request)))
    if report.created is not None:
        graph.add((node, DCT.created, RdfLiteral(report.created)))
    for rule in report.rules:
        graph.add((node, R.ruleReport, _add_rule_report(graph, rule)))
    return graph


def _add_rule_report(graph: Graph, report: RuleReport) -> Node:
    node = URIRef(report.id)
    graph.add((node, RDF.type, R[report.kind]))
    graph.add((node, R.rule, _node(report.rule)))
    if report.active is not None:
        graph.add((node, R.activationState, R.Active if report.active else R.Inactive))
    if report.attempted is not None:
        graph.add((node, R.attemptState, R.Attempted if report.attempted else R.NotAttempted))
    if report.rule_request is not None:
        graph.add((node, R.ruleRequest, _node(report.rule_request)))
    if report.performance_state is not None:
        graph.add((node, R.performanceState, R[report.performance_state]))
    if report.deontic_state is not None:
        graph.add((node, R.deonticState, R[report.deontic_state]))
    for premise in report.premises:
        graph.add((node, R.premiseReport, _add_premise(graph, premise)))
    for condition in report.conditions:
        graph.add((node, R.conditionReport, _add_rule_report(graph, condition)))
    return node


def _add_premise(graph: Graph, premise: PremiseReport) -> Node:
    node = URIRef(premise.id)
    if premise.kind is not None:
        graph.add((node, RDF.type, R[premise.kind]))
    if premise.satisfied is not None:
        graph.add((node, R.satisfactionState, R.Satisfied if premise.satisfied else R.Unsatisfied))
    if premise.constraint is not None:
        graph.add((node, R.constraint, _node(premise.constraint)))
    if premise.logical_operator is not None:
        graph.add((node, R.constraintLogicalOperand, URIRef(premise.logical_operator)))
    if premise.operator is not None:
        graph.add((node, R.constraintOperator, URIRef(premise.operator)))
    for term in premise.left_value or ():
        graph.add((node, R.constraintLeftOperand, _rdf_term(term)))
    for term in premise.right_value or ():
        graph.add((node, R.constraintRightOperand, _rdf_term(term)))
    for sub in premise.premises:
        graph.add((node, R.premiseReport, _add_premise(graph, sub)))
    return node


# --- the suite ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SuiteCase:
    """One test case of the suite, resolved: the inputs and the expected report."""

    id: str
    name: str
    title: str
    policy: Policy
    request: Request
    world: StateOfTheWorld
    expected: PolicyReport


@dataclass(frozen=True, slots=True)
class CaseResult:
    """A case run: our report and every difference from the expected one."""

    case: SuiteCase
    report: PolicyReport
    differences: tuple[str, ...]
    activation_differences: tuple[str, ...]

    @property
    def verdict(self) -> Literal["agree", "disagree"]:
        """``agree`` when the reports agree in full (see :func:`compare_reports`)."""
        return "disagree" if self.differences else "agree"


def _parse(path: Path) -> Graph:
    graph = Graph()
    try:
        graph.parse(path, format="turtle")
    except Exception as exc:  # rdflib raises parser-specific errors with no common root
        raise InvalidInput(f"{path}: not valid Turtle: {exc}") from exc
    return graph


def _index(folder: Path, kinds: set[URIRef]) -> dict[str, Graph]:
    """Each file's graph, under the IRI of each policy, request or state of the world it defines.

    Files are kept apart: the suite reuses IRIs across files (one constraint IRI with six
    different operators in six policies; ``temp:currentTime`` with a different time in each state
    of the world), so one merged graph would mix them up.
    """
    index: dict[str, Graph] = {}
    for path in sorted(folder.glob("*.ttl")):
        graph = _parse(path)
        for kind in kinds:
            for subject in graph.subjects(RDF.type, kind):
                if str(subject) in index:
                    raise InvalidInput(f"{path}: {subject} is defined in more than one file of {folder}")
                index[str(subject)] = graph
    return index


def load_suite(root: Path) -> list[SuiteCase]:
    """Every test case under ``root`` (a folder with ``test_cases/``, ``policies/``, ``requests/``, ``sotw/``)."""
    missing = [name for name in ("test_cases", "policies", "requests", "sotw") if not (root / name).is_dir()]
    if missing:
        raise InvalidInput(f"{root}: not an ODRL test suite folder (missing {', '.join(m + '/' for m in missing)})")
    policies = _index(root / "policies", _POLICY_TYPES - {ODRL_NS.Request})
    requests = _index(root / "requests", {ODRL_NS.Request})
    worlds = _index(root / "sotw", {EX.Sotw})
    cases: list[SuiteCase] = []
    for path in sorted((root / "test_cases").glob("*.ttl")):
        cases.extend(_cases_in(path, policies, requests, worlds))
    return cases


def _lookup(index: dict[str, Graph], uid: str, what: str) -> Graph:
    try:
        return index[uid]
    except KeyError:
        raise InvalidInput(f"{what} {uid}: not defined in the suite") from None


def _cases_in(
    path: Path, policies: dict[str, Graph], requests: dict[str, Graph], worlds: dict[str, Graph]
) -> Iterator[SuiteCase]:
    graph = _parse(path)
    for case in sorted(graph.subjects(RDF.type, EX.TestCase), key=str):
        refs = {p: graph.value(case, EX[p]) for p in ("policy", "request", "sotw", "expectedReport")}
        absent = [p for p, v in refs.items() if v is None]
        if absent:
            raise InvalidInput(f"{path}: test case {case} names no {', '.join(absent)}")
        policy, request, sotw = str(refs["policy"]), str(refs["request"]), str(refs["sotw"])
        try:
            world_graph = _lookup(worlds, sotw, "state of the world")
            yield SuiteCase(
                id=str(case),
                name=path.stem,
                title=str(graph.value(case, DCT.title) or ""),
                policy=policy_from_graph(_lookup(policies, policy, "policy"), policy),
                request=request_from_graph(_lookup(requests, request, "request"), request),
                world=world_from_graph(world_graph, sotw),
                # Expected reports may cite the duty reports of the state of the world.
                expected=report_from_graph(graph + world_graph, str(refs["expectedReport"])),
            )
        except InvalidInput as exc:
            raise InvalidInput(f"{path}: {exc.message}") from exc


def run_case(case: SuiteCase) -> CaseResult:
    """Evaluate one case and compare the report with the expected one."""
    report = evaluate(case.policy, case.request, case.world)
    return CaseResult(
        case=case,
        report=report,
        differences=tuple(compare_reports(case.expected, report)),
        activation_differences=tuple(_activation_differences(case.expected, report)),
    )


def _activation_differences(expected: PolicyReport, actual: PolicyReport) -> Iterator[str]:
    """Only the rule activation states (the suite's "Rule-Activation-similarity" metric)."""
    got = {r.rule: r.active for r in actual.rules}
    for rule in expected.rules:
        if got.get(rule.rule) != rule.active:
            yield f"{rule.kind} {rule.rule}: activation expected {rule.active}, got {got.get(rule.rule)}"
