#!/usr/bin/env python3
"""Compare two captures made by answers_plugin (JSON lines, one record per exchange).

    python3 compare.py BEFORE.jsonl AFTER.jsonl [--unstable FILE] [--max-diffs N] [--lines N]

Reports the tests whose exchanges differ (with a short diff of the first difference),
and the tests present in one capture but not the other. Exit status: 0 when nothing
differs, 1 otherwise, 2 on bad usage.

The unstable file (default: unstable.txt next to this script) names tests whose answers
are genuinely random, one a line, as a node id or an fnmatch pattern (`*`, `?`, `[seq]`:
write a literal `[` as `[[]`), after a mode:

    skip <pattern>        not compared at all (a bare pattern means skip too)
    unordered <pattern>   compared with the numbers of placeholders dropped (<uuid3> ->
                          <uuid>) and the JSON arrays of bodies sorted: for answers that
                          list rows in an order that is random (ids made in the same
                          millisecond), everything but the order is still compared

`#` starts a comment (at the start of a line, or after a space).

Time tolerance: the plugin turns timestamps, dates and Unix times near the clock of the
run into their shape (<ts ####-##-##T##:##:##.###Z>, <date ####-##-##>, <epoch>) and
keeps the others. A fixed value of the test data (the demo stock's dates, say) that is
near the clock of one run but not of the other is a placeholder on one side and a value
on the other: such a pair matches when the value has the placeholder's shape. Two
values, or two placeholders, must still be equal. Tests that match only that way are
counted in the summary.
"""

from __future__ import annotations

import argparse
import difflib
import fnmatch
import json
import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def load(path: str) -> dict[str, list[dict[str, Any]]]:
    by_test: dict[str, list[dict[str, Any]]] = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as exc:
                sys.exit(f"{path}:{number}: not JSON: {exc}")
            by_test.setdefault(record["test"], []).append(record)
    for records in by_test.values():
        records.sort(key=lambda r: r.get("n", 0))
    return by_test


MODES = ("skip", "unordered")


def load_unstable(path: Path | None) -> list[tuple[str, str]]:
    """(mode, pattern) pairs."""
    if path is None or not path.exists():
        return []
    rules = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("#"):
            continue
        line = re.split(r"\s#", line, maxsplit=1)[0].strip()
        if not line:
            continue
        mode, _, rest = line.partition(" ")
        if mode in MODES:
            line = rest.strip()
        else:
            mode = "skip"
        rules.append((mode, line))
    return rules


def mode_of(nodeid: str, rules: list[tuple[str, str]]) -> str | None:
    for mode, pattern in rules:
        if nodeid == pattern or fnmatch.fnmatchcase(nodeid, pattern):
            return mode
    return None


_NUMBERED = re.compile(r"<(uuid|UUID|secret|prefix|selling|jwt|origin)\d+")


def _sorted_arrays(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted_arrays(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_sorted_arrays(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))
    return value


def unordered(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records with placeholder numbers dropped and the arrays of JSON bodies sorted."""
    out = []
    for record in records:
        record = json.loads(_NUMBERED.sub(lambda m: "<" + m.group(1), json.dumps(record, ensure_ascii=False)))
        for key in ("req_body", "body"):
            if isinstance(record.get(key), str):
                try:
                    parsed = json.loads(record[key])
                except (ValueError, RecursionError):
                    continue
                record[key] = json.dumps(_sorted_arrays(parsed), ensure_ascii=False)
        out.append(record)
    return out


_TS = (
    r"\d{4}-\d{2}-\d{2}"
    r"(?:(?:T|%20| )\d{2}(?::|%3A)\d{2}(?:(?::|%3A)\d{2}(?:\.\d{1,9})?)?"
    r"(?:Z|(?:[+-]|%2B)\d{2}(?::|%3A)?\d{2})?)?(?!\d)"
)
_EPOCH = r"(?<![\d.])1[6-9]\d{8}(?:\d{3})?(?:\.\d+)?(?!\d)"
_PLACEHOLDER = r"<(?:ts|date) [^<>]*>|<epoch(?:_ms|\.f)?>"
_TIME_TOKENS = re.compile(f"({_PLACEHOLDER}|{_TS}|{_EPOCH})", re.IGNORECASE)


def _shape(literal: str) -> str:
    """The placeholder the plugin makes of a timestamp, date or Unix time."""
    if re.fullmatch(_EPOCH, literal):
        whole = literal.split(".")[0]
        return "<epoch_ms>" if len(whole) == 13 else ("<epoch.f>" if "." in literal else "<epoch>")
    kind = "date" if len(literal) == 10 else "ts"
    return f"<{kind} {re.sub(r'[0-9]', '#', literal)}>"


def _same_up_to_time(a: str, b: str) -> bool:
    left, right = _TIME_TOKENS.split(a), _TIME_TOKENS.split(b)
    if len(left) != len(right):
        return False
    for i, (x, y) in enumerate(zip(left, right, strict=False)):
        if x == y:
            continue
        if i % 2 == 0:  # text between the time tokens
            return False
        x_is_placeholder, y_is_placeholder = x.startswith("<"), y.startswith("<")
        if x_is_placeholder == y_is_placeholder:
            return False
        placeholder, literal = (x, y) if x_is_placeholder else (y, x)
        if _shape(literal) != placeholder:
            return False
    return True


def same_up_to_time(a: Any, b: Any) -> bool:
    """Equal, but for a time placeholder on one side where the other has a value of its shape."""
    if a == b:
        return True
    if isinstance(a, str) and isinstance(b, str):
        return _same_up_to_time(a, b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_up_to_time(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_up_to_time(x, y) for x, y in zip(a, b, strict=False))
    return False


def pretty(record: dict[str, Any]) -> list[str]:
    """A record as lines, bodies that are JSON pretty-printed, for a readable diff."""
    shown = dict(record)
    shown.pop("test", None)
    lines = []
    for key in ("req_body", "body"):
        if isinstance(shown.get(key), str):
            try:
                parsed = json.loads(shown[key])
            except (ValueError, RecursionError):
                continue
            if isinstance(parsed, (dict, list)):
                shown[key] = "<json below>"
                lines += [f"{key} (JSON):"] + [
                    "    " + s for s in json.dumps(parsed, indent=2, ensure_ascii=False).splitlines()
                ]
    head = [f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in shown.items()]
    return head + lines


def describe(record: dict[str, Any] | None) -> str:
    if record is None:
        return "(none)"
    outcome = record.get("error") or record.get("status")
    return f"#{record.get('n')} {record.get('method')} {record.get('url')} -> {outcome}"


def first_difference(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> int:
    for i, (a, b) in enumerate(zip(before, after, strict=False)):
        if not same_up_to_time(a, b):
            return i
    return min(len(before), len(after))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument(
        "--unstable", type=Path, default=HERE / "unstable.txt", help="tests to skip (default: %(default)s)"
    )
    parser.add_argument(
        "--no-unstable", action="store_true", help="compare every test, even the unstable ones"
    )
    parser.add_argument(
        "--max-diffs", type=int, default=20, help="tests whose diff is shown (default: %(default)s)"
    )
    parser.add_argument(
        "--lines", type=int, default=40, help="diff lines shown per test (default: %(default)s)"
    )
    args = parser.parse_args(argv)

    before, after = load(args.before), load(args.after)
    rules = [] if args.no_unstable else load_unstable(args.unstable)

    names = sorted(set(before) | set(after))
    modes = {t: mode_of(t, rules) for t in names}
    skipped = [t for t in names if modes[t] == "skip"]
    compared = [t for t in names if modes[t] != "skip"]
    relaxed = [t for t in compared if modes[t] == "unordered"]
    for t in relaxed:
        if t in before:
            before[t] = unordered(before[t])
        if t in after:
            after[t] = unordered(after[t])
    only_before = [t for t in compared if t not in after]
    only_after = [t for t in compared if t not in before]
    in_both = [t for t in compared if t in before and t in after]
    tolerated = [t for t in in_both if before[t] != after[t] and same_up_to_time(before[t], after[t])]
    differing = [t for t in in_both if before[t] != after[t] and t not in tolerated]
    same = [t for t in in_both if t not in differing]

    exchanges = sum(len(before[t]) for t in same)
    print(f"BEFORE {args.before}: {sum(map(len, before.values()))} exchanges, {len(before)} tests")
    print(f"AFTER  {args.after}: {sum(map(len, after.values()))} exchanges, {len(after)} tests")
    if rules:
        print(
            f"unstable ({args.unstable}, {len(rules)} rules): {len(skipped)} tests skipped, "
            f"{len(relaxed)} compared without order"
        )

    shown = 0
    for t in differing:
        b, a = before[t], after[t]
        i = first_difference(b, a)
        print(f"\nDIFFERS {t}")
        unequal = sum(1 for x, y in zip(b, a, strict=False) if not same_up_to_time(x, y)) + abs(
            len(b) - len(a)
        )
        print(
            f"  exchanges: {len(b)} before, {len(a)} after, {unequal} differ; first difference at exchange {i + 1}"
        )
        print(f"  before: {describe(b[i] if i < len(b) else None)}")
        print(f"  after:  {describe(a[i] if i < len(a) else None)}")
        if shown < args.max_diffs:
            shown += 1
            left = pretty(b[i]) if i < len(b) else []
            right = pretty(a[i]) if i < len(a) else []
            diff = list(difflib.unified_diff(left, right, "before", "after", n=2, lineterm=""))
            for line in diff[: args.lines]:
                print("    " + line)
            if len(diff) > args.lines:
                print(f"    ... ({len(diff) - args.lines} more diff lines)")
    for t in only_before:
        print(f"\nONLY IN BEFORE {t} ({len(before[t])} exchanges)")
    for t in only_after:
        print(f"\nONLY IN AFTER  {t} ({len(after[t])} exchanges)")

    print(
        f"\nSUMMARY: {len(same)} tests identical ({exchanges} exchanges), {len(differing)} differing, "
        f"{len(only_before)} only in before, {len(only_after)} only in after, "
        f"{len(skipped)} unstable skipped, {len(relaxed)} compared without order, "
        f"{len(tolerated)} identical only with the time tolerance"
    )
    return 0 if not (differing or only_before or only_after) else 1


if __name__ == "__main__":
    sys.exit(main())
