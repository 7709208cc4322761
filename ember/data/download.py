"""Finding data files: a local copy, the cache folder, or a download checked by sha256.

Every file a loader reads is known by name and sha256. ``locate`` looks, in order, in the
``root`` folder the caller gave (a local copy, no network: ``root/<file>`` or
``root/<dataset>/<file>``), then in the cache folder
``$EMBER_DATA/<dataset>`` (default ``~/.cache/ember/<dataset>``), and only then downloads from
the listed mirrors into the cache. A file whose sha256 differs is never used: the error names
the file, the expected hash and the hash it has.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import urllib.request
from collections.abc import Sequence
from pathlib import Path


class ChecksumError(ValueError):
    """A data file whose sha256 is not the one published for it."""


def data_home() -> Path:
    """The cache folder for datasets: ``$EMBER_DATA`` or ``~/.cache/ember``."""
    env = os.environ.get("EMBER_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "ember"


def sha256_of(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify(path: Path, sha256: str) -> Path:
    got = sha256_of(path)
    if got != sha256:
        raise ChecksumError(
            f"{path}: sha256 mismatch: expected {sha256}, got {got}. The file is damaged or "
            "not the published one; delete it to download it again."
        )
    return path


def locate(
    dataset: str,
    filename: str,
    sha256: str,
    urls: Sequence[str] = (),
    root: str | os.PathLike | None = None,
    download: bool = True,
) -> Path:
    """Path of a verified copy of ``filename``; see the module docstring for where it looks."""
    if root is not None:
        path = Path(root).expanduser() / filename
        if not path.is_file() and (Path(root).expanduser() / dataset / filename).is_file():
            path = Path(root).expanduser() / dataset / filename  # root holds many datasets
        if not path.is_file():
            raise FileNotFoundError(
                f"{dataset}: expected {filename} in the folder {root} (root= was given), "
                f"but {path} does not exist"
            )
        return verify(path, sha256)
    path = data_home() / dataset / filename
    if path.is_file():
        return verify(path, sha256)
    if not download or not urls:
        raise FileNotFoundError(
            f"{dataset}: {filename} is not in the cache {path.parent}"
            + (" and download=False" if urls else "; there is no download for it")
            + "; pass root= a folder holding it, or set EMBER_DATA"
        )
    return _download(urls, path, sha256)


def _download(urls: Sequence[str], path: Path, sha256: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    errors = []
    for url in urls:
        print(f"downloading {url} -> {path}", file=sys.stderr)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        try:
            h = hashlib.sha256()
            request = urllib.request.Request(url, headers={"User-Agent": "ember"})
            with urllib.request.urlopen(request, timeout=60) as r, os.fdopen(fd, "wb") as f:
                for block in iter(lambda r=r: r.read(1 << 20), b""):
                    h.update(block)
                    f.write(block)
            if h.hexdigest() != sha256:
                raise ChecksumError(
                    f"{url}: sha256 mismatch: expected {sha256}, got {h.hexdigest()}"
                )
            os.replace(tmp, path)
            return path
        except (OSError, ChecksumError) as e:  # URLError is an OSError
            errors.append(f"{url}: {e}")
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    raise OSError(
        f"could not download {path.name}:\n  " + "\n  ".join(errors) + "\n"
        f"Without a network: pass root= a folder holding {path.name} (ember train: --data-root"
        f" DIR), or put it in the cache folder {path.parent}"
    )
