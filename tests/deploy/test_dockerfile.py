"""What can be checked of the image without building it (no image can be built here):
the Dockerfile parses; its base is Ray's image in the Ray version the chart and
pyproject name and the Python the package is checked with; it runs as non-root, bakes
in no secret, copies what exists; its command is a real `matthan` command."""

from __future__ import annotations

import re
import sys

import pytest
import tomllib
import yaml
from dockerfile_parse import DockerfileParser
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from cluster.cli import serve_cmd
from cluster.cli.main import build_parser
from tests.conftest import REPO_ROOT

BASE = re.compile(r"^rayproject/ray:(?P<ray>\d+\.\d+\.\d+)-py(?P<major>3)(?P<minor>\d+)$")
SECRET_WORDS = re.compile(r"token|password|secret|passwd|api_?key|private", re.IGNORECASE)


@pytest.fixture(scope="module")
def dockerfile() -> DockerfileParser:
    # Read only: the parser reads the file on each access and writes it only when told to.
    return DockerfileParser(path=str(REPO_ROOT / "Dockerfile"))


@pytest.fixture(scope="module")
def pyproject() -> dict:
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def base(dockerfile: DockerfileParser) -> re.Match:
    match = BASE.match(dockerfile.baseimage or "")
    assert match, f"the base is Ray's image rayproject/ray:<version>-py3XX, not {dockerfile.baseimage!r}"
    return match


def test_the_ray_version_is_pyprojects_and_the_charts(dockerfile, pyproject):
    ray = base(dockerfile)["ray"]
    requirement = next(d for d in pyproject["project"]["dependencies"] if re.match(r"ray\b", d))
    assert Version(ray) in SpecifierSet(re.sub(r"^ray(\[[^\]]*\])?", "", requirement)), f"{ray} meets {requirement}"
    values = yaml.safe_load((REPO_ROOT / "helm/matthan/values.yaml").read_text(encoding="utf-8"))
    assert values["ray"]["version"] == ray, "the RayCluster's rayVersion is the image's Ray"


def test_the_python_version_is_the_one_the_package_is_checked_with(dockerfile, pyproject):
    match = base(dockerfile)
    python = f"{match['major']}.{match['minor']}"
    assert python == pyproject["tool"]["mypy"]["python_version"], "mypy checks the image's Python"
    assert Version(python) in SpecifierSet(pyproject["project"]["requires-python"]), "requires-python allows it"
    assert python == f"{sys.version_info.major}.{sys.version_info.minor}", "the tests run on the image's Python"


def test_it_runs_as_a_non_root_user(dockerfile):
    users = [i["value"].split(":")[0] for i in dockerfile.structure if i["instruction"] == "USER"]
    assert users, "the Dockerfile names its user"
    assert users[-1] not in ("root", "0"), f"the image runs as non-root, not {users[-1]!r}"


def test_no_secret_is_baked_in(dockerfile):
    for instruction in dockerfile.structure:
        if instruction["instruction"] in ("ENV", "ARG", "LABEL"):
            assert not SECRET_WORDS.search(instruction["value"]), f"a secret-looking setting: {instruction['content']}"
        if instruction["instruction"] in ("COPY", "ADD"):
            assert not re.search(r"\.(key|pem|crt)\b|tokens", instruction["value"]), instruction["content"]
    ignored = (REPO_ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    for pattern in (".git", ".venv", "var", "**/*.key"):
        assert pattern in ignored, f".dockerignore keeps {pattern} out of the build context"


def test_what_it_copies_exists(dockerfile):
    for instruction in dockerfile.structure:
        if instruction["instruction"] == "COPY":
            sources = [w for w in instruction["value"].split() if not w.startswith("--")][:-1]
            for source in sources:
                assert (REPO_ROOT / source).exists(), f"COPY {source}: not in the repository"


def test_its_command_is_a_real_matthan_command(dockerfile):
    command = dockerfile.cmd
    assert command and command.startswith("["), f"exec form, so signals reach matthan: {command!r}"
    argv = yaml.safe_load(command)
    assert argv[0] == "matthan", f"the command is matthan: {argv}"
    try:
        args = build_parser().parse_args(argv[1:])
    except SystemExit:
        pytest.fail(f"`{' '.join(argv)}` is not accepted by matthan's parser")
    assert args.func is serve_cmd.run, "it runs the front door"
    assert str(args.address) == "auto", "beside a running Ray cluster: it joins, never starts one"
