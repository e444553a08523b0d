"""Documentation of every `config.yaml` key, for hover and completion in the editor."""

from __future__ import annotations

from dataclasses import dataclass, field

from dsjobs_lsp.core.config.model import SHUTDOWN_SIGNALS
from dsjobs_lsp.core.config.parse_sections import INSTANCE_TYPES


@dataclass(frozen=True)
class KeyDoc:
    """One key: dotted path, value type, allowed values (when an enum) and a one-paragraph description."""

    key: str
    type: str
    description: str
    values: tuple[str, ...] = field(default=())
    example: str = ""


_PATHS = "list of `path`, `path: VAR` or `path: {var: VAR}`"
_DOCS = (
    KeyDoc("name", "string", "Job name shown in the job list and history.", example="name: train-model"),
    KeyDoc("desc", "string", "Free-text job description."),
    KeyDoc(
        "cmd",
        "string (required)",
        "Command line run in the job's working directory. `${VAR}` refers to a variable declared in "
        "inputs, outputs, s3-mounts, datasets or args; `${DS_PROJECT_HOME}` needs `attach-project-disk`.",
        example="cmd: python main.py --data ${DATA}",
    ),
    KeyDoc(
        "args",
        "mapping of string to string",
        "Named arguments; each name is also a variable usable as `${NAME}` in `cmd`.",
    ),
    KeyDoc(
        "inputs",
        _PATHS,
        "Files or folders uploaded with the job (folders are zipped). Paths are relative to the config's "
        "folder and must exist; a path without a variable must stay inside it. With a variable the job sees "
        "the file at `${VAR}`; such a path may be absolute or `../` (`/usr/share/params.json: {var: P}`).",
        example="inputs:\n  - data.csv: DATA",
    ),
    KeyDoc(
        "outputs",
        _PATHS,
        "Files or folders the job writes; they are downloaded into the working directory when it ends. "
        "A path with a variable may be absolute or `../`: the job writes it at `${VAR}` and it is "
        "downloaded to that path.",
    ),
    KeyDoc(
        "s3-mounts",
        "list of S3 connector IDs, optionally `ID: VAR`",
        "S3 connectors mounted into the job; `${VAR}` (or `${ID}`) in `cmd` becomes the mount path.",
    ),
    KeyDoc(
        "datasets",
        "list of dataset IDs, optionally `ID: VAR`",
        "Project datasets mounted into the job; `${VAR}` in `cmd` becomes the dataset path.",
    ),
    KeyDoc("env", "mapping", "The job's environment: variables, Docker image and Python environment."),
    KeyDoc(
        "env.vars",
        "list of `NAME` or `NAME: value`",
        "Environment variables of the job. `- NAME` copies the value from your machine (an error if it "
        "is not set); the older mapping form `NAME: value` still works but is deprecated.",
    ),
    KeyDoc(
        "env.docker",
        "resource ID / image URL, or mapping",
        "Docker image the job runs in: a DataSphere Docker image resource ID, or `{image, username, "
        "password: {secret-id}}` for an image in a registry.",
    ),
    KeyDoc("env.docker.image", "string", "Image URL, e.g. `cr.yandex/<registry>/<image>:<tag>`."),
    KeyDoc(
        "env.docker.username", "string", "Registry user name (`json_key` for a Yandex service account key)."
    ),
    KeyDoc(
        "env.docker.password",
        "mapping `{secret-id}`",
        "The registry password, as the name of a DataSphere secret. Plain-text passwords are rejected.",
    ),
    KeyDoc("env.docker.password.secret-id", "string", "Name of the DataSphere secret holding the password."),
    KeyDoc(
        "env.python",
        "`auto` or mapping",
        "Python environment: `auto` detects the interpreter version, the pinned requirements and the "
        "local modules from the entry script; a mapping with `type: manual` gives them explicitly.",
        values=("auto",),
    ),
    KeyDoc("env.python.type", "enum", "How the environment is built.", values=("auto", "manual")),
    KeyDoc(
        "env.python.version", "string `3.X`", "Interpreter version (manual only); `3.X.Y` is cut to `3.X`."
    ),
    KeyDoc(
        "env.python.requirements-file",
        "path",
        "pip requirements file (manual only); must exist. Without it the requirements are detected.",
    ),
    KeyDoc(
        "env.python.root-paths",
        "list of paths",
        "Extra entry scripts whose imports are analysed besides the one in `cmd`. Note the plural: "
        "`root-path` is ignored. Cannot be combined with `local-paths`.",
    ),
    KeyDoc(
        "env.python.local-paths",
        "list of paths",
        "The complete list of local Python modules to ship (manual only); disables their detection.",
    ),
    KeyDoc("env.python.pip", "mapping", "Options passed to pip when the environment is built."),
    KeyDoc("env.python.pip.index-url", "URL", "Base package index URL (`pip --index-url`)."),
    KeyDoc("env.python.pip.extra-index-urls", "list of URLs", "Extra package indexes (`--extra-index-url`)."),
    KeyDoc(
        "env.python.pip.trusted-hosts", "list of hosts", "Hosts trusted without HTTPS (`--trusted-host`)."
    ),
    KeyDoc(
        "env.python.pip.no-deps",
        "boolean",
        "Install requirements without their dependencies "
        "(`--no-deps`). Only the exact lowercase `true` enables it; `True` or `yes` read as false.",
        values=("true", "false"),
    ),
    KeyDoc(
        "cloud-instance-types",
        "instance type or list",
        "Computing resource configurations to run on, in order of preference (default `c1.4`). "
        "`cloud-instance-type` (singular) is read too.",
        values=INSTANCE_TYPES,
    ),
    KeyDoc(
        "cloud-instance-type",
        "instance type or list",
        "Singular spelling of `cloud-instance-types`.",
        values=INSTANCE_TYPES,
    ),
    KeyDoc("working-storage", "mapping", "Extra working storage for the job, at least 100 GB."),
    KeyDoc("working-storage.type", "enum", "Storage type.", values=("SSD",)),
    KeyDoc("working-storage.size", "size", "Size such as `150Gb` (rounded up to whole GB, at least 100)."),
    KeyDoc(
        "flags",
        "list",
        "Job flags; `attach-project-disk` mounts the project disk at `${DS_PROJECT_HOME}`.",
        values=("attach-project-disk",),
    ),
    KeyDoc(
        "graceful-shutdown", "mapping", "How a cancelled job is stopped: a signal, then a wait before kill."
    ),
    KeyDoc(
        "graceful-shutdown.signal",
        "enum",
        "Signal sent on cancel (default SIGTERM).",
        values=tuple(SHUTDOWN_SIGNALS),
    ),
    KeyDoc(
        "graceful-shutdown.timeout", "duration", "How long to wait after the signal, e.g. `30s`, `1m30s`."
    ),
    KeyDoc(
        "output-datasets",
        "list of mappings",
        "Datasets created from folders the job writes: `{name, description, labels, var, size}`; the job "
        "writes into `${var}`.",
    ),
    KeyDoc("output-datasets.name", "string", "Dataset name, unique in the list."),
    KeyDoc("output-datasets.description", "string", "Dataset description."),
    KeyDoc("output-datasets.labels", "mapping of string to string", "Dataset labels."),
    KeyDoc("output-datasets.var", "string", "Variable giving the dataset's folder in `cmd`."),
    KeyDoc("output-datasets.size", "size", "Dataset size such as `10Gb` (whole GB)."),
    KeyDoc("spark", "mapping", "Spark settings of the job."),
    KeyDoc("spark.connector", "connector ID or `{id}`", "The Spark connector to attach."),
)

KEY_DOCS: dict[str, KeyDoc] = {doc.key: doc for doc in _DOCS}


def child_keys(parent: str) -> list[str]:
    """Keys directly under `parent` ("" for the top level), in documented order: for completion."""
    prefix = f"{parent}." if parent else ""
    return [
        key[len(prefix) :] for key in KEY_DOCS if key.startswith(prefix) and "." not in key[len(prefix) :]
    ]
