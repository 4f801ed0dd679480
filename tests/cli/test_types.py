"""labkit.cli._types: bounded integer options refuse out-of-range values with one usage line."""

from __future__ import annotations

import argparse

import pytest

from labkit.cli._types import INT64_MAX, PORT, bounded_int, non_negative_int64


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="t")
    p.add_argument("--index", type=non_negative_int64())
    p.add_argument("--port", type=PORT)
    p.add_argument("--n", type=bounded_int(-5, 5))
    return p


def test_in_range_values_parse() -> None:
    args = _parser().parse_args(["--index", str(INT64_MAX), "--port", "65535", "--n", "-5"])
    assert (args.index, args.port, args.n) == (INT64_MAX, 65535, -5)


@pytest.mark.parametrize(("option", "value"), [
    ("--index", str(INT64_MAX + 1)), ("--index", "-1"), ("--index", "1" * 100), ("--port", "99999"),
    ("--port", "-1"), ("--n", "6"), ("--index", "1_0"), ("--index", "\u0663"), ("--index", "0x10"),
])
def test_out_of_range_or_malformed_is_a_usage_error(option: str, value: str,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        _parser().parse_args([option, value])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}:" in err
    assert "Traceback" not in err
