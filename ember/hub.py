"""torch.hub's checkpoint downloads for ember: ``load_state_dict_from_url`` fetches a weights
file once into a cache folder (checked against the sha256 prefix in its name when asked, as
torchvision names its files ``resnet18-f37072fd.pth``) and reads it with ``ember.load``, which
takes safetensors files and ``torch.save`` files alike, never running code from either.

Not here: ``hub.load``/``list``/``help``, which import and run a repository's ``hubconf.py``;
ember refuses them with a message that says how to load weights instead.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

from tqdm import tqdm

from .serialization import load as _load_file

__all__ = ["download_url_to_file", "get_dir", "load_state_dict_from_url", "set_dir"]

#: torchvision's file names carry the first hex digits of the file's sha256: name-<hash>.ext
HASH_REGEX = re.compile(r"-([a-f0-9]*)\.")
_hub_dir: list[str | None] = [None]


def get_dir() -> str:
    """The hub cache folder: set_dir's, else ``$EMBER_HOME/hub``, else ``~/.cache/ember/hub``."""
    if _hub_dir[0] is not None:
        return _hub_dir[0]
    home = os.environ.get("EMBER_HOME")
    base = Path(home).expanduser() if home else Path.home() / ".cache" / "ember"
    return str(base / "hub")


def set_dir(d: str | os.PathLike) -> None:
    _hub_dir[0] = os.path.expanduser(str(d))


def download_url_to_file(url: str, dst: str | os.PathLike, hash_prefix: str | None = None,
                         progress: bool = True) -> None:  # fmt: skip
    """Download ``url`` to ``dst``: written to a temporary file beside it and renamed only once
    complete (and, with ``hash_prefix``, once its sha256 starts with it), so ``dst`` is never
    a partial or wrong file."""
    dst = Path(dst).expanduser()
    dst.parent.mkdir(parents=True, exist_ok=True)
    request = urllib.request.Request(url, headers={"User-Agent": "ember"})
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".partial", dir=dst.parent)
    try:
        digest = hashlib.sha256()
        with urllib.request.urlopen(request, timeout=60) as r, os.fdopen(fd, "wb") as f:
            size = r.headers.get("Content-Length") if hasattr(r, "headers") else None
            total = int(size) if size and size.isdigit() else None
            with tqdm(total=total, disable=not progress, unit="B", unit_scale=True) as bar:
                for block in iter(lambda r=r: r.read(1 << 20), b""):
                    f.write(block)
                    digest.update(block)
                    bar.update(len(block))
        if hash_prefix is not None and not digest.hexdigest().startswith(hash_prefix):
            raise RuntimeError(
                f'invalid hash value (expected "{hash_prefix}", got "{digest.hexdigest()}")'
                f" for {url}"
            )
        os.replace(tmp, dst)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load_state_dict_from_url(url: str, model_dir: str | None = None, map_location=None,
                             progress: bool = True, check_hash: bool = False,
                             file_name: str | None = None, weights_only: bool = True):  # fmt: skip
    """The object saved at ``url`` (a state_dict, usually), from ``model_dir`` (default
    ``get_dir()/checkpoints``) when it was downloaded before. ``check_hash``: the file's
    sha256 must start with the hex digits after the last '-' of its name."""
    folder = Path(model_dir) if model_dir is not None else Path(get_dir()) / "checkpoints"
    name = file_name or os.path.basename(urllib.parse.urlparse(url).path)
    cached = folder / name
    if not cached.is_file():
        match = HASH_REGEX.search(name) if check_hash else None
        download_url_to_file(url, cached, match.group(1) if match else None, progress)
    return _load_file(
        cached, map_location=map_location, weights_only=None if weights_only else False
    )


def _runs_code(what: str):
    def refuse(*args, **kwargs):
        raise RuntimeError(
            f"ember.hub.{what} imports and runs a repository's hubconf.py; ember never runs"
            " downloaded code. Build the model in ember and load its weights with"
            " ember.hub.load_state_dict_from_url(url) and model.load_state_dict(...)."
        )

    refuse.__name__ = what
    return refuse


load = _runs_code("load")  # torch.hub.load, refused (see the module docstring)
list = _runs_code("list")  # noqa: A001
help = _runs_code("help")  # noqa: A001
