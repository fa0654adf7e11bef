"""The Makefile as a user meets it: `make help` lists exactly the targets there are, the CDK targets take CDK_ARGS,
jsii's Node.js banner stays out of the output, and the virtualenv check (tools/venv.sh) refuses a Python older than
3.11 before pip runs and rebuilds a virtualenv whose Python is stale.

Everything runs in temporary folders (``VENV=...``): the project's own .venv is never touched. Nothing here needs
the network: no test reaches ``pip install`` with a requirement in it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")
VENV_SH = ROOT / "tools" / "venv.sh"

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def make(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "-s", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def rules() -> set[str]:
    """The targets the Makefile defines by name (not the stamp files it names through variables)."""
    return {match[1] for match in re.finditer(r"^([A-Za-z][\w-]*)\s*:(?!=)", MAKEFILE, re.MULTILINE)}


def phony() -> set[str]:
    names = set()
    for line in re.findall(r"^\.PHONY:(.*)$", MAKEFILE, re.MULTILINE):
        names |= {name for name in line.split() if not name.startswith("$(")}
    return names


def test_make_help_lists_exactly_the_targets_that_exist():
    result = make("help")

    assert result.returncode == 0, result.stderr
    listed = re.findall(r"^  make (\S+) ", result.stdout, re.MULTILINE)
    assert len(listed) == len(set(listed)), "a target is listed twice"
    assert set(listed) == rules(), "make help and the Makefile's targets differ"
    assert phony() == rules(), "every target is a command (.PHONY), and every .PHONY name is a target"


def test_the_cdk_targets_pass_cdk_args_to_the_cli():
    result = make("-n", "synth", "deploy", "diff", "destroy", "CDK_ARGS=-c authMode=api-key -c enableWaf=true")

    assert result.returncode == 0, result.stderr
    commands = re.findall(r"^node_modules/\.bin/cdk (\w+) (.*)$", result.stdout, re.MULTILINE)
    assert [command for command, _ in commands] == ["synth", "deploy", "diff", "destroy"]
    assert all(arguments.endswith(" -c authMode=api-key -c enableWaf=true") for _, arguments in commands), commands


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")
def test_jsii_prints_no_node_banner_under_make():
    # jsii starts Node.js when aws_cdk is imported; on a Node.js release near or past its end of life it prints
    # a banner of "!!" lines to stderr unless the Makefile's JSII_SILENCE_WARNING_* variables are set.
    clean = {key: value for key, value in os.environ.items() if not key.startswith("JSII_")}
    result = subprocess.run(
        ["make", "-s", "--eval", f"_import_cdk: ; @{sys.executable} -c 'import aws_cdk'", "_import_cdk"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert "!!" not in result.stderr and "end-of-life" not in result.stderr, result.stderr


# --- the virtualenv check ------------------------------------------------------------------------------------------


@pytest.fixture
def old_python(tmp_path: Path) -> Path:
    """A stand-in for Python 3.10 (what tools/venv.sh asks of an interpreter: its version, and whether it is new
    enough); it cannot create anything."""
    path = tmp_path / "python3.10"
    path.write_text(
        '#!/bin/sh\ncase "$*" in --version) echo "Python 3.10.12";; *print*) echo 3.10;; *) exit 1;; esac\n',
        encoding="utf-8",
    )
    path.chmod(0o755)
    return path


def stale_venv(tmp_path: Path) -> Path:
    """A real virtualenv whose Python no longer exists (the interpreter that made it was removed)."""
    gone = tmp_path / "gone"
    gone.mkdir()
    (gone / "python3").symlink_to(Path(sys.executable).resolve())
    venv = tmp_path / "stale"
    subprocess.run([str(gone / "python3"), "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    shutil.rmtree(gone)
    assert not (venv / "bin" / "python").exists()  # a dangling link now
    return venv


def test_a_python_older_than_3_11_is_refused_before_pip_runs(tmp_path, old_python):
    venv = tmp_path / "venv"

    result = make("lint", f"VENV={venv}", f"PYTHON={old_python}")

    assert result.returncode != 0
    assert (
        f"make: Python 3.11 or newer is needed to create {venv}; PYTHON={old_python} is Python 3.10.12."
        in result.stderr
    )
    assert not venv.exists()  # nothing created, nothing installed
    assert "ruff" not in result.stdout + result.stderr  # lint never ran


def test_a_virtualenv_whose_python_is_gone_is_rebuilt_not_reused(tmp_path, old_python):
    venv = stale_venv(tmp_path)

    result = make("lint", f"VENV={venv}", f"PYTHON={old_python}")

    assert f"make: {venv} is stale (it has no Python that runs" in result.stderr
    assert "Python 3.11 or newer is needed" in result.stderr  # the rebuild asked for a good Python
    assert result.returncode != 0 and not venv.exists()


def test_a_virtualenv_of_an_old_python_is_rebuilt_by_a_good_one(tmp_path, old_python):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    shutil.copy(old_python, venv / "bin" / "python")  # what a .venv made by Python 3.10 answers
    (venv / ".installed").touch()
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# nothing to install: no network\n", encoding="utf-8")

    result = subprocess.run(
        ["sh", str(VENV_SH), sys.executable, "no", str(venv), str(requirements)],
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stderr
    assert (
        f"make: {venv} is stale (it was made by Python 3.10; 3.11 or newer is needed): rebuilding it" in result.stderr
    )
    version = subprocess.run([str(venv / "bin" / "python"), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == f"Python {sys.version.split()[0]}"
    assert (venv / ".installed").stat().st_mtime >= requirements.stat().st_mtime
