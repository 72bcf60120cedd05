r"""RFC 8785 (JCS) canonical JSON, with a fast path for the plain events the log appends.

:func:`canonical_json` returns exactly ``rfc8785.dumps(value)``. For values built only from
objects with ASCII keys, strings, integers within ±(2^53 - 1), booleans, null and arrays,
``orjson`` with sorted keys writes the same bytes (compact, UTF-8, and the escapes it uses for
``"``, ``\`` and control characters are the ones RFC 8785 prescribes; ASCII keys sort the same
by byte as by UTF-16 code unit), over ten times faster than the pure-Python ``rfc8785``
package. Anything else (floats, whose shortest form differs between the two, non-ASCII keys,
lone surrogates, big integers) takes the reference encoder, so the output never differs; a
property test holds the two to the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

import orjson
import rfc8785

__all__ = ["canonical_json"]

_MAX_SAFE_INT: Final = 2**53 - 1
_SORTED: Final = orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER


def _plain(value: Any) -> bool:
    """True if ``value`` holds only what the standard encoder writes exactly as RFC 8785 does."""
    # Iterative, not recursive, and only containers go on the stack: this runs once per logged
    # event, so it must cost little (a few hundred nanoseconds for a dozen values).
    stack = [value] if type(value) is dict or type(value) is list else [[value]]
    pop, push = stack.pop, stack.append
    while stack:
        item = pop()
        children: Iterable[Any] = item
        if type(item) is dict:
            try:
                if not "".join(item).isascii():  # joining also refuses any key that is not a str
                    return False
            except TypeError:
                return False
            children = item.values()
        for child in children:
            kind = type(child)
            if kind is str or child is None or kind is bool:
                continue
            if kind is int:
                if not -_MAX_SAFE_INT <= child <= _MAX_SAFE_INT:
                    return False
            elif kind is dict or kind is list:
                push(child)
            else:
                return False
    return True


def canonical_json(value: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 encoding of ``value``.

    Raises ``rfc8785.CanonicalizationError`` (via the reference encoder) for values RFC 8785
    cannot represent.
    """
    if _plain(value):
        try:
            return orjson.dumps(value, option=_SORTED)
        except orjson.JSONEncodeError:
            pass  # a lone surrogate: let the reference encoder give its own answer
    return rfc8785.dumps(value)
