#!/usr/bin/env python3
"""Finds the slowest statement auto_explain logged during bench/run's explain pass.

    explain.py LOG_FILE END_OFFSET LABEL=START_OFFSET [LABEL=START_OFFSET ...]

Reads the PostgreSQL log between the first START_OFFSET and END_OFFSET (bytes), where each
LABEL=START_OFFSET marks where the requests of one benchmark query began, splits it into log
entries (PostgreSQL indents the continuation lines of a multi-line message with a tab), keeps the
auto_explain ones (`duration: X ms  plan:`), and prints the slowest of each query and the slowest
overall with its query text and plan.
"""

import re
import sys

DURATION = re.compile(r"\bduration: ([0-9.]+) ms\s+plan:")


def entries(text):
    current = []
    for line in text.splitlines():
        if line.startswith("\t") and current:
            current.append(line)
            continue
        if current:
            yield current
        current = [line]
    if current:
        yield current


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    log_file, end = argv[1], int(argv[2])
    marks = []
    for mark in argv[3:]:
        label, offset = mark.rsplit("=", 1)
        marks.append((int(offset), label))
    marks.sort()
    found = []  # (duration ms, label, lines)
    with open(log_file, "rb") as file:
        for index, (start, label) in enumerate(marks):
            stop = marks[index + 1][0] if index + 1 < len(marks) else end
            file.seek(start)
            text = file.read(max(0, stop - start)).decode("utf-8", errors="replace")
            for lines in entries(text):
                match = DURATION.search(lines[0])
                if match:
                    found.append((float(match.group(1)), label, lines))
    if not found:
        print("auto_explain logged no statement over the threshold during the explain pass")
        return 0
    per_query = {}
    for duration, label, _ in found:
        count, slowest = per_query.get(label, (0, 0.0))
        per_query[label] = (count + 1, max(slowest, duration))
    summary = ", ".join(
        f"{label} {per_query[label][1]:.1f} ms ({per_query[label][0]} logged)"
        for _, label in marks
        if label in per_query
    )
    print(f"slowest logged statement per query: {summary}")
    duration, label, lines = max(found, key=lambda item: item[0])
    print(f"slowest statement overall: {duration:.3f} ms, from query `{label}`; EXPLAIN (ANALYZE, BUFFERS):")
    for line in lines[1:]:
        print("    " + line[1:] if line.startswith("\t") else "    " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
