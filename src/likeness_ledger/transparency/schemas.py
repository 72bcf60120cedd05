"""API shapes of the transparency log: receipts as JSON."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from likeness_ledger.transparency.receipts import Receipt


class ReceiptOut(BaseModel):
    """A receipt: the event, its leaf index, the inclusion proof and the signed checkpoint it leads to.

    Save it as JSON and check it offline with ``likeness verify RECEIPT --key LOG_KEY``.
    """

    checkpoint: str = Field(description="signed checkpoint note (c2sp.org/tlog-checkpoint)")
    event: dict[str, Any] = Field(description="the logged event, hashed as RFC 8785 canonical JSON")
    inclusion_proof: list[str] = Field(description="RFC 9162 inclusion proof, lower-case hex hashes")
    leaf_index: int = Field(ge=0)
    tree_size: int = Field(ge=1)

    @classmethod
    def of(cls, receipt: Receipt) -> ReceiptOut:
        """The API form of a receipt."""
        return cls.model_validate(receipt.to_dict())
