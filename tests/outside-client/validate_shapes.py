"""Validates recorded simulator responses against Atlassian's published OpenAPI specs.

Usage: validate_shapes.py SPEC_DIR SAMPLES.json

SAMPLES.json is a list of {flavour, method, path, status, body} written by the Rust test
`sim_shapes`. Each sample is matched to the spec operation whose path template matches the
concrete path, and its body is validated against that operation's response schema for the
status (or `default`). Known spec defects are listed in EXCEPTIONS below with the reason.
Exits 1 when any sample fails or has no operation in the spec.
"""

import copy
import gzip
import json
import re
import sys
from pathlib import Path

from jsonschema import Draft7Validator

SPECS = {
    "cloud": ("jira-cloud-platform-v3.openapi.json", ""),
    # The DC spec's paths start at /api/2; its server base is /rest.
    "dc": ("jira-software-dc-10.3.openapi.json", "/rest"),
}

# Known defects of the published specs; each is applied before validation, with the reason.
NULLABLE_STRING = {"type": ["string", "null"]}

EXCEPTIONS = {
    "cloud": [
        # ChangeDetails declares from/to/fromString/toString as plain strings, but Jira sends null
        # for the side that has no value (a summary has no id; a first label has no old value),
        # as the spec's own changelog examples show.
        ("schema", "ChangeDetails", "properties.from", NULLABLE_STRING),
        ("schema", "ChangeDetails", "properties.fromString", NULLABLE_STRING),
        ("schema", "ChangeDetails", "properties.to", NULLABLE_STRING),
        ("schema", "ChangeDetails", "properties.toString", NULLABLE_STRING),
    ],
    "dc": [
        # renderedFields has the same defect as fields: values typed as objects, though rendered
        # values are HTML strings or null.
        ("schema", "IssueBean", "properties.renderedFields", {"type": "object"}),
        # Entity property values are any JSON (the spec's own example is an object), typed string.
        ("schema", "EntityPropertyBean", "properties.value", {}),
        # Same as Cloud's ChangeDetails: a missing side of a change item is null.
        ("schema", "ChangeItemBean", "properties.from", NULLABLE_STRING),
        ("schema", "ChangeItemBean", "properties.fromString", NULLABLE_STRING),
        ("schema", "ChangeItemBean", "properties.to", NULLABLE_STRING),
        ("schema", "ChangeItemBean", "properties.toString", NULLABLE_STRING),
        # contracts/COMPATIBILITY.md of the DC mock: IssueBean.fields values are typed as objects,
        # but Jira returns strings, arrays and nulls there (summary, labels, duedate...).
        ("schema", "IssueBean", "properties.fields", {"type": "object"}),
        # Same defect inside the search result.
        ("schema", "SearchResultsBean", "properties.issues.items", {"$ref": "#/components/schemas/IssueBean"}),
    ],
}

# Endpoints declared as returning one item although Jira returns an array (their own examples
# show the array): each element is checked against the declared schema.
# Cloud's and DC's `GET /issue/{issueIdOrKey}/remotelink` declare RemoteIssueLink(Bean); without a
# `globalId` parameter Jira answers a list of them.
ARRAY_DECLARED_AS_ITEM = {
    ("cloud", "/rest/api/3/issue/{issueIdOrKey}/remotelink"),
    ("dc", "/rest/api/2/issue/{issueIdOrKey}/remotelink"),
}

# List endpoints the DC spec declares as one item although Jira returns an array
# (the same COMPATIBILITY.md): validate each element against the declared item schema.
DC_ARRAY_DECLARED_AS_ITEM = True


def nullable_to_jsonschema(node):
    """OpenAPI 3.0 `nullable: true` becomes JSON Schema's null alternative."""
    if isinstance(node, dict):
        out = {k: nullable_to_jsonschema(v) for k, v in node.items()}
        if out.pop("nullable", False):
            return {"anyOf": [out, {"type": "null"}]}
        return out
    if isinstance(node, list):
        return [nullable_to_jsonschema(x) for x in node]
    return node


def set_path(d, dotted, value):
    keys = dotted.split(".")
    for k in keys[:-1]:
        d = d.setdefault(k, {})
    d[keys[-1]] = value


def load(spec_dir, flavour):
    name, prefix = SPECS[flavour]
    path = Path(spec_dir) / name
    if path.is_file():
        spec = json.loads(path.read_text())
    else:
        # The repository keeps trimmed, gzipped copies (tests/jira-openapi/trim.py).
        with gzip.open(str(path) + ".gz", "rt") as f:
            spec = json.load(f)
    for kind, schema_name, dotted, value in EXCEPTIONS.get(flavour, []):
        target = spec["components"]["schemas"].get(schema_name)
        if target is not None:
            set_path(target, dotted, value)
    spec = nullable_to_jsonschema(spec)
    ops = []
    for template, item in spec["paths"].items():
        full = prefix + template
        regex = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(full)) + "$"
        literal = len(re.sub(r"\{[^}]+\}", "", full))
        ops.append((re.compile(regex), literal, full, item))
    # Most literal template first, so /issue/createmeta beats /issue/{issueIdOrKey}.
    ops.sort(key=lambda o: -o[1])
    return spec, ops


def find_op(ops, method, path):
    for regex, _, template, item in ops:
        if regex.match(path) and method.lower() in item:
            return template, item[method.lower()]
    return None, None


def response_schema(op, status):
    responses = op.get("responses", {})
    r = responses.get(str(status))
    if r is None:
        r = responses.get("default")
    if r is None:
        return False, None
    content = r.get("content") or {}
    for ctype in ("application/json", "*/*"):
        if ctype in content:
            return True, content[ctype].get("schema")
    return True, None


def main():
    spec_dir, samples_file = sys.argv[1], sys.argv[2]
    samples = json.loads(Path(samples_file).read_text())
    loaded = {f: load(spec_dir, f) for f in SPECS}
    failures, passed, unspecified = [], 0, []
    for s in samples:
        spec, ops = loaded[s["flavour"]]
        template, op = find_op(ops, s["method"], s["path"])
        label = f'{s["flavour"]} {s["method"]} {s["path"]} -> {s["status"]}'
        if op is None:
            unspecified.append(label)
            continue
        declared, schema = response_schema(op, s["status"])
        if not declared:
            failures.append(f"{label}: status {s['status']} is not a documented response of {template}")
            continue
        body = s.get("body")
        if schema is None:
            passed += 1
            continue
        root = dict(spec)
        root["x-check"] = schema
        instances = [body]
        if (
            (s["flavour"] == "dc" and DC_ARRAY_DECLARED_AS_ITEM
             or (s["flavour"], template) in ARRAY_DECLARED_AS_ITEM)
            and isinstance(body, list)
            and schema.get("type") != "array"
        ):
            instances = body
        errors = []
        for inst in instances:
            v = Draft7Validator({**root, "$ref": "#/x-check"})
            errors += sorted(v.iter_errors(inst), key=lambda e: list(e.absolute_path))
        if errors:
            for e in errors[:5]:
                where = "/".join(str(p) for p in e.absolute_path)
                failures.append(f"{label} ({template}): at /{where}: {e.message[:300]}")
        else:
            passed += 1
    for f in failures:
        print("FAIL", f)
    for u in unspecified:
        print("NOT IN SPEC", u)
    print(f"shape conformance: {passed} passed, {len(failures)} failed, {len(unspecified)} not in spec")
    sys.exit(1 if failures or unspecified else 0)


if __name__ == "__main__":
    main()
