"""Consent grants as ODRL 2.2 Agreements in JSON-LD, and back.

:class:`GrantTerms` describes a consent grant apart from any database: the consent helper maps its
ORM grant onto it. :func:`grant_to_odrl` writes it as an ODRL 2.2 ``Agreement`` (W3C ODRL
Information Model, Feb 15, 2018) in compact JSON-LD with the ODRL context, and
:func:`odrl_to_grant` reads such a document back into equal terms.

The mapping (docs/odrl.md shows a full document):

- ``uid`` ``urn:likeness-ledger:grant:<id>``; ``assigner`` the performer
  (``urn:likeness-ledger:performer:<id>``); ``assignee`` the producer
  (``urn:likeness-ledger:producer:<id>``); ``target`` the replica
  (``urn:likeness-ledger:asset:<id>``), or, for a creation consent given before the scan, the
  performer's likeness (``urn:likeness-ledger:likeness:<performer id>``). They sit on the policy
  and so apply to every rule (ODRL 2.2 §2.7);
- one ``permission`` per described use, its action ``use`` (scope ``use``) or ``ll:createReplica``
  (scope ``creation``), with four constraints: ``ll:production eq <production>``,
  ``purpose eq <use key>``, ``dateTime gteq <first day>`` and, with an expiry,
  ``dateTime lteq <expires_on>``. The first day is the later of the signature and ``valid_from``,
  as the rules engine counts it; ``lteq`` on an ``xsd:date`` because the engine treats the
  expiry day as the last valid day (consent/rules/common.py), so an evaluator and the engine agree
  on every day;
- duties of each permission: ``compensate`` (refined by ``payAmount eq <amount>`` in the grant's
  currency where the amount is known, ``ll:payPer`` and ``ll:scaleReference`` alongside) and,
  where a duty to inform the union applies, ``inform`` with the union as ``informedParty``;
- the rest of the record that ODRL has no term for (reviewer's finding, signature, signer,
  representation, document hash, the use descriptions) travels in our own namespace
  ``urn:likeness-ledger:odrl:`` (prefix ``ll``), declared as the policy's ``profile``.

Ids are percent-encoded into the URNs (RFC 8141 allows only a few characters unencoded), so any
string id survives the round trip.

Pure code: no database, web or CLI imports.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Literal, cast, get_args
from urllib.parse import quote, unquote

from likeness_ledger.consent.odrl_eval import (
    ODRL,
    XSD,
    ActionHierarchy,
    AnyConstraint,
    Constraint,
    Iri,
    Lit,
    LogicalConstraint,
    Policy,
    Request,
    Rule,
    RuleKind,
    Term,
)
from likeness_ledger.errors import InvalidInput

ODRL_CONTEXT: Final = "http://www.w3.org/ns/odrl.jsonld"
#: Our namespace for likeness-specific terms, and the ODRL profile that declares them.
LL: Final = "urn:likeness-ledger:odrl:"
PROFILE: Final = "urn:likeness-ledger:odrl"
RDF: Final = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
#: The ODRL context, plus the prefixes the document uses, declared locally so that the document
#: does not depend on which prefixes a given version of the ODRL context happens to define.
CONTEXT: Final[list[Any]] = [ODRL_CONTEXT, {"odrl": ODRL, "ll": LL, "xsd": XSD, "rdf": RDF}]

GRANT: Final = "urn:likeness-ledger:grant:"
PERFORMER: Final = "urn:likeness-ledger:performer:"
PRODUCER: Final = "urn:likeness-ledger:producer:"
ASSET: Final = "urn:likeness-ledger:asset:"
LIKENESS: Final = "urn:likeness-ledger:likeness:"
PRODUCTION: Final = "urn:likeness-ledger:production:"
UNION: Final = "urn:likeness-ledger:union"
CURRENCY: Final = "urn:likeness-ledger:currency:"

#: Our creation action: making a replica of the performer. ODRL has no action for it; it is a
#: kind of ``use`` of the performer's likeness (so a policy on ``use`` covers it).
CREATE_REPLICA: Final = f"{LL}createReplica"
#: The production a request is for: a left operand of our profile.
PRODUCTION_OPERAND: Final = f"{LL}production"
LIKENESS_ACTIONS: Final = ActionHierarchy().extended({CREATE_REPLICA: f"{ODRL}use"})

Scope = Literal["creation", "use"]
SignedBy = Literal["performer", "authorized_representative", "union"]
Representation = Literal["union", "counsel", "none"]

_SHA256: Final = re.compile(r"[0-9a-f]{64}")
_CURRENCY_CODE: Final = re.compile(r"[A-Z]{3}")


# --- the terms ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Compensation:
    """What the producer pays the performer under a grant.

    ``per_day`` is the pay per day worked by the replica (``None`` when the grant defers to a
    scale rate without stating an amount); ``scale_reference`` names that rate (for example
    ``sag-aftra-tv-theatrical-2023/background/day``). At least one of the two is given.
    """

    per_day: Decimal | None
    currency: str = "USD"
    scale_reference: str | None = None

    def __post_init__(self) -> None:
        if self.per_day is None and not self.scale_reference:
            raise InvalidInput("compensation: give per_day, scale_reference or both")
        if self.per_day is not None and (not self.per_day.is_finite() or self.per_day < 0):
            raise InvalidInput(f"compensation.per_day: {self.per_day} is not a non-negative amount")
        if not _CURRENCY_CODE.fullmatch(self.currency):
            raise InvalidInput(f"compensation.currency: {self.currency!r} is not an ISO 4217 code")


@dataclass(frozen=True, slots=True)
class GrantTerms:
    """A consent grant, independent of the database.

    Fields, in the words of the issue (item 1):

    - ``id``: the grant's id; ``performer_id`` who consents; ``producer_id`` who may act on it;
    - ``replica_id``: the replica asset it covers, ``None`` for a creation consent given before
      the scan; ``production_id``: the one production it covers;
    - ``scope``: ``creation`` (to make a replica) or ``use`` (to use one);
    - ``uses``: the described uses, ``(key, description)`` pairs, keys unique;
    - ``specific``: the reviewer's finding that the description is reasonably specific,
      ``reviewer`` who found it and ``reviewed_at`` when (timezone-aware);
    - ``separately_signed``: signed apart from standard terms; ``signed_by``: ``performer``,
      ``authorized_representative`` or ``union``; ``signed_on``: the signature date;
    - ``valid_from`` / ``expires_on``: the optional window; the expiry day is the last valid day;
    - ``representation``: who negotiated it for the performer: ``union``, ``counsel``, ``none``;
    - ``document_sha256``: the signed document's SHA-256 (lowercase hex) in the vault;
    - ``compensation``: the pay agreed, or ``None`` when none is stated;
    - ``notify_union``: whether a duty to inform the union applies.
    """

    id: str
    performer_id: str
    producer_id: str
    replica_id: str | None
    production_id: str
    scope: Scope
    uses: tuple[tuple[str, str], ...]
    specific: bool
    separately_signed: bool
    signed_by: SignedBy
    signed_on: date
    representation: Representation
    reviewer: str | None = None
    reviewed_at: datetime | None = None
    valid_from: date | None = None
    expires_on: date | None = None
    document_sha256: str | None = None
    compensation: Compensation | None = None
    notify_union: bool = False

    def __post_init__(self) -> None:
        self._check_identity()
        self._check_uses()
        if self.reviewed_at is not None and self.reviewed_at.utcoffset() is None:
            raise InvalidInput("reviewed_at: needs a time zone")
        if self.valid_from is not None and self.expires_on is not None and self.expires_on < self.valid_from:
            raise InvalidInput(f"expires_on: {self.expires_on.isoformat()} is before valid_from")
        if self.document_sha256 is not None and not _SHA256.fullmatch(self.document_sha256):
            raise InvalidInput("document_sha256: expected 64 lowercase hex digits")

    def _check_identity(self) -> None:
        for name in ("id", "performer_id", "producer_id", "production_id"):
            if not getattr(self, name):
                raise InvalidInput(f"{name}: must not be empty")
        if self.replica_id == "":
            raise InvalidInput("replica_id: must not be empty (use null for none)")
        for name, allowed in (
            ("scope", get_args(Scope)),
            ("signed_by", get_args(SignedBy)),
            ("representation", get_args(Representation)),
        ):
            if getattr(self, name) not in allowed:
                raise InvalidInput(f"{name}: {getattr(self, name)!r} is not one of {', '.join(allowed)}")
        if self.scope == "use" and self.replica_id is None:
            raise InvalidInput("replica_id: a use consent names the replica it covers")

    def _check_uses(self) -> None:
        if not self.uses:
            raise InvalidInput("uses: at least one described use")
        seen: set[str] = set()
        for i, (key, _description) in enumerate(self.uses):
            if not key:
                raise InvalidInput(f"uses[{i}].key: must not be empty")
            if key in seen:
                raise InvalidInput(f"uses[{i}].key: {key!r} appears twice")
            seen.add(key)

    @property
    def starts_on(self) -> date:
        """The first day the grant counts: never before it was signed."""
        return max(self.signed_on, self.valid_from) if self.valid_from else self.signed_on

    def to_json(self) -> dict[str, Any]:
        """The terms as JSON (dates ISO 8601, money a decimal string)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "uses":
                value = [{"key": k, "description": d} for k, d in value]
            elif isinstance(value, date):  # datetime is a date too
                value = value.isoformat()
            elif isinstance(value, Compensation):
                value = {
                    "per_day": None if value.per_day is None else str(value.per_day),
                    "currency": value.currency,
                    "scale_reference": value.scale_reference,
                }
            out[f.name] = value
        return out

    @classmethod
    def from_json(cls, data: Any) -> GrantTerms:
        """Read terms written by :meth:`to_json`; errors name the field (``uses[0].key: ...``)."""
        j = _Json(data, "")
        known = {f.name for f in fields(cls)}
        extra = sorted(set(j.obj()) - known)
        if extra:
            raise InvalidInput(f"{extra[0]}: unknown field")
        uses = tuple(
            (u.at("key").string(), u.at("description").string()) for u in j.at("uses").items(allow_single=False)
        )
        comp = j.opt("compensation")
        compensation = None
        if comp is not None:
            per_day = comp.opt("per_day")
            compensation = Compensation(
                per_day=per_day.decimal() if per_day is not None else None,
                currency=comp.opt_string("currency") or "USD",
                scale_reference=comp.opt_string("scale_reference"),
            )
        reviewed_at = j.opt("reviewed_at")
        return cls(
            id=j.at("id").string(),
            performer_id=j.at("performer_id").string(),
            producer_id=j.at("producer_id").string(),
            replica_id=j.opt_string("replica_id"),
            production_id=j.at("production_id").string(),
            scope=cast("Scope", j.at("scope").choice(get_args(Scope))),
            uses=uses,
            specific=j.at("specific").boolean(),
            reviewer=j.opt_string("reviewer"),
            reviewed_at=reviewed_at.timestamp() if reviewed_at is not None else None,
            separately_signed=j.at("separately_signed").boolean(),
            signed_by=cast("SignedBy", j.at("signed_by").choice(get_args(SignedBy))),
            signed_on=j.at("signed_on").day(),
            valid_from=_opt_day(j, "valid_from"),
            expires_on=_opt_day(j, "expires_on"),
            representation=cast("Representation", j.at("representation").choice(get_args(Representation))),
            document_sha256=j.opt_string("document_sha256"),
            compensation=compensation,
            notify_union=notify.boolean() if (notify := j.opt("notify_union")) is not None else False,
        )


def _opt_day(j: _Json, key: str) -> date | None:
    value = j.opt(key)
    return value.day() if value is not None else None


# --- JSON with paths ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Json:
    """A JSON value and where it sits, so every error names its path."""

    value: Any
    path: str

    def fail(self, message: str) -> InvalidInput:
        return InvalidInput(f"{self.path or '$'}: {message}")

    def obj(self) -> Mapping[str, Any]:
        if not isinstance(self.value, dict):
            raise self.fail(f"expected an object, got {type(self.value).__name__}")
        return self.value

    def _child(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def at(self, key: str) -> _Json:
        mapping = self.obj()
        if key not in mapping or mapping[key] is None:
            raise InvalidInput(f"{self._child(key)}: required")
        return _Json(mapping[key], self._child(key))

    def opt(self, key: str) -> _Json | None:
        mapping = self.obj()
        return None if mapping.get(key) is None else _Json(mapping[key], self._child(key))

    def opt_string(self, key: str) -> str | None:
        value = self.opt(key)
        return value.string() if value is not None else None

    def items(self, *, allow_single: bool = True) -> list[_Json]:
        """A JSON-LD set: a list, or (where allowed) a single value standing for a one-item list."""
        if isinstance(self.value, list):
            return [_Json(v, f"{self.path}[{i}]") for i, v in enumerate(self.value)]
        if allow_single:
            return [_Json(self.value, f"{self.path}[0]")]
        raise self.fail("expected a list")

    def string(self) -> str:
        if not isinstance(self.value, str):
            raise self.fail(f"expected a string, got {type(self.value).__name__}")
        return self.value

    def boolean(self) -> bool:
        if not isinstance(self.value, bool):
            raise self.fail(f"expected true or false, got {self.value!r}")
        return self.value

    def choice(self, allowed: Sequence[str]) -> str:
        text = self.string()
        if text not in allowed:
            raise self.fail(f"{text!r} is not one of {', '.join(allowed)}")
        return text

    def day(self) -> date:
        try:
            return date.fromisoformat(self.string())
        except ValueError:
            raise self.fail(f"{self.value!r} is not a date (YYYY-MM-DD)") from None

    def timestamp(self) -> datetime:
        try:
            moment = datetime.fromisoformat(self.string())
        except ValueError:
            raise self.fail(f"{self.value!r} is not an ISO 8601 timestamp") from None
        if moment.utcoffset() is None:
            raise self.fail("needs a time zone")
        return moment

    def decimal(self) -> Decimal:
        try:
            amount = Decimal(self.string())
        except InvalidOperation:
            raise self.fail(f"{self.value!r} is not a decimal amount") from None
        if not amount.is_finite():
            raise self.fail(f"{self.value!r} is not a decimal amount")
        return amount


# --- export ------------------------------------------------------------------------------------


def _urn(prefix: str, value: str) -> str:
    return prefix + quote(value, safe="")


def _xsd(value: str, kind: str) -> dict[str, str]:
    return {"@value": value, "@type": f"xsd:{kind}"}


def _grant_urn(terms: GrantTerms) -> str:
    return _urn(GRANT, terms.id)


def grant_to_odrl(terms: GrantTerms) -> dict[str, Any]:
    """The grant as an ODRL 2.2 Agreement in compact JSON-LD (see the module docstring)."""
    uid = _grant_urn(terms)
    target = _urn(ASSET, terms.replica_id) if terms.replica_id is not None else _urn(LIKENESS, terms.performer_id)
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "Agreement",
        "uid": uid,
        "profile": PROFILE,
        "assigner": _urn(PERFORMER, terms.performer_id),
        "assignee": _urn(PRODUCER, terms.producer_id),
        "target": target,
        "ll:scope": terms.scope,
        "ll:specific": terms.specific,
        "ll:separatelySigned": terms.separately_signed,
        "ll:signedBy": terms.signed_by,
        "ll:signedOn": _xsd(terms.signed_on.isoformat(), "date"),
        "ll:representation": terms.representation,
    }
    if terms.reviewer is not None:
        doc["ll:reviewer"] = terms.reviewer
    if terms.reviewed_at is not None:
        doc["ll:reviewedAt"] = _xsd(terms.reviewed_at.isoformat(), "dateTime")
    if terms.valid_from is not None:
        doc["ll:validFrom"] = _xsd(terms.valid_from.isoformat(), "date")
    if terms.document_sha256 is not None:
        doc["ll:documentSha256"] = terms.document_sha256
    doc["permission"] = [_permission(terms, uid, key, description) for key, description in terms.uses]
    return doc


def _permission(terms: GrantTerms, grant_uid: str, key: str, description: str) -> dict[str, Any]:
    uid = f"{grant_uid}:use:{quote(key, safe='')}"
    constraints: list[dict[str, Any]] = [
        {
            "uid": f"{uid}:production",
            "leftOperand": "ll:production",
            "operator": "eq",
            "rightOperand": {"@id": _urn(PRODUCTION, terms.production_id)},
        },
        {"uid": f"{uid}:purpose", "leftOperand": "purpose", "operator": "eq", "rightOperand": {"@value": key}},
        {
            "uid": f"{uid}:from",
            "leftOperand": "dateTime",
            "operator": "gteq",
            "rightOperand": _xsd(terms.starts_on.isoformat(), "date"),
        },
    ]
    if terms.expires_on is not None:
        constraints.append(
            {
                "uid": f"{uid}:until",
                "leftOperand": "dateTime",
                "operator": "lteq",
                "rightOperand": _xsd(terms.expires_on.isoformat(), "date"),
            }
        )
    permission: dict[str, Any] = {
        "uid": uid,
        "action": "use" if terms.scope == "use" else "ll:createReplica",
        "ll:useDescription": description,
        "constraint": constraints,
        "duty": [_compensate(terms, uid)],
    }
    if terms.notify_union:
        permission["duty"].append({"uid": f"{uid}:inform-union", "action": "inform", "informedParty": UNION})
    return permission


def _compensate(terms: GrantTerms, permission_uid: str) -> dict[str, Any]:
    duty: dict[str, Any] = {
        "uid": f"{permission_uid}:compensate",
        "action": "compensate",
        "compensatedParty": _urn(PERFORMER, terms.performer_id),
    }
    pay = terms.compensation
    if pay is None:
        return duty
    if pay.per_day is not None:
        duty["action"] = [
            {
                "rdf:value": {"@id": "odrl:compensate"},
                "refinement": [
                    {
                        "uid": f"{permission_uid}:pay",
                        "leftOperand": "payAmount",
                        "operator": "eq",
                        "rightOperand": _xsd(str(pay.per_day), "decimal"),
                        "unit": CURRENCY + pay.currency,
                    }
                ],
            }
        ]
        duty["ll:payPer"] = "day"
    else:
        duty["ll:currency"] = pay.currency
    if pay.scale_reference is not None:
        duty["ll:scaleReference"] = pay.scale_reference
    return duty


# --- import ------------------------------------------------------------------------------------


def _context_prefixes(doc: _Json) -> dict[str, str]:
    """Prefixes the document's local context defines; the ODRL context must be among its contexts."""
    context = doc.at("@context")
    prefixes = {"odrl": ODRL, "xsd": XSD, "rdf": RDF}
    found_odrl = False
    for entry in context.items():
        if entry.value == ODRL_CONTEXT:
            found_odrl = True
        elif isinstance(entry.value, dict):
            for key, value in entry.value.items():
                if isinstance(value, str):
                    prefixes[key] = value
        else:
            raise entry.fail("only the ODRL context and local prefix definitions are understood")
    if not found_odrl:
        raise context.fail(f"must include the ODRL context {ODRL_CONTEXT}")
    return prefixes


@dataclass(frozen=True, slots=True)
class _Terms:
    """Expands the compact IRIs and ODRL terms of a compact JSON-LD document."""

    prefixes: Mapping[str, str]

    def iri(self, text: str) -> str:
        """A compact IRI (``ll:x``) or an absolute one."""
        prefix, sep, rest = text.partition(":")
        if sep and prefix in self.prefixes and not rest.startswith("//"):
            return self.prefixes[prefix] + rest
        return text

    def vocab(self, text: str) -> str:
        """A term in a vocabulary position (``action``, ``operator``...): bare words are ODRL's."""
        return self.iri(text) if ":" in text else ODRL + text

    def node(self, j: _Json) -> str:
        """An ``@id``-typed value: a string or ``{"@id": ...}``."""
        if isinstance(j.value, dict):
            return self.iri(j.at("@id").string())
        return self.iri(j.string())

    def value(self, j: _Json) -> Term:
        """A ``rightOperand`` value: ``{"@id"}``, ``{"@value", "@type"}`` or a plain literal."""
        if not isinstance(j.value, dict):
            return _literal(j, None)
        if "@id" in j.value:
            return Iri(self.iri(j.at("@id").string()))
        kind = j.opt("@type")
        return _literal(j.at("@value"), self.iri(kind.string()) if kind is not None else None)


def _literal(j: _Json, datatype: str | None) -> Lit:
    """A JSON scalar as a literal; JSON booleans and numbers get their XSD datatype."""
    raw = j.value
    if isinstance(raw, bool):
        return Lit("true" if raw else "false", f"{XSD}boolean")
    if isinstance(raw, int | float):
        return Lit(str(raw), datatype or f"{XSD}{'integer' if isinstance(raw, int) else 'double'}")
    return Lit(j.string(), datatype)


def _constraint(t: _Terms, j: _Json) -> AnyConstraint:
    obj = j.obj()
    uid = t.iri(j.at("uid").string()) if "uid" in obj else None
    for name in ("and", "or", "xone", "andSequence"):
        if name in obj:
            members = j.at(name)
            if isinstance(members.value, dict) and "@list" in members.value:
                members = members.at("@list")
            try:
                return LogicalConstraint(uid, ODRL + name, tuple(_constraint(t, m) for m in members.items()))
            except InvalidInput as exc:
                raise j.fail(exc.message) from exc
    right = [t.value(v) for v in j.at("rightOperand").items()] if "rightOperand" in obj else []
    if "rightOperandReference" in obj:
        right += [Iri(t.node(v)) for v in j.at("rightOperandReference").items()]
    unit = j.opt("unit")
    try:
        return Constraint(
            uid,
            t.vocab(j.at("leftOperand").string()),
            t.vocab(j.at("operator").string()),
            tuple(right),
            t.node(unit) if unit is not None else None,
        )
    except InvalidInput as exc:
        raise j.fail(exc.message) from exc


def _action(t: _Terms, j: _Json) -> tuple[str, tuple[AnyConstraint, ...]]:
    items = j.items()
    if len(items) != 1:
        raise j.fail("expected one action")
    item = items[0]
    if isinstance(item.value, dict):
        name = t.node(item.at("rdf:value"))
        refinements = item.opt("refinement")
        return name, tuple(_constraint(t, c) for c in refinements.items()) if refinements is not None else ()
    return t.vocab(item.string()), ()


def _ids(t: _Terms, j: _Json | None, inherited: tuple[str, ...]) -> tuple[str, ...]:
    if j is None:
        return inherited
    return tuple(t.node(v) for v in j.items())


def _rule(t: _Terms, j: _Json, kind: RuleKind, inherited: Mapping[str, tuple[str, ...]]) -> Rule:
    action, refinements = _action(t, j.at("action"))
    constraints = j.opt("constraint")
    duties = j.opt("duty")
    no_inheritance: dict[str, tuple[str, ...]] = {"target": (), "assignee": (), "assigner": ()}
    return Rule(
        uid=t.iri(j.at("uid").string()),
        kind=kind,
        action=action,
        action_refinements=refinements,
        targets=_ids(t, j.opt("target"), inherited["target"]),
        assignees=_ids(t, j.opt("assignee"), inherited["assignee"]),
        assigners=_ids(t, j.opt("assigner"), inherited["assigner"]),
        constraints=tuple(_constraint(t, c) for c in constraints.items()) if constraints is not None else (),
        duties=tuple(_rule(t, d, "duty", no_inheritance) for d in duties.items()) if duties is not None else (),
    )


def policy_from_jsonld(doc: Any) -> Policy:
    """Read an ODRL policy in compact JSON-LD with the ODRL context into the evaluator's model.

    This reads the compact form ODRL's own examples use (and :func:`grant_to_odrl` writes):
    the ODRL context plus local prefixes, no remote contexts and no other JSON-LD features.
    Errors name the JSON path.
    """
    j = _Json(doc, "$")
    t = _Terms(_context_prefixes(j))
    kind = t.vocab(j.at("@type").string()).removeprefix(ODRL)
    if kind not in ("Set", "Offer", "Agreement", "Policy"):
        raise j.at("@type").fail(f"{kind!r} is not an ODRL policy type")
    inherited = {key: _ids(t, j.opt(key), ()) for key in ("target", "assignee", "assigner")}
    rules: list[Rule] = []
    for key, rule_kind in (("permission", "permission"), ("prohibition", "prohibition"), ("obligation", "duty")):
        found = j.opt(key)
        if found is not None:
            rules.extend(_rule(t, r, cast("RuleKind", rule_kind), inherited) for r in found.items())
    if not rules:
        raise j.fail("an ODRL policy needs at least one permission, prohibition or obligation")
    return Policy(uid=t.iri(j.at("uid").string()), type=kind, rules=tuple(rules))


def _strip(prefix: str, value: str, j: _Json) -> str:
    if not value.startswith(prefix) or len(value) == len(prefix):
        raise j.fail(f"expected an IRI starting {prefix}, got {value!r}")
    return unquote(value[len(prefix) :])


def _lit(t: _Terms, j: _Json, kind: str) -> str:
    term = t.value(j)
    if not isinstance(term, Lit) or term.datatype != f"{XSD}{kind}":
        raise j.fail(f"expected an xsd:{kind} value")
    return term.lexical


def _date_lit(t: _Terms, j: _Json) -> date:
    try:
        return date.fromisoformat(_lit(t, j, "date"))
    except ValueError:
        raise j.fail("not a valid xsd:date") from None


def odrl_to_grant(doc: Any) -> GrantTerms:
    """Read an Agreement written by :func:`grant_to_odrl` back into the grant's terms.

    Every permission must agree on what the grant model holds once (production, dates, duties);
    anything the grant model cannot express raises :class:`InvalidInput` naming the JSON path.
    """
    j = _Json(doc, "$")
    t = _Terms(_context_prefixes(j))
    if t.vocab(j.at("@type").string()) != f"{ODRL}Agreement":
        raise j.at("@type").fail("expected an ODRL Agreement")
    grant_id = _strip(GRANT, t.node(j.at("uid")), j.at("uid"))
    performer_id = _strip(PERFORMER, t.node(j.at("assigner")), j.at("assigner"))
    producer_id = _strip(PRODUCER, t.node(j.at("assignee")), j.at("assignee"))
    target = t.node(j.at("target"))
    if target.startswith(LIKENESS):
        if _strip(LIKENESS, target, j.at("target")) != performer_id:
            raise j.at("target").fail("a likeness target must be the assigner's own likeness")
        replica_id = None
    else:
        replica_id = _strip(ASSET, target, j.at("target"))
    scope = cast("Scope", j.at("ll:scope").choice(get_args(Scope)))
    signed_on = _date_lit(t, j.at("ll:signedOn"))
    valid_from = _date_lit(t, j.at("ll:validFrom")) if j.opt("ll:validFrom") is not None else None
    reviewed = j.opt("ll:reviewedAt")
    reviewed_at = None
    if reviewed is not None:
        reviewed_at = _Json(_lit(t, reviewed, "dateTime"), reviewed.path).timestamp()
    permissions = j.at("permission").items()
    if not permissions:
        raise j.at("permission").fail("an Agreement for a grant has one permission per use")
    per_use = [_read_permission(t, p, scope) for p in permissions]
    first = per_use[0]
    for p, read in zip(permissions[1:], per_use[1:], strict=True):
        for name in ("production_id", "starts_on", "expires_on", "compensation", "notify_union"):
            if getattr(read, name) != getattr(first, name):
                raise p.fail(f"{name} differs from permission[0]; a grant holds one for all its uses")
    starts_on = max(signed_on, valid_from) if valid_from else signed_on
    if first.starts_on != starts_on:
        raise permissions[0].fail(
            f"dateTime gteq {first.starts_on.isoformat()} does not match the grant's first day {starts_on.isoformat()}"
        )
    try:
        return GrantTerms(
            id=grant_id,
            performer_id=performer_id,
            producer_id=producer_id,
            replica_id=replica_id,
            production_id=first.production_id,
            scope=scope,
            uses=tuple((r.key, r.description) for r in per_use),
            specific=j.at("ll:specific").boolean(),
            reviewer=j.opt_string("ll:reviewer"),
            reviewed_at=reviewed_at,
            separately_signed=j.at("ll:separatelySigned").boolean(),
            signed_by=cast("SignedBy", j.at("ll:signedBy").choice(get_args(SignedBy))),
            signed_on=signed_on,
            valid_from=valid_from,
            expires_on=first.expires_on,
            representation=cast("Representation", j.at("ll:representation").choice(get_args(Representation))),
            document_sha256=j.opt_string("ll:documentSha256"),
            compensation=first.compensation,
            notify_union=first.notify_union,
        )
    except InvalidInput as exc:
        raise InvalidInput(f"$: {exc.message}") from exc


@dataclass(frozen=True, slots=True)
class _PermissionTerms:
    key: str
    description: str
    production_id: str
    starts_on: date
    expires_on: date | None
    compensation: Compensation | None
    notify_union: bool


def _read_permission(t: _Terms, p: _Json, scope: Scope) -> _PermissionTerms:
    action = t.vocab(p.at("action").string())
    wanted = f"{ODRL}use" if scope == "use" else CREATE_REPLICA
    if action != wanted:
        raise p.at("action").fail(f"a {scope} grant's permissions have action {wanted}, got {action}")
    for key in ("target", "assignee", "assigner"):
        if p.opt(key) is not None:
            raise p.at(key).fail("a grant's parties and target are set once, on the Agreement")
    found: dict[str, Any] = {}
    for c in p.at("constraint").items():
        left, operator = t.vocab(c.at("leftOperand").string()), t.vocab(c.at("operator").string())
        right = c.at("rightOperand")
        slot = {
            (PRODUCTION_OPERAND, f"{ODRL}eq"): "production",
            (f"{ODRL}purpose", f"{ODRL}eq"): "purpose",
            (f"{ODRL}dateTime", f"{ODRL}gteq"): "from",
            (f"{ODRL}dateTime", f"{ODRL}lteq"): "until",
        }.get((left, operator))
        if slot is None:
            raise c.fail(f"{left} {operator} has no place in a grant")
        if slot in found:
            raise c.fail(f"a second {left} {operator} constraint")
        if slot == "production":
            found[slot] = _strip(PRODUCTION, t.node(right), right)
        elif slot == "purpose":
            term = t.value(right)
            if not isinstance(term, Lit) or term.datatype is not None:
                raise right.fail("expected the use key as a plain string")
            found[slot] = term.lexical
        else:
            found[slot] = _date_lit(t, right)
    for slot, what in (("production", "ll:production eq"), ("purpose", "purpose eq"), ("from", "dateTime gteq")):
        if slot not in found:
            raise p.at("constraint").fail(f"missing the {what} constraint")
    compensation, notify_union = _read_duties(t, p.at("duty"))
    return _PermissionTerms(
        key=found["purpose"],
        description=p.at("ll:useDescription").string(),
        production_id=found["production"],
        starts_on=found["from"],
        expires_on=found.get("until"),
        compensation=compensation,
        notify_union=notify_union,
    )


def _read_duties(t: _Terms, duties: _Json) -> tuple[Compensation | None, bool]:
    compensation: Compensation | None = None
    compensates = False
    notify_union = False
    for d in duties.items():
        action_j = d.at("action")
        action, refinements = _action(t, action_j)
        if action == f"{ODRL}inform":
            if t.node(d.at("informedParty")) != UNION:
                raise d.at("informedParty").fail(f"expected {UNION}")
            notify_union = True
            continue
        if action != f"{ODRL}compensate":
            raise action_j.fail(f"{action} is not a duty a grant carries (compensate, inform)")
        if compensates:
            raise d.fail("a second compensate duty")
        compensates = True
        compensation = _read_compensation(t, d, refinements)
    if not compensates:
        raise duties.fail("missing the compensate duty")
    return compensation, notify_union


def _read_compensation(t: _Terms, d: _Json, refinements: tuple[AnyConstraint, ...]) -> Compensation | None:
    scale = d.opt_string("ll:scaleReference")
    try:
        if not refinements:
            currency = d.opt_string("ll:currency")
            if scale is None and currency is None:
                return None
            return Compensation(per_day=None, currency=currency or "USD", scale_reference=scale)
        (pay,) = refinements
        if not (
            isinstance(pay, Constraint)
            and pay.left_operand == f"{ODRL}payAmount"
            and pay.operator == f"{ODRL}eq"
            and isinstance(pay.right_operand[0], Lit)
            and pay.unit is not None
            and pay.unit.startswith(CURRENCY)
        ):
            raise d.at("action").fail("expected one refinement payAmount eq <amount> with a currency unit")
        if d.opt_string("ll:payPer") != "day":
            raise d.fail('ll:payPer: expected "day"')
        return Compensation(
            per_day=Decimal(pay.right_operand[0].lexical),
            currency=pay.unit.removeprefix(CURRENCY),
            scale_reference=scale,
        )
    except ValueError:
        raise d.at("action").fail("expected one payAmount refinement") from None
    except InvalidOperation:
        raise d.at("action").fail("payAmount is not a decimal amount") from None
    except InvalidInput as exc:
        if exc.message.startswith("$"):
            raise
        raise d.fail(exc.message) from exc


# --- asking the evaluator about a grant --------------------------------------------------------


def replica_request(
    *,
    producer_id: str,
    replica_id: str | None,
    performer_id: str,
    production_id: str,
    use: str,
    action: str = f"{ODRL}use",
    request_id: str = "urn:likeness-ledger:request",
) -> Request:
    """An evaluator request for a producer to act on a replica (or, with no replica, the likeness)."""
    target = _urn(ASSET, replica_id) if replica_id is not None else _urn(LIKENESS, performer_id)
    return Request(
        uid=request_id,
        rule_uid=f"{request_id}:permission",
        action=action,
        assignee=_urn(PRODUCER, producer_id),
        target=target,
        context={
            PRODUCTION_OPERAND: (Iri(_urn(PRODUCTION, production_id)),),
            f"{ODRL}purpose": (Lit(use),),
        },
    )
