"""Structured files a user hands a command (an image spec): JSON or YAML, bounded like every JSON document.

JSON goes through `labkit._internal.jsonio` (size cap, nesting limit). YAML
is first read as a stream of parser events, which needs no recursion, so a
document nested deeper than `jsonio.MAX_DEPTH` or using aliases (which can
expand a small file into a huge structure) is refused before it is built.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from labkit._internal import jsonio
from labkit._internal.fsutil import open_for_reading
from labkit.errors import InputError

if TYPE_CHECKING:
    import yaml

__all__ = ["read_json_or_yaml"]


def read_json_or_yaml(path: str | Path, what: str) -> jsonio.JSONValue:
    """Read `path` as JSON, or as YAML when it is not JSON; one `InputError` for anything unbounded or malformed."""
    import yaml

    with open_for_reading(path, what) as fh:
        data = fh.read(jsonio.MAX_DOCUMENT_BYTES + 1)
    if len(data) > jsonio.MAX_DOCUMENT_BYTES:
        raise InputError(f"{what} {path} is larger than {jsonio.MAX_DOCUMENT_BYTES} bytes")
    if data.lstrip()[:1] in (b"{", b"["):
        try:
            return jsonio.loads(data, what=f"{what} {path}")
        except InputError:
            pass  # YAML flow style ({a: 1}) is not JSON; read it as YAML below
    try:
        _check_yaml_events(yaml.parse(data, Loader=yaml.SafeLoader), f"{what} {path}")
        value: jsonio.JSONValue = yaml.safe_load(data)
        return value
    except yaml.YAMLError as exc:
        raise InputError(f"{what} {path} is not JSON or YAML: {exc}") from None


def _check_yaml_events(events: Iterable[yaml.Event], what: str) -> None:
    import yaml

    depth = 0
    for event in events:
        if isinstance(event, yaml.AliasEvent):
            raise InputError(f"{what} uses a YAML alias; write the value out instead")
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > jsonio.MAX_DEPTH:
                raise InputError(f"{what} is nested more than {jsonio.MAX_DEPTH} levels deep")
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1
