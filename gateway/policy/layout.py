"""Where a covenant's files live: one folder per covenant, ``<covenant-id>/`` holding
``covenant.yaml``, ``workflow.yaml`` and ``retention.yaml`` (docs/policy.md).

The packaged covenants are the folders in ``policies/``; ``KETENPOORT_COVENANT_DIR`` points
at another directory of such folders. An operator adding a covenant adds one folder. A
folder with any ``.yaml``/``.yml`` file in it is a covenant folder and must hold exactly the
three files; folders without one (``rego/``, ``examples/``) are not covenants. Each loader
(gateway/policy/covenant.py, gateway/cases/definition.py, gateway/retention/rules.py) reads
its file from every folder and refuses one whose id is not the folder's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import policies
from gateway.policy.errors import CovenantError

COVENANT_FILE = "covenant.yaml"
WORKFLOW_FILE = "workflow.yaml"
RETENTION_FILE = "retention.yaml"
PACKAGE_FILES = (COVENANT_FILE, WORKFLOW_FILE, RETENTION_FILE)


def default_package_dir() -> Path:
    """The packaged covenants: ``policies/`` (the folders beside ``rego/``)."""
    return Path(policies.__file__).parent


@dataclass(frozen=True)
class CovenantFolder:
    """One covenant's folder; its name is the covenant id."""

    path: Path

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def covenant(self) -> Path:
        return self.path / COVENANT_FILE

    @property
    def workflow(self) -> Path:
        return self.path / WORKFLOW_FILE

    @property
    def retention(self) -> Path:
        return self.path / RETENTION_FILE


def _yaml_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml"))


def covenant_folders(directory: Path | None = None) -> list[CovenantFolder]:
    """The covenant folders in ``directory`` (default: the packaged ones), by name.

    Raises :class:`CovenantError` naming the file or folder when the layout is wrong: a
    covenant file directly in ``directory`` (the layout before one folder per covenant), a
    folder lacking one of the three files or holding another YAML file, or no covenant
    folder at all.
    """
    directory = directory if directory is not None else default_package_dir()
    if not directory.is_dir():
        raise CovenantError(directory, None, "not a directory of covenant folders")
    loose = _yaml_files(directory)
    if loose:
        raise CovenantError(
            loose[0],
            None,
            "a covenant's files live in a folder named after the covenant: move it to "
            f"<covenant-id>/{COVENANT_FILE}, {WORKFLOW_FILE} or {RETENTION_FILE} "
            "(docs/operations.md)",
        )
    folders: list[CovenantFolder] = []
    for path in sorted(p for p in directory.iterdir() if p.is_dir()):
        if path.name.startswith((".", "_")):
            continue  # __pycache__, hidden folders
        present = _yaml_files(path)
        if not present:
            continue  # rego/, examples/: not a covenant
        for file in present:
            if file.name not in PACKAGE_FILES:
                raise CovenantError(
                    file,
                    None,
                    f"a covenant folder holds only {', '.join(PACKAGE_FILES)}; "
                    f"this file is none of them",
                )
        names = {file.name for file in present}
        for required in PACKAGE_FILES:
            if required not in names:
                raise CovenantError(
                    path / required,
                    None,
                    f"covenant folder '{path.name}' lacks {required} "
                    f"(every covenant folder holds {', '.join(PACKAGE_FILES)})",
                )
        folders.append(CovenantFolder(path))
    if not folders:
        raise CovenantError(
            directory,
            None,
            f"no covenant folders (<covenant-id>/{COVENANT_FILE}, {WORKFLOW_FILE}, "
            f"{RETENTION_FILE}) found",
        )
    return folders


def id_mismatch(field: str, found: str, folder: CovenantFolder) -> str:
    """The words for a file whose covenant id (in ``field``) is not its folder's name."""
    return (
        f"{field}: '{found}' is not the name of its folder '{folder.id}' "
        "(a covenant's folder is named by its id)"
    )
