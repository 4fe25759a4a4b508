"""Building blocks every `ketenpoort` sub-command shares: the data-dir option, settings,
an opened database, and a progress bar."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
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


def load_settings(data_dir: Path | None, **overrides: object) -> Settings:
    """Settings from the environment, with the command's options on top (None = not given)."""
    values = {k: v for k, v in overrides.items() if v is not None}
    if data_dir is not None:
        values["data_dir"] = data_dir
    return Settings(**values)  # type: ignore[arg-type]


@contextmanager
def open_database(data_dir: Path | None) -> Iterator[tuple[Settings, sessionmaker[Session]]]:
    """The deployment's database, migrated when auto_migrate is on, closed afterwards."""
    from gateway.db import make_engine, make_sessionmaker, upgrade_database

    settings = load_settings(data_dir)
    settings.ensure_data_dir()
    url = settings.resolved_database_url
    if settings.auto_migrate:
        upgrade_database(url)
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
