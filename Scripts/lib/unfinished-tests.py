#!/usr/bin/env python3
"""The swift-testing tests a log shows started and never ended (passed, failed or skipped):
where a run that was cut off hung. Scripts/test-swift prints them when its time limit ends a run.

    Scripts/lib/unfinished-tests.py LOG
"""
import collections
import re
import sys

started = collections.Counter()
ended = collections.Counter()
with open(sys.argv[1], encoding="utf-8", errors="replace") as log:
    for line in log:
        match = re.match(r'^\S+ Test "(.*)" (?:with \d+ test cases? )?(started|passed|failed|skipped)', line)
        if match:
            (started if match.group(2) == "started" else ended)[match.group(1)] += 1
unfinished = [name for name, count in started.items() if count > ended[name]]
for name in unfinished:
    print(name)
if not unfinished:
    print("(none in the log: the binary hung before or after its tests)")
