"""How CI finds its browser: ``scripts/find_chromium.sh`` and the set-up part of ``.ci/run``.

Both run against fake file systems and a fake ``PATH`` that hold only the tools they need
(symlinks to the real ones) and fake browsers (shell scripts that print a version), so
the layouts of machines we cannot run here can be checked: a Debian machine with apt's
``chromium``, GitHub's ubuntu-latest runner (a Chromium snapshot symlinked as
/usr/bin/chromium, Google Chrome's .deb, no installable ``chromium`` deb) and plain
Ubuntu (``chromium-browser`` is a stub for the snap). ``.ci/run`` gets fake ``apt-get``,
``apt-cache`` and ``dpkg-query`` and stops before ``make test``
(``CALCML_CI_SETUP_ONLY=1``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIND = ROOT / "scripts" / "find_chromium.sh"
CI_RUN = ROOT / ".ci" / "run"
TOOLS = (
    "bash",
    "env",
    "dirname",
    "readlink",
    "head",
    "od",
    "tr",
    "grep",
    "awk",
    "timeout",
    "cat",
    "id",
    "touch",
    "sed",
    "mkdir",
    "chmod",
)

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


def executable(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path


def browser(path: Path, version: str = "Chromium 131.0.6778.85") -> Path:
    return executable(path, f'#!/bin/sh\necho "{version}"\n')


SNAP_STUB = """#!/bin/sh
if ! [ -x /snap/bin/chromium ]; then
    echo "Command '$0' requires the chromium snap to be installed." >&2
    exit 1
fi
exec /snap/bin/chromium "$@"
"""


@pytest.fixture
def fake(tmp_path: Path) -> dict[str, Path]:
    """An empty fake root, a bin folder for fake commands, and one with the real tools."""
    tools = tmp_path / "tools"
    tools.mkdir()
    for name in TOOLS:
        real = shutil.which(name)
        assert real, f"{name} is needed by the scripts under test"
        (tools / name).symlink_to(real)
    (tmp_path / "root").mkdir()
    (tmp_path / "bin").mkdir()
    return {"root": tmp_path / "root", "bin": tmp_path / "bin", "tools": tools}


def run_find(fake: dict[str, Path], **env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        "PATH": f"{fake['bin']}{os.pathsep}{fake['tools']}",
        "CALCML_FS_ROOT": str(fake["root"]),
        **env,
    }
    return subprocess.run(
        [str(fake["tools"] / "bash"), str(FIND)],
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )


def test_finds_nothing_on_an_empty_machine(fake: dict[str, Path]) -> None:
    proc = run_find(fake)
    assert proc.returncode == 1 and proc.stdout == ""
    assert "no usable Chromium or Chrome" in proc.stderr


def test_debian_chromium_wrapper(fake: dict[str, Path]) -> None:
    browser(fake["root"] / "usr" / "bin" / "chromium", "Chromium 156.0.8078.108 built on Debian")
    proc = run_find(fake)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(fake["root"] / "usr/bin/chromium")


def test_ubuntu_latest_runner_layout(fake: dict[str, Path]) -> None:
    """actions/runner-images: a Chromium snapshot in /usr/local/share, symlinked into
    /usr/bin, and Google Chrome from its .deb."""
    root = fake["root"]
    snapshot = browser(root / "usr/local/share/chromium/chrome-linux/chrome")
    (root / "usr/bin").mkdir(parents=True)
    (root / "usr/bin/chromium").symlink_to(snapshot)
    (root / "usr/bin/chromium-browser").symlink_to(snapshot)
    chrome = browser(root / "opt/google/chrome/google-chrome", "Google Chrome 131.0.6778.85")
    (root / "usr/bin/google-chrome").symlink_to(chrome)
    proc = run_find(fake)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(root / "usr/bin/chromium")


def test_the_snap_stub_is_rejected_and_chrome_is_used(fake: dict[str, Path]) -> None:
    root = fake["root"]
    executable(fake["bin"] / "chromium-browser", SNAP_STUB)
    browser(root / "opt/google/chrome/chrome", "Google Chrome 131.0.6778.85")
    proc = run_find(fake)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(root / "opt/google/chrome/chrome")


def test_a_snap_alone_is_not_enough(fake: dict[str, Path]) -> None:
    root = fake["root"]
    snap = browser(root / "snap/chromium/current/usr/lib/chromium-browser/chrome")
    (root / "usr/bin").mkdir(parents=True)
    (root / "usr/bin/chromium").symlink_to(snap)
    executable(root / "usr/bin/chromium-browser", SNAP_STUB)
    proc = run_find(fake)
    assert proc.returncode == 1
    assert "a snap" in proc.stderr and "a script that runs a snap" in proc.stderr


def test_a_browser_on_path_comes_first_and_must_run(fake: dict[str, Path]) -> None:
    browser(fake["bin"] / "google-chrome", "Google Chrome 131.0")
    browser(fake["root"] / "usr/bin/chromium")
    assert run_find(fake).stdout.strip() == str(fake["bin"] / "google-chrome")
    # Something that does not answer --version like a browser is skipped.
    browser(fake["bin"] / "chromium", "command not found")
    assert run_find(fake).stdout.strip() == str(fake["bin"] / "google-chrome")


def test_an_explicit_choice_is_used_or_fails(fake: dict[str, Path]) -> None:
    browser(fake["root"] / "usr/bin/chromium")
    mine = browser(fake["root"] / "custom/chrome", "Chromium 140.0")
    assert run_find(fake, CALCML_CHROMIUM=str(mine)).stdout.strip() == str(mine)
    proc = run_find(fake, CALCML_CHROMIUM=str(fake["root"] / "missing"))
    assert proc.returncode == 1 and "does not run" in proc.stderr


def test_the_real_machine_has_a_browser_when_ci_requires_one() -> None:
    proc = subprocess.run(["bash", str(FIND)], capture_output=True, text=True, check=False)
    if proc.returncode != 0 and os.environ.get("CALCML_REQUIRE_BROWSER") != "1":
        pytest.skip("no browser installed here")
    assert proc.returncode == 0, proc.stderr
    assert Path(proc.stdout.strip()).is_file()


# --- .ci/run's set-up, with fake apt ---------------------------------------------------------

FAKE_DPKG_QUERY = """#!/bin/bash
# dpkg-query -W -f=... NAME: installed when NAME is in $FAKE_INSTALLED.
name=${@: -1}
case " $FAKE_INSTALLED " in *" $name "*) echo -n "install ok installed"; exit 0 ;; esac
exit 1
"""
FAKE_APT_CACHE = """#!/bin/bash
# apt-cache policy NAME: a candidate unless NAME is in $FAKE_UNAVAILABLE.
name=$2
case " $FAKE_UNAVAILABLE " in
  *" $name "*) [ "$name" = chromium ] && printf '%s:\\n  Candidate: (none)\\n' "$name" ;;
  *) printf '%s:\\n  Candidate: 1.0-1\\n' "$name" ;;
esac
"""
FAKE_APT_GET = """#!/bin/bash
echo "apt-get $*" >> "$FAKE_LOG"
# Installing chromium puts Debian's wrapper where find_chromium.sh looks.
if [ "$1" = install ] && [[ " $* " == *" chromium "* ]]; then
  mkdir -p "$CALCML_FS_ROOT/usr/bin"
  printf '#!/bin/sh\\necho "Chromium 156.0 built on Debian"\\n' > "$CALCML_FS_ROOT/usr/bin/chromium"
  chmod +x "$CALCML_FS_ROOT/usr/bin/chromium"
fi
"""
BASE = "make git nodejs npm"
TEX = (
    "texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended "
    "texlive-fonts-extra texlive-xetex fonts-freefont-otf latexmk xindy poppler-utils"
)


def run_ci(
    fake: dict[str, Path],
    installed: str,
    unavailable: str = "",
    node: bool = False,
    setup_only: bool = True,
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    bin_ = fake["bin"]
    executable(bin_ / "dpkg-query", FAKE_DPKG_QUERY)
    executable(bin_ / "apt-cache", FAKE_APT_CACHE)
    executable(bin_ / "apt-get", FAKE_APT_GET)
    executable(bin_ / "id", "#!/bin/sh\necho 0\n")  # root: no sudo
    if node:
        executable(bin_ / "node", "#!/bin/sh\n")
        executable(bin_ / "npm", "#!/bin/sh\n")
    log = fake["root"].parent / "apt.log"
    log.touch()
    env = {
        "PATH": f"{bin_}{os.pathsep}{fake['tools']}",
        "CALCML_FS_ROOT": str(fake["root"]),
        "CALCML_CI_SETUP_ONLY": "1" if setup_only else "",
        "PYTHON": sys.executable,
        "CI": "true",
        "FAKE_INSTALLED": installed,
        "FAKE_UNAVAILABLE": unavailable,
        "FAKE_LOG": str(log),
    }
    proc = subprocess.run(
        [str(fake["tools"] / "bash"), str(CI_RUN)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return proc, log.read_text().splitlines()


def test_ci_setup_here_installs_nothing_when_everything_is_there(fake: dict[str, Path]) -> None:
    browser(fake["root"] / "usr/bin/chromium")
    proc, apt = run_ci(fake, installed=f"{BASE} {TEX} chromium")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert apt == []
    assert f"[ci] browser: {fake['root']}/usr/bin/chromium" in proc.stdout


def test_ci_setup_on_ubuntu_latest_uses_the_preinstalled_browser(fake: dict[str, Path]) -> None:
    """No TeX yet, Node.js not from apt, no `chromium` deb to install: TeX is installed as
    one group, the runner's Chromium is used and apt is never asked for `chromium`."""
    root = fake["root"]
    snapshot = browser(root / "usr/local/share/chromium/chrome-linux/chrome")
    (root / "usr/bin").mkdir(parents=True)
    (root / "usr/bin/chromium").symlink_to(snapshot)
    proc, apt = run_ci(fake, installed="make git poppler-utils", unavailable="chromium", node=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    installs = [line for line in apt if " install " in line]
    assert len(installs) == 1 and "chromium" not in installs[0], apt
    assert "texlive-xetex" in installs[0] and "nodejs" not in installs[0]
    assert f"[ci] browser: {root}/usr/bin/chromium" in proc.stdout


def test_ci_setup_on_fresh_debian_installs_chromium(fake: dict[str, Path]) -> None:
    proc, apt = run_ci(fake, installed=f"{BASE} {TEX}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert any(line.startswith("apt-get install") and "chromium" in line for line in apt), apt
    assert f"[ci] browser: {fake['root']}/usr/bin/chromium" in proc.stdout


def test_ci_setup_fails_loudly_without_any_browser(fake: dict[str, Path]) -> None:
    proc, apt = run_ci(fake, installed=f"{BASE} {TEX}", unavailable="chromium")
    assert proc.returncode != 0
    assert "apt cannot install 'chromium'" in proc.stderr
    assert not any(line.startswith("apt-get install") for line in apt)


def test_ci_setup_names_a_package_apt_does_not_have(fake: dict[str, Path]) -> None:
    """One unknown name fails its group by name; nothing of that group is installed."""
    browser(fake["root"] / "usr/bin/chromium")
    proc, apt = run_ci(fake, installed=BASE, unavailable="xindy")
    assert proc.returncode != 0
    assert "apt cannot install xindy (the TeX group)" in proc.stderr
    assert not any(line.startswith("apt-get install") for line in apt)


def test_ci_run_hands_the_browser_to_make_test(fake: dict[str, Path]) -> None:
    """Without CALCML_CI_SETUP_ONLY, .ci/run ends in `make test` with the browser found,
    and the browser and PDF tests required."""
    chrome = browser(fake["root"] / "opt/google/chrome/chrome", "Google Chrome 131.0")
    executable(
        fake["bin"] / "make",
        '#!/bin/bash\necho "make $* chromium=$CALCML_CHROMIUM'
        ' browser=$CALCML_REQUIRE_BROWSER pdf=$CALCML_REQUIRE_PDF"\n',
    )
    proc, apt = run_ci(fake, installed=f"{BASE} {TEX}", unavailable="chromium", setup_only=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not any("chromium" in line for line in apt), apt
    assert proc.stdout.splitlines()[-1] == (
        f"make test PYTHON={sys.executable} chromium={chrome} browser=1 pdf=1"
    )


def test_ci_run_requires_the_browser_and_the_pdf() -> None:
    text = CI_RUN.read_text(encoding="utf-8")
    assert "export CALCML_REQUIRE_BROWSER=1" in text
    assert "export CALCML_REQUIRE_PDF=1" in text
    assert "export CALCML_CHROMIUM" in text
    assert "scripts/find_chromium.sh" in text
