"""Python environment analysis: static, run inside the user's interpreter; requirements files."""

from dsjobs_lsp.core.pyenv.analyze import analyze_python_env
from dsjobs_lsp.core.pyenv.interpreter import default_interpreter
from dsjobs_lsp.core.pyenv.models import (
    LocalModule,
    PipOptions,
    PythonEnvAnalysis,
    PythonEnvError,
    PythonSettings,
)
from dsjobs_lsp.core.pyenv.requirements import (
    RequirementsError,
    RequirementsFile,
    generate_requirements,
    parse_requirements_file,
    pin,
    read_requirements_file,
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
