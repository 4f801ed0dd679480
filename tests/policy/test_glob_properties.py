"""Property tests for the glob semantics (moderate example counts)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from labkit.policy.glob import normalize_image, sigstore_glob_match

component = st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True)
repo_path = st.lists(component, min_size=1, max_size=4).map("/".join)
tag = st.from_regex(r"[a-z0-9][a-z0-9.-]{0,7}", fullmatch=True)


@settings(max_examples=150, deadline=None)
@given(prefix=repo_path, rest=repo_path, t=tag)
def test_double_star_matches_everything_below(prefix: str, rest: str, t: str) -> None:
    image = f"registry.lab/{prefix}/{rest}:{t}"
    assert sigstore_glob_match(f"registry.lab/{prefix}/**", image)


@settings(max_examples=150, deadline=None)
@given(prefix=repo_path, rest=repo_path, t=tag)
def test_single_star_stays_in_one_segment(prefix: str, rest: str, t: str) -> None:
    image = f"registry.lab/{prefix}/{rest}:{t}"
    assert sigstore_glob_match(f"registry.lab/{prefix}/*", image) == ("/" not in rest)


@settings(max_examples=150, deadline=None)
@given(a=component, b=component, rest=repo_path)
def test_no_prefix_confusion(a: str, b: str, rest: str) -> None:
    # 'shop/**' must never match 'shopping/...' (the '/' in the glob is literal).
    image = f"registry.lab/{a}{b}/{rest}:v1"
    assert not sigstore_glob_match(f"registry.lab/{a}/**", image)


@settings(max_examples=100, deadline=None)
@given(path=repo_path, t=tag)
def test_exact_glob_is_its_own_full_name(path: str, t: str) -> None:
    image = f"registry.lab/{path}:{t}"
    assert sigstore_glob_match(normalize_image(image).name(), image)
