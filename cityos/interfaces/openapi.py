"""OpenAPI 3.1 documents of interface services: one per service, and the registry's combined one.

Each service is ``POST /api/v1/interfaces/{code}/call`` with the inputs as a JSON object (never
in the URL: they are often personal data), secured by an authorization code (``Authorization:
Bearer cos_…``, or the ``X-Authorization-Code`` header).
"""

from __future__ import annotations

from typing import Any

from cityos.interfaces.models import InterfaceService

OPENAPI_VERSION = "3.1.0"
SECURITY_SCHEMES: dict[str, Any] = {
    "authorizationCode": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "cos_…",
        "description": "授权码 of a grant that names this service (issued on the sharing pages).",
    },
    "authorizationCodeHeader": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Authorization-Code",
        "description": "The same authorization code, in its own header.",
    },
}
SECURITY: list[dict[str, list[str]]] = [{"authorizationCode": []}, {"authorizationCodeHeader": []}]
DETECTOR_PATTERNS = {
    "id_card": r"^[1-8]\d{16}[\dXx]$",
    "uscc": r"^[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{18}$",
    "mobile": r"^(\+?86)?1[3-9]\d{9}$",
}
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "required": ["type", "title", "status", "code", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}
ERRORS = {
    "401": "The authorization code is missing, unknown, expired or revoked",
    "403": "The code's grant does not cover this service, or the service is not in service",
    "404": "No service has this code",
    "409": "A lookup whose inputs match more than one record",
    "422": "input_invalid: an input is missing, of the wrong type or fails its check",
    "429": "Rate limit of the code exceeded",
}
PROXY_ERRORS = {
    "502": "upstream_error: the department's service failed or answered unusably",
    "503": "circuit_open: calls are paused after repeated failures (see Retry-After)",
    "504": "upstream_timeout: the department's service did not answer in time",
}
JSON_TYPES = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
}


def call_path(service: InterfaceService) -> str:
    return f"/api/v1/interfaces/{service.code}/call"


def schema_name(service: InterfaceService, part: str) -> str:
    return f"{service.code.replace('-', '_')}_{part}"


def input_schema(service: InterfaceService) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for spec in service.inputs:
        prop: dict[str, Any] = dict(JSON_TYPES[spec["type"]])
        prop["title"] = spec["label"]
        if spec["type"] == "string":
            prop["maxLength"] = 200
        if spec.get("detector"):
            prop["x-detector"] = spec["detector"]
            if spec["detector"] in DETECTOR_PATTERNS:
                prop["pattern"] = DETECTOR_PATTERNS[spec["detector"]]
        if spec.get("pattern"):
            prop["pattern"] = spec["pattern"]
        properties[spec["name"]] = prop
    return {
        "type": "object",
        "properties": properties,
        "required": [s["name"] for s in service.inputs if s.get("required")],
        "additionalProperties": False,
    }


def output_schema(service: InterfaceService) -> dict[str, Any]:
    if service.spec.get("operation") == "verify":
        return {
            "type": "object",
            "properties": {"match": {"type": "boolean", "title": "是否一致"}},
            "required": ["match"],
            "additionalProperties": False,
        }
    properties: dict[str, Any] = {"found": {"type": "boolean", "title": "是否查到"}}
    for spec in service.outputs:
        base = JSON_TYPES.get(spec["type"], {"type": "string"})
        prop = {**base, "type": [base["type"], "null"], "title": spec["label"]}
        properties[spec["name"]] = prop
    return {
        "type": "object",
        "description": "found=false carries no other field; never more than one record",
        "properties": properties,
        "required": ["found"],
        "additionalProperties": False,
    }


def operation(service: InterfaceService, provider_name: str) -> dict[str, Any]:
    errors = dict(ERRORS)
    if service.kind == "proxy":
        errors.update(PROXY_ERRORS)
    responses: dict[str, Any] = {
        "200": {
            "description": "The declared outputs",
            "content": {
                "application/json": {
                    "schema": {"$ref": f"#/components/schemas/{schema_name(service, 'Output')}"}
                }
            },
        }
    }
    for status, text in errors.items():
        responses[status] = {
            "description": text,
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            },
        }
    return {
        "operationId": schema_name(service, "call"),
        "summary": service.name,
        "description": service.description or service.name,
        "tags": [provider_name or service.provider_org_id],
        "x-cityos-service": {
            "code": service.code,
            "kind": service.kind,
            "operation": service.spec.get("operation"),
            "version": service.version,
            "status": service.status,
            "resource_id": service.resource_id,
        },
        "security": SECURITY,
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": f"#/components/schemas/{schema_name(service, 'Input')}"}
                }
            },
        },
        "responses": responses,
    }


def _schemas(service: InterfaceService) -> dict[str, Any]:
    return {
        schema_name(service, "Input"): input_schema(service),
        schema_name(service, "Output"): output_schema(service),
    }


def document(
    services: list[InterfaceService],
    provider_names: dict[str, str],
    *,
    title: str,
    version: str,
    server: str,
    description: str = "",
) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}
    for s in services:
        paths[call_path(s)] = {"post": operation(s, provider_names.get(s.provider_org_id, ""))}
        schemas.update(_schemas(s))
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": version, "description": description},
        "servers": [{"url": server.rstrip("/")}],
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": SECURITY_SCHEMES},
        "security": SECURITY,
    }


def service_document(service: InterfaceService, provider_name: str, server: str) -> dict[str, Any]:
    return document(
        [service],
        {service.provider_org_id: provider_name},
        title=service.name,
        version=str(service.version),
        server=server,
        description=service.description,
    )


def registry_document(
    services: list[InterfaceService], provider_names: dict[str, str], server: str
) -> dict[str, Any]:
    return document(
        services,
        provider_names,
        title="CityOS 接口服务目录 (interface service registry)",
        version=str(sum(s.version for s in services)),
        server=server,
        description="Registered and confirmed interface services (Art. 13 ¶2).",
    )
