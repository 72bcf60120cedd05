"""Transparency log: RFC 6962/9162 Merkle trees, signed notes and checkpoints, receipts.

``merkle``, ``checkpoint`` and ``receipts`` are pure computation (hashlib, ``cryptography``,
``rfc8785``) so a third party can verify receipts with them alone; ``models`` and ``log`` persist the
log in the database and build on the pure modules, never the other way round.
"""
