"""Python environment analysis: static, run inside the user's interpreter; requirements files.

The analysis and the requirements parser (`packaging`) load on first use: a job without a Python
environment never imports them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dsjobs_lsp.core.lazy import lazy_exports
from dsjobs_lsp.core.pyenv.interpreter import default_interpreter
from dsjobs_lsp.core.pyenv.models import (
    LocalModule,
    PipOptions,
    PythonEnvAnalysis,
    PythonEnvError,
    PythonSettings,
)

if TYPE_CHECKING:
    from dsjobs_lsp.core.pyenv.analyze import analyze_python_env
    from dsjobs_lsp.core.pyenv.requirements import (
        RequirementsError,
        RequirementsFile,
        generate_requirements,
        parse_requirements_file,
        pin,
        read_requirements_file,
    )

__getattr__ = lazy_exports(
    __name__,
    {
        "analyze": ("analyze_python_env",),
        "requirements": (
            "RequirementsError",
            "RequirementsFile",
            "generate_requirements",
            "parse_requirements_file",
            "pin",
            "read_requirements_file",
        ),
    },
)

__all__ = [
    "LocalModule",
    "PipOptions",
    "PythonEnvAnalysis",
    "PythonEnvError",
    "PythonSettings",
    "RequirementsError",
    "RequirementsFile",
    "analyze_python_env",
    "default_interpreter",
    "generate_requirements",
    "parse_requirements_file",
    "pin",
    "read_requirements_file",
]
