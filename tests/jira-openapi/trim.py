"""Writes the trimmed copies of Atlassian's published Jira OpenAPI specs that the shape tests use.

Usage: trim.py SOURCE_DIR

SOURCE_DIR holds the published files (jira-cloud-platform-v3.openapi.json, Atlassian's
swagger-v3; jira-software-dc-10.3.openapi.json, the Jira Software Data Center 10.3 swagger).
The copies keep `paths` and `components.schemas` and drop only annotations (descriptions,
summaries, examples, x- extensions), which do not take part in validation; they are gzipped.
"""

import gzip
import json
import sys
from pathlib import Path

ANNOTATIONS = {"description", "summary", "example", "examples", "externalDocs"}
FILES = ["jira-cloud-platform-v3.openapi.json", "jira-software-dc-10.3.openapi.json"]


def strip(node, in_properties=False):
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            # Inside a `properties` map the keys are field names (a field may be called "description").
            if not in_properties and (key in ANNOTATIONS or key.startswith("x-")):
                continue
            out[key] = strip(value, in_properties=(key == "properties" and not in_properties))
        return out
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


def main():
    source = Path(sys.argv[1])
    here = Path(__file__).parent
    for name in FILES:
        spec = json.loads((source / name).read_text())
        trimmed = strip({
            "openapi": spec.get("openapi"),
            "info": {"title": spec["info"]["title"], "version": spec["info"]["version"]},
            "paths": spec["paths"],
            "components": {"schemas": spec["components"]["schemas"]},
        })
        data = json.dumps(trimmed, separators=(",", ":"), sort_keys=True).encode()
        with gzip.GzipFile(here / (name + ".gz"), "wb", mtime=0) as f:
            f.write(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
