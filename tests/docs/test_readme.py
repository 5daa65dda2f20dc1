"""The README is executable documentation: CI runs its test command (its Python snippets
run as scripts in ``test_snippets.py``)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def quick_start_commands():
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line.strip() for line in block.splitlines() if line.strip()]


def test_quick_start_is_two_commands_and_ci_runs_the_second():
    cmds = quick_start_commands()
    assert len(cmds) == 2, cmds
    assert cmds[0].startswith("pip install -e . && mdptheory run ")
    ci = (ROOT / ".ci" / "run").read_text()
    assert cmds[1] in ci, "'.ci/run' must run the README's test command verbatim"


def test_main_job_study_file_exists():
    study = quick_start_commands()[0].split("mdptheory run ", 1)[1].split()[0]
    assert (ROOT / study).is_file(), study
