"""The command-line words of `backprop` and `backprop train`: options apart from programs, and
click's usage errors in the tool's own one-line style.

A program may begin with a minus sign (`-(t*log(p))`, `-tanh(x)`), so a word is an option only
when it is one of the command's options written whole (`-o`, `--format`, `--format=json`);
any other word reaches the parser as it is. A word such as `--precison` is a mistyped option,
unless it comes after `--`.
"""

from __future__ import annotations

import difflib
import re
import sys
from typing import Any, NoReturn

import click
import click.shell_completion

from backprop_cli.cli import streams as standard_streams
from backprop_cli.render.output_file import Terminated

USAGE_ERROR = 2
INTERRUPTED = 130

# What a mistyped long option looks like; `--x` is one too (write `backprop -- --x`),
# while `--x + 1` or `--(x)` is a program.
_LONG_OPTION = re.compile(r"--[A-Za-z][\w-]*(=.*)?", re.DOTALL)


class BackpropCommand(click.Command):
    """A click command whose options are told apart from programs, with errors as `backprop:`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Hand click the options first and every other word after `--`, in their order."""
        return super().parse_args(ctx, separate_options(self.get_params(ctx), args, ctx))

    def main(  # type: ignore[override]  # click overloads main on standalone_mode
        self, args: Any = None, prog_name: str | None = None, **extra: Any
    ) -> NoReturn:
        """Run the command; a usage error is one line on stderr and exit 2, Ctrl-C exit 130,
        SIGTERM while writing -o or --plot exit 143 (128 + the signal's number)."""
        extra.pop("standalone_mode", None)
        standard_streams.prepare()
        try:
            status = super().main(args, prog_name, standalone_mode=False, **extra)
        except click.UsageError as error:
            fail(describe(error))
        except click.Abort:
            click.echo("backprop: interrupted", err=True)
            sys.exit(INTERRUPTED)
        except Terminated as ending:  # the temporary file is already gone
            click.echo("backprop: terminated", err=True)
            sys.exit(128 + ending.signal_number)
        except click.ClickException as error:
            click.echo(f"backprop: error: {error.format_message()}", err=True)
            sys.exit(error.exit_code)
        sys.exit(status if isinstance(status, int) else 0)


def complete_path(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[click.shell_completion.CompletionItem]:
    """Shell completion of a file argument: the shell lists the files."""
    return [click.shell_completion.CompletionItem(incomplete, type="file")]


def fail(message: str) -> NoReturn:
    """A usage error: one line on stderr, exit 2."""
    click.echo(f"backprop: usage error: {message}", err=True)
    sys.exit(USAGE_ERROR)


def separate_options(
    params: list[click.Parameter], args: list[str], ctx: click.Context | None = None
) -> list[str]:
    """The option words (with their values) first, then `--` and every other word in order."""
    takes_value = _option_words(params)
    completing = bool(ctx and ctx.resilient_parsing)  # half-typed words are normal then
    options: list[str] = []
    others: list[str] = []
    words = iter(args)
    for word in words:
        name = word.split("=", 1)[0] if word.startswith("--") else word
        if word == "--":
            others.extend(words)
        elif name in takes_value and (name == word or takes_value[name]):
            options.append(word)
            if takes_value[name] and name == word:
                options.extend(_value_of(name, next(words, None), completing))
        elif _LONG_OPTION.fullmatch(word) and not completing:
            raise no_such_option(name, takes_value)
        else:
            others.append(word)
    return [*options, "--", *others]


def _value_of(option: str, value: str | None, completing: bool) -> list[str]:
    if value is None and not completing:
        raise click.BadOptionUsage(option, f"option {option} needs a value")
    return [] if value is None else [value]


def no_such_option(name: str, known: dict[str, bool]) -> click.NoSuchOption:
    """click's error for an unknown option, with the closest known ones as suggestions."""
    longs = [option for option in known if option.startswith("--")]
    return click.NoSuchOption(name, possibilities=difflib.get_close_matches(name, longs, n=1))


def describe(error: click.UsageError) -> str:
    """click's message rewritten as the tool writes its own: lower case, options unquoted."""
    if isinstance(error, click.NoSuchOption):
        message = f"no such option {error.option_name}"
        if error.possibilities:
            return message + _suggestion(list(error.possibilities)[:1])
        return (
            message
            + f" (a program that begins with -- goes after --: backprop -- '{error.option_name}')"
        )
    message = error.format_message().rstrip(".")
    message = re.sub(r"'(-{1,2}[\w-]+)'", r"\1", message)  # 'option' -> option
    message = re.sub(r"'([A-Z_]+)'", r"\1", message)  # 'PROGRAM' -> PROGRAM
    message = message[:1].lower() + message[1:]
    return message + _choice_suggestion(error)


def _suggestion(candidates: list[str]) -> str:
    if not candidates:
        return ""
    return f" (did you mean {candidates[0]}?)"


def _choice_suggestion(error: click.UsageError) -> str:
    # `--format jsn`: name the choice that was probably meant.
    param = getattr(error, "param", None)
    given = re.search(r"'([^']*)' is not", error.format_message())
    if not isinstance(param, click.Parameter) or not isinstance(param.type, click.Choice):
        return ""
    choices = [str(choice) for choice in param.type.choices]
    return _suggestion(difflib.get_close_matches(given.group(1), choices, n=1) if given else [])


def _option_words(params: list[click.Parameter]) -> dict[str, bool]:
    """Every option word of the command, mapped to whether it takes a value."""
    words: dict[str, bool] = {}
    for param in params:
        if isinstance(param, click.Option):
            takes_value = not (param.is_flag or param.count)
            for word in [*param.opts, *param.secondary_opts]:
                words[word] = takes_value
    return words


class Precision(click.ParamType):  # type: ignore[type-arg]  # generic in newer click only
    """--precision: significant digits from 1 to 17, or `exact` for the shortest round-trip."""

    name = "precision"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value is None or isinstance(value, int):
            return value
        text = str(value).strip().lower()
        if text == "exact":
            return None
        if text.isdigit() and 1 <= int(text) <= 17:
            return int(text)
        self.fail(f"{value!r}: give 1 to 17 digits, or 'exact'", param, ctx)


PRECISION_HELP = (
    "Significant digits where people read (text, diagrams, Markdown): 1 to 17, or 'exact' "
    "for every digit. json, jsonl and csv are always exact."
)
