r"""Name registry for study files: learners, MDP families and measures.

A study file (TOML) names things -- ``"UCBVI"``, ``"riverswim"``, ``"diameter"`` -- and
this module turns names into the package's own objects. There are no import strings, no
``eval`` and no pickle: a name is looked up, *lazily*, in the public ``__all__`` of

* :mod:`mdptheory.learners` (classes; a learner exposes ``bound`` and ``config``),
* :mod:`mdptheory.envs` (functions returning an MDP),
* :mod:`mdptheory.measures` (functions of an MDP),

plus anything added in Python with :func:`register`. Lookups are case-insensitive and
ignore ``-``/``_`` so ``"deep-sea"``, ``"deep_sea"`` and ``"DeepSea"`` all find
``deep_sea``. An unknown name raises :class:`LookupError` whose message lists the names
that do exist; :mod:`mdptheory.sweeps.config` adds the file and key.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any, Callable

__all__ = ["KINDS", "register", "resolve", "available", "signature_params"]

#: Registry kinds and the package module whose ``__all__`` populates each.
KINDS = {
    "learner": "mdptheory.learners",
    "family": "mdptheory.envs",
    "measure": "mdptheory.measures",
}

_EXTRA: dict[str, dict[str, Callable[..., Any]]] = {k: {} for k in KINDS}


def _norm(name: str) -> str:
    return name.replace("-", "").replace("_", "").replace(" ", "").lower()


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind = {kind!r}; expected one of {sorted(KINDS)}")


def _accepts(kind: str, obj: Any) -> bool:
    if kind == "learner":
        # classes with a `bound` method, except the protocol's base class itself
        return inspect.isclass(obj) and hasattr(obj, "bound") and not (
            obj.__name__ == "Learner" and obj.__module__.endswith(".base"))
    return callable(obj) and not inspect.isclass(obj) and not inspect.ismodule(obj)


def _package_entries(kind: str) -> dict[str, Any]:
    mod = importlib.import_module(KINDS[kind])
    names = getattr(mod, "__all__", None) or [n for n in dir(mod) if not n.startswith("_")]
    out = {}
    for n in names:
        obj = getattr(mod, n, None)
        if obj is not None and _accepts(kind, obj):
            out[n] = obj
    return out


def available(kind: str) -> list[str]:
    """Sorted names that :func:`resolve` accepts for ``kind``.

    Parameters
    ----------
    kind : {"learner", "family", "measure"}
    """
    _check_kind(kind)
    return sorted(set(_package_entries(kind)) | set(_EXTRA[kind]))


def register(kind: str, name: str, obj: Callable[..., Any]) -> None:
    """Register ``obj`` under ``name`` (Python-side extension point; study files only name it).

    Parameters
    ----------
    kind : {"learner", "family", "measure"}
    name : str
    obj : callable
        A learner class (with ``bound``), a family function returning an MDP, or a
        measure function of an MDP.

    Notes
    -----
    Registrations live in the current process. With the local-process or Dask executors the
    worker processes import the package afresh, so a study that uses a Python-registered
    name must be run with ``workers=1`` (serial) unless the registering module is imported
    by the workers too.
    """
    _check_kind(kind)
    if not isinstance(name, str) or not name:
        raise ValueError(f"name = {name!r} must be a non-empty string")
    if not _accepts(kind, obj):
        raise TypeError(f"obj = {obj!r} is not a valid {kind} (learners are classes with a `bound` method)")
    _EXTRA[kind][name] = obj


def resolve(kind: str, name: str) -> tuple[str, Callable[..., Any]]:
    """Look ``name`` up; return ``(canonical_name, object)``.

    Raises
    ------
    LookupError
        If nothing matches; the message lists the available names.
    """
    _check_kind(kind)
    if not isinstance(name, str):
        raise LookupError(f"expected a string naming a {kind}, got {name!r}")
    entries = dict(_package_entries(kind))
    entries.update(_EXTRA[kind])
    if name in entries:
        return name, entries[name]
    key = _norm(name)
    hits = [n for n in entries if _norm(n) == key]
    if len(hits) == 1:
        return hits[0], entries[hits[0]]
    known = ", ".join(sorted(entries)) or "(none installed)"
    raise LookupError(f"unknown {kind} {name!r}; expected one of: {known}")


def signature_params(obj: Callable[..., Any]) -> tuple[set[str], bool]:
    """Keyword names accepted by ``obj`` (constructor for classes) and whether it takes ``**kwargs``."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):  # pragma: no cover - builtins without signatures
        return set(), True
    names, var_kw = set(), False
    for p in sig.parameters.values():
        if p.kind is inspect.Parameter.VAR_KEYWORD:
            var_kw = True
        elif p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY):
            if p.name != "self":
                names.add(p.name)
    return names, var_kw
