#!/usr/bin/env python3
"""Rewrite the generated parts of README.md: the table of C functions and handle methods.

Usage: ``python3 tools/update_readme.py [--check]``; ``--check`` exits 1 if README.md is stale.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from opencl_raw.naming import markdown_table  # noqa: E402

START, END = "<!-- naming-table:start -->", "<!-- naming-table:end -->"


def render(readme: str) -> str:
    """README text with the naming table between its markers replaced by the current one."""
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.S)
    return pattern.sub(lambda m: f"{START}\n{markdown_table()}\n{END}", readme)


def main(argv) -> int:
    path = os.path.join(ROOT, "README.md")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    new = render(text)
    if "--check" in argv:
        return 0 if new == text else 1
    with open(path, "w", encoding="utf-8") as f:
        f.write(new)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
