"""Binder, simulated without Docker: what ``binder/`` asks for runs every page.

One test does it all in one fresh virtual environment (it is slow: a pip install of
JupyterLab and the scientific stack, from pip's cache after the first run):

1. install exactly ``binder/requirements.txt`` (from the repository root, as repo2docker
   does) into a new venv made with the interpreter ``binder/runtime.txt`` names when it
   is available, else the running one;
2. run ``binder/postBuild`` with that venv first on ``PATH`` and a throw-away ``HOME``;
3. convert every page in ``_toc.yml`` with jupytext and execute it with nbclient in the
   venv's own kernel: every cell must pass.

The cheap checks of the ``binder/`` files and the launch settings run without a venv.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import venv
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"
sys.path.insert(0, str(ROOT / "scripts"))
from build_book import chapter_files, toc_files  # noqa: E402

# Tools that must stay out of Binder: they make the image big and slow to start.
NOT_IN_BINDER = ("jupyter_book", "pytest", "playwright", "hypothesis", "mypy", "ruff")


def requirement_lines() -> list[str]:
    lines = (BINDER / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return [ln.split("#")[0].strip() for ln in lines if ln.split("#")[0].strip()]


def lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements" / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version.strip()
    return pins


def test_binder_requirements_install_the_package_and_are_pinned() -> None:
    reqs = requirement_lines()
    assert "." in reqs or "-e ." in reqs, (
        "binder/requirements.txt must install calcml from the repo"
    )
    pins = [r for r in reqs if r not in {".", "-e ."}]
    names = set()
    for req in pins:
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)==([0-9][^\s;]*)", req)
        assert m, f"not pinned with ==: {req}"
        names.add(re.sub(r"[-_.]+", "-", m[1]).lower())
    assert {"jupytext", "jupyterlab", "notebook", "ipykernel"} <= names
    locked = lock()
    for req in pins:
        name, version = req.split("==")
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in locked:
            assert locked[key] == version, f"{name}: binder pins {version}, the lock {locked[key]}"
    assert not names & {n.replace("_", "-") for n in NOT_IN_BINDER}


def test_binder_keeps_jupyterlab_and_notebook_a_consistent_pair() -> None:
    """Notebook 7.N needs JupyterLab 4.N (notebook 7.4: jupyterlab>=4.4,<4.5): pinning only
    one of them would upgrade over repo2docker's base environment and break the other."""
    pins = dict(r.split("==") for r in requirement_lines() if "==" in r)
    lab, nb = pins["jupyterlab"].split("."), pins["notebook"].split(".")
    assert (lab[0], nb[0]) == ("4", "7") and lab[1] == nb[1], (pins["jupyterlab"], pins["notebook"])


def test_binder_runtime_and_postbuild() -> None:
    runtime = (BINDER / "runtime.txt").read_text(encoding="utf-8").strip()
    assert re.fullmatch(r"python-3\.\d+", runtime), runtime
    major, minor = map(int, runtime.removeprefix("python-").split("."))
    assert (major, minor) >= (3, 11), "calcml needs Python 3.11 or newer"
    post = BINDER / "postBuild"
    text = post.read_text(encoding="utf-8")
    assert text.startswith("#!/bin/bash\n")
    assert "set -euo pipefail" in text
    assert "jupytext-config set-default-viewer" in text
    assert os.access(post, os.X_OK), "postBuild must be executable"


def config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def test_launch_buttons_point_at_binder_with_jupyterlab_on_main() -> None:
    cfg = config()
    launch, repo = cfg["launch_buttons"], cfg["repository"]
    assert launch["binderhub_url"] == "https://mybinder.org"
    assert launch["notebook_interface"] == "jupyterlab"
    assert launch["colab_url"] == "https://colab.research.google.com"
    assert repo["branch"] == "main"
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", repo["url"]), repo["url"]


def test_chapter_pages_install_calcml_from_the_configured_repository() -> None:
    """The first code cell installs calcml from _config.yml's repository when it is missing."""
    import jupytext

    url = config()["repository"]["url"]
    chapters = chapter_files()
    for page in chapters:
        nb = jupytext.read(ROOT / f"{page}.md")
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code, f"{page} has no code cell"
        first = code[0].source
        assert "import calcml" in first and "pip" in first, f"{page}: first cell:\n{first}"
        assert f"git+{url}" in first, f"{page}: first cell does not install from {url}:\n{first}"


DRIVER = textwrap.dedent("""\
    import json, sys
    from pathlib import Path
    import jupytext
    from nbclient import NotebookClient

    results = {}
    for source in sys.argv[1:]:
        path = Path(source)
        nb = jupytext.read(path)
        client = NotebookClient(nb, timeout=300, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        try:
            client.execute()
            results[source] = "ok"
        except Exception as exc:  # report every page, not just the first failure
            results[source] = f"{type(exc).__name__}: {exc}"[-3000:]
    print("RESULTS" + json.dumps(results))
    """)


def venv_python(home: Path) -> Path:
    """A fresh venv, with the Python that runtime.txt names when it is installed here."""
    runtime = (BINDER / "runtime.txt").read_text(encoding="utf-8").strip()
    wanted = shutil.which(runtime.replace("-", ""))  # python-3.11 -> python3.11
    env_dir = home / "venv"
    if wanted:
        subprocess.run([wanted, "-m", "venv", str(env_dir)], check=True)
    else:
        venv.create(env_dir, with_pip=True)
    return env_dir / "bin" / "python"


@pytest.mark.binder
def test_binder_environment_runs_every_page(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    python = venv_python(tmp_path)
    bindir = python.parent
    # As on Binder: configuration in ~/.jupyter, nothing from this test run's environment.
    drop = {
        "VIRTUAL_ENV",
        "PYTHONPATH",
        "JUPYTER_CONFIG_DIR",
        "JUPYTER_PLATFORM_DIRS",
        "JUPYTER_DATA_DIR",
        "JUPYTER_PATH",
        "MPLBACKEND",
    }
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(HOME=str(home), PATH=f"{bindir}{os.pathsep}{env['PATH']}")
    # 1. Exactly what binder/ asks for, resolved from the repository root like repo2docker.
    #    pip's cache (shared across runs) makes this quick after the first time; no .pyc
    #    compilation (Python compiles what it imports) saves most of the install time.
    pip = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-compile",
            "-r",
            str(BINDER / "requirements.txt"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert pip.returncode == 0, pip.stdout[-3000:] + pip.stderr[-3000:]
    # The resolved set is consistent (pip only warns about conflicts when it installs):
    # e.g. notebook 7.4, which repo2docker's base environment has, needs jupyterlab<4.5.
    check = subprocess.run(
        [str(python), "-m", "pip", "check"], env=env, capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr

    # Small: none of the build or test tools came along.
    probe = subprocess.run(
        [
            str(python),
            "-c",
            "import importlib.util as u, json, calcml; print(json.dumps("
            f"[calcml.__file__, [m for m in {list(NOT_IN_BINDER)!r} if u.find_spec(m)]]))",
        ],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    calcml_file, present = json.loads(probe.stdout)
    assert Path(calcml_file).is_relative_to(tmp_path / "venv"), "calcml must be installed"
    assert present == [], f"build/test tools in the Binder environment: {present}"

    # 2. postBuild: JupyterLab opens MyST markdown as notebooks.
    post = subprocess.run(
        [str(BINDER / "postBuild")], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert post.returncode == 0, post.stdout + post.stderr
    overrides = json.loads(
        (home / ".jupyter" / "labconfig" / "default_setting_overrides.json").read_text()
    )
    viewers = overrides["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
    assert viewers.get("markdown") == "Jupytext Notebook", viewers
    assert (
        tmp_path
        / "venv"
        / "share"
        / "jupyter"
        / "labextensions"
        / "jupyterlab-jupytext"
        / "package.json"
    ).is_file(), "the jupytext JupyterLab extension is missing"

    # 3. Every page converts with jupytext and executes in the venv's kernel.
    driver = tmp_path / "run_pages.py"
    driver.write_text(DRIVER)
    pages = [str(ROOT / f"{p}.md") for p in toc_files()]
    run = subprocess.run(
        [str(python), str(driver), *pages],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    line = next((ln for ln in run.stdout.splitlines() if ln.startswith("RESULTS")), None)
    assert line is not None, run.stdout[-3000:] + run.stderr[-3000:]
    results = json.loads(line.removeprefix("RESULTS"))
    assert set(results) == set(pages)
    failed = {Path(p).name: r for p, r in results.items() if r != "ok"}
    assert not failed, "pages that fail in the Binder environment:\n" + "\n\n".join(
        f"{k}: {v}" for k, v in failed.items()
    )


REPO2DOCKER = "jupyter-repo2docker==2026.4.0"


@pytest.mark.binder
def test_repo2docker_reads_the_binder_folder(tmp_path: Path) -> None:
    """repo2docker's own plan for the image (``--no-build --debug`` prints the Dockerfile)."""
    env_dir = tmp_path / "r2d"
    venv.create(env_dir, with_pip=True)
    install = subprocess.run(
        [
            str(env_dir / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-compile",
            REPO2DOCKER,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if install.returncode != 0:
        pytest.skip(f"{REPO2DOCKER} does not install here: {install.stderr[-500:]}")
    proc = subprocess.run(
        [str(env_dir / "bin" / "repo2docker"), "--no-build", "--no-run", "--debug", str(ROOT)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    runtime = (BINDER / "runtime.txt").read_text(encoding="utf-8").strip()
    assert f"python={runtime.removeprefix('python-')}" in out, "runtime.txt was not used"
    # The requirements are installed after the whole repository is copied in (`.` is local).
    copy_all = out.index("COPY --chown=0:0 src/ ${REPO_DIR}/")
    pip = out.index('pip install --no-cache-dir -r "binder/requirements.txt"')
    assert copy_all < pip
    assert "RUN ./binder/postBuild" in out
    assert "requirements.txt" not in out.replace("binder/requirements.txt", "")


# Importable in a fresh Colab runtime without installing anything (Colab's base image).
# mpmath comes with sympy (its dependency), so it is there wherever sympy is.
COLAB_PREINSTALLED = {
    "numpy",
    "scipy",
    "sympy",
    "mpmath",
    "matplotlib",
    "IPython",
    "yaml",
    "pandas",
}


def imported_top_level(source: str) -> set[str]:
    """Top-level modules a cell imports (IPython magics and shell lines dropped)."""
    import ast

    code = "\n".join(ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!")))
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_imported_module_helper() -> None:
    assert imported_top_level("%pip install x\nimport a.b\nfrom c.d import e\nfrom . import f") == {
        "a",
        "c",
    }


def test_chapter_pages_install_what_colab_lacks() -> None:
    """In Colab only the first cell can install things: it must cover every import
    that is neither in the standard library nor preinstalled in Colab."""
    import jupytext

    problems = []
    for page in chapter_files():
        code = [c.source for c in jupytext.read(ROOT / f"{page}.md").cells if c.cell_type == "code"]
        installs = code[0]
        needed = set().union(*map(imported_top_level, code)) - set(sys.stdlib_module_names)
        missing = sorted(
            m
            for m in needed - COLAB_PREINSTALLED - {"calcml"}
            if m.replace("_", "-") not in installs
        )
        if missing:
            problems.append(f"{page}: the first cell does not install {missing}")
    assert not problems, "\n".join(problems)
