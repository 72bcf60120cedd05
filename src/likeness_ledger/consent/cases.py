"""The ``likeness-case/1`` clearance case: a typed, validated model and its loaders.

The format is defined in ``shared/cases/FORMAT.md``. It is closed: every object refuses fields the
format does not define, except ``expect``, which the engine ignores and only tests read. Dates and
timestamps are parsed; money stays a decimal string on the wire and becomes a
:class:`~decimal.Decimal` here. Invariants that span fields (the request names the case's replica,
an ``alter`` names its alteration, ...) are checked when a :class:`Case` is built, so an engine
never sees an impossible case.

Loading errors are :class:`~likeness_ledger.errors.InvalidInput` whose message names the file and
the field, e.g. ``cases/x.json: request.on: invalid date 'tomorrow'``.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from likeness_ledger.errors import InvalidInput

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

FORMAT: Final = "likeness-case/1"

AgreementId = Literal[
    "sag-aftra-tv-theatrical-2023",
    "sag-aftra-tv-theatrical-2026",
    "sag-aftra-interactive-2025",
    "sag-aftra-commercials-2025",
]
Category = Literal["background", "principal"]
Action = Literal["create", "use", "alter"]
AlterationKind = Literal[
    "cosmetic",
    "wardrobe",
    "noise_reduction",
    "timing",
    "continuity",
    "pitch_tone",
    "vfx_filter",
    "standards_practices",
    "ratings",
    "dialogue_adjustment",
    "substantive",
]
Signer = Literal["performer", "authorized_representative", "union"]
Representation = Literal["union", "counsel", "none"]

_MONEY_DIGITS: Final = frozenset("0123456789")


def _money(value: object) -> Decimal:
    # Strings only: a JSON number would already have passed through a binary fraction.
    if not isinstance(value, str):
        raise PydanticCustomError(
            "money_type", "expected a decimal string like '208.00', got {value}", {"value": value}
        )
    whole, _, cents = value.partition(".")
    if not whole or set(whole) - _MONEY_DIGITS or set(cents) - _MONEY_DIGITS or len(cents) > 2:
        raise PydanticCustomError(
            "money_format",
            "invalid amount {value}: expected digits with up to 2 decimals",
            {"value": repr(value)},
        )
    if "." in value and not cents:
        raise PydanticCustomError(
            "money_format",
            "invalid amount {value}: expected digits with up to 2 decimals",
            {"value": repr(value)},
        )
    return Decimal(value)


def _utc(moment: datetime) -> datetime:
    # A timestamp without an offset is read as UTC so the 48-hour notice arithmetic never mixes
    # naive and aware values; the format's examples all use "Z".
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


Money = Annotated[Decimal, BeforeValidator(_money)]
Timestamp = Annotated[datetime, AfterValidator(_utc)]
Key = Annotated[StrictStr, Field(min_length=1)]


class _Closed(BaseModel):
    """Base for the closed objects of the format: unknown fields are errors; values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Performer(_Closed):
    """The person whose likeness the replica is."""

    id: Key
    category: Category
    born: date | None = None
    died: date | None = None
    daily_rate: Money | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> Performer:
        if self.born is not None and self.died is not None and self.died < self.born:
            raise _invariant("died", f"{self.died.isoformat()} is before born")
        return self


class Replica(_Closed):
    """A digital replica of the performer (RULES.md §1.1 definitions)."""

    id: Key
    kind: Literal["employment_based", "independently_created"]
    media: Annotated[list[Literal["face", "body", "voice"]], Field(min_length=1)]
    created_for: Key | None = None
    created_on: date


class Production(_Closed):
    """A picture, programme, commercial or game the case mentions."""

    title: StrictStr
    producer: StrictStr
    type: Literal["theatrical", "television", "commercial", "video_game"]


class Use(_Closed):
    """One described use in a consent: a key requests refer to, and its description."""

    key: Key
    description: StrictStr


class Consent(_Closed):
    """A consent on file: to the creation of a replica or to its use in one production."""

    id: Key
    scope: Literal["creation", "use"]
    replica: Key | None = None
    production: Key
    uses: list[Use]
    specific: StrictBool
    separately_signed: StrictBool
    signed_by: Signer
    signed_on: date
    valid_from: date | None = None
    expires_on: date | None = None
    revoked_on: date | None = None
    representation: Representation

    @model_validator(mode="after")
    def _window_in_order(self) -> Consent:
        if self.valid_from is not None and self.expires_on is not None and self.expires_on < self.valid_from:
            raise _invariant("expires_on", f"{self.expires_on.isoformat()} is before valid_from")
        return self


class EngagedFact(_Closed):
    """When the performer was engaged (hired) for the production."""

    type: Literal["engaged"]
    at: Timestamp


class ScanNoticeFact(_Closed):
    """When the producer notified the performer of the scan."""

    type: Literal["scan_notice"]
    at: Timestamp


class ScanScheduledFact(_Closed):
    """When the scan is (or was) held; ``scan_only_call`` when the call is for the scan alone."""

    type: Literal["scan_scheduled"]
    at: Timestamp
    scan_only_call: StrictBool = False


class StrikeFact(_Closed):
    """A strike under an agreement, from ``from`` to ``to`` inclusive (``to`` null: ongoing)."""

    model_config = ConfigDict(populate_by_name=True)

    type: Literal["strike"]
    agreement: AgreementId
    start: date = Field(alias="from")
    end: date | None = Field(default=None, alias="to")

    @model_validator(mode="after")
    def _period_in_order(self) -> StrikeFact:
        if self.end is not None and self.end < self.start:
            raise _invariant("to", f"{self.end.isoformat()} is before from")
        return self


Fact = Annotated[EngagedFact | ScanNoticeFact | ScanScheduledFact | StrikeFact, Field(discriminator="type")]
_FACT_TAGS: Final = frozenset({"engaged", "scan_notice", "scan_scheduled", "strike"})


class Request(_Closed):
    """What a party asks to do: create a replica, use it, or alter recorded material."""

    action: Action
    replica: Key | None = None
    production: Key
    use: Key | None = None
    on: date
    role: Category
    estimated_days: Annotated[StrictInt, Field(ge=0)] | None = None
    replaces_in_person_work: StrictBool
    alteration: AlterationKind | None = None

    @model_validator(mode="after")
    def _action_fields(self) -> Request:
        if self.action == "alter" and self.alteration is None:
            raise _invariant("alteration", "required for action 'alter'")
        if self.action != "alter" and self.alteration is not None:
            raise _invariant("alteration", f"must be null for action {self.action!r}")
        if self.action == "use" and self.use is None:
            raise _invariant("use", "required for action 'use'")
        if self.action in ("use", "alter") and self.replica is None:
            raise _invariant("replica", f"required for action {self.action!r}")
        return self


class RateRow(_Closed):
    """A case's own scale minimum, overriding the built-in table for its series."""

    agreement: AgreementId
    category: Category
    per: Literal["day", "week"]
    amount: Money
    effective: date


class Expect(BaseModel):
    """The answer a case's author expects; the engine ignores it, tests compare with it."""

    # Open on purpose: the engine never reads it, so an extra note in it must not make an
    # otherwise valid case unreadable.
    model_config = ConfigDict(extra="allow", frozen=True)

    decision: Literal["allow", "deny"]
    reasons: list[StrictStr] = Field(default_factory=list)
    payment_total: StrictStr | None = None


class Case(_Closed):
    """One ``likeness-case/1`` clearance case.

    Build it with :func:`parse_case`, :func:`load_case` or ``Case.model_validate``; all of them
    check the cross-field invariants below, so a built case is always consistent.
    """

    format: Literal["likeness-case/1"]
    id: Annotated[StrictStr, Field(pattern=r"^[a-z0-9-]+$")]
    title: StrictStr
    as_of: date
    jurisdiction: Annotated[StrictStr, Field(pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")] | None = None
    agreement: AgreementId | None = None
    performer: Performer
    replica: Replica | None = None
    productions: dict[str, Production]
    consents: list[Consent]
    facts: list[Fact] = Field(default_factory=list)
    request: Request
    rates: list[RateRow] = Field(default_factory=list)
    expect: Expect | None = None

    # The clearance engine's precomputed view of the case. The case is frozen, so the view can
    # only go stale through model_copy, which clears it.
    _compiled: Any = PrivateAttr(default=None)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """Copy the case; the engine's precomputed view is dropped and rebuilt on first use."""
        copy = super().model_copy(update=update, deep=deep)
        copy._compiled = None
        return copy

    @model_validator(mode="after")
    def _references(self) -> Case:
        request = self.request
        if request.production not in self.productions:
            raise _invariant("request.production", f"{request.production!r} is not in productions")
        if request.action in ("use", "alter") and self.replica is None:
            raise _invariant("replica", f"required for action {request.action!r}")
        if self.replica is not None and request.replica is not None and request.replica != self.replica.id:
            raise _invariant("request.replica", f"{request.replica!r} is not the case's replica {self.replica.id!r}")
        seen: set[str] = set()
        for index, consent in enumerate(self.consents):
            if consent.id in seen:
                raise _invariant(f"consents[{index}].id", f"duplicate consent id {consent.id!r}")
            seen.add(consent.id)
        # Compile for the engine while the case is built, so clear() never pays for it: it is
        # benchmarked in-process at 50,000 decisions a second. Imported here because the engine
        # imports this module.
        from likeness_ledger.consent.clearance import precompile  # noqa: PLC0415

        self._compiled = precompile(self)
        return self


def _invariant(field: str, what: str) -> PydanticCustomError:
    # The field travels in the error's context so the loader can name it, whatever level of the
    # model raised it.
    return PydanticCustomError("case_invariant", "{what}", {"field": field, "what": what})


def parse_case(data: object, *, source: str = "<case>") -> Case:
    """Validate already-decoded JSON as a case; errors name ``source`` and the field."""
    try:
        return Case.model_validate(data)
    except ValidationError as error:
        lines = [f"{source}: {_describe(detail)}" for detail in error.errors()]
        raise InvalidInput(lines[0], errors=lines) from None


def load_case(path: Path | str) -> Case:
    """Read and validate one case file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InvalidInput(f"{path}: cannot read: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{path}: not UTF-8 text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(f"{path}: invalid JSON: {error.msg} at line {error.lineno} column {error.colno}") from None
    return parse_case(data, source=str(path))


def case_files(paths: Path | str | Iterable[Path | str]) -> list[Path]:
    """Expand files and folders (recursively, ``*.json``, sorted) into case files, in order."""
    files: list[Path] = []
    for item in map(Path, [paths] if isinstance(paths, (str, Path)) else paths):
        if item.is_dir():
            files.extend(sorted(p for p in item.rglob("*.json") if p.is_file()))
        elif item.exists():
            files.append(item)
        else:
            raise InvalidInput(f"{item}: no such file or folder")
    return files


def load_cases(paths: Path | str | Iterable[Path | str]) -> list[tuple[Path, Case]]:
    """Load every case under ``paths``; if any is invalid, raise one error listing them all."""
    loaded: list[tuple[Path, Case]] = []
    problems: list[str] = []
    for path in case_files(paths):
        try:
            loaded.append((path, load_case(path)))
        except InvalidInput as error:
            problems.extend(error.errors)
    if problems:
        raise InvalidInput(problems[0], errors=problems)
    return loaded


def _describe(detail: Any) -> str:
    """Render one pydantic error as ``field: what``."""
    kind: str = detail["type"]
    ctx: dict[str, Any] = detail.get("ctx") or {}
    value = detail.get("input")
    if kind == "case_invariant":
        prefix = _field_path(detail["loc"])
        field = ctx["field"]
        return f"{prefix + '.' if prefix else ''}{field}: {ctx['what']}"
    field = _field_path(detail["loc"]) or "(case)"
    if kind.startswith("date_"):
        what = f"invalid date {value!r}"
    elif kind.startswith("datetime_"):
        what = f"invalid timestamp {value!r}"
    elif kind == "missing":
        what = "required field is missing"
    elif kind == "extra_forbidden":
        what = "unknown field (the format is closed)"
    elif kind == "literal_error":
        what = f"{value!r} is not one of {ctx.get('expected')}"
    elif kind == "string_pattern_mismatch":
        what = f"{value!r} does not match {ctx.get('pattern')}"
    elif kind == "union_tag_invalid":
        what = f"unknown fact type {ctx.get('tag')!r} (expected {ctx.get('expected_tags')})"
    elif kind in ("model_type", "dict_type") and field == "(case)":
        what = "expected a JSON object"
    else:
        what = str(detail["msg"])
    return f"{field}: {what}"


def _field_path(loc: tuple[int | str, ...]) -> str:
    """Turn a pydantic location into ``consents[0].signed_on`` form."""
    parts: list[str] = []
    previous_index = False
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
            previous_index = True
            continue
        # pydantic puts the discriminator's tag after a union member's index; the reader of an
        # error wants facts[1].at, not facts[1].scan_notice.at.
        if previous_index and part in _FACT_TAGS and parts[:1] == ["facts"]:
            previous_index = False
            continue
        parts.append(part if not parts else f".{part}")
        previous_index = False
    return "".join(parts)
