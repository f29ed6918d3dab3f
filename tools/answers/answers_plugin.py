"""pytest plugin: record every HTTP exchange the tests make through httpx, normalised so
that two runs of the same suite on the same (or a refactored) tree can be diffed.

    PYTHONPATH=/work/capture pytest -p answers_plugin --answers-out answers.jsonl tests/e2e

It patches `httpx.Client.send`, which every sync client goes through: `httpx.Client`,
the module-level `httpx.get/post/...`, `httpx.stream`, and subclasses such as
`litestar.testing.TestClient` (which does not override `send`). Exchanges the
application itself makes in-process (outbound webhooks, registration lookups, the CLI
uploading to a server) are recorded too, marked `"by": "app"`.

One JSON line per exchange, sorted by test node id, then by order within the test.
Per test, random values are replaced by placeholders numbered in order of first
appearance (<uuid1>, <secret1>, ...), so the same test makes the same lines on every run.

`--answers-raw FILE` (debugging) also writes the exchanges before normalisation; they
can be re-normalised later with `python answers_plugin.py renormalise RAW OUT`.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import os
import re
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest


def _pin_hash_seed() -> None:
    """Restart a recording pytest run with PYTHONHASHSEED=0 (unless it is set already).

    The order of a set of strings depends on the hash seed, and some answers show one:
    litestar lists the paths of a handler with several paths (Kapture's pull, for one)
    in set order in the OpenAPI document. With a pinned seed the order is the same in
    every run, and in the `forecourt serve` subprocesses the tests start (they inherit
    the environment)."""
    if os.environ.get("PYTHONHASHSEED"):
        return
    argv = list(getattr(sys, "orig_argv", []))
    if not any(a.split("=", 1)[0] in ("--answers-out", "--answers-raw") for a in argv):
        return
    sys.stdout.flush()
    sys.stderr.write(
        "answers_plugin: restarting with PYTHONHASHSEED=0 (set orders are the same in every run)\n"
    )
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, *argv[1:]], dict(os.environ, PYTHONHASHSEED="0"))


_pin_hash_seed()

# --- limits ------------------------------------------------------------------------------

REQUEST_BODY_KEEP = 4096  # characters of the (normalised) request body kept in the record
RESPONSE_BODY_KEEP = 4 * 1024 * 1024  # characters of the (normalised) response body kept
RAW_TEE_LIMIT = 1024 * 1024  # bytes of a streamed request body kept for normalising

# Response headers that say nothing about the application: set by the server or the
# transport (uvicorn adds date/server, chunked vs content-length depends on the server,
# content-length varies with the length of timestamps/secrets the body carries; the body
# itself is compared instead).
DROP_RESPONSE_HEADERS = {"date", "server", "content-length", "transfer-encoding", "connection", "keep-alive"}
# Request headers that come from the client library/transport, not from the test or app.
DROP_REQUEST_HEADERS = {
    "host",
    "content-length",
    "accept-encoding",
    "connection",
    "accept",
    "transfer-encoding",
}
# user-agent is dropped for requests the tests make (httpx vs TestClient differ), kept for
# requests the application makes (e.g. the webhook sender's own user-agent).

# JSON keys whose string values are random and worth learning, so that they are replaced
# wherever they appear afterwards (paths, other bodies): key -> placeholder kind.
LEARN_KEYS = {
    "sellingId": "selling",
    "prefix": "prefix",
    "key_prefix": "prefix",
    "secret": "secret",
    "api_key": "secret",
    "apiKey": "secret",
    "ingest_key": "secret",
    "token": "secret",
    "refresh_token": "secret",
    "access_token": "secret",
}
LEARN_MIN_LENGTH = 6

# Timestamps/dates/epochs within this distance of "now" are normalised; the others (fixed
# values in test data, such as 2022-08-15T14:23:01Z or the demo stock's dates around
# 2026-01-01) are kept as they are. The values the suite derives from the clock are
# between 3 days before and 1 day after it (tokens expire in 24 h). A data value close
# to the clock is normalised in one run and not in another made days later: compare.py
# accepts a placeholder against a value of the same shape for that reason.
TIME_WINDOW = timedelta(days=40)


# --- recording -----------------------------------------------------------------------------


class _Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.current: tuple[str, str] | None = None  # (nodeid, phase)
        self.by_test: dict[str, list[dict[str, Any]]] = {}

    def where(self) -> tuple[str, str]:
        return self.current or ("<no test>", "none")

    def add(self, raw: dict[str, Any]) -> None:
        with self.lock:
            nodeid, phase = self.where()
            nodeid = _UUID_IN_ID.sub("<uuid>", nodeid)
            raw["test"], raw["phase"] = nodeid, phase
            self.by_test.setdefault(nodeid, []).append(raw)


# Random UUIDs in parametrize ids (uuid4() as a parameter) would make the node id differ.
_UUID_IN_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

_recorder: _Recorder | None = None
_original_send = httpx.Client.send


class _TeeStream(httpx.SyncByteStream):
    """A request body stream that keeps (the start of) what it sends."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.kept = bytearray()
        self.total = 0

    def __iter__(self) -> Any:
        for chunk in self.inner:
            self.total += len(chunk)
            if len(self.kept) < RAW_TEE_LIMIT:
                self.kept += chunk[: RAW_TEE_LIMIT - len(self.kept)]
            yield chunk

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()


def _caller_kind() -> str:
    """ "app" when the first frame outside httpx & co. is forecourt code, else "test"."""
    frame = sys._getframe(2)
    while frame is not None:
        name = str(frame.f_globals.get("__name__", ""))
        top = name.split(".", 1)[0]
        if top not in {"httpx", "httpcore", "answers_plugin", "litestar", "contextlib", "anyio", "functools"}:
            return "app" if top == "forecourt" else "test"
        frame = frame.f_back  # type: ignore[assignment]
    return "test"


def _request_body(request: httpx.Request, tee: _TeeStream | None) -> tuple[bytes, int]:
    try:
        return _read_request_body(request, tee)
    except Exception:
        return b"", -1


def _read_request_body(request: httpx.Request, tee: _TeeStream | None) -> tuple[bytes, int]:
    if tee is not None:
        if tee.total == 0 and type(tee.inner).__name__ == "MultipartStream":
            # Not sent (an in-process server answered before reading it): a multipart
            # body can be rendered again, so it is recorded whatever the client.
            with contextlib.suppress(Exception):
                list(tee)
        return bytes(tee.kept), tee.total
    try:
        content = request.content
    except httpx.RequestNotRead:
        return b"", -1
    return content[:RAW_TEE_LIMIT], len(content)


def _raw_exchange(request: httpx.Request, by: str) -> dict[str, Any]:
    return {
        "at": time.time(),  # the clock the timestamps of the exchange are compared with
        "by": by,
        "thread": "main" if threading.current_thread() is threading.main_thread() else "other",
        "method": request.method,
        "scheme": request.url.scheme,
        "host": request.url.host,
        "port": request.url.port,
        "target": request.url.raw_path.decode("ascii", "replace"),
        "req_headers": [[k.decode("latin-1").lower(), v.decode("latin-1")] for k, v in request.headers.raw],
    }


def _patched_send(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
    recorder = _recorder
    if recorder is None:
        return _original_send(self, request, **kwargs)
    by = _caller_kind()
    tee = None
    if not hasattr(request, "_content"):
        tee = _TeeStream(request.stream)
        request.stream = tee
    raw = _raw_exchange(request, by)
    try:
        response = _original_send(self, request, **kwargs)
    except BaseException as exc:
        body, total = _request_body(request, tee)
        raw.update(req_body=_b64(body), req_body_total=total, error=type(exc).__name__, error_text=str(exc))
        recorder.add(raw)
        raise
    try:
        _record_response(recorder, raw, request, tee, response, bool(kwargs.get("stream")))
    except Exception as exc:
        raw.update(req_body="", req_body_total=0, error="answers_plugin failed", error_text=repr(exc))
        recorder.add(raw)
    return response


def _record_response(
    recorder: _Recorder,
    raw: dict[str, Any],
    request: httpx.Request,
    tee: _TeeStream | None,
    response: httpx.Response,
    stream: bool,
) -> None:
    body, total = _request_body(request, tee)
    raw.update(req_body=_b64(body), req_body_total=total)
    raw["status"] = response.status_code
    raw["reason"] = response.reason_phrase
    raw["http_version"] = response.http_version
    raw["headers"] = [[k.decode("latin-1").lower(), v.decode("latin-1")] for k, v in response.headers.raw]
    raw["history"] = [[r.status_code, r.headers.get("location", "")] for r in response.history]
    if stream:
        raw["body"] = None  # streamed: whatever the caller reads is not recorded
        raw["streamed"] = True
    else:
        raw["body"] = _b64(response.content)
    recorder.add(raw)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# --- normalising ---------------------------------------------------------------------------

_TS = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:(?P<sep>T|%20| )(?P<h>\d{2})(?::|%3A)(?P<m>\d{2})(?:(?::|%3A)(?P<s>\d{2})(?:\.(?P<frac>\d{1,9}))?)?"
    r"(?P<tz>Z|(?:[+-]|%2B)\d{2}(?::|%3A)?\d{2})?)?(?![\d])",
    re.IGNORECASE,
)
# Kapture's Java-style dates: "Dec 1, 2026 10:34:37 AM" and Calendar objects.
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_JAVA_TS = re.compile(
    r"(?P<mon>"
    + "|".join(_MONTHS)
    + r") (?P<day>\d{1,2}), (?P<year>\d{4}),? \d{1,2}:\d{2}(?::\d{2})?[ \u202f](?:AM|PM)"
)
_JAVA_CAL = re.compile(
    r'"year":\s*(?P<year>\d{4}),\s*"month":\s*(?P<mon>\d{1,2}),\s*"dayOfMonth":\s*(?P<day>\d{1,2}),'
    r'\s*"hourOfDay":\s*\d{1,2},\s*"minute":\s*\d{1,2},\s*"second":\s*\d{1,2}'
)
_PATTERNS = [
    ("jwt", r"eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*"),
    ("key", r"(?<![A-Za-z0-9])fc[a-z]_[0-9a-f]{12}_[A-Za-z0-9_-]+"),
    ("whsec", r"whsec_[A-Za-z0-9+/]{20,}={0,2}"),
    ("basic", r"(?<=Basic )[A-Za-z0-9+/]{16,}={0,2}"),
    ("sig", r"(?<=v1,)[A-Za-z0-9+/]{43}="),  # Standard Webhooks signature (HMAC-SHA256, base64)
    ("port", r"(?:127\.0\.0\.1|localhost|0\.0\.0\.0)(?::|%3A)\d{2,5}(?!\d)"),
    (
        "uuid",
        r"(?<![0-9A-Fa-f])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![0-9A-Fa-f])",
    ),
    ("ts", _TS.pattern),
    ("javats", _JAVA_TS.pattern),
    ("javacal", _JAVA_CAL.pattern),
    ("epoch", r"(?<![\d.])1[6-9]\d{8}(?:\d{3})?(?:\.\d+)?(?![\d])"),
]


# Values the patterns already handle (and render better than a learned literal would).
_SELF_NORMALISED = re.compile(
    "|".join(f"(?:{p})" for k, p in _PATTERNS if k in {"jwt", "key", "whsec", "uuid"}) + "|<"
)


def _in_window(moment: datetime, now: datetime) -> bool:
    return abs(moment - now) <= TIME_WINDOW


class Normaliser:
    """Placeholders for one test: the same value gets the same placeholder everywhere."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], str] = {}
        self.counts: dict[str, int] = {}
        self.learned: dict[str, str] = {}  # literal -> kind
        self.fixed: dict[str, str] = {}  # literal -> fixed replacement
        self._regex: re.Pattern[str] | None = None
        self.now = datetime.now(UTC)  # set to each exchange's time before rendering it

    def placeholder(self, kind: str, value: str) -> str:
        key = (kind, value)
        if key not in self.seen:
            self.counts[kind] = self.counts.get(kind, 0) + 1
            self.seen[key] = f"<{kind}{self.counts[kind]}>"
        return self.seen[key]

    # pass 1: values worth replacing wherever they appear
    def learn_text(self, text: str) -> None:
        for match in re.finditer(_PATTERNS[1][1], text):
            _, prefix, secret = match.group().split("_", 2)
            self.learned.setdefault(prefix, "prefix")
            if len(secret) >= 20:
                self.learned.setdefault(secret, "secret")
        for match in re.finditer(_PATTERNS[3][1], text):
            try:
                decoded = base64.b64decode(match.group(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                continue
            user, sep, password = decoded.partition(":")
            if sep and len(user) >= LEARN_MIN_LENGTH and len(password) >= LEARN_MIN_LENGTH:
                self.learned.setdefault(user, "prefix")
                self.learned.setdefault(password, "secret")

    def learn_json(self, value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                kind = LEARN_KEYS.get(k)
                if (
                    kind
                    and isinstance(v, str)
                    and len(v) >= LEARN_MIN_LENGTH
                    and not _SELF_NORMALISED.match(v)
                ):
                    self.learned.setdefault(v, kind)
                else:
                    self.learn_json(v)
        elif isinstance(value, list):
            for v in value:
                self.learn_json(v)

    def fix(self, literal: str, replacement: str) -> None:
        if literal:
            self.fixed[literal] = replacement

    # pass 2
    def regex(self) -> re.Pattern[str]:
        if self._regex is None:
            parts = [f"(?P<{kind}>{pattern})" for kind, pattern in _PATTERNS]
            if self.learned:
                alternation = "|".join(re.escape(s) for s in sorted(self.learned, key=lambda s: (-len(s), s)))
                parts.insert(0, f"(?P<lit>(?<![A-Za-z0-9_-])(?:{alternation})(?![A-Za-z0-9_-]))")
            if self.fixed:
                alternation = "|".join(re.escape(s) for s in sorted(self.fixed, key=lambda s: (-len(s), s)))
                parts.insert(0, f"(?P<fixed>{alternation})")
            combined = "|".join(parts)
            # The groups named inside _TS would clash; only the outer group name is needed.
            combined = re.sub(r"\(\?P<(date|sep|h|m|s|frac|tz|mon|day|year)>", "(?:", combined)
            self._regex = re.compile(combined, re.IGNORECASE)
        return self._regex

    def text(self, text: str) -> str:
        return self.regex().sub(self._replace, text)

    def _replace(self, match: re.Match[str]) -> str:
        kind = match.lastgroup
        value = match.group()
        if kind == "fixed":
            found = self.fixed.get(value)
            if found is None:
                return value
            return self.placeholder("origin", value) if found == "<origin>" else found
        if kind == "lit":
            found = self.learned.get(value)
            if found is None:  # matched case-insensitively: not the learned value
                return value
            return self.placeholder(found, value)
        if kind == "jwt":
            return self._jwt(value)
        if kind == "key":
            family, prefix, secret = value.split("_", 2)
            secret = self.placeholder("secret", secret) if len(secret) >= 20 else secret
            return f"{family}_{self.placeholder('prefix', prefix)}_{secret}"
        if kind == "whsec":
            return "whsec_" + self.placeholder("secret", value[6:])
        if kind == "basic":
            return self.placeholder("secret", value)
        if kind == "sig":
            return "<signature>"
        if kind == "port":
            host = re.split(r":|%3A", value, flags=re.IGNORECASE)[0]
            return f"{host}:<port>"
        if kind == "uuid":
            found = self.placeholder("uuid", value.lower())
            return found if value == value.lower() else found.replace("uuid", "UUID")
        if kind == "ts":
            return self._timestamp(value)
        if kind in ("javats", "javacal"):
            return self._java(kind, value)
        if kind == "epoch":
            whole = value.split(".")[0]
            seconds = int(whole) / (1000 if len(whole) == 13 else 1)
            if _in_window(datetime.fromtimestamp(seconds, UTC), self.now):
                return "<epoch_ms>" if len(whole) == 13 else ("<epoch.f>" if "." in value else "<epoch>")
            return value
        return value

    def _timestamp(self, value: str) -> str:
        """A recent timestamp or date as its shape: digits as #, the rest kept, so a change
        of format (T or space, fraction digits, Z or +00:00) still shows."""
        match = _TS.fullmatch(value)
        if match is None:
            return value
        try:
            day = datetime.strptime(match["date"], "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError:
            return value
        if not _in_window(day, self.now):
            return value
        kind = "date" if match["h"] is None else "ts"
        return f"<{kind} {re.sub(r'[0-9]', '#', value)}>"

    def _java(self, kind: str, value: str) -> str:
        match = (_JAVA_TS if kind == "javats" else _JAVA_CAL).fullmatch(value)
        if match is None:
            return value
        try:
            month = int(match["mon"]) + 1 if match["mon"].isdigit() else _MONTHS.index(match["mon"]) + 1
            day = datetime(int(match["year"]), month, int(match["day"]), tzinfo=UTC)
        except ValueError:
            return value
        if not _in_window(day, self.now):
            return value
        if kind == "javats":
            return "<ts Mon d, yyyy h:mm:ss a>"
        return re.sub(r"(?<=:)(\s*)\d+", r"\1<n>", value)

    def _jwt(self, value: str) -> str:
        """A JWT as its decoded header and claims, normalised: `<jwt {header}.{claims}>`.
        Not numbered: a token refreshed within the second it was issued in is the same
        token, one second later it is another, and that is timing, not behaviour."""
        try:
            header_b64, payload_b64, _sig = value.split(".")
            header = json.loads(base64.urlsafe_b64decode(header_b64 + "=" * (-len(header_b64) % 4)))
            payload = json.loads(base64.urlsafe_b64decode(payload_b64 + "=" * (-len(payload_b64) % 4)))
        except (ValueError, binascii.Error):
            return self.placeholder("jwt", value)
        inner = self.text(
            json.dumps(header, separators=(",", ":")) + "." + json.dumps(payload, separators=(",", ":"))
        )
        return f"<jwt {inner}>"


_PROM_SAMPLE = re.compile(
    r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?P<labels>\{.*\})? (?P<value>\S+)(?P<rest>.*)$"
)


def _prometheus(text: str) -> str:
    """Prometheus metrics: the values that depend on the process (gc, memory, cpu), on
    timing (histogram buckets and sums) or on the clock (*_created) become <v>; the
    series, their order and the counts stay."""
    histograms = set(re.findall(r"^# TYPE (\S+) (?:histogram|summary)$", text, re.MULTILINE))
    lines = []
    for line in text.split("\n"):
        match = _PROM_SAMPLE.match(line)
        if match and not line.startswith("#"):
            name = match["name"]
            family = re.sub(r"_(bucket|sum|count)$", "", name)
            if (
                name.startswith(("python_gc_", "process_"))
                or name.endswith("_created")
                or (family in histograms and not name.endswith("_count"))
            ):
                line = f"{name}{match['labels'] or ''} <v>{match['rest']}"
        lines.append(line)
    return "\n".join(lines)


def _is_prometheus(raw: dict[str, Any], text: str) -> bool:
    content_type = next((v for k, v in raw.get("headers") or [] if k == "content-type"), "")
    return content_type.startswith("text/plain") and "\n# TYPE " in "\n" + text


def _strip_examples(value: Any) -> bool:
    found = False
    if isinstance(value, dict):
        if "examples" in value:
            del value["examples"]
            found = True
        for v in value.values():
            found = _strip_examples(v) or found
    elif isinstance(value, list):
        for v in value:
            found = _strip_examples(v) or found
    return found


_OPENAPI_START = re.compile(r'\{"(?:info|openapi)":')


def _openapi(text: str) -> str:
    """OpenAPI documents (served as JSON, or inlined in the /docs page) without the
    `examples` of their component schemas: litestar makes them (polyfactory) for the
    models of ResponseSpec responses, and whether a shared component gets them depends on
    the order the routes are walked in, which varies from process to process (and the
    values with them). Everything else is kept; the document is written back compact, as
    litestar serves it."""
    decoder = json.JSONDecoder()
    out, pos = [], 0
    for match in _OPENAPI_START.finditer(text):
        if match.start() < pos:
            continue
        try:
            document, end = decoder.raw_decode(text, match.start())
        except (ValueError, RecursionError):
            continue
        if not (isinstance(document, dict) and "openapi" in document):
            continue
        schemas = (document.get("components") or {}).get("schemas")
        if isinstance(schemas, dict) and _strip_examples(schemas):
            out += [
                text[pos : match.start()],
                json.dumps(document, separators=(",", ":"), ensure_ascii=False),
            ]
            pos = end
    return "".join(out) + text[pos:] if out else text


def _decode(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _origin(raw: dict[str, Any]) -> str:
    port = raw.get("port")
    return f"{raw['scheme']}://{raw['host']}" + (f":{port}" if port else "")


_LOCAL_HOSTS = {"127.0.0.1", "localhost", "testserver", "testserver.local", "0.0.0.0"}


def normalise_test(raws: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records of one test's exchanges, in order, normalised together."""
    norm = Normaliser()
    decoded = []
    for raw in raws:
        req = base64.b64decode(raw["req_body"])
        body = base64.b64decode(raw["body"]) if raw.get("body") is not None else None
        req_text = _decode(req) if req else ""
        body_text = _decode(body) if body is not None else None
        if body_text and _is_prometheus(raw, body_text):
            body_text = _prometheus(body_text)
        elif body_text and '"openapi"' in body_text:
            body_text = _openapi(body_text)
        decoded.append((req, req_text, body, body_text))
        # The origins (scheme://host:port) requested on loopback, wherever they appear
        # (the server a test talks to, its stub receivers): <origin1>, <origin2>... A
        # TestClient's base URL and a real server's differ, and both become <originN>.
        if raw["host"] in _LOCAL_HOSTS:
            norm.fix(_origin(raw), "<origin>")
        for k, v in raw["req_headers"]:
            norm.learn_text(f"{k}: {v}")
            if k == "content-type" and "boundary=" in v:
                norm.fix(v.split("boundary=", 1)[1].split(";")[0].strip('"'), "<boundary>")
        for k, v in raw.get("headers") or []:
            norm.learn_text(f"{k}: {v}")
        for text in (req_text, body_text):
            if text:
                norm.learn_text(text)
                with contextlib.suppress(ValueError, RecursionError):
                    norm.learn_json(json.loads(text))

    records: list[dict[str, Any]] = []
    for raw, (req, req_text, body, body_text) in zip(raws, decoded, strict=True):
        if "at" in raw:
            norm.now = datetime.fromtimestamp(raw["at"], UTC)
        rec: dict[str, Any] = {"test": raw["test"], "n": 0, "phase": raw["phase"], "by": raw["by"]}
        if raw.get("thread") != "main":
            rec["thread"] = raw["thread"]
        rec["method"] = raw["method"]
        target = norm.text(raw["target"])
        rec["url"] = target if raw["host"] in _LOCAL_HOSTS else norm.text(_origin(raw)) + target
        drop_req = DROP_REQUEST_HEADERS | ({"user-agent"} if raw["by"] == "test" else set())
        rec["req_headers"] = [[k, norm.text(v)] for k, v in raw["req_headers"] if k not in drop_req]
        if req:
            if req_text is None:
                rec["req_body_sha256"] = hashlib.sha256(req).hexdigest()
                rec["req_body_bytes"] = raw["req_body_total"]
            else:
                text = norm.text(req_text)
                if len(text) > REQUEST_BODY_KEEP or raw["req_body_total"] > len(req):
                    rec["req_body_sha256"] = hashlib.sha256(text.encode()).hexdigest()
                    rec["req_body_bytes"] = raw["req_body_total"]
                    text = text[:REQUEST_BODY_KEEP] + "...[truncated]"
                rec["req_body"] = text
        if "error" in raw:
            rec["error"] = raw["error"]
            rec["error_text"] = norm.text(raw.get("error_text", ""))
            records.append(rec)
            continue
        rec["status"] = raw["status"]
        rec["headers"] = [[k, norm.text(v)] for k, v in raw["headers"] if k not in DROP_RESPONSE_HEADERS]
        if raw.get("history"):
            rec["history"] = [[status, norm.text(location)] for status, location in raw["history"]]
        if raw.get("streamed"):
            rec["streamed"] = True
        elif body_text is None:
            assert body is not None
            rec["body_sha256"] = hashlib.sha256(body).hexdigest()
            rec["body_bytes"] = len(body)
        else:
            text = norm.text(body_text)
            if len(text) > RESPONSE_BODY_KEEP:
                rec["body_sha256"] = hashlib.sha256(text.encode()).hexdigest()
                text = text[:RESPONSE_BODY_KEEP] + "...[truncated]"
            rec["body"] = text
        records.append(rec)
    records = _collapse(records)
    for n, rec in enumerate(records, start=1):
        rec["n"] = n
    return records


def _collapse(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop what depends only on timing: attempts that reached no server (polling a
    server that is still starting), and repeats of the same exchange in a row (polling
    until something changes)."""
    kept: list[dict[str, Any]] = []
    for rec in records:
        if rec.get("error") == "ConnectError":
            continue
        if kept and _same(kept[-1], rec):
            kept[-1]["repeated"] = True
            continue
        kept.append(rec)
    return kept


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    ignore = {"n", "repeated"}
    return {k: v for k, v in a.items() if k not in ignore} == {k: v for k, v in b.items() if k not in ignore}


def write_records(by_test: dict[str, list[dict[str, Any]]], path: str) -> int:
    count = 0
    with open(path, "w", encoding="utf-8") as out:
        for nodeid in sorted(by_test):
            for rec in normalise_test(by_test[nodeid]):
                out.write(json.dumps(rec, ensure_ascii=False, sort_keys=False) + "\n")
                count += 1
    return count


def write_raw(by_test: dict[str, list[dict[str, Any]]], path: str) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for nodeid in sorted(by_test):
            for raw in by_test[nodeid]:
                out.write(json.dumps(raw) + "\n")


def read_raw(path: str) -> dict[str, list[dict[str, Any]]]:
    by_test: dict[str, list[dict[str, Any]]] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            raw = json.loads(line)
            raw["test"] = _UUID_IN_ID.sub("<uuid>", raw["test"])
            by_test.setdefault(raw["test"], []).append(raw)
    return by_test


# --- pytest hooks ------------------------------------------------------------------------------


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("answers", "record HTTP answers (answers_plugin)")
    group.addoption(
        "--answers-out",
        metavar="FILE",
        default=None,
        help="write the normalised HTTP exchanges here (JSON lines)",
    )
    group.addoption(
        "--answers-raw",
        metavar="FILE",
        default=None,
        help="also write the exchanges before normalisation (debugging)",
    )


def pytest_configure(config: Any) -> None:
    global _recorder
    if not config.getoption("answers_out") and not config.getoption("answers_raw"):
        return
    _recorder = _Recorder()
    httpx.Client.send = _patched_send  # type: ignore[method-assign]


def pytest_unconfigure(config: Any) -> None:
    global _recorder
    if _recorder is not None:
        httpx.Client.send = _original_send  # type: ignore[method-assign]
        _recorder = None


def _enter(item: Any, phase: str) -> None:
    if _recorder is not None:
        _recorder.current = (item.nodeid, phase)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: Any) -> None:
    _enter(item, "setup")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: Any) -> None:
    _enter(item, "call")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: Any) -> None:
    _enter(item, "teardown")


def pytest_runtest_logfinish(nodeid: str, location: Any) -> None:
    if _recorder is not None:
        _recorder.current = None


def pytest_sessionfinish(session: Any, exitstatus: Any) -> None:
    recorder = _recorder
    if recorder is None:
        return
    config = session.config
    with recorder.lock:
        by_test = {k: list(v) for k, v in recorder.by_test.items()}
    raw_path = config.getoption("answers_raw")
    if raw_path:
        write_raw(by_test, raw_path)
    out = config.getoption("answers_out")
    if out:
        count = write_records(by_test, out)
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"answers_plugin: {count} exchanges of {len(by_test)} tests -> {out}")


def _main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "renormalise":
        count = write_records(read_raw(argv[1]), argv[2])
        print(f"{count} exchanges -> {argv[2]}")
        return 0
    print("usage: python answers_plugin.py renormalise RAW.jsonl OUT.jsonl", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
