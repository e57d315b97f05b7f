"""The README lets a newcomer find everything: every command, the counts it states, its links."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer.main

from cwsw.cli import app
from cwsw.indicators.measures import MEASURES

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(command: Any, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    """Every command a user can run: leaves, and groups that do something on their own.

    Duck-typed: Typer builds on its own copy of click's classes."""
    subcommands = getattr(command, "commands", None)
    if subcommands is None:
        yield path
        return
    if getattr(command, "invoke_without_command", False) and path:
        yield path
    for name, sub in subcommands.items():
        yield from _commands(sub, (*path, name))


def cli_commands() -> list[str]:
    return [" ".join(("cwsw", *path)) for path in _commands(typer.main.get_command(app), ())]


def test_the_cli_has_the_commands_this_test_knows_of() -> None:
    """Guards the walk itself: subcommands and the invocable `link` group are found."""
    found = cli_commands()
    assert {"cwsw link", "cwsw link review", "cwsw export marts", "cwsw demo"} <= set(found)
    assert "cwsw export" not in found  # a group with nothing of its own to run


def test_every_command_is_in_the_readme() -> None:
    missing = [c for c in cli_commands() if not re.search(rf"`{re.escape(c)}[` ]", README)]
    assert not missing, f"README.md does not list: {missing}"


def test_the_readme_lists_no_command_that_does_not_exist() -> None:
    listed = set(re.findall(r"^\| `(cwsw(?: [a-z]+)+)", README, flags=re.MULTILINE))
    assert listed, "the command table was not found"
    assert listed <= set(cli_commands()), sorted(listed - set(cli_commands()))


def test_the_number_of_measures_is_the_catalogues() -> None:
    stated = re.findall(r"(\d+) DfE measures", README)
    assert stated and {int(n) for n in stated} == {len(MEASURES)}


def test_every_role_is_named() -> None:
    roles = (
        "Virtual School Head",
        "education adviser",
        "advisory teacher",
        "school designated safeguarding lead",
        "local authority analyst",
        "administrator",
    )
    assert "six roles" in README
    assert all(role.lower() in README.lower() for role in roles)


def test_setup_is_two_commands() -> None:
    block = README.split("## Set up on a fresh machine", 1)[1].split("```sh", 1)[1]
    commands = [line.split("#")[0].strip() for line in block.split("```", 1)[0].splitlines()]
    assert [c for c in commands if c] == ["make demo", "make test"]


def test_every_file_the_readme_names_exists() -> None:
    named = set(re.findall(r"`((?:docs|benchmarks|src|tests|tools)/[^`\s]*)`", README))
    assert named
    missing = sorted(p for p in named if "<" not in p and not (ROOT / p).exists())
    assert not missing, missing
