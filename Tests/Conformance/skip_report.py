"""Prints what the test run ran and skipped, and fails on a skip nobody allowed.

Reads pytest's JUnit XML reports; a skip is allowed only when "file::test" matches a line of
the allow-list (each line says why). Also prints the Swift test count line and how many hostile
strategies the corpus holds, so a run says what it covered, not just "passed".
"""
import argparse
import pathlib
import re
import sys
import xml.etree.ElementTree as ET


def allowed_patterns(path):
    patterns = []
    for line in pathlib.Path(path).read_text().splitlines():
        rule = line.split("#", 1)[0].strip()
        if rule:
            patterns.append(re.compile(rule))
    return patterns


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--allowed", required=True)
    parser.add_argument("--swift", default="")
    parser.add_argument("--hostile-dir")
    parser.add_argument("reports", nargs="*")
    args = parser.parse_args()
    patterns = allowed_patterns(args.allowed)
    ran = failed = 0
    skipped, unexpected = [], []
    for report in args.reports:
        if not pathlib.Path(report).exists():
            print(f"missing pytest report {report}: that pytest run did not finish")
            unexpected.append(report)
            continue
        for case in ET.parse(report).getroot().iter("testcase"):
            module = case.get("classname", "").split(".")[-1]
            name = f"{module}.py::{case.get('name')}"
            skip = case.find("skipped")
            if skip is not None:
                reason = skip.get("message", "")
                skipped.append((name, reason))
                if not any(p.search(name) for p in patterns):
                    unexpected.append(f"{name}: {reason}")
                continue
            ran += 1
            if case.find("failure") is not None or case.find("error") is not None:
                failed += 1
    if args.swift:
        print(f"swift: {args.swift.lstrip('✔ ').strip()}")
    if args.hostile_dir:
        folder = pathlib.Path(args.hostile_dir)
        strategies = sorted(folder.glob("*.lua"))
        files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix != ".lua")
        print(f"hostile corpus: {len(strategies)} strategy files and {len(files)} input files in {args.hostile_dir}")
    print(f"pytest: {ran} ran ({failed} failed), {len(skipped)} skipped")
    for name, reason in skipped:
        print(f"    skipped {name}: {reason}")
    if unexpected:
        print("skips that are not on the allow-list (" + args.allowed + "):")
        for line in unexpected:
            print("    " + line)
        sys.exit(1)


if __name__ == "__main__":
    main()
