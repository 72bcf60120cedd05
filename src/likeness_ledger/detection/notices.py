"""Takedown notices from findings, with the fields a valid notice needs under the NO FAKES Act drafts.

RULES.md 3.6 (2026-introduced text, section 2(d)(3); the Act is NOT enacted): a notice must contain
(A) a physical or electronic signature of the right holder, authorized agent or eligible plaintiff;
(B) identification of the individual; (C) identification of the material and information to locate
it; (D) contact information (address, phone, email); (E) a good-faith statement that the material is
unauthorized and that the statutory exclusions do not apply; (F) when the sender is not the right
holder, a statement of authority under penalty of perjury; (G) for links, information to identify
and locate the link. The document is a draft for the performer or representative to sign.
"""

from __future__ import annotations

import enum
import io
import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from likeness_ledger.accounts.models import Role
from likeness_ledger.accounts.services import Principal
from likeness_ledger.db import set_actor, utcnow
from likeness_ledger.detection import services
from likeness_ledger.detection.models import Notice
from likeness_ledger.errors import NotFound
from likeness_ledger.registry.models import Performer

BASIS = (
    "NO FAKES Act, 2026-introduced text (S.4591 / H.R.8915), section 2(d)(3) (A)-(G). "
    "Not enacted: this notice follows the draft's requirements and relies on applicable law."
)


class Capacity(enum.Enum):
    """In what capacity the sender signs (B: who they are to the individual)."""

    RIGHT_HOLDER = "right_holder"
    AUTHORIZED_AGENT = "authorized_agent"
    ELIGIBLE_PLAINTIFF = "eligible_plaintiff"


def is_link(location: str) -> bool:
    """Whether a material location is a web address (else a local path or label)."""
    return location.startswith(("http://", "https://"))


def build_notice(
    session: Session,
    principal: Principal,
    finding_id: uuid.UUID,
    *,
    signer_name: str,
    capacity: Capacity,
    address: str,
    phone: str,
    email: str,
    recipient: str | None = None,
    material_url: str | None = None,
) -> Notice:
    """Draft and store a notice for a finding the caller may see (performer side, union, admin)."""
    set_actor(session, principal.name)
    finding = services.get_finding(session, principal, finding_id)
    principal.require(Role.PERFORMER, Role.REPRESENTATIVE, Role.UNION, Role.ADMIN, action="draft takedown notice")
    performer = session.get(Performer, finding.performer_id)
    assert performer is not None
    location = material_url or finding.location
    who = performer.professional_name or performer.legal_name
    document: dict[str, Any] = {
        "kind": "takedown_notice",
        "basis": BASIS,
        "drafted_at": utcnow().isoformat(),
        "finding_id": str(finding.id),
        "recipient": recipient,
        "A_signature": {
            "name": signer_name,
            "capacity": capacity.value,
            "signature": None,
            "instruction": "sign physically, or electronically as /s/ followed by the signer's name",
        },
        "B_individual": {
            "legal_name": performer.legal_name,
            "professional_name": performer.professional_name,
            "union_member_id": performer.union_member_id,
            "registry_id": str(performer.id),
        },
        "C_material": {
            "location": location,
            "media": finding.media.value,
            "sha256": finding.media_sha256,
            "pdq": finding.pdq,
            "first_detected_at": finding.created_at.isoformat(),
            "matches": finding.matches,
            "description": (
                f"{finding.media.value} in which {who}'s {finding.modality.value} was identified "
                f"(similarity {finding.score:.3f}) and for which no consent or cleared use is on record"
            ),
        },
        "D_contact": {"address": address, "phone": phone, "email": email},
        "E_good_faith": (
            f"I have a good-faith belief that the material identified above is a digital replica of {who} "
            "that is not authorized by the right holder or the law, and that none of the exclusions of the "
            "Act (news, public affairs or sports broadcast; documentary, historical or biographical work; "
            "comment, criticism, scholarship, satire or parody; fleeting or negligible use; advertisement "
            "for such a work) applies to it."
        ),
        "F_authority": None
        if capacity is Capacity.RIGHT_HOLDER
        else (
            f"Under penalty of perjury, I, {signer_name}, am authorized to act on behalf of the right holder "
            f"of {who}'s voice and visual likeness."
        ),
        "G_link": {"url": location} if is_link(location) else None,
    }
    notice = Notice(finding_id=finding.id, document=document, created_by=principal.account_id)
    session.add(notice)
    session.flush()
    return notice


def get_notice(session: Session, principal: Principal, notice_id: uuid.UUID) -> Notice:
    """A stored notice, if the caller may see its finding."""
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise NotFound(f"notice {notice_id} not found")
    try:
        services.get_finding(session, principal, notice.finding_id)
    except NotFound:
        # Answered as the notice, so the finding's id is not revealed to someone who may not see it.
        raise NotFound(f"notice {notice_id} not found") from None
    return notice


def list_notices(
    session: Session,
    principal: Principal,
    finding_id: uuid.UUID,
    *,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[Notice], int]:
    """The notices drafted for a finding the caller may see, newest first, and how many there are in all."""
    finding = services.get_finding(session, principal, finding_id)  # NotFound names only the finding asked for
    where = Notice.finding_id == finding.id
    total = session.scalar(select(func.count()).select_from(Notice).where(where)) or 0
    query = select(Notice).where(where).order_by(Notice.created_at.desc(), Notice.id).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query)), total


def legal_name_is_member_id(document: dict[str, Any]) -> bool:
    """Whether field (B) gives the union member id as the legal name (a performer made by ``enroll --create``)."""
    b = document.get("B_individual") or {}
    member = b.get("union_member_id")
    return bool(member) and b.get("legal_name") == member


def render_text(notice_id: uuid.UUID, document: dict[str, Any]) -> str:
    """The notice as plain text for a terminal (the same fields as the PDF, ids in full)."""
    lines = [f"Takedown notice {notice_id} (draft: sign it before sending)"]
    if document.get("recipient"):
        lines.append(f"To: {document['recipient']}")
    lines.append(f"Drafted: {document['drafted_at']}    Reference: finding {document['finding_id']}")
    b = document["B_individual"]
    professional = f" (professionally {b['professional_name']})" if b.get("professional_name") else ""
    lines += ["", "(B) Individual", f"  {b['legal_name']}{professional}"]
    if b.get("union_member_id"):
        lines.append(f"  Union member id: {b['union_member_id']}")
    if b.get("registry_id"):
        lines.append(f"  Registry id: {b['registry_id']}")
    c = document["C_material"]
    lines += ["", "(C) Material", f"  {c['description']}", f"  Location: {c['location']}", f"  SHA-256: {c['sha256']}"]
    if document.get("G_link"):
        lines += ["", "(G) Link", f"  URL: {document['G_link']['url']}"]
    d = document["D_contact"]
    lines += ["", "(D) Contact", f"  {d['address']} | {d['phone']} | {d['email']}"]
    lines += ["", "(E) Statement of good faith", f"  {document['E_good_faith']}"]
    if document.get("F_authority"):
        lines += ["", "(F) Statement of authority", f"  {document['F_authority']}"]
    a = document["A_signature"]
    lines += ["", "(A) Signature", f"  {a['name']}, {a['capacity'].replace('_', ' ')}: not signed yet"]
    return "\n".join(lines)


def render_pdf(document: dict[str, Any]) -> bytes:
    """The notice as a PDF, with a signature line, for the sender to sign."""
    from xml.sax.saxutils import escape  # noqa: PLC0415

    from reportlab.lib.pagesizes import LETTER  # noqa: PLC0415 - only needed for PDFs
    from reportlab.lib.styles import getSampleStyleSheet  # noqa: PLC0415
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer  # noqa: PLC0415

    styles = getSampleStyleSheet()
    body, head = styles["BodyText"], styles["Heading3"]
    out = io.BytesIO()
    story: list[Any] = [Paragraph("Notice of unauthorized digital replica", styles["Title"])]

    def para(text: str, style: Any = body) -> None:
        story.append(Paragraph(escape(text), style))

    if document.get("recipient"):
        para(f"To: {document['recipient']}")
    para(f"Date: {document['drafted_at'][:10]}    Reference: finding {document['finding_id']}")
    para(document["basis"], styles["Italic"])
    b = document["B_individual"]
    para("(B) Individual", head)
    para(f"{b['legal_name']}" + (f" (professionally {b['professional_name']})" if b["professional_name"] else ""))
    if b["union_member_id"]:
        para(f"Union member id: {b['union_member_id']}")
    if b.get("registry_id"):
        para(f"Registry id: {b['registry_id']}")
    c = document["C_material"]
    para("(C) Material", head)
    para(c["description"])
    para(f"Location: {c['location']}")
    para(f"SHA-256: {c['sha256']}")
    if c.get("pdq"):
        para(f"PDQ fingerprint: {c['pdq']}")
    for m in c["matches"]:
        where = f"box {m['box']}" if "box" in m else f"{m.get('start')}s to {m.get('end')}s"
        para(f"- {m['modality']} match, similarity {m['score']}, {where}")
    if document.get("G_link"):
        para("(G) Link", head)
        para(f"URL: {document['G_link']['url']}")
    d = document["D_contact"]
    para("(D) Contact", head)
    para(f"{d['address']} | {d['phone']} | {d['email']}")
    para("(E) Statement of good faith", head)
    para(document["E_good_faith"])
    if document.get("F_authority"):
        para("(F) Statement of authority", head)
        para(document["F_authority"])
    a = document["A_signature"]
    para("(A) Signature", head)
    story.append(Spacer(1, 24))
    para("_______________________________________    Date: ______________")
    para(f"{a['name']}, {a['capacity'].replace('_', ' ')}")
    SimpleDocTemplate(out, pagesize=LETTER, title="Takedown notice").build(story)
    return out.getvalue()
