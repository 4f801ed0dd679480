"""A small, strict subset of CUE for ClusterImagePolicy attestation policies.

policy-controller evaluates ``policy: {type: cue, data: ...}`` by unifying the
CUE text with the attestation's in-toto statement. The policies people write
are mostly nested fields with literal values and simple bounds::

    predicateType: "https://cosign.sigstore.dev/attestation/v1"
    predicate: Data: "reviewed"
    predicate: {
        buildDefinition: buildType: =~"^https://labkit.dev/"
        runDetails: builder: id: "https://labkit.dev/builder/lab" | "https://ci.lab/builder"
    }
    predicate: metadata: score: >=5 & <=10

That subset is what labkit evaluates: fields (``a: b: value`` or ``a: {...}``),
string/number/bool/null literals, ``=~``/``!~`` regular expressions,
``!=``, ``<``, ``<=``, ``>``, ``>=``, conjunctions ``&`` and disjunctions ``|``,
and ``//`` comments. Anything else — imports, definitions, comprehensions,
references, lists — is refused with `PolicyError`, never skipped.

One deliberate difference: a field the policy constrains must be present in
the statement. (CUE unification would fill a missing field in with the
policy's own literal and pass; an admission check should not.)
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from labkit._internal.jsonio import JSONValue
from labkit.errors import PolicyError

__all__ = ["compile_cue"]

_TOKEN = re.compile(
    r"""(?P<ws>[ \t\r]+)|(?P<comment>//[^\n]*)|(?P<nl>\n)|(?P<string>"(?:[^"\\\n]|\\.)*")"""
    r"""|(?P<number>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)"""
    r"""|(?P<op>=~|!~|!=|<=|>=|<|>)|(?P<punct>[:{},&|])|(?P<ident>[A-Za-z_$][A-Za-z0-9_$-]*)|(?P<other>.)"""
)


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    line: int


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    line = 1
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "other"
        value = m.group()
        if kind in ("ws", "comment"):
            continue
        if kind == "nl":
            out.append(_Tok("sep", "\n", line))
            line += 1
            continue
        if kind == "other":
            raise PolicyError(f"CUE policy: unsupported character {value!r} at line {line}",
                              hint="labkit evaluates a small CUE subset: fields, literals, =~, comparisons, & and |.")
        if kind == "punct" and value == ",":
            out.append(_Tok("sep", ",", line))
            continue
        out.append(_Tok(kind, value, line))
    out.append(_Tok("eof", "", line))
    return out


@dataclass(frozen=True)
class _Cmp:
    op: str  # "==", "!=", "=~", "!~", "<", "<=", ">", ">="
    value: Any

    def holds(self, actual: JSONValue) -> bool:
        if self.op == "==":
            return type(actual) is type(self.value) and bool(actual == self.value) or (
                isinstance(actual, (int, float)) and isinstance(self.value, (int, float))
                and not isinstance(actual, bool) and not isinstance(self.value, bool) and actual == self.value)
        if self.op == "!=":
            return not _Cmp("==", self.value).holds(actual)
        if self.op in ("=~", "!~"):
            if not isinstance(actual, str):
                return False
            found = re.search(str(self.value), actual) is not None
            return found if self.op == "=~" else not found
        if isinstance(actual, bool) or not isinstance(actual, (int, float, str)):
            return False
        if isinstance(actual, str) != isinstance(self.value, str):
            return False
        return bool({"<": actual < self.value, "<=": actual <= self.value,
                     ">": actual > self.value, ">=": actual >= self.value}[self.op])

    def describe(self) -> str:
        return json.dumps(self.value) if self.op == "==" else f"{self.op}{json.dumps(self.value)}"


# A value is a struct (dict of label -> value) or a disjunction of conjunctions of comparisons.
_Value = dict[str, Any] | tuple[tuple[_Cmp, ...], ...]


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        t = self.toks[self.i]
        self.i += 1
        return t

    def fail(self, what: str) -> PolicyError:
        t = self.peek()
        shown = "end of text" if t.kind == "eof" else repr(t.text)
        return PolicyError(f"CUE policy: {what} at line {t.line} (found {shown})",
                           hint="labkit evaluates a small CUE subset: fields, literals, =~, comparisons, & and |; "
                                "imports, definitions, references and lists are not supported.")

    def skip_seps(self) -> None:
        while self.peek().kind == "sep":
            self.i += 1

    def fields(self, closing: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        self.skip_seps()
        while not (self.peek().kind == closing or (closing == "}" and self.peek().text == "}")):
            label, value = self.field()
            _merge(out, label, value)
            if self.peek().kind == "sep":
                self.skip_seps()
            elif not (self.peek().kind == closing or self.peek().text == "}"):
                raise self.fail("expected a new line or ',' after a field")
        return out

    def label(self) -> str:
        t = self.take()
        if t.kind == "ident":
            if t.text in ("import", "package", "let", "for", "if"):
                raise PolicyError(f"CUE policy: '{t.text}' is not supported (line {t.line})",
                                  hint="labkit evaluates fields with literal constraints only.")
            return t.text
        if t.kind == "string":
            return str(json.loads(t.text))
        self.i -= 1
        raise self.fail("expected a field name")

    def field(self) -> tuple[str, Any]:
        if self.peek().kind == "ident" and self.peek().text.startswith(("#", "_")):
            raise self.fail("definitions and hidden fields are not supported")
        label = self.label()
        if self.peek().text != ":":
            raise self.fail(f"expected ':' after {label!r}")
        self.take()
        if self.peek().kind in ("ident", "string") and self.toks[self.i + 1].text == ":":
            sub_label, sub_value = self.field()
            return label, {sub_label: sub_value}
        return label, self.value()

    def value(self) -> _Value:
        if self.peek().text == "{":
            self.take()
            inner = self.fields("}")
            if self.take().text != "}":
                raise self.fail("expected '}'")
            return inner
        disjuncts = [self.conjunction()]
        while self.peek().text == "|":
            self.take()
            disjuncts.append(self.conjunction())
        return tuple(disjuncts)

    def conjunction(self) -> tuple[_Cmp, ...]:
        parts = [self.constraint()]
        while self.peek().text == "&":
            self.take()
            parts.append(self.constraint())
        return tuple(parts)

    def constraint(self) -> _Cmp:
        op = "=="
        if self.peek().kind == "op":
            op = self.take().text
        t = self.take()
        if t.kind == "string":
            value: Any = json.loads(t.text)
        elif t.kind == "number":
            value = json.loads(t.text)
        elif t.kind == "ident" and t.text in ("true", "false", "null"):
            value = {"true": True, "false": False, "null": None}[t.text]
        else:
            self.i -= 1
            raise self.fail("expected a literal (string, number, true, false, null)")
        if op in ("=~", "!~"):
            if not isinstance(value, str):
                raise self.fail("a regular expression must be a string")
            try:
                re.compile(value)
            except re.error as exc:
                raise PolicyError(f"CUE policy: invalid regular expression {value!r}: {exc}") from None
        return _Cmp(op, value)


def _merge(into: dict[str, Any], label: str, value: _Value) -> None:
    if label in into and isinstance(into[label], dict) and isinstance(value, dict):
        for k, v in value.items():
            _merge(into[label], k, v)
    elif label in into:
        # Two constraints on one field: both must hold (CUE unification of the two).
        into[label] = _And(into[label], value)
    else:
        into[label] = value


@dataclass(frozen=True)
class _And:
    a: Any
    b: Any


def _check(spec: _Value | _And, actual: JSONValue, path: str, present: bool) -> Iterator[str]:
    if isinstance(spec, _And):
        yield from _check(spec.a, actual, path, present)
        yield from _check(spec.b, actual, path, present)
        return
    if not present:
        yield f"{path}: missing"
        return
    if isinstance(spec, dict):
        if not isinstance(actual, dict):
            yield f"{path}: expected an object"
            return
        for k, v in spec.items():
            yield from _check(v, actual.get(k), f"{path}.{k}" if path else k, k in actual)
        return
    if not any(all(c.holds(actual) for c in conj) for conj in spec):
        want = " | ".join(" & ".join(c.describe() for c in conj) for conj in spec)
        yield f"{path}: {json.dumps(actual)[:80]} does not satisfy {want}"


@dataclass(frozen=True)
class CuePolicy:
    """A compiled policy; `violations` lists what the statement fails (empty: it passes)."""

    source: str
    spec: dict[str, Any]

    def violations(self, statement: dict[str, Any]) -> list[str]:
        """Check the in-toto statement (``_type``, ``subject``, ``predicateType``, ``predicate``)."""
        return list(_check(self.spec, statement, "", True))


def compile_cue(text: str) -> CuePolicy:
    """Parse the supported CUE subset; `PolicyError` for anything outside it."""
    if not isinstance(text, str) or not text.strip():
        raise PolicyError("CUE policy: the policy data is empty")
    p = _Parser(text)
    spec = p.fields("eof")
    if p.peek().kind != "eof":
        raise p.fail("unexpected text")
    return CuePolicy(text, spec)
