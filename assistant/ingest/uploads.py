"""Files uploaded through the web UI: size check, a safe stored name, ingest one file at a time, a result per file.

Uploads are copied to `<index folder's parent>/uploads/` (for the default index that is `./uploads/`, ignored by
git) under a name made only of ASCII letters, digits, `._-`. The stored name becomes the document id, so
uploading a file with the same name again replaces that document. A file that cannot be indexed is deleted
again and its reason is reported; nothing here raises for one bad file.

Only that stored copy is kept. Gradio saves every upload first in its own upload folder (GRADIO_TEMP_DIR, else
<system temp>/gradio, as <folder>/<salted sha256>/<name>) and serves everything there at
/gradio_api/file=<path> to anyone who has the path. So once a file is handled, accepted or refused, Gradio's copy
is deleted (`discard_incoming`): a refused upload (wrong type, too large, empty, unreadable, hostile, duplicate)
leaves no copy anywhere, and an accepted one only ours, which Gradio does not serve.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path

from assistant.errors import AssistantError
from assistant.ingest.readers import SUPPORTED
from assistant.text.wording import plural, shorten

log = logging.getLogger(__name__)
MAX_STEM = 80
NAME_SHOWN = 120  # characters of a client's file name a result repeats


def uploads_dir(settings) -> Path:
    return Path(settings.index_dir).expanduser().resolve().parent / "uploads"


def safe_name(name: str) -> str:
    """A file name that cannot leave the uploads folder or confuse a shell: `../a b?.PDF` -> `a_b.pdf`."""
    base = re.split(r"[\\/]", name or "")[-1]
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    clean = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_stem).strip("._-")[:MAX_STEM]
    if not clean:  # e.g. a name written only in a non-Latin script: keep names apart with a hash
        clean = "upload-" + hashlib.sha1(base.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    suffix = re.sub(r"[^A-Za-z0-9]", "", suffix).lower()[:10]
    return f"{clean}.{suffix}" if suffix else clean


def _mb(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB"


def display_name(name: str | None, number: int) -> str:
    """A client's file name as a result shows it: control characters (a NUL byte) escaped, one line, at most
    NAME_SHOWN characters; "upload-N" when there is none."""
    shown = re.sub(r"[\x00-\x1f\x7f-\x9f]", lambda m: f"\\x{ord(m.group(0)):02x}", name or "")
    return shorten(shown, NAME_SHOWN) or f"upload-{number + 1}"


def ingest_uploads(assistant, paths: Sequence[str], progress: Callable[[int, int, str], None] | None = None,
                   names: Sequence[str] | None = None) -> list[dict]:
    """Store and index each uploaded file; return [{'name', 'ok', 'message'}] in upload order. `names`: what
    to call each file in the results (the client's names; default: the files' own)."""
    folder = uploads_dir(assistant.settings)
    limit = int(assistant.settings.max_upload_mb * 1_048_576)
    results: list[dict] = []
    for number, path in enumerate(paths):
        original = names[number] if names else Path(path).name
        if progress:
            progress(number, len(paths), original)
        try:
            results.append(_ingest_one(assistant, Path(path), original, folder, limit))
        except AssistantError as exc:  # e.g. the index is being written by another process
            results.append({"name": original, "ok": False, "message": str(exc)})
        except FileNotFoundError:  # the same file uploaded twice at once: the first one consumed it
            results.append({"name": original, "ok": False, "message": "the upload is gone; upload it again"})
        except Exception as exc:  # one bad file never breaks the page or the other files
            log.exception("upload of %s failed", original)
            results.append({"name": original, "ok": False, "message": f"could not be indexed ({type(exc).__name__}: "
                                                                        f"{exc})"})
        finally:
            discard_incoming(Path(path))
    if progress:
        progress(len(paths), len(paths), "")
    return results


def _ingest_one(assistant, path: Path, original: str, folder: Path, limit: int) -> dict:
    name = safe_name(path.name)
    result = {"name": original, "ok": False, "message": ""}
    if Path(name).suffix.lower() not in SUPPORTED:
        result["message"] = (f"not a supported file type (supported: {' '.join(SUPPORTED)})")
        return result
    size = path.stat().st_size
    if size > limit:
        result["message"] = f"too large ({_mb(size)}; the limit is {_mb(limit)})"
        return result
    if size == 0:
        result["message"] = "the file is empty"
        return result
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    staged = folder / f".{name}.partial"
    try:
        shutil.copyfile(path, staged)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    previous = target.read_bytes() if target.exists() else None
    staged.replace(target)
    try:
        report = assistant.ingest([target])
    except BaseException:
        _restore(target, previous)
        raise
    stored = f" (stored as {name})" if name != original else ""
    if report.added or report.updated:
        doc_id = (report.added or report.updated)[0]
        paragraphs = next((d.paragraphs for d in assistant.documents() if d.doc_id == doc_id), report.paragraphs)
        verb = "indexed" if report.added else "replaced the earlier version"
        result.update(ok=True, message=f"{verb}: {plural(paragraphs, 'paragraph')}{stored}"
                      + "".join(f". Note: {w}" for w in report.warnings))
    elif report.unchanged:
        result.update(ok=True, message=f"already indexed, unchanged{stored}")
    elif report.duplicates:
        _restore(target, previous)
        result["message"] = f"same text as the indexed document '{report.duplicates[0]['same_as']}', not added again"
    else:
        _restore(target, previous)
        reason = report.skipped[0]["reason"] if report.skipped else "nothing could be read from it"
        result["message"] = f"not indexed: {reason}"
    return result


def _restore(target: Path, previous: bytes | None) -> None:
    """Put back the file an upload replaced (or remove the new one), so the folder matches the index."""
    if previous is None:
        target.unlink(missing_ok=True)
    else:
        target.write_bytes(previous)


def gradio_upload_folder() -> Path | None:
    """Where Gradio saves uploads before a handler sees them (None when gradio is not installed)."""
    try:
        from gradio.utils import get_upload_folder
    except ImportError:
        return None
    return Path(get_upload_folder()).resolve()


def discard_stale_incoming(max_age_s: float, now: float | None = None) -> int:
    """Delete the files in gradio's upload folder older than `max_age_s` (uploads sent straight to
    /gradio_api/upload that no handler took), and the folders they leave empty. Returns how many files went."""
    import time

    folder = gradio_upload_folder()
    if folder is None or not folder.is_dir():
        return 0
    now = time.time() if now is None else now
    removed = 0
    for path in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        try:
            if path.is_file() and not path.is_symlink() and now - path.stat().st_mtime > max_age_s:
                path.unlink()
                removed += 1
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
        except OSError as exc:  # in use, or gone already
            log.debug("could not delete %s: %s", path, exc)
    return removed


def discard_incoming(path: Path) -> None:
    """Delete Gradio's copy of an uploaded file (and its now empty folder). Files anywhere else, such as a path a
    test or another caller hands in, are left alone."""
    gradio_folder = gradio_upload_folder()
    try:
        path = path.resolve()
        if gradio_folder is None or gradio_folder not in path.parents or not path.is_file():
            return
        path.unlink()
        if path.parent != gradio_folder and not any(path.parent.iterdir()):
            path.parent.rmdir()
    except OSError as exc:  # gone already, or not ours to delete: never fail an upload over it
        log.warning("could not delete the uploaded copy %s: %s", path, exc)


def forget_upload(settings, source: str) -> None:
    """Delete the stored copy of a removed document if it is one of ours."""
    folder = uploads_dir(settings)
    try:
        path = Path(source).resolve()
    except (OSError, ValueError):
        return
    if folder in path.parents:
        path.unlink(missing_ok=True)
