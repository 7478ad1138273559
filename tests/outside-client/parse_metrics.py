"""Parses a node's /metrics with the Prometheus project's own text-format parser.

Reads the exposition text on stdin and prints, as JSON, every sample as
{"name", "labels", "value"} plus each family's declared type. A line the parser
refuses ends the script with an error, which fails the test that runs it.
"""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families


def main() -> None:
    text = sys.stdin.read()
    families = {}
    samples = []
    for family in text_string_to_metric_families(text):
        families[family.name] = family.type
        for s in family.samples:
            samples.append({"name": s.name, "labels": s.labels, "value": s.value})
    json.dump({"families": families, "samples": samples}, sys.stdout)


if __name__ == "__main__":
    main()
