"""Likeness Ledger: consent, vault, rules and transparency for performers' digital likenesses."""

__version__ = "0.1.0"
