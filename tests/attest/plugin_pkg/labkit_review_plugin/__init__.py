"""A separate package that adds a predicate type to labkit through an entry point.

Its distribution metadata (built by the test) declares::

    [labkit.predicate_types]
    code-review = labkit_review_plugin:predicate_type
"""

from __future__ import annotations

from typing import Any

from labkit.attest.predicates import PredicateType

URI = "https://plugin.example/code-review/v1"

SCHEMA = {
    "type": "object",
    "required": ["reviewers", "approved"],
    "properties": {
        "reviewers": {"type": "array", "minItems": 1, "items": {"type": "string"}},
        "approved": {"type": "boolean"},
    },
}


def policy(predicate: dict[str, Any]) -> bool | str:
    """Approved by at least two reviewers."""
    if not predicate["approved"]:
        return "change was not approved"
    return len(predicate["reviewers"]) >= 2 or "fewer than two reviewers"


def predicate_type() -> PredicateType:
    """Called by labkit when it loads the entry point."""
    return PredicateType(URI, "code-review", SCHEMA, policy=policy, description="code review record")
