r"""One paper style for every figure of the package.

* colour-blind-safe palette: Okabe & Ito (2008), "Color Universal Design" -- eight colours
  distinguishable under the common colour-vision deficiencies; line styles cycle too, so
  figures survive greyscale printing;
* LaTeX-like serif text (STIX fonts and STIX math, shipped with matplotlib; no TeX needed);
* sizes for one-column (3.5 in) and two-column (7.16 in) papers (IEEE/ACM/NeurIPS-style
  text widths);
* vector PDF (TrueType fonts embedded, ``pdf.fonttype = 42``) plus a PNG for slides and
  READMEs, written by :func:`save`.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

import matplotlib as mpl

__all__ = ["PALETTE", "LINESTYLES", "MARKERS", "SIZES", "RC", "paper_style", "figure", "save", "color", "linestyle",
           "marker"]

#: Okabe-Ito palette (black moved last).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)), (0, (1, 1)), (0, (8, 2)))
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")

#: Width, height (inches) of one panel for each layout.
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


def color(i: int) -> str:
    """The ``i``-th palette colour (cycles)."""
    return PALETTE[i % len(PALETTE)]


def linestyle(i: int):
    """The ``i``-th line style. Paired with :func:`color`, ``(color(i), linestyle(i))`` is
    distinct for ``i < 64`` (the style shifts by 3 each time the palette wraps around)."""
    return LINESTYLES[(i + 3 * (i // len(PALETTE))) % len(LINESTYLES)]


def marker(i: int):
    """Marker of the ``i``-th curve: ``None`` for the first ``len(PALETTE)`` curves, then a
    marker from :data:`MARKERS`, so curves that share a colour after the palette wraps
    differ in colour *and* marker, not only in dash pattern."""
    if i < len(PALETTE):
        return None
    return MARKERS[(i // len(PALETTE) - 1 + i) % len(MARKERS)]


@contextlib.contextmanager
def paper_style() -> Iterator[None]:
    """Context manager applying :data:`RC` (restored on exit)."""
    with mpl.rc_context(RC):
        yield


def figure(size: str = "one-column", nrows: int = 1, ncols: int = 1, height_scale: float = 1.0, **kw):
    """A figure of ``nrows x ncols`` panels sized for ``size`` (``"one-column"``/``"two-column"``).

    One-column figures keep the column width and grow in height with the rows; two-column
    figures keep the text width and split it between the columns.
    """
    if size not in SIZES:
        raise ValueError(f"size = {size!r}; expected one of {sorted(SIZES)}")
    for n, v in (("nrows", nrows), ("ncols", ncols)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{n} = {v!r} must be a positive integer")
    import matplotlib.pyplot as plt

    w, h = SIZES[size]
    if size == "one-column":
        width, height = w, h * nrows * (0.85 if ncols > 1 else 1.0)
    else:
        width, height = w, h * nrows * (1.0 if ncols > 1 else 0.8)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height * height_scale), squeeze=False, **kw)
    return fig, axes


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
            os.replace(tmp, p)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        paths.append(p)
    plt.close(fig)
    return paths
