"""Prints what the test run ran and skipped, and fails on a skip nobody allowed.

Reads pytest's JUnit XML reports and the Swift runs' output (Scripts/test-swift: the ordinary
user's run, and root's run of the AsRoot suites). A skip is allowed only when its name matches a
line of the allow-list (each line says why): "file::test" for pytest, "swift::<test's title>"
for Swift. A Swift test skipped in one run and passed in another (root's) is not a skip. Also
prints how many hostile cases ran (the Swift tests over Tests/Hostile, and pytest's
test_hostile_strategies.py), so a run says what it covered, not just "passed".
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


SWIFT_RUN = re.compile(r"^[✔✘] Test run with (\d+) tests? in (\d+) suites? (passed|failed)")
SWIFT_SKIP = re.compile(r'^➜ (?:Test|Suite) "(.*)" skipped(?:: "(.*)")?')
SWIFT_PASS = re.compile(r'^✔ Test "(.*?)"(?: with (\d+) test cases?)? passed')


def swift_runs(logs):
    """Prints each run's count line; returns the skips no other run passed, how many tests were
    skipped in one run and passed in another (root's), the number of hostile cases (tests over
    the Tests/Hostile/*.lua corpora, whose titles name it) that passed, and the problems: a log
    that is missing, did not finish, failed, or ran no test."""
    skips, passed, hostile, problems = {}, set(), 0, []
    for log in logs:
        path = pathlib.Path(log)
        if not path.exists():
            problems.append(f"{log}: missing (that Swift run did not happen)")
            continue
        counted = None
        for line in path.read_text(errors="replace").splitlines():
            if match := SWIFT_RUN.match(line):
                counted = match
                print(f"swift ({path.name}): {line.lstrip('✔✘ ').strip()}")
            elif match := SWIFT_SKIP.match(line):
                skips[match.group(1)] = match.group(2) or ""
            elif match := SWIFT_PASS.match(line):
                passed.add(match.group(1))
                if "Tests/Hostile" in match.group(1):
                    hostile += int(match.group(2) or 1)
        if counted is None:
            problems.append(f"{log}: no test run line (the run did not finish)")
        elif counted.group(3) != "passed":
            problems.append(f"{log}: the run failed")
        elif counted.group(1) == "0":
            problems.append(f"{log}: no test ran")
    unpassed = [(name, why) for name, why in sorted(skips.items()) if name not in passed]
    return unpassed, len(skips) - len(unpassed), hostile, problems


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--allowed", required=True)
    parser.add_argument("--swift-log", action="append", default=[], help="a Swift run's output (repeatable)")
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
    swift_skips, passed_elsewhere, hostile_swift, problems = swift_runs(args.swift_log)
    unexpected += problems
    print(f"swift: {len(swift_skips)} skipped in every run" + (f", {passed_elsewhere} skipped in one run and passed in another (as root)"
                                                               if passed_elsewhere else ""))
    for name, reason in swift_skips:
        print(f"    skipped swift::{name}: {reason}")
        if not any(p.search(f"swift::{name}") for p in patterns):
            unexpected.append(f"swift::{name}: {reason}")
    hostile_pytest = sum(1 for report in args.reports if pathlib.Path(report).exists()
                         for case in ET.parse(report).getroot().iter("testcase")
                         if "hostile" in case.get("classname", "") and case.find("skipped") is None)
    print(f"hostile cases: {hostile_swift} Tests/Hostile/*.lua cases in the Swift suites, {hostile_pytest} in pytest (test_hostile_strategies.py)")
    print(f"pytest: {ran} ran ({failed} failed), {len(skipped)} skipped")
    for name, reason in skipped:
        print(f"    skipped {name}: {reason}")
    if unexpected:
        print("skips that are not on the allow-list (" + args.allowed + "), and runs that went wrong:")
        for line in unexpected:
            print("    " + line)
        sys.exit(1)


if __name__ == "__main__":
    main()
