"""House rules that a reviewer would otherwise check by hand (CONTRIBUTING.md):

* a learner module's docstring is its algorithm box: at most 30 lines;
* no tracked file names a path outside the repository or a note that is not in it;
* every page linked from ``proofs_notes/README.md`` exists, and every page is linked.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LEARNERS = sorted((ROOT / "mdptheory" / "learners").glob("*.py"))


@pytest.mark.parametrize("path", LEARNERS, ids=[p.name for p in LEARNERS])
def test_learner_docstring_is_a_short_algorithm_box(path):
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")), clean=False) or ""
    assert len(doc.splitlines()) <= 30, f"{path.name}: module docstring has {len(doc.splitlines())} lines"


def _tracked_text_files():
    try:
        out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [ROOT / f for f in out.split() if f.endswith((".py", ".md", ".toml", ".cfg", ".txt"))]


_HOME = re.compile(r"(?<![\w.])/(?:root|home/[a-z])")        # absolute paths into a home folder
_UP = re.compile(r"(?<![\w/.])((?:\.\./)+[\w.-]+)")           # relative paths climbing up


def _outside(line: str, f) -> bool:
    """Whether ``line`` of file ``f`` names a place outside the repository: an absolute path
    beside it or in a home folder, or a relative path that climbs out of it."""
    beside = ROOT.parent != Path(tempfile.gettempdir()) and str(ROOT.parent) + "/" in line
    if beside or _HOME.search(line):
        return True
    for m in _UP.finditer(line):
        target = (f.parent / m.group(1)).resolve()
        if target != ROOT and ROOT not in target.parents:
            return True
    return False


def test_no_file_names_a_path_outside_the_repository():
    bad = []
    for f in _tracked_text_files():
        if f.name == "test_repository_rules.py" or not f.exists():
            continue
        for i, line in enumerate(f.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if _outside(line, f):
                bad.append(f"{f.relative_to(ROOT)}:{i}: {line.strip()[:100]}")
    assert not bad, "\n".join(bad)


def test_the_outside_rule_can_fail():
    f = ROOT / "docs" / "page.md"
    up = os.pardir + "/"
    assert _outside(f"see {up * 2}elsewhere/notes.txt", f)
    if ROOT.parent != Path(tempfile.gettempdir()):       # a clone in the temporary folder: examples use it
        assert _outside(f"open {ROOT.parent}/other/file.py", f)
    assert _outside("kept in /home/someone/notes", f)
    assert not _outside(f"see {up}README.md, {up}proofs_notes/README.md and README.md", f)


def test_proofs_notes_index_is_complete():
    notes = ROOT / "proofs_notes"
    index = (notes / "README.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\(([\w.-]+\.md)\)", index))
    pages = {p.name for p in notes.glob("*.md")} - {"README.md"}
    assert not linked - pages, f"index links missing pages: {sorted(linked - pages)}"
    assert not pages - linked, f"pages not in the index: {sorted(pages - linked)}"
