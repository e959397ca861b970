"""Smaller copies of article images, so a phone does not download a 1600-pixel map."""

from io import BytesIO
from pathlib import PurePosixPath

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from .models import Figure

WIDTHS = (480, 960)


def rendition_name(figure: Figure, width: int) -> str:
    path = PurePosixPath(figure.image.name or "")
    return str(path.with_name(f"{path.stem}-{width}w.webp"))


def make_renditions(figure: Figure) -> None:
    with figure.image.open("rb") as original, Image.open(original) as image:
        image.load()
        for width in WIDTHS:
            name = rendition_name(figure, width)
            if width >= image.width or default_storage.exists(name):
                continue
            copy = image.convert("RGB")
            copy.thumbnail((width, width * image.height // image.width))
            buffer = BytesIO()
            copy.save(buffer, "WEBP", quality=80)
            default_storage.save(name, ContentFile(buffer.getvalue()))


def srcset(figure: Figure) -> str:
    """`srcset` of the renditions that exist, the original last."""
    entries = [
        f"{default_storage.url(rendition_name(figure, w))} {w}w"
        for w in WIDTHS
        if w < figure.width and default_storage.exists(rendition_name(figure, w))
    ]
    entries.append(f"{figure.image.url} {figure.width}w")
    return ", ".join(entries)
