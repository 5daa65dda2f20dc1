"""Study-file validation: every error names the file, the key and what was expected."""

from __future__ import annotations

import textwrap

import pytest

from mdptheory.sweeps import ConfigError, load_config, parse_config
from mdptheory.sweeps.config import config_key

BASE = """
[study]
name = "t"
episodes = 50
seeds = 3

[[learners]]
name = "UniformRandom"

[[mdps]]
family = "riverswim"
params = { horizon = 5 }
grid = { n = [3, 4] }
"""


def write(tmp_path, text, name="study.toml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def test_valid_study_expands_grid(tmp_path):
    st = load_config(write(tmp_path, BASE))
    assert st.name == "t" and st.episodes == 50 and st.seeds == (0, 1, 2)
    assert len(st.configurations) == 2
    # S comes from the built MDP: riverswim(n) has n states, 2 actions
    assert [(c.S, c.A, c.H) for c in st.configurations] == [(3, 2, 5), (4, 2, 5)]
    assert st.configurations[0].mdp.params == {"horizon": 5, "n": 3}
    assert st.configurations[0].label == "UniformRandom | riverswim (n=3)"
    assert st.n_records == 6


def test_key_ignores_labels_and_depends_on_params(tmp_path):
    st = load_config(write(tmp_path, BASE))
    st2 = load_config(write(tmp_path, BASE.replace('name = "UniformRandom"', 'name = "UniformRandom"\nlabel = "U"'), "b.toml"))
    assert [c.key for c in st.configurations] == [c.key for c in st2.configurations]
    assert st.configurations[0].key != st.configurations[1].key
    c = st.configurations[0]
    assert c.key == config_key(c.learner, c.mdp, 50, 1)
    assert config_key(c.learner, c.mdp, 51, 1) != c.key


def test_key_is_the_documented_sha256_of_the_identity(tmp_path):
    """docs/sweeps.md: the key is a SHA-256 prefix of (learner, its parameters, family, its
    parameters, episodes, eval_every); recomputed here from that description, so a change
    of the key format (which would orphan every stored record) fails this test."""
    import hashlib
    import json

    st = load_config(write(tmp_path, BASE))
    c = st.configurations[1]
    ident = {"learner": "UniformRandom", "learner_params": {}, "family": "riverswim",
             "family_params": {"n": 4, "horizon": 5}, "episodes": 50, "eval_every": 1}
    digest = hashlib.sha256(json.dumps(ident, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    assert c.key == digest[:16]
    # parameter order in the file does not matter
    st2 = load_config(write(tmp_path, BASE.replace("params = { horizon = 5 }\ngrid = { n = [3, 4] }",
                                                    "grid = { n = [3, 4] }\nparams = { horizon = 5 }"), "c.toml"))
    assert [x.key for x in st2.configurations] == [x.key for x in st.configurations]


def test_round_trip_dict(tmp_path):
    from mdptheory.sweeps import Study

    st = load_config(write(tmp_path, BASE))
    assert Study.from_dict(st.to_dict()) == st


@pytest.mark.parametrize(
    "mutate, key, expected",
    [
        (lambda s: s.replace('name = "UniformRandom"', 'name = "NoSuchLearner"'), "learners[0].name", "UniformRandom"),
        (lambda s: s.replace('family = "riverswim"', 'family = "atlantis"'), "mdps[0].family", "riverswim"),
        (lambda s: s.replace("episodes = 50", "episodes = 0"), "study.episodes", "integer >= 1"),
        (lambda s: s.replace("episodes = 50", 'episodes = "many"'), "study.episodes", "integer >= 1"),
        (lambda s: s.replace("seeds = 3", "seeds = [1, 1]"), "study.seeds", "distinct"),
        (lambda s: s.replace("seeds = 3", "seeds = -2"), "study.seeds", "integer >= 1"),
        (lambda s: s.replace("params = { horizon = 5 }", "params = { horizon = 5, depth = 2 }"), "mdps[0].params.depth", "horizon"),
        (lambda s: s.replace("grid = { n = [3, 4] }", "grid = { n = [] }"), "mdps[0].grid.n", "non-empty list"),
        (lambda s: s.replace("grid = { n = [3, 4] }", "grid = { horizon = [3, 4] }"), "mdps[0].grid.horizon", "not both"),
        (lambda s: s.replace("grid = { n = [3, 4] }", "grid = { n = [1] }"), "mdps[0].params", "valid family arguments"),
        (lambda s: s + '\n[outputs]\nfigures = ["regret", "pie"]\n', "outputs.figures[1]", "'loglog'"),
        (lambda s: s + '\n[outputs]\nband = "sd"\n', "outputs.band", "'bootstrap'"),
        (lambda s: s + '\n[outputs]\nlevel = 1.5\n', "outputs.level", "(0, 1)"),
        (lambda s: s + '\n[outputs]\nfigures = ["scaling"]\n', "outputs.scaling", "'S'"),
        (lambda s: s + '\n[outputs]\nmeasures = ["nonexistent_measure"]\n', "outputs.measures[0]", "expected"),
        (lambda s: s + '\n[extra]\nx = 1\n', "extra", "one of"),
        (lambda s: s.replace("[study]", "[study]\nwho = 1"), "study.who", "one of"),
        (lambda s: s.replace("seeds = 3\n", ""), "study.seeds", "a value"),
        (lambda s: s.replace("[study]", "[study]\ndelta = 2"), "study.delta", "(0, 1)"),
        (lambda s: s.replace("[study]", "[study]\neval_every = 99"), "study.eval_every", "<= episodes"),
        (lambda s: s.replace("params = { horizon = 5 }", "params = { horizon = 1979-05-27 }"), "mdps[0].params.horizon", "number"),
        (lambda s: s.replace("grid = { n = [3, 4] }", "grid = { n = [3, 4], depth = [1, 2] }"), "mdps[0].grid.depth", "horizon"),
        (lambda s: s.replace('name = "UniformRandom"', 'name = "UCBVI"\ngrid = { bonus_scal = [0.1] }'), "learners[0].grid.bonus_scal", "bonus_scale"),
        (lambda s: s.replace('name = "UniformRandom"', 'name = "UCBVI"\nparams = { bonus = "nope" }'), "learners[0].params", "valid constructor arguments"),
        (lambda s: s.replace('name = "UniformRandom"', 'name = "UniformRandom"\nparams = { x = { family = "riverswim" } }'), "learners[0].params.x", "no tables"),
        (lambda s: s.replace("episodes = 50", "episodes = 1e3"), "study.episodes", "integer >= 1"),
        (lambda s: s.replace("[study]", "[study]\nseed_chunk = -1"), "study.seed_chunk", "integer >= 0"),
        (lambda s: s + '\n[outputs]\nbootstrap = 10\n', "outputs.bootstrap", "integer >= 100"),
        (lambda s: s + '\n[outputs]\nsize = "poster"\n', "outputs.size", "'one-column'"),
        (lambda s: s + '\n[outputs]\nstore_returns = 1\n', "outputs.store_returns", "true or false"),
        (lambda s: s.replace('family = "riverswim"', 'family = "stochastic_twin"').replace(
            "params = { horizon = 5 }", 'params = { mix = 0.5, mdp = { family = "nowhere" } }').replace(
            "grid = { n = [3, 4] }", ""), "mdps[0].params.mdp.family", "deterministic"),
    ],
)
def test_errors_name_file_key_expected(tmp_path, mutate, key, expected):
    p = write(tmp_path, mutate(BASE))
    with pytest.raises(ConfigError) as ei:
        load_config(p)
    err = ei.value
    assert err.file == str(p)
    assert err.key == key
    msg = str(err)
    assert msg.startswith(f"{p}: {key}: ")
    assert expected in msg


def test_unknown_learner_lists_alternatives(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown learner 'Nope'.*expected one of: .*UniformRandom"):
        load_config(write(tmp_path, BASE.replace('name = "UniformRandom"', 'name = "Nope"')))


def test_names_are_case_and_dash_insensitive(tmp_path):
    st = load_config(write(tmp_path, BASE.replace('"UniformRandom"', '"uniform-random"').replace('"riverswim"', '"River_Swim"')))
    assert st.configurations[0].learner.name == "UniformRandom"
    assert st.configurations[0].mdp.family == "riverswim"


def test_syntax_error_and_missing_file(tmp_path):
    p = write(tmp_path, "[study\nname=1")
    with pytest.raises(ConfigError, match=r"\(syntax\): invalid TOML"):
        load_config(p)
    with pytest.raises(ConfigError, match=r"\(file\): cannot be read"):
        load_config(tmp_path / "absent.toml")


def test_discounted_family_rejected(tmp_path):
    with pytest.raises(ConfigError, match=r"mdps\[0\]\.family: .*EpisodicMDP"):
        parse_config({
            "study": {"name": "x", "episodes": 5, "seeds": 1},
            "learners": [{"name": "UniformRandom"}],
            "mdps": [{"family": "puterman_two_state"}],
        }, source="mem.toml")


def test_duplicate_configuration_rejected():
    with pytest.raises(ConfigError, match=r"identical"):
        parse_config({
            "study": {"name": "x", "episodes": 5, "seeds": 1},
            "learners": [{"name": "UniformRandom"}, {"name": "UniformRandom", "label": "again"}],
            "mdps": [{"family": "riverswim", "params": {"horizon": 3}}],
        }, source="mem.toml")


def test_shipped_experiments_validate():
    """Every study shipped in experiments/ parses and resolves (names exist, params accepted)."""
    from pathlib import Path

    files = sorted((Path(__file__).resolve().parents[2] / "experiments").glob("*.toml"))
    assert {f.name for f in files} >= {"quickstart.toml", "regret_vs_episodes.toml", "scaling_S_A_H.toml", "best_of_both_worlds.toml"}
    for f in files:
        st = load_config(f)
        assert st.n_records > 0
