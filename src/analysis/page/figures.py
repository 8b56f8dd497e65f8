"""Figures as PNG at twice their pixels, drawn once and stored with a palette.

Imported into a report's kernel (:data:`analysis.reports.KERNEL_ARGUMENTS`, where the
inline backend's own formats are switched off), this module gives every matplotlib
figure the notebooks display its ``image/png``: the figure drawn at twice its dpi,
sharp on high-density screens, with ``width`` and ``height`` metadata at its own size,
at which the page shows it (as IPython's 'retina' format does).

IPython's 'retina' formatter went through ``savefig``, which lays out the text of a
figure a second time in a draw that renders nothing (the figure keeps a layout engine
after ``tight_layout``), and wrote RGBA. Here the figure is drawn once and written as
a palette PNG: a chart has few colours (224 on a bar chart of 26 units), and a figure
of at most 256 colours is stored exactly. One of more colours (lines of many units, a
translucent band under text) keeps its 256 most frequent colours and gives each other
pixel the nearest of them: such pixels are the edges of anti-aliased lines and
letters, about 1% of a figure, off by 57 of 255 at most in one channel. A third of the
bytes of the RGBA PNG, and half the encoding time; the same figure gives the same bytes.
"""

from __future__ import annotations

import io

# zlib's effort: 6 halves the bytes of 1 on a palette PNG for about 30 ms more a figure
COMPRESS_LEVEL = 6
SCALE = 2  # pixels per pixel of the figure's own size


def figure_pixels(fig, scale: float = SCALE):
    """The figure drawn with the Agg renderer at ``scale`` times its dpi: an RGBA array
    (height, width, 4), a copy; None for a figure with nothing on it (as IPython's
    formatters)."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not fig.axes and not fig.lines:
        return None
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    dpi = fig.dpi
    # without its window (inline figures have none), a figure's size in inches is unchanged
    manager, canvas.manager = canvas.manager, None
    fig.set_dpi(dpi * scale)
    try:
        canvas.draw()
        return np.array(canvas.buffer_rgba())
    finally:
        fig.set_dpi(dpi)
        canvas.manager = manager


def palette_image(rgba):
    """An RGB image of a ``(h, w, 4)`` opaque RGBA array as a Pillow 'P' image: exact when
    it has at most 256 colours, else its 256 most frequent colours (ties by colour) and
    every other pixel the nearest of them (squared distance in RGB). Alpha is dropped:
    for figures drawn on an opaque face (:func:`figure_png` keeps others RGBA)."""
    import numpy as np
    from PIL import Image

    rgba = np.ascontiguousarray(rgba, dtype=np.uint8)
    height, width, _ = rgba.shape
    image = Image.frombuffer("RGBA", (width, height), rgba, "raw", "RGBA", 0, 1)
    found = image.getcolors(height * width)  # [(count, (r, g, b, a))], from a hash table in C
    colours = np.array([c for _, c in found], dtype=np.uint8).reshape(-1, 4)
    counts = np.array([n for n, _ in found], dtype=np.int64)
    colours[:, 3] = 0
    keys = colours.view("<u4").ravel()  # r | g << 8 | b << 16, alpha left out
    order = np.argsort(keys, kind="stable")
    keys, colours, counts = keys[order], colours[order], counts[order]
    if len(keys) <= 256:
        palette = colours[:, :3]
        index = np.arange(len(keys), dtype=np.uint8)
    else:
        kept = np.sort(np.lexsort((keys, -counts))[:256])
        palette = colours[kept, :3]
        distance = ((colours[:, None, :3].astype(np.int32) - palette[None].astype(np.int32)) ** 2).sum(-1)
        index = distance.argmin(axis=1).astype(np.uint8)
    # every pixel's palette index from a table over all 2^24 colours: only the few pages
    # of it that a figure's colours fall on are ever written (np.zeros maps them lazily)
    table = np.zeros(1 << 24, dtype=np.uint8)
    table[keys] = index
    pixels = rgba.view("<u4").reshape(height, width) & np.uint32(0x00FFFFFF)
    out = Image.fromarray(table[pixels], mode="L")
    out.putpalette(palette.tobytes(), "RGB")
    return out


def figure_png(fig, scale: float = SCALE) -> bytes | None:
    """The PNG of ``fig`` at ``scale`` times its dpi, with a palette (see the module)."""
    from PIL import Image

    rgba = figure_pixels(fig, scale)
    if rgba is None:
        return None
    buffer = io.BytesIO()
    if rgba[..., 3].min() < 255:
        # a figure with a transparent face (the package's have none) keeps it: RGBA, lossless
        Image.fromarray(rgba, mode="RGBA").save(buffer, format="png", compress_level=COMPRESS_LEVEL)
    else:
        palette_image(rgba).save(buffer, format="png", compress_level=COMPRESS_LEVEL)
    return buffer.getvalue()


def retina_png(fig):
    """What IPython's 'retina' formatter gives, this module's way: (base64 PNG,
    {"width", "height"} at the figure's own size); None for an empty figure."""
    import base64

    data = figure_png(fig)
    if data is None:
        return None
    width, height = (v // SCALE for v in _png_size(data))
    return base64.b64encode(data).decode("ascii"), {"width": width, "height": height}


def _png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def running_shell(shell=None):
    """``shell``, else the running IPython; None outside IPython."""
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:  # pragma: no cover - IPython is a dependency
            return None
        shell = get_ipython()
    return shell


def register(shell=None) -> bool:
    """Make this module's PNG the ``image/png`` of every matplotlib figure ``shell`` (the
    running IPython by default) displays; False outside IPython. Registered by name
    for Figure's base class, so that matplotlib is not imported here; the inline
    backend's own formatters for Figure, which would come first, are switched off
    with ``--InlineBackend.figure_formats=set()``."""
    shell = running_shell(shell)
    if shell is None:
        return False
    shell.display_formatter.formatters["image/png"].for_type_by_name("matplotlib.figure", "FigureBase", retina_png)
    return True


register()
