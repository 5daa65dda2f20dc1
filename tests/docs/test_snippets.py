"""Every Python snippet in README.md and docs/*.md runs as a user would run it -- saved as a
script and started with ``python script.py`` from the repository root -- and prints what the
page says it prints.

Conventions of the pages (checked here):
* a ``python`` block followed by a line ``Prints:`` and a ``text`` block: the script's
  standard output must match the text block line by line, where ``...`` inside a line matches
  any characters and a line that is only ``...`` matches any number of lines;
* a ``python`` block that prints without such a block is an error (show the output);
* a block preceded by ``<!-- not run: reason -->`` is skipped (only for code that needs an
  outside resource, e.g. a SLURM cluster; the reason is required).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "experiments" / "README.md"]


def parse_page(text: str):
    """``(line, code, expected output or None, skip reason or None)`` for every python block."""
    lines = text.split("\n")
    out, i = [], 0
    while i < len(lines):
        if lines[i].strip() != "```python":
            i += 1
            continue
        start = i + 1
        j = start
        while j < len(lines) and lines[j].strip() != "```":
            j += 1
        code = "\n".join(lines[start:j]) + "\n"
        before = "\n".join(lines[max(0, i - 2):i])
        skip = re.search(r"<!-- not run: (.*?) -->", before)
        k = j + 1
        while k < len(lines) and not lines[k].strip():
            k += 1
        expected = None
        if k < len(lines) and lines[k].strip() == "Prints:":
            k += 1
            while k < len(lines) and not lines[k].strip():
                k += 1
            assert lines[k].strip() == "```text", f"line {k + 1}: 'Prints:' must be followed by a text block"
            m = k + 1
            while lines[m].strip() != "```":
                m += 1
            expected = "\n".join(lines[k + 1:m]) + "\n"
        out.append((start + 1, code, expected, skip.group(1) if skip else None))
        i = j + 1
    return out


def _snippets():
    params = []
    for page in PAGES:
        if page.exists():
            for line, code, expected, skip in parse_page(page.read_text(encoding="utf-8")):
                params.append(pytest.param(page, line, code, expected, skip, id=f"{page.relative_to(ROOT)}:{line}"))
    return params


def matches(expected: str, actual: str) -> bool:
    """Line-wise match with ``...`` wildcards (see the module docstring)."""
    pattern = []
    for ln in expected.rstrip("\n").split("\n"):
        if ln.strip() == "...":
            pattern.append(r"(?:.*\n)*?")
        else:
            pattern.append(".*".join(re.escape(part) for part in ln.rstrip().split("...")) + r"[ \t]*\n")
    return re.fullmatch("".join(pattern), actual.rstrip("\n") + "\n") is not None


def test_matcher():
    assert matches("a = ...\n...\nend", "a = 12\nx\ny\nend\n")
    assert matches("a = ...", "a = 1")
    assert not matches("a = 1", "a = 2")
    assert not matches("a\nb", "a\n")


def test_every_page_has_been_scanned():
    assert sum(1 for p in _snippets()) >= 5


@pytest.mark.parametrize("page,line,code,expected,skip", _snippets())
def test_snippet_runs_as_a_script(tmp_path, page, line, code, expected, skip):
    if skip is not None:
        assert skip.strip(), f"{page.name}:{line}: a skipped snippet must say why"
        pytest.skip(f"{page.name}:{line}: {skip}")
    script = tmp_path / "snippet.py"
    script.write_text(code, encoding="utf-8")
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0")
    proc = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, f"{page.name}:{line} failed:\n{proc.stderr[-3000:]}"
    if expected is None:
        assert not proc.stdout.strip(), (f"{page.name}:{line} prints but the page shows no output "
                                         f"(add 'Prints:' and a text block):\n{proc.stdout}")
    else:
        assert matches(expected, proc.stdout), (f"{page.name}:{line}: output differs from the page\n"
                                                f"--- page ---\n{expected}\n--- actual ---\n{proc.stdout}")
