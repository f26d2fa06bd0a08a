"""Shared pytest configuration: a derandomized hypothesis profile for CI."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=50,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))


# --- The book, built once per test session ------------------------------------------------
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def built_site() -> Path:
    """Build the whole book strictly (as ``make book`` does) and return ``_build/html``.

    The build uses the execution cache, so only pages whose code (or whose
    ``calcml`` modules) changed are executed again. A failed build fails every
    test that needs the site, with the build's output in the message.
    """
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_book.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        warnings = [
            ln
            for ln in proc.stdout.splitlines() + proc.stderr.splitlines()
            if ("WARNING" in ln or "ERROR" in ln or "error" in ln.lower())
            and not ln.startswith("[IPKernelApp]")
        ]
        pytest.fail("the book build failed:\n" + "\n".join(warnings[-60:]), pytrace=False)
    return ROOT / "_build" / "html"
