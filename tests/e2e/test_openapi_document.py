"""The OpenAPI document describes the service as it answers: each dialect's credentials
and error envelope, the query parameters and bodies the edges read themselves, and
OPTIONS lists every method of a path. (tests/e2e/test_openapi_fuzz.py checks the answers
against it.)"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

METHODS = ("get", "put", "post", "delete", "patch")
# Each dialect's credentials and error envelope, by path prefix.
DIALECTS = {
    "/v2/": ({"RecaptureApiKey"}, "RecaptureError"),
    "/ingest/": ({"IngestKey"}, "IngestError"),
    "/v3/": ({"AutengoApiKey", "AutengoSession"}, "AutengoError"),
    "/api/": ({"SyncApiKey"}, "SyncError"),
    "/ms/": ({"KaptureBasic"}, "KaptureError"),
    "/select-customer": ({"KaptureBasic"}, "KaptureError"),
    "/search-customer": ({"KaptureBasic"}, "KaptureError"),
    "/v1/": ({"ForecourtApiKey"}, "NativeError"),
    "/": (set(), "PlainError"),
}


@pytest.fixture
def document(http: httpx.Client) -> dict[str, Any]:
    found: dict[str, Any] = http.get("/docs/openapi.json").json()
    return found


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_options_lists_every_method_of_the_path(http: httpx.Client, document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        url = path.replace("{", "").replace("}", "")  # any value fits a path parameter
        response = http.options(url)
        assert response.status_code == 204, (path, response.text)
        documented = {m.upper() for m in item if m in METHODS} | {"OPTIONS"}
        assert set(response.headers["Allow"].split(", ")) == documented, path


def test_each_dialect_declares_its_credentials_on_every_operation(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["RecaptureApiKey"] == {"type": "apiKey", "in": "header", "name": "ApiKey"} | {
        "description": schemes["RecaptureApiKey"]["description"]
    }
    assert schemes["KaptureBasic"]["scheme"] == "basic"
    assert schemes["SyncApiKey"]["scheme"] == schemes["IngestKey"]["scheme"] == "bearer"
    assert schemes["ForecourtApiKey"]["type"] == "http" and schemes["ForecourtApiKey"]["scheme"] == "bearer"
    for path, method, operation in _operations(document):
        expected, _ = next(d for prefix, d in DIALECTS.items() if path.startswith(prefix))
        declared = {name for requirement in operation.get("security", []) for name in requirement}
        assert declared == expected, (method, path)
        if expected:
            assert "401" in operation["responses"], (method, path)


def test_errors_are_documented_in_each_dialects_envelope(document: dict[str, Any]) -> None:
    for path, method, operation in _operations(document):
        _, envelope = next(d for prefix, d in DIALECTS.items() if path.startswith(prefix))
        for status in ("400", "429", "503"):
            response = operation["responses"][status]
            assert response["content"]["application/json"]["schema"] == {
                "$ref": f"#/components/schemas/{envelope}"
            } or path in ("/healthz", "/readyz"), (method, path, status)
        for status in ("429", "503"):
            assert "Retry-After" in operation["responses"][status]["headers"], (method, path, status)
    # Litestar's own error shape is nowhere.
    assert "status_code" not in str(document["components"]["schemas"])


def test_every_write_documents_its_body_and_the_413(document: dict[str, Any]) -> None:
    for path, method, operation in _operations(document):
        if method in ("put", "post", "patch") and not path.endswith("/ping"):
            assert operation["requestBody"]["content"], (method, path)
            assert "413" in operation["responses"], (method, path)


@pytest.mark.parametrize(
    ("path", "names"),
    [
        ("/v3/vehicle/filter/values", {"fields"}),
        ("/v2/recapture/customers", {"region", "offset", "limit", "upload_id"}),
        ("/v2/recapture/upload/{upload_id}/errors", {"region", "offset", "limit"}),
        (
            "/v1/leads",
            {
                "status",
                "origin",
                "assignee",
                "created_since",
                "created_until",
                "unactioned",
                "limit",
                "cursor",
            },
        ),
        ("/v1/stats", {"since", "until"}),
    ],
)
def test_the_query_parameters_a_list_reads_are_documented(
    document: dict[str, Any], path: str, names: set[str]
) -> None:
    assert names <= {p["name"] for p in document["paths"][path]["get"]["parameters"] if p["in"] == "query"}


def test_the_vehicle_list_documents_its_query_language(document: dict[str, Any]) -> None:
    parameters = {p["name"]: p for p in document["paths"]["/v3/vehicle"]["get"]["parameters"]}
    assert {"search", "and", "or", "order", "offset", "limit"} <= set(parameters)
    assert parameters["and"]["style"] == "deepObject"
    assert "price" in parameters["and"]["schema"]["properties"]
    assert parameters["limit"]["schema"]["maximum"] == 100


def test_the_native_api_is_documented_with_its_answers(document: dict[str, Any]) -> None:
    paths = document["paths"]
    operations = {
        ("get", "/v1/leads"): ("LeadList", {"401"}),
        ("get", "/v1/leads/{lead_id}"): ("LeadDetailOut", {"401", "404"}),
        ("patch", "/v1/leads/{lead_id}"): ("LeadDetailOut", {"401", "404", "409", "413"}),
        ("post", "/v1/leads/{lead_id}/notes"): ("EventOut", {"401", "404", "413"}),
        ("get", "/v1/users"): ("UserList", {"401"}),
        ("get", "/v1/stats"): ("StatsOut", {"401"}),
    }
    for (method, path), (shape, errors) in operations.items():
        responses = paths[path][method]["responses"]
        success = next(code for code in responses if code.startswith("2"))
        assert responses[success]["content"]["application/json"]["schema"] == {
            "$ref": f"#/components/schemas/{shape}"
        }, (method, path)
        assert errors | {"400", "429", "503"} <= set(responses), (method, path)
    status = next(p for p in paths["/v1/leads"]["get"]["parameters"] if p["name"] == "status")
    assert status["schema"]["items"]["enum"] == ["new", "contacted", "appointment", "won", "lost"]
    envelope = document["components"]["schemas"]["NativeError"]
    assert envelope["properties"]["error"] == {"$ref": "#/components/schemas/ErrorDetail"}
