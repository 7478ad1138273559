"""Parses a node's /metrics with the Prometheus project's own text-format parser.

Reads the exposition text on stdin and prints, as JSON, every sample as
{"name", "labels", "value"} plus each family's declared type. A line the parser
refuses, a family split in two or a sample with no declared type ends the script
with an error, which fails the test that runs it.
"""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families


def main() -> None:
    text = sys.stdin.read()
    families = {}
    samples = []
    for family in text_string_to_metric_families(text):
        # The parser is lenient: samples away from their family's header come out as a
        # second family, or as one of type "unknown". Both are format errors here.
        if family.name in families:
            sys.exit(f"family {family.name} appears twice: its samples are not grouped")
        if family.type == "unknown":
            sys.exit(f"family {family.name} has no # TYPE line before its samples")
        families[family.name] = family.type
        for s in family.samples:
            samples.append({"name": s.name, "labels": s.labels, "value": s.value})
    json.dump({"families": families, "samples": samples}, sys.stdout)


if __name__ == "__main__":
    main()
