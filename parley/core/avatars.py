"""Avatars drawn locally from a hash: no reader's browser ever asks another host for one."""

import hashlib
import hmac

from django.conf import settings

_PALETTE = ["#1f6f8b", "#99a8b2", "#e6a157", "#7a4069", "#2d6a4f", "#bc4749", "#6c757d", "#3a86ff"]


def avatar_hash(identity: str) -> str:
    """Keyed, so the avatar URL does not reveal (or let anyone confirm) a guest's e-mail."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, identity.strip().lower().encode(), hashlib.sha256).hexdigest()[:24]


def avatar_svg(digest: str) -> str:
    """A 5-by-5 mirrored identicon, the colour and pattern taken from the hash's bits."""
    bits = int(hashlib.sha256(digest.encode()).hexdigest(), 16)
    colour = _PALETTE[bits % len(_PALETTE)]
    bits >>= 3
    cells = []
    for row in range(5):
        for col in range(3):
            if bits & 1:
                for x in {col, 4 - col}:
                    cells.append(f'<rect x="{x * 8 + 4}" y="{row * 8 + 4}" width="8" height="8"/>')
            bits >>= 1
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 48" width="48" height="48">'
        f'<rect width="48" height="48" fill="#f1f3f5"/>'
        f'<g fill="{colour}">{"".join(cells)}</g></svg>'
    )
