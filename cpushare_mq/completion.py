"""Shell completion for all five commands, generated from their own argument parsers (so it
never drifts from the options they accept): ``cpushare completion bash|zsh``.

Subcommands and options are completed; anything else falls back to file names.
"""

from __future__ import annotations

import argparse
import importlib

#: program -> module with build_parser(), and extra first words it takes outside argparse
PROGRAMS = {
    "cpushare": ("cpushare_mq.cli", ()),
    "cpushare-hub": ("cpushare_mq.hub.cli", ()),
    "cpushare-worker": ("cpushare_mq.worker.cli", ("install-service",)),
    "cpushare-sandbox": ("cpushare_mq.sandbox.cli", ()),
    "cpushare-povray": ("cpushare_mq.povray.cli", ()),
}


def _options(p: argparse.ArgumentParser) -> list[str]:
    return sorted({s for a in p._actions for s in a.option_strings if s.startswith("--")})


def _subcommands(p: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in p._actions:   # argparse offers no public walk of its subparsers
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _function(program: str, parser: argparse.ArgumentParser, extra: tuple[str, ...]) -> str:
    subs = _subcommands(parser)
    fname = "_cpushare_complete_" + program.replace("-", "_")
    top = " ".join(_options(parser) + sorted(subs) + list(extra))
    cases = "".join(f"        {name}) opts=\"{' '.join(_options(sp))}\";;\n" for name, sp in sorted(subs.items()))
    if extra:   # e.g. cpushare-worker install-service takes the worker's own options
        cases += f"        {'|'.join(extra)}) opts=\"--unit-dir --force {' '.join(_options(parser))}\";;\n"
    names = "|".join(sorted(subs) + list(extra)) or "__none__"
    return f"""{fname}() {{
    local cur="${{COMP_WORDS[COMP_CWORD]}}" sub="" w opts
    for w in "${{COMP_WORDS[@]:1:COMP_CWORD-1}}"; do
        case "$w" in {names}) sub="$w"; break;; esac
    done
    case "$sub" in
{cases}        *) opts="{top}";;
    esac
    if [[ "$cur" == -* || ( -z "$sub" && "{names}" != "__none__" ) ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    else
        COMPREPLY=()
    fi
}}
complete -o default -o bashdefault -F {fname} {program}
"""


def bash_script() -> str:
    out = ["# bash completion for the cpushare commands: eval \"$(cpushare completion bash)\"\n"]
    for program, (module, extra) in PROGRAMS.items():
        parser = importlib.import_module(module).build_parser()
        out.append(_function(program, parser, extra))
    return "\n".join(out)


def zsh_script() -> str:
    return "autoload -U +X bashcompinit && bashcompinit\n" + bash_script()


def script(shell: str) -> str:
    return {"bash": bash_script, "zsh": zsh_script}[shell]()


__all__ = ["script", "bash_script", "zsh_script", "PROGRAMS"]
