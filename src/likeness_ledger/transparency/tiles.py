"""The C2SP tlog-tiles layout (https://c2sp.org/tlog-tiles) over the stored log.

A tile at level ``L`` and index ``N`` holds ``W`` (1..256) consecutive hashes at tree level
``8·L``, starting at ``N·256``: level-0 tiles are leaf hashes, a level-1 tile the roots of
256-leaf subtrees, and so on. Entry bundles (``tile/entries/N``) hold the logged data of the
leaves of the level-0 tile with the same index, each as a big-endian uint16 length and the bytes
(here: the event's RFC 8785 canonical JSON, whose ``leaf_hash`` is the leaf). Indices are written
as zero-padded 3-digit path elements, all but the last prefixed with ``x``: 1234067 is
``x001/x234/067``. A tile or bundle narrower than 256 is *partial* and its path ends ``.p/W``.

Everything here reads only complete subtrees, which never change once stored, so a tile once
served is served identically forever.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from sqlalchemy.orm import Session

from likeness_ledger.errors import IntegrityFailure, InvalidInput, NotFound
from likeness_ledger.transparency import log

__all__ = [
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "TileRef",
    "encode_index",
    "entry_bundle",
    "hash_tile",
    "parse_index",
    "parse_tile_path",
    "split_bundle",
    "tile_path",
]

TILE_HEIGHT: Final = 8
TILE_WIDTH: Final = 1 << TILE_HEIGHT
_MAX_LEVEL: Final = 63
_ELEMENT: Final = re.compile(r"x?[0-9]{3}", re.ASCII)
_DECIMAL: Final = re.compile(r"0|[1-9][0-9]*", re.ASCII)
_MAX_ENTRY: Final = 0xFFFF


@dataclass(frozen=True)
class TileRef:
    """A parsed tile path: ``level`` (None for an entry bundle), ``index`` and ``width`` (256 when full)."""

    level: int | None
    index: int
    width: int

    @property
    def is_entries(self) -> bool:
        """True for an entry bundle (``tile/entries/...``)."""
        return self.level is None


def encode_index(index: int) -> str:
    """Encode a tile index as tlog-tiles path elements: 5 -> ``005``, 1234067 -> ``x001/x234/067``."""
    if index < 0:
        raise ValueError(f"tile index: expected >= 0, got {index}")
    groups = [f"{index % 1000:03d}"]
    index //= 1000
    while index:
        groups.append(f"x{index % 1000:03d}")
        index //= 1000
    return "/".join(reversed(groups))


def parse_index(text: str) -> int:
    """Parse tlog-tiles index path elements strictly; raise :class:`InvalidInput` naming the problem."""
    parts = text.split("/")
    value = 0
    for position, part in enumerate(parts):
        last = position == len(parts) - 1
        if not _ELEMENT.fullmatch(part) or part.startswith("x") == last:
            raise InvalidInput(
                f"tile index: expected 3-digit elements, all but the last prefixed with 'x', got {text!r}"
            )
        value = value * 1000 + int(part.removeprefix("x"))
    if len(parts) > 1 and parts[0] == "x000":
        raise InvalidInput(f"tile index: expected no leading x000 element, got {text!r}")
    return value


def tile_path(ref: TileRef) -> str:
    """The path of a tile below the log prefix, e.g. ``tile/0/x001/234.p/17`` or ``tile/entries/005``."""
    level = "entries" if ref.level is None else str(ref.level)
    suffix = "" if ref.width == TILE_WIDTH else f".p/{ref.width}"
    return f"tile/{level}/{encode_index(ref.index)}{suffix}"


def parse_tile_path(rest: str) -> TileRef:
    """Parse what follows ``tile/``: ``<L>/<N>[.p/<W>]`` or ``entries/<N>[.p/<W>]``."""
    level_text, _, tail = rest.partition("/")
    level: int | None
    if level_text == "entries":
        level = None
    elif _DECIMAL.fullmatch(level_text) and int(level_text) <= _MAX_LEVEL:
        level = int(level_text)
    else:
        raise InvalidInput(f"tile level: expected 'entries' or a decimal 0..{_MAX_LEVEL}, got {level_text!r}")
    width = TILE_WIDTH
    if ".p/" in tail:
        tail, _, width_text = tail.partition(".p/")
        if not _DECIMAL.fullmatch(width_text) or not 1 <= int(width_text) < TILE_WIDTH:
            raise InvalidInput(f"tile width: expected a decimal 1..{TILE_WIDTH - 1}, got {width_text!r}")
        width = int(width_text)
    return TileRef(level=level, index=parse_index(tail), width=width)


def hash_tile(session: Session, ref: TileRef, tree_size: int) -> bytes:
    """The bytes of a hash tile: ``width`` 32-byte hashes; :class:`NotFound` beyond ``tree_size``."""
    if ref.level is None:
        raise InvalidInput("tile level: an entry bundle is not a hash tile")
    level = ref.level * TILE_HEIGHT
    start = ref.index * TILE_WIDTH
    if (start + ref.width) << level > tree_size:
        raise NotFound(f"{tile_path(ref)}: the log of {tree_size} leaves has no such tile")
    return b"".join(log.stored_hashes(session, level, start, ref.width))


def entry_bundle(session: Session, ref: TileRef, tree_size: int) -> bytes:
    """The bytes of an entry bundle: each entry as a big-endian uint16 length and the event's canonical JSON."""
    start = ref.index * TILE_WIDTH
    if start + ref.width > tree_size:
        raise NotFound(f"{tile_path(ref)}: the log of {tree_size} leaves has no such entry bundle")
    out = bytearray()
    for offset, entry in enumerate(log.stored_events(session, start, ref.width)):
        if len(entry) > _MAX_ENTRY:
            # The bundle format cannot carry it; the leaf is still provable through receipts.
            raise IntegrityFailure(f"leaf {start + offset}: {len(entry)}-byte event exceeds the 65535-byte entry limit")
        out += len(entry).to_bytes(2, "big") + entry
    return bytes(out)


def split_bundle(data: bytes) -> list[bytes]:
    """Split an entry bundle into its entries (for monitors); raise :class:`InvalidInput` if truncated."""
    entries: list[bytes] = []
    position = 0
    while position < len(data):
        if position + 2 > len(data):
            raise InvalidInput(f"entry bundle: truncated length at byte {position}")
        length = int.from_bytes(data[position : position + 2], "big")
        position += 2
        if position + length > len(data):
            raise InvalidInput(f"entry bundle: entry at byte {position - 2} runs past the end")
        entries.append(data[position : position + length])
        position += length
    return entries
