"""Local Sphinx extension for the book: one source for the TeX macros.

``book/macros.yml`` defines every macro once. This extension feeds them to
MathJax 3 (``mathjax3_config.tex.macros``) for the HTML site and to the LaTeX
preamble for the PDF, so both outputs always agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

MACROS_FILE = Path(__file__).resolve().parent.parent / "macros.yml"


def load_macros(path: Path = MACROS_FILE) -> dict[str, tuple[str, int, str]]:
    """Return ``{name: (definition, n_args, meaning)}`` from ``macros.yml``."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {name: (str(d), int(n), str(m)) for name, (d, n, m) in raw.items()}


def mathjax_macros(macros: dict[str, tuple[str, int, str]]) -> dict[str, Any]:
    """MathJax 3 form: a string, or ``[definition, n_args]`` for macros with arguments."""
    return {name: (d if n == 0 else [d, n]) for name, (d, n, _) in macros.items()}


def latex_preamble(macros: dict[str, tuple[str, int, str]]) -> str:
    r"""LaTeX form: ``\providecommand`` then ``\renewcommand``, so a macro that a
    package already defines is replaced rather than causing an error."""
    lines = ["% Macros from book/macros.yml"]
    for name, (d, n, _) in macros.items():
        args = f"[{n}]" if n else ""
        lines.append(f"\\providecommand{{\\{name}}}{{}}\\renewcommand{{\\{name}}}{args}{{{d}}}")
    return "\n".join(lines) + "\n"


def _config_inited(app: Any, config: Any) -> None:
    macros = load_macros()
    mj = dict(config.mathjax3_config or {})
    tex = dict(mj.get("tex", {}))
    tex["macros"] = {**tex.get("macros", {}), **mathjax_macros(macros)}
    mj["tex"] = tex
    config.mathjax3_config = mj
    elements = dict(config.latex_elements or {})
    elements["preamble"] = elements.get("preamble", "") + latex_preamble(macros)
    config.latex_elements = elements


def setup(app: Any) -> dict[str, Any]:
    app.connect("config-inited", _config_inited, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
