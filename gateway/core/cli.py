"""Building blocks every `ketenpoort` sub-command shares: the data-dir option, settings,
an opened database, and a progress bar."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker

from gateway.config import Settings

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Data directory (SQLite file, generated keys). Default: KETENPOORT_DATA_DIR "
        "or ./ketenpoort-data. Ignored for the database when KETENPOORT_DATABASE_URL is set.",
        envvar="KETENPOORT_DATA_DIR",
    ),
]


class DateOptionError(ValueError):
    """A date or moment option the gateway cannot read or compute with; its message names the
    option and never quotes more than the value the operator typed."""


def parse_day_option(option: str, value: str) -> date:
    """A ``YYYY-MM-DD`` option, in the range the API accepts for a day
    (:func:`gateway.core.schemas.check_date`, EARLIEST..LATEST): the same check, not a copy."""
    from gateway.core.schemas import EARLIEST, LATEST, check_date

    try:
        return check_date(date.fromisoformat(value))
    except ValueError:
        raise DateOptionError(
            f"{option} is a date YYYY-MM-DD between {EARLIEST} and {LATEST}"
        ) from None


def parse_moment_option(option: str, value: str) -> datetime:
    """An ISO 8601 date or time option; one without an offset is UTC. Its instant must lie
    in the calendar in UTC, as the API's :data:`gateway.core.schemas.Moment` requires
    (:func:`gateway.core.schemas.require_instant`): ``0001-01-01T00:00:00+01:00`` overflowed
    when it was converted (a traceback)."""
    from gateway.core.schemas import require_instant

    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise DateOptionError(f"{option} is an ISO 8601 date or time, e.g. 2026-01-01") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return require_instant(parsed)
    except ValueError as exc:
        raise DateOptionError(f"{option} is {exc}") from None


def load_settings(data_dir: Path | None, **overrides: object) -> Settings:
    """Settings from the environment, with the command's options on top (None = not given)."""
    values = {k: v for k, v in overrides.items() if v is not None}
    if data_dir is not None:
        values["data_dir"] = data_dir
    return Settings(**values)  # type: ignore[arg-type]


@contextmanager
def open_database(data_dir: Path | None) -> Iterator[tuple[Settings, sessionmaker[Session]]]:
    """The deployment's database, migrated when auto_migrate is on, closed afterwards. A
    database that cannot be reached or is not at this code's schema is a one-line
    :class:`~gateway.config.StartRefused` (review9c F1, F6): a CronJob of a new release that
    runs before the migration refuses instead of failing on a missing table."""
    from gateway.db import make_engine, make_sessionmaker, prepare_database

    settings = load_settings(data_dir)
    settings.ensure_data_dir()
    url = settings.resolved_database_url
    prepare_database(url, migrate=settings.auto_migrate)
    engine = make_engine(url)
    try:
        yield settings, make_sessionmaker(engine)
    finally:
        engine.dispose()


class ProgressBar:
    """Progress of a long-running job: call ``update(done, total)`` or ``advance(n)``."""

    def __init__(self, bar: Any, task: Any) -> None:
        self._bar = bar
        self._task = task

    def update(self, done: int, total: int) -> None:
        self._bar.update(self._task, completed=done, total=total)

    def set_total(self, total: int) -> None:
        self._bar.update(self._task, total=total)

    def advance(self, n: int) -> None:
        self._bar.advance(self._task, n)


@contextmanager
def progress_bar(label: str, total: int | None = None) -> Iterator[ProgressBar]:
    """A rich progress bar on stderr (left on screen when stderr is a terminal)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=not sys.stderr.isatty(),
    ) as bar:
        yield ProgressBar(bar, bar.add_task(label, total=total))


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 checkpoint``, ``2 checkpoints``; ``nouns`` for an irregular plural (entries)."""
    return f"{count} {noun if count == 1 else (nouns or noun + 's')}"


def validation_errors(exc: Exception) -> list[str]:
    """A pydantic ValidationError as one line per problem: where in the document (dotted,
    with list positions) and what is wrong, without pydantic's URLs and input echoes (the
    input may hold personal data)."""
    from pydantic import ValidationError

    if not isinstance(exc, ValidationError):
        return [str(exc)]
    lines = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in error["loc"]) or "(the document)"
        lines.append(f"{where}: {error['msg']}")
    return lines


def fail_with_list(title: str, problems: list[str], hint: str | None = None) -> typer.Exit:
    """Print ``error: title``, one ``- problem`` line each and the hint on stderr; returns
    the Exit (code 1) to raise."""
    typer.echo(f"error: {title}", err=True)
    for problem in problems:
        typer.echo(f"  - {problem}", err=True)
    if hint:
        typer.echo(hint, err=True)
    return typer.Exit(1)


def read_text_file(path: Path, what: str, hint: str | None = None) -> str:
    """A file a command reads (``what`` it should hold), or a readable error naming it,
    never a traceback."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise fail_with_list(f"{path}: no such file (expected {what})", [], hint) from None
    except IsADirectoryError:
        raise fail_with_list(f"{path} is a directory (expected {what})", [], hint) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise fail_with_list(f"cannot read {path} (expected {what}): {exc}", [], hint) from None


_M = TypeVar("_M", bound=BaseModel)


def read_json_model(path: Path, model: type[_M], what: str, hint: str | None = None) -> _M:
    """A JSON file validated by a pydantic model; a missing file, bad JSON or every
    validation error as a readable list on stderr, exit code 1."""
    import json

    from pydantic import ValidationError

    text = read_text_file(path, what, hint)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail_with_list(
            f"{path} is not JSON (expected {what})",
            [f"line {exc.lineno}, column {exc.colno}: {exc.msg}"],
            hint,
        ) from None
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        problems = validation_errors(exc)
        count = plural(len(problems), "problem")
        raise fail_with_list(f"{path} is not {what} ({count}):", problems, hint) from None
