"""Replica vault blob layer: encrypted, content-addressed storage of likeness replicas.

:class:`BlobStore` stores and streams blobs; :class:`MasterKey` holds the key that wraps each
blob's data key. Who may read which digest is decided by the database layer on top.
"""

from likeness_ledger.vault.errors import (
    BlobNotFound,
    DigestMismatch,
    KeyFileError,
    TruncatedUpload,
    UploadSizeMismatch,
    UploadTooLarge,
    VaultIntegrityError,
)
from likeness_ledger.vault.keys import MasterKey
from likeness_ledger.vault.store import BlobInfo, BlobReader, BlobStore

__all__ = [
    "BlobInfo",
    "BlobNotFound",
    "BlobReader",
    "BlobStore",
    "DigestMismatch",
    "KeyFileError",
    "MasterKey",
    "TruncatedUpload",
    "UploadSizeMismatch",
    "UploadTooLarge",
    "VaultIntegrityError",
]
