"""Every command's help ends with an example that the real parser takes, and ``--print-config`` prints the
resolved config as YAML without running or writing anything.

The commands come from the registry of ``v1mtl.cli``, so a new command without an example fails here.
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

import pytest
import yaml

from v1mtl.cli import COMMAND_MODULES, build_parser, main
from v1mtl.common.cli_help import EXAMPLE_HEADING


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """``(words, parser)`` of every command under ``parser``: the leaves of its subcommand tree."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return [c for name, sub in action.choices.items() for c in _commands(sub, (*path, name))]
    return [(path, parser)]


COMMANDS = _commands(build_parser())
IDS = [" ".join(words) for words, _ in COMMANDS]
# the commands without settings only read a folder; every other command takes --config / --set
WITHOUT_SETTINGS = {"report", "data inspect"}
WITH_SETTINGS = [(w, p) for w, p in COMMANDS if " ".join(w) not in WITHOUT_SETTINGS]


def _example(parser: argparse.ArgumentParser) -> list[str]:
    """The arguments of the example at the end of ``parser``'s help (without the leading ``v1mtl``)."""
    lines = parser.format_help().splitlines()
    assert EXAMPLE_HEADING in lines, "the help has no example"
    examples = [line for line in lines[lines.index(EXAMPLE_HEADING) + 1 :] if line.strip()]
    assert len(examples) == 1 and examples[0].startswith("  v1mtl "), examples
    return shlex.split(examples[0])[1:]


def test_every_registered_command_is_found():
    assert len(COMMANDS) == len(COMMAND_MODULES)


def test_the_commands_without_settings_are_the_two_that_only_read_a_folder():
    has_settings = {" ".join(w) for w, p in COMMANDS if "--print-config" in p._option_string_actions}
    assert set(IDS) - has_settings == WITHOUT_SETTINGS


@pytest.mark.parametrize(("words", "parser"), COMMANDS, ids=IDS)
def test_the_help_example_parses_with_the_real_parser(words, parser):
    argv = _example(parser)
    assert tuple(argv[: len(words)]) == words
    args = build_parser().parse_args(argv)
    assert args.func is parser.get_default("func")


def _print_config(argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--print-config"])
    assert exit_.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize(("words", "parser"), WITH_SETTINGS, ids=[" ".join(w) for w, _ in WITH_SETTINGS])
def test_the_example_with_print_config_prints_yaml_and_writes_nothing(
    words, parser, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    documents = list(yaml.safe_load_all(_print_config(_example(parser), capsys)))
    assert documents and all(isinstance(d, dict) and d for d in documents)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("words", "parser"), WITH_SETTINGS, ids=[" ".join(w) for w, _ in WITH_SETTINGS])
def test_the_printed_config_given_back_as_the_config_resolves_to_itself(
    words, parser, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    argv = _example(parser)
    printed = _print_config(argv, capsys)
    files = []
    for i, document in enumerate(printed.split("---\n")):
        files.append(tmp_path / f"printed-{i}.yaml")
        files[-1].write_text(document)
    assert _print_config([*argv, *_config_arguments(parser, files)], capsys) == printed


def _config_arguments(parser: argparse.ArgumentParser, files: list[Path]) -> list[str]:
    """The arguments that hand the printed documents back: the config, then (evaluate predictivity) the fit
    settings."""
    options = parser._option_string_actions
    config = ["--config", str(files[0])] if "--config" in options else [str(files[0])]
    assert len(files) == 1 or (len(files) == 2 and "--fit-config" in options), "an unexpected document"
    return config + [arg for f in files[1:] for arg in ("--fit-config", str(f))]
