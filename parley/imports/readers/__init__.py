"""One module per format, each with `read(source, meter, options)` yielding records."""

from importlib import import_module

from parley.imports.records import Reader

FORMATS = ("disqus", "wxr", "wpdiscuz", "isso", "parley")


def reader_for(format_name: str) -> Reader:
    reader: Reader = import_module(f"parley.imports.readers.{format_name}").read
    return reader
