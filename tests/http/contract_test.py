#!/usr/bin/env python3
"""The API's contract test: every answer the API tests received is checked against the OpenAPI
document (http/openapi.yaml) by an independent validator, Debian's python3-jsonschema.

The API tests (tests/http/*_test.cpp, through ApiFixture::call) record each answer in
RECORD_DIR/*.jsonl when TRANSIT_API_RECORD is set; CTest runs this script after them. For each
answer: the path and method must name an operation of the document (an unknown path must be a
documented 404, or 401 without a valid token; a known path with another method a documented
405 with Allow); the status must be one the operation documents; the Content-Type one the
response documents (no body where it documents none); a JSON body must validate against the
response's schema. The document's schemas are OpenAPI 3.0's: `nullable` becomes a JSON-schema
union with null, and a `nullable` without a type is refused as a defect of the document.

Usage: contract_test.py OPENAPI_YAML RECORD_DIR
"""
import collections
import json
import pathlib
import re
import sys

import jsonschema
import yaml

METHODS = ("get", "put", "post", "delete", "patch")


def convert(node, where, problems):
    """OpenAPI 3.0 schema -> JSON schema (draft 4)."""
    if isinstance(node, list):
        return [convert(n, where, problems) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: convert(v, f"{where}/{k}", problems) for k, v in node.items()
           if k not in ("nullable", "example", "readOnly", "writeOnly", "discriminator", "xml",
                        "externalDocs", "deprecated")}
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"] if isinstance(out["type"], str) else out["type"] + ["null"]
            if "enum" in out:
                out["enum"] = out["enum"] + [None]
        elif "$ref" in out or "allOf" in out or "oneOf" in out or "anyOf" in out:
            out = {"anyOf": [out, {"type": "null"}]}
        else:
            problems.append(f"{where}: nullable without a type or a reference")
    return out


def main():
    doc = yaml.safe_load(pathlib.Path(sys.argv[1]).read_text())
    records = []
    for path in sorted(pathlib.Path(sys.argv[2]).glob("*.jsonl")):
        records += [json.loads(line) for line in path.read_text().splitlines() if line]
    problems = []
    root = convert(doc, "#", problems)
    resolver = jsonschema.RefResolver.from_schema(root)

    def resolve(obj):
        while isinstance(obj, dict) and "$ref" in obj:
            ref = obj["$ref"]
            assert ref.startswith("#/"), ref
            obj = root
            for part in ref[2:].split("/"):
                obj = obj[part]
        return obj

    templates = []
    for path in root["paths"]:
        pattern = re.escape(path)
        pattern = re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", pattern)
        templates.append((re.compile(f"^{pattern}$"), path))

    failures = []
    covered = collections.Counter()
    for r in records:
        what = f'{r["method"]} {r["target"]} -> {r["status"]} ({r["test"]})'
        path = r["target"].split("?", 1)[0]
        matched = [p for rx, p in templates if rx.match(path)]
        # Literal paths win over templated ones (/v1/spokes/import/aws is not /v1/spokes/{name}).
        matched.sort(key=lambda p: p.count("{"))
        method = "get" if r["method"] == "HEAD" else r["method"].lower()
        if not matched:
            if path.startswith("/ui/"):
                continue  # the dashboard's assets are not part of the API document
            # Without a valid token the hub says 401 before it says whether a path exists.
            names = {404: "NotFound", 401: "Unauthorized"}
            if r["status"] not in names:
                failures.append(f"{what}: a path the document does not name answered "
                                f"{r['status']}, not 404 (or 401 without a valid token)")
                continue
            response = resolve(root["components"]["responses"][names[r["status"]]])
            operation_key = ("(unknown path)", r["status"])
        else:
            item = root["paths"][matched[0]]
            operation = item.get(method)
            if operation is None:
                if r["status"] != 405:
                    failures.append(f"{what}: {r['method']} is not documented for {matched[0]}")
                    continue
                if "Allow" not in r["headers"]:
                    failures.append(f"{what}: 405 without Allow")
                response = resolve(root["components"]["responses"]["MethodNotAllowed"])
                operation_key = (f"(other method) {matched[0]}", 405)
            else:
                responses = operation["responses"]
                key = str(r["status"])
                if key not in responses and "default" not in responses:
                    failures.append(f"{what}: status {key} is not documented for "
                                    f"{method.upper()} {matched[0]} (documented: {sorted(responses)})")
                    continue
                response = resolve(responses.get(key, responses.get("default")))
                operation_key = (f"{method.upper()} {matched[0]}", r["status"])
        covered[operation_key] += 1
        content = response.get("content")
        if r["method"] == "HEAD":
            continue
        if not content:
            if r["body"]:
                failures.append(f"{what}: a body where the document describes none")
            continue
        media = r["content_type"].split(";", 1)[0].strip()
        if media not in content:
            failures.append(f"{what}: Content-Type {media} is not documented ({sorted(content)})")
            continue
        schema = content[media].get("schema")
        if media != "application/json" or schema is None:
            continue
        try:
            body = json.loads(r["body"])
        except ValueError as e:
            failures.append(f"{what}: the body is not JSON ({e})")
            continue
        validator = jsonschema.Draft4Validator(schema, resolver=resolver)
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
        for e in errors[:3]:
            at = "/".join(str(p) for p in e.absolute_path) or "(body)"
            failures.append(f"{what}: {at}: {e.message[:300]}")

    documented = set()
    for path, item in root["paths"].items():
        for method in METHODS:
            if method in item:
                for status in item[method]["responses"]:
                    documented.add((f"{method.upper()} {path}", int(status) if status.isdigit() else status))
    exercised = {k for k in covered if not k[0].startswith("(")}
    print(f"contract: {len(records)} answers from the API tests checked against the document; "
          f"{len(exercised)} of {len(documented)} documented (operation, status) pairs exercised")
    for p in problems:
        print(f"DOCUMENT: {p}")
    for f in failures:
        print(f"FAIL: {f}")
    if not records:
        print("FAIL: no answers were recorded (TRANSIT_API_RECORD unset for the API tests?)")
        return 1
    return 1 if problems or failures else 0


sys.exit(main())
