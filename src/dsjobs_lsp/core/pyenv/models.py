"""Plain data of the Python environment analysis: its settings in, its result out."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal


class PythonEnvError(Exception):
    """The Python environment cannot be determined: a bad setting, file or interpreter (the message says
    which)."""


@dataclass(frozen=True)
class PipOptions:
    """`env.python.pip`: options applied by pip when the job's environment is built."""

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    trusted_hosts: tuple[str, ...] = ()
    no_deps: bool = False

    @property
    def is_empty(self) -> bool:
        """True when no option is set."""
        return self == PipOptions()

    def merged(self, other: PipOptions) -> PipOptions:
        """These options plus `other`'s (lists united in order, `no_deps` if either, own index URL first)."""
        return PipOptions(
            index_url=self.index_url or other.index_url,
            extra_index_urls=_unite(self.extra_index_urls, other.extra_index_urls),
            trusted_hosts=_unite(self.trusted_hosts, other.trusted_hosts),
            no_deps=self.no_deps or other.no_deps,
        )


def _unite(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*first, *second)))


@dataclass(frozen=True)
class PythonSettings:
    """`env.python` of config.yaml, as plain values (the runner converts `JobConfig.env.python` into it).

    Relative paths are relative to the job's working directory. As in the reference CLI, an empty string
    counts as "given" for `is_fully_manual` but carries no value; `version`, `requirements_file` and
    `local_paths` are read in manual mode only.
    """

    type: Literal["auto", "manual"] = "auto"
    version: str | None = None
    requirements_file: str | Path | None = None
    root_paths: tuple[str | Path, ...] = ()
    local_paths: tuple[str | Path, ...] | None = None
    pip: PipOptions | None = None

    @property
    def is_fully_manual(self) -> bool:
        """Manual mode with version, requirements file and local paths all given: nothing is detected."""
        return self.type == "manual" and None not in (self.version, self.requirements_file, self.local_paths)

    @classmethod
    def from_attributes(cls, python: Any) -> PythonSettings:
        """Builds settings from any object with the same attribute names (e.g. `JobConfig.env.python`)."""
        if python is None:
            return cls()
        pip = getattr(python, "pip", None)
        local_paths = getattr(python, "local_paths", None)
        return cls(
            type=getattr(python, "type", "auto"),
            version=getattr(python, "version", None),
            requirements_file=getattr(python, "requirements_file", None),
            root_paths=tuple(getattr(python, "root_paths", None) or ()),
            local_paths=None if local_paths is None else tuple(local_paths),
            pip=None
            if pip is None
            else PipOptions(
                index_url=getattr(pip, "index_url", None),
                extra_index_urls=tuple(getattr(pip, "extra_index_urls", None) or ()),
                trusted_hosts=tuple(getattr(pip, "trusted_hosts", None) or ()),
                no_deps=bool(getattr(pip, "no_deps", False)),
            ),
        )


@dataclass(frozen=True)
class LocalModule:
    """A top-level local module file or package folder to ship; zip entries are relative to `archive_root`."""

    path: Path
    archive_root: Path


@dataclass
class PythonEnvAnalysis:
    """What the job's Python environment needs: the target version, pinned requirements, local code."""

    python_version: str
    requirements: list[str]
    local_modules: list[LocalModule]
    pip_options: PipOptions | None = None
    warnings: list[str] = field(default_factory=list)
    optional_requirements: list[str] = field(default_factory=list)
    interpreter: Path | None = None
