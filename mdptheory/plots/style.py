r"""One paper style for every figure of the package.

Rules (checked by ``tests/plots/test_style.py``):

* **curves** (one per learner) are always drawn *solid*; a curve is identified by its
  colour *and* its marker: :func:`color` cycles the eight colours of the Okabe & Ito (2008)
  colour-blind-safe palette and :func:`marker` the eight shapes of :data:`MARKERS`, shifted by
  three shapes each time the palette wraps, so the first 64 curves have distinct
  ``(colour, marker)`` pairs and curves sharing a colour have clearly different shapes.
  Markers are placed sparsely (``markevery``, staggered per curve) so curves stay readable
  (:func:`curve_style`);
* **theory overlays** (bound and rate lines) are always *dotted* (:data:`OVERLAY_LINESTYLE`,
  :func:`overlay_style`), so that no learner can be mistaken for one;
* **one legend per figure**, below the panels (drawn by the figure functions);
* **grids of at most three columns** (:func:`grid_shape`), sized for one-column (3.5 in) and
  two-column (7.16 in) papers (:data:`SIZES`, :func:`figure`);
* LaTeX-like serif text (STIX fonts and STIX math, shipped with matplotlib; no TeX needed);
* vector PDF (TrueType fonts embedded, ``pdf.fonttype = 42``) plus a PNG for slides and
  READMEs, written by :func:`save`.
"""

from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import Iterator

import matplotlib as mpl

__all__ = ["PALETTE", "MARKERS", "LEARNER_LINESTYLE", "OVERLAY_LINESTYLE", "MAX_COLUMNS", "SIZES", "RC",
           "paper_style", "figure", "grid_shape", "save", "color", "marker", "curve_style", "overlay_style"]

#: Okabe-Ito palette (black before the low-contrast yellow, which is used last).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
#: Marker shapes; neighbours in this order differ in shape class (round, square, triangle, ...).
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
#: Line style of every learner curve.
LEARNER_LINESTYLE = "-"
#: Line style reserved for theory overlays (bound and rate lines).
OVERLAY_LINESTYLE = ":"
#: Most panel columns in a figure.
MAX_COLUMNS = 3

#: Width and height (inches) of a single-panel figure for each layout. Figures with several
#: panels keep the width and split it into at most :data:`MAX_COLUMNS` columns (:func:`figure`).
SIZES = {"one-column": (3.5, 2.5), "two-column": (7.16, 2.8)}

RC = {
    "font.family": "serif",
    "font.serif": ["STIXGeneral", "DejaVu Serif"],
    "mathtext.fontset": "stix",
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "legend.fontsize": 6.5,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "axes.linewidth": 0.6,
    "lines.linewidth": 1.2,
    "lines.markersize": 3.5,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "axes.grid": True,
    "grid.linewidth": 0.3,
    "grid.alpha": 0.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.02,
    "axes.prop_cycle": mpl.cycler(color=list(PALETTE)),
}


def _index(i) -> int:
    if isinstance(i, bool) or not isinstance(i, int) or i < 0:
        raise ValueError(f"curve index = {i!r} must be a non-negative integer")
    return i


def color(i: int) -> str:
    """Colour of the ``i``-th curve: :data:`PALETTE` cycled."""
    return PALETTE[_index(i) % len(PALETTE)]


def marker(i: int) -> str:
    """Marker of the ``i``-th curve. With :func:`color`, ``(color(i), marker(i))`` is distinct
    for ``i < 64``: curves ``i`` and ``i + 8`` share a colour and their markers are three
    places apart in :data:`MARKERS` (``o`` -> ``D`` -> ``X`` ...)."""
    i = _index(i)
    return MARKERS[(i + 3 * (i // len(PALETTE))) % len(MARKERS)]


def curve_style(i: int) -> dict:
    """Matplotlib keywords of the ``i``-th learner curve: colour, marker, solid line, and
    sparse markers (``markevery`` every 15% of the axes diagonal, the first one shifted per
    curve so that the markers of overlapping curves do not sit on top of each other)."""
    i = _index(i)
    step = 0.15
    start = step * ((3 * i) % len(PALETTE)) / len(PALETTE)
    return {"color": color(i), "ls": LEARNER_LINESTYLE, "marker": marker(i), "markevery": (start, step),
            "markersize": 3.0, "markeredgewidth": 0.6}


def overlay_style(col: str = "0.35") -> dict:
    """Matplotlib keywords of a theory overlay (bound or rate line): dotted, thin."""
    return {"color": col, "ls": OVERLAY_LINESTYLE, "lw": 0.9}


@contextlib.contextmanager
def paper_style() -> Iterator[None]:
    """Context manager applying :data:`RC` (restored on exit)."""
    with mpl.rc_context(RC):
        yield


def grid_shape(n_panels: int, max_cols: int = MAX_COLUMNS) -> tuple[int, int]:
    """``(nrows, ncols)`` of a grid for ``n_panels`` panels: at most ``max_cols`` columns,
    as few rows as that allows, and 2 x 2 rather than 3 + 1 for four panels."""
    if isinstance(n_panels, bool) or not isinstance(n_panels, int) or n_panels < 1:
        raise ValueError(f"n_panels = {n_panels!r} must be a positive integer")
    if isinstance(max_cols, bool) or not isinstance(max_cols, int) or max_cols < 1:
        raise ValueError(f"max_cols = {max_cols!r} must be a positive integer")
    ncols = min(max_cols, n_panels)
    if n_panels == 4 and max_cols >= 2:
        ncols = 2
    return math.ceil(n_panels / ncols), ncols


def figure(size: str = "one-column", nrows: int = 1, ncols: int = 1, height_scale: float = 1.0, **kw):
    """A figure of ``nrows x ncols`` panels sized for ``size`` (``"one-column"``/``"two-column"``).

    The width is the paper's column or text width (:data:`SIZES`); one panel per row takes the
    height of :data:`SIZES`; in a grid each row is ``0.75 x`` the panel width plus 0.3 in for
    the title and axis labels (never taller than a single panel). ``ncols`` is at most
    :data:`MAX_COLUMNS`.
    """
    if size not in SIZES:
        raise ValueError(f"size = {size!r}; expected one of {sorted(SIZES)}")
    for n, v in (("nrows", nrows), ("ncols", ncols)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{n} = {v!r} must be a positive integer")
    if ncols > MAX_COLUMNS:
        raise ValueError(f"ncols = {ncols} exceeds MAX_COLUMNS = {MAX_COLUMNS}")
    import matplotlib.pyplot as plt

    w, h = SIZES[size]
    row = h if ncols == 1 else min(h, 0.75 * w / ncols + 0.3)
    fig, axes = plt.subplots(nrows, ncols, figsize=(w, row * nrows * height_scale), squeeze=False, **kw)
    return fig, axes


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask


def save(fig, stem, formats=("pdf", "png"), dpi: int = 200) -> list[Path]:
    """Write ``fig`` to ``stem.pdf`` and ``stem.png`` (each atomically) and close it.

    Returns the paths written.
    """
    import os
    import tempfile

    import matplotlib.pyplot as plt

    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        p = stem.with_suffix("." + fmt)
        fd, tmp = tempfile.mkstemp(prefix="." + p.name + ".", suffix=".tmp", dir=p.parent)
        os.close(fd)
        try:
            fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight", pad_inches=0.02,
                        metadata={"CreationDate": None} if fmt == "pdf" else None)
            os.chmod(tmp, 0o666 & ~_umask())      # mkstemp creates 0600; figures are for sharing
            os.replace(tmp, p)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        paths.append(p)
    plt.close(fig)
    return paths
