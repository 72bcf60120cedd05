"""Transparency log primitives: RFC 6962/9162 Merkle trees, signed notes and checkpoints, receipts.

Everything in this package is pure computation (hashlib, ``cryptography``, ``rfc8785``); storage
and web layers build on it and never the other way round.
"""
