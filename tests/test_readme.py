"""The README's promises: its two commands, its generated table, and .ci/run agree with the code."""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _readme() -> str:
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        return f.read()


def _commands():
    return re.findall(r"```sh\n(.*?)\n```", _readme(), re.S)[:2]


def test_readme_opens_with_one_line_then_two_commands():
    text = _readme()
    first = text.splitlines()[0]
    assert "opencl_raw" in first and first.strip()
    demo, tests = _commands()
    assert demo.count("\n") == 0 and tests.count("\n") == 0
    assert demo.endswith("-m opencl_raw demo")
    assert tests.endswith("-m pytest")


def test_ci_runs_the_readme_test_command():
    with open(os.path.join(ROOT, ".ci", "run"), encoding="utf-8") as f:
        ci = f.read()
    assert _commands()[1] in ci


def test_naming_table_is_current():
    result = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "update_readme.py"), "--check"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, "README.md is stale: run python3 tools/update_readme.py"


def test_twelve_step_table_names_real_functions():
    from opencl_raw import raw
    rows = [line for line in _readme().splitlines() if re.match(r"\| \d+\. ", line)]
    assert len(rows) == 12
    for name in set(re.findall(r"`(cl[A-Z]\w+)`", "\n".join(rows))):
        assert name in raw.FUNCTIONS, name
