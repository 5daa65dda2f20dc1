"""House rules that a reviewer would otherwise check by hand (CONTRIBUTING.md):

* a learner module's docstring is its algorithm box: at most 30 lines;
* no tracked file names a path outside the repository or a note that is not in it;
* every page linked from ``proofs_notes/README.md`` exists, and every page is linked.
"""

from __future__ import annotations

import ast
import re
import subprocess
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


_OUTSIDE = re.compile(r"(/work/|\.\./shared/|regret_algorithms\.md|theory_probes\.md|next_capabilities\.md"
                      r"|peer_toolkits\.md|/root/|/home/[a-z])")


def test_no_file_names_a_path_outside_the_repository():
    bad = []
    for f in _tracked_text_files():
        if f.name == "test_repository_rules.py" or not f.exists():
            continue
        for i, line in enumerate(f.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if _OUTSIDE.search(line):
                bad.append(f"{f.relative_to(ROOT)}:{i}: {line.strip()[:100]}")
    assert not bad, "\n".join(bad)


def test_proofs_notes_index_is_complete():
    notes = ROOT / "proofs_notes"
    index = (notes / "README.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\(([\w.-]+\.md)\)", index))
    pages = {p.name for p in notes.glob("*.md")} - {"README.md"}
    assert not linked - pages, f"index links missing pages: {sorted(linked - pages)}"
    assert not pages - linked, f"pages not in the index: {sorted(pages - linked)}"
