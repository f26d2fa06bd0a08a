"""The GitHub Actions workflows: valid, hardened, and publishing what the issue asks for.

Checked offline: the JSON schema of workflows (check-jsonschema's bundled copy), zizmor's
audits, and the hardening rules that neither tool enforces on its own.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as True.
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps(wf: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(job, s) for job, spec in wf["jobs"].items() for s in spec.get("steps", [])]


def tool(name: str) -> str:
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed (it is in pyproject's test extra)")
    return found


def test_there_are_the_expected_workflows() -> None:
    assert {p.name for p in WORKFLOWS} >= {"ci.yml", "deploy.yml", "pr.yml"}


def test_workflows_match_the_github_schema() -> None:
    proc = subprocess.run(
        [
            tool("check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, WORKFLOWS),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_zizmor_finds_nothing() -> None:
    proc = subprocess.run(
        [tool("zizmor"), "--offline", *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings" in proc.stdout, proc.stdout


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_full_sha_with_its_version(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    uses = re.findall(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$", text, flags=re.MULTILINE)
    assert uses, f"{path.name} uses no actions?"
    for ref, rest in uses:
        assert PINNED.match(ref), f"{path.name}: {ref} is not pinned to a 40-hex commit"
        assert re.search(r"#\s*v\d+(\.\d+)*", rest), f"{path.name}: {ref} has no # vX.Y.Z comment"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_checkout_never_persists_credentials(path: Path) -> None:
    for job, step in steps(load(path)):
        if str(step.get("uses", "")).startswith("actions/checkout@"):
            assert step.get("with", {}).get("persist-credentials") is False, (path.name, job)


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_job_has_a_timeout(path: Path) -> None:
    for job, spec in load(path)["jobs"].items():
        assert isinstance(spec.get("timeout-minutes"), int), f"{path.name}: job {job}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_event_data_is_expanded_inside_run(path: Path) -> None:
    for job, step in steps(load(path)):
        run = step.get("run", "")
        assert "github.event" not in run and "github.head_ref" not in run, (path.name, job)


@pytest.mark.parametrize("name", ["deploy.yml", "pr.yml"])
def test_new_workflows_grant_nothing_at_the_top_and_little_per_job(name: str) -> None:
    wf = load(ROOT / ".github" / "workflows" / name)
    assert wf["permissions"] == {}
    for job, spec in wf["jobs"].items():
        assert "permissions" in spec, f"{name}: job {job} has no explicit permissions"


def test_deploy_builds_strictly_and_publishes_pages() -> None:
    wf = load(ROOT / ".github" / "workflows" / "deploy.yml")
    assert set(wf["on"]) == {"push", "workflow_dispatch"}
    assert wf["on"]["push"]["branches"] == ["main"]
    assert wf["concurrency"] == {"group": "pages", "cancel-in-progress": False}
    jobs = wf["jobs"]
    assert jobs["build"]["permissions"] == {"contents": "read"}
    assert jobs["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert jobs["deploy"]["environment"]["name"] == "github-pages"
    assert jobs["deploy"]["needs"] == "build"
    # Only the notebooks job may write to the repository, and only after a good build.
    assert jobs["notebooks"]["permissions"] == {"contents": "write"}
    assert jobs["notebooks"]["needs"] == "build"
    runs = "\n".join(s.get("run", "") for _, s in steps(wf) if _ == "build")
    # `make book`/`make pdf` install from the lock file and build with -W -n --keep-going.
    assert "make book" in runs and "make pdf" in runs
    assert "cp _build/latex/book.pdf _build/html/book.pdf" in runs
    assert "scripts/export_notebooks.py --out _build/html/notebooks" in runs
    uses = [s.get("uses", "") for _, s in steps(wf)]
    assert any(u.startswith("actions/upload-pages-artifact@") for u in uses)
    assert any(u.startswith("actions/deploy-pages@") for u in uses)
    tex = wf["env"]["TEX_PACKAGES"].split()
    assert {"texlive-xetex", "latexmk", "xindy", "fonts-freefont-otf"} <= set(tex)


MAIN_ONLY = "github.ref == 'refs/heads/main'"


def test_deploy_publishes_only_from_main() -> None:
    """A manual run from another branch builds but must neither deploy the site nor
    force-push its notebooks over the ones Colab opens."""
    jobs = load(ROOT / ".github" / "workflows" / "deploy.yml")["jobs"]
    for name in ("deploy", "notebooks"):
        assert jobs[name].get("if") == MAIN_ONLY, f"deploy.yml: job {name} is not guarded"
    # Every job that can write is guarded (a new publishing job must be too).
    for name, spec in jobs.items():
        perms = spec.get("permissions", {})
        if any(level == "write" for level in perms.values()):
            assert spec.get("if") == MAIN_ONLY, f"deploy.yml: job {name} writes but is not guarded"


def test_pull_request_builds_the_pdf_it_uploads() -> None:
    wf = load(ROOT / ".github" / "workflows" / "pr.yml")
    runs = [s.get("run", "") for _, s in steps(wf)]
    build = next(i for i, r in enumerate(runs) if "make pdf" in r)
    copy = next(i for i, r in enumerate(runs) if "cp _build/latex/book.pdf" in r)
    assert build < copy, "pr.yml must build the PDF (make pdf) before it copies it"


def uses_of(wf: dict[str, Any], action: str, job: str | None = None) -> list[dict[str, Any]]:
    """The steps (of ``job``, or of every job) that use ``action`` (``owner/name[/path]``)."""
    return [
        s
        for j, s in steps(wf)
        if str(s.get("uses", "")).split("@")[0] == action and job in (None, j)
    ]


def test_deploy_caches_pip_and_the_execution_cache_saved_only_on_main() -> None:
    wf = load(ROOT / ".github" / "workflows" / "deploy.yml")
    (setup,) = uses_of(wf, "actions/setup-python", job="build")
    assert setup["with"]["cache"] == "pip"
    assert "requirements/constraints.txt" in setup["with"]["cache-dependency-path"]
    (restore,) = uses_of(wf, "actions/cache/restore")
    assert restore["with"]["path"] == ".jupyter_cache"
    key = restore["with"]["key"]
    for part in ("requirements/constraints.txt", "src/calcml/**", "book/*.md"):
        assert part in key, f"the execution cache's key does not hash {part}"
    (save,) = uses_of(wf, "actions/cache/save")
    assert MAIN_ONLY in save["if"], "the execution cache must be saved only on main"
    assert save["with"]["key"] == "${{ steps.jupyter-cache.outputs.cache-primary-key }}"
    # Saved after the strict builds, so a failed build never stores its cache.
    build = [s for job, s in steps(wf) if job == "build"]
    names = [s.get("uses", "") or s.get("run", "") for s in build]
    assert max(i for i, n in enumerate(names) if "make pdf" in n or "make book" in n) < next(
        i for i, n in enumerate(names) if n.startswith("actions/cache/save@")
    )
    assert uses_of(wf, "actions/cache") == [], "use restore and save, so saving can be guarded"


def test_pull_requests_never_write_a_cache() -> None:
    """pr.yml may read main's execution cache, never write one (actions/cache and
    setup-python's cache both save at the end of the job)."""
    wf = load(ROOT / ".github" / "workflows" / "pr.yml")
    assert uses_of(wf, "actions/cache") == [] and uses_of(wf, "actions/cache/save") == []
    for setup in uses_of(wf, "actions/setup-python"):
        assert "cache" not in setup.get("with", {}), "setup-python's cache saves too"
    (restore,) = uses_of(wf, "actions/cache/restore")
    deploy = load(ROOT / ".github" / "workflows" / "deploy.yml")
    assert restore["with"]["key"] == uses_of(deploy, "actions/cache/restore")[0]["with"]["key"]


def test_make_targets_used_by_the_workflows_build_strictly_from_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "-c $(LOCK)" in makefile
    # What scripts/build_book.py runs: jupyter-book with warnings as errors, nitpicky.
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import build_book
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    (tmp_path / "_config.yml").write_text("execute:\n  cache: .jupyter_cache\n")
    (tmp_path / "src").mkdir()
    calls: list[list[str]] = []

    def call(cmd: list[str], cwd: Path) -> int:
        calls.append(cmd)
        return 0

    monkeypatch.setattr(build_book.subprocess, "call", call)
    assert build_book.main(["--root", str(tmp_path), "--src", str(tmp_path / "src")]) == 0
    (cmd,) = calls
    assert cmd[1:3] == ["build", str(tmp_path)]
    assert {"-W", "-n", "--keep-going"} <= set(cmd)


def test_pull_request_workflow_is_read_only_and_uploads_the_site() -> None:
    wf = load(ROOT / ".github" / "workflows" / "pr.yml")
    assert set(wf["on"]) == {"pull_request"}
    text = (ROOT / ".github" / "workflows" / "pr.yml").read_text(encoding="utf-8")
    assert "secrets." not in text
    for spec in wf["jobs"].values():
        assert spec["permissions"] == {"contents": "read"}
    uploads = [s for _, s in steps(wf) if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert uploads and uploads[0]["with"]["path"] == "_build/html"


def test_the_schema_check_catches_a_broken_workflow(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    stepz: []\n")
    proc = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0


def test_zizmor_catches_an_unpinned_action_with_injection(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: pull_request_target\npermissions: write-all\njobs:\n  x:\n"
        "    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n"
        '      - run: echo "${{ github.event.pull_request.title }}"\n'
    )
    proc = subprocess.run(
        [tool("zizmor"), "--offline", str(bad)], capture_output=True, text=True, check=False
    )
    assert proc.returncode != 0
    assert "template-injection" in proc.stdout
