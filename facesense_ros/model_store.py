# Copyright 2026 facesense_ros developers
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""
Find Open Model Zoo models on disk, or download them once into a cache, verified.

Lookup order for ``intel/<model>/<PRECISION>/<model>.{xml,bin}``: an explicit directory (the
``model_dir`` parameter), then ``$FACESENSE_MODEL_DIR``, then the cache
(``$XDG_CACHE_HOME/facesense_ros/models``, by default ``~/.cache/facesense_ros/models``); within
a directory the first precision of the list that is present wins. A precision whose ``.xml``
or ``.bin`` is there without the other is an error (ModelError naming both files), never
skipped: a half-copied model must not be silently replaced by another copy or a download. A
model found nowhere is downloaded from OMZ's storage into the cache, checked against the size
and sha384 that OMZ published (``omz_models.tsv``), and renamed into place only when complete
and verified.

Console script: ``facesense_models list | download [--model M] [--precision P] | path MODEL``.
"""

import argparse
import csv
from dataclasses import dataclass
import hashlib
from importlib import resources
import logging
import os
from pathlib import Path
import sys
import tempfile
import time
from typing import Iterable, List, Optional, Sequence, Tuple
import urllib.error
import urllib.request

from facesense_ros.config import ATTRIBUTE_MODELS, DETECTORS, PARAMETERS, PRECISIONS

LOGGER = logging.getLogger('facesense_ros')
ENV_MODEL_DIR = 'FACESENSE_MODEL_DIR'
ENV_MODEL_URL = 'FACESENSE_MODEL_URL'
# Where OMZ's downloader fetches from today; rows of the table are relative to it.
DEFAULT_BASE_URL = 'https://storage.openvinotoolkit.org/repositories/open_model_zoo/'
# face-detection-0102 was renamed face-detection-0202 in OMZ 2021.1 (same network); only the
# retired 2020.4 archive still has 0102, so downloads of 0102 fetch 0202.
RENAMED = {'face-detection-0102': 'face-detection-0202'}
# Large enough to keep the number of Python calls small, small enough for a smooth progress bar.
CHUNK_BYTES = 256 * 1024
# Seconds without any byte from the server before a download is given up.
TIMEOUT_S = 30.0
# Redraw the progress bar at most this often (seconds): stderr may be a slow terminal or a log.
PROGRESS_INTERVAL_S = 0.2


class ModelError(RuntimeError):
    """A model is missing, cannot be downloaded, is damaged, or is not fit for its role."""


@dataclass(frozen=True)
class ModelFile:
    """One file OMZ publishes: where it goes, where it comes from and how to check it."""

    model: str
    precision: str
    name: str
    size: int
    sha384: str
    # Relative to the base URL, or an absolute URL.
    url: str
    # OMZ publishes sha384, except for the 2020.4 archive's sha256 (named in the table).
    algorithm: str = 'sha384'


def read_table(path) -> Tuple[ModelFile, ...]:
    """
    Read a table of model files (columns model, precision, file, size, checksum_sha384, source).

    Sources under DEFAULT_BASE_URL are kept relative so that a mirror can replace the base.
    """
    with open(path, newline='', encoding='utf-8') as stream:
        rows = list(csv.DictReader(stream, delimiter='\t'))
    table = []
    for row in rows:
        url = row['source']
        if url.startswith(DEFAULT_BASE_URL):
            url = url[len(DEFAULT_BASE_URL):]
        checksum, _, algorithm = row['checksum_sha384'].partition(' ')
        algorithm = algorithm.strip('()') or 'sha384'
        table.append(ModelFile(row['model'], row['precision'], row['file'], int(row['size']),
                               checksum.lower(), url, algorithm))
    return tuple(table)


def omz_table() -> Tuple[ModelFile, ...]:
    """Return the table shipped with the package (OMZ's published sizes and sha384)."""
    with resources.as_file(resources.files(__package__) / 'omz_models.tsv') as path:
        return read_table(path)


def cache_dir() -> Path:
    """Where downloaded models go: $XDG_CACHE_HOME/facesense_ros/models or ~/.cache/..."""
    base = os.environ.get('XDG_CACHE_HOME') or os.path.join(Path.home(), '.cache')
    return Path(base) / 'facesense_ros' / 'models'


def search_dirs(model_dir: Optional[str] = None, cache: Optional[Path] = None) -> List[Path]:
    """Directories searched, in order: explicit, $FACESENSE_MODEL_DIR, cache."""
    dirs = []
    for value in (model_dir, os.environ.get(ENV_MODEL_DIR), cache or cache_dir()):
        if value and Path(value) not in dirs:
            dirs.append(Path(value))
    return dirs


def _candidates(root: Path, model: str, precision: str) -> Iterable[Path]:
    # OMZ's downloader writes intel/<model>/...; accept a directory that is already intel/.
    yield root / 'intel' / model / precision / f'{model}.xml'
    yield root / model / precision / f'{model}.xml'


def _incomplete(xml: Path, cache: Path) -> Optional[str]:
    """
    Say what is wrong when exactly one of ``xml`` and its .bin is there, else return None.

    The message names the directory, the file present and the one missing, and how to fix it.
    """
    weights = xml.with_suffix('.bin')
    if xml.is_file() == weights.is_file():
        return None
    present, missing = (xml, weights) if xml.is_file() else (weights, xml)
    directory = xml.parent
    model, precision = directory.parent.name, directory.name
    if cache in directory.parents:
        # The cache is filled by atomic renames: half a model there is damage, not a copy
        # in progress, and a new download replaces both files.
        fix = (f'the cache is written by atomic renames, so it was damaged: delete {directory} '
               f'or run `facesense_models download --model {model} --precision {precision}`')
    else:
        fix = (f'copy {missing.name} of the same model release there, or remove '
               f'{present.name} so that {precision} counts as absent')
    return (f'incomplete model in {directory}: {present.name} is there but {missing.name} is '
            f'missing; {fix}')


def find_model(model: str, precisions: Sequence[str] = PRECISIONS,
               model_dir: Optional[str] = None, cache: Optional[Path] = None
               ) -> Optional[Path]:
    """
    Return the .xml of ``model`` (with its .bin next to it) found first, or None.

    Raises ModelError when, before a complete pair is found, a precision has its .xml without
    its .bin or the reverse: such a model is broken, not absent.
    """
    cache = Path(cache) if cache else cache_dir()
    for root in search_dirs(model_dir, cache):
        for precision in precisions:
            for xml in _candidates(root, model, precision):
                problem = _incomplete(xml, cache)
                if problem:
                    raise ModelError(problem)
                if xml.is_file():
                    return xml
    return None


def _how_to_provide(model: str, precision: str, cache: Path) -> str:
    return (f'provide intel/{model}/{precision}/{model}.xml and .bin yourself: copy them into '
            f'{cache} (or any directory given as model_dir), or set {ENV_MODEL_DIR} to a '
            f'directory holding them, or run `facesense_models download --model {model}` on a '
            'machine with internet access and copy its cache')


def resolve(model: str, precisions: Sequence[str] = PRECISIONS, model_dir: Optional[str] = None,
            download_missing: bool = True, base_url: Optional[str] = None,
            table: Optional[Sequence[ModelFile]] = None, cache: Optional[Path] = None,
            progress: bool = True) -> Path:
    """
    Return the .xml of ``model`` in the first of ``precisions`` found, downloading if needed.

    Raises ModelError saying where it looked and how to provide the files when the model is
    neither on disk nor downloadable.
    """
    cache = Path(cache) if cache else cache_dir()
    found = find_model(model, precisions, model_dir, cache)
    if found is None and model in RENAMED:
        found = find_model(RENAMED[model], precisions, model_dir, cache)
        if found is not None:
            LOGGER.warning('%s not found; using %s, the same network renamed by OMZ: %s',
                           model, RENAMED[model], found)
    if found is not None:
        LOGGER.info('model %s: %s', model, found)
        return found
    if not download_missing:
        searched = ', '.join(str(d) for d in search_dirs(model_dir, cache))
        raise ModelError(f'model {model} ({"/".join(precisions)}) not found in {searched}; '
                         + _how_to_provide(model, precisions[0], cache))
    return download(model, precisions, base_url=base_url, table=table, cache=cache,
                    progress=progress)


def _pick_files(model: str, precisions: Sequence[str], table: Sequence[ModelFile]
                ) -> Tuple[str, List[ModelFile]]:
    for precision in precisions:
        files = [f for f in table if f.model == model and f.precision == precision]
        if files:
            return precision, files
    known = sorted({f.precision for f in table if f.model == model})
    if not known:
        raise ModelError(f'model {model!r} is not in the download table; known models: '
                         f'{sorted({f.model for f in table})}')
    raise ModelError(f'model {model} has no precision {list(precisions)} to download; '
                     f'it exists in {known}')


def _url(entry: ModelFile, base_url: str) -> str:
    if '://' in entry.url:
        return entry.url
    return base_url.rstrip('/') + '/' + entry.url.lstrip('/')


def _fetch(url: str, entry: ModelFile, directory: Path, progress: bool) -> Path:
    """Download ``url`` into a hidden temp file of ``directory``, verified; return the temp."""
    descriptor, temp_name = tempfile.mkstemp(prefix=f'.{entry.name}.', suffix='.part',
                                             dir=directory)
    temp = Path(temp_name)
    digest = hashlib.new(entry.algorithm)
    done = 0
    last_draw = 0.0
    verified = False
    try:
        with os.fdopen(descriptor, 'wb') as out, \
                urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            while True:
                chunk = response.read(CHUNK_BYTES)
                if not chunk:
                    break
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                now = time.monotonic()
                if progress and (now - last_draw >= PROGRESS_INTERVAL_S or done >= entry.size):
                    last_draw = now
                    _draw_progress(entry.name, done, entry.size)
        if progress:
            sys.stderr.write('\n')
        if done != entry.size or digest.hexdigest() != entry.sha384:
            raise ModelError(
                f'{url}: downloaded file does not match the published one (size {done}, '
                f'expected {entry.size}; {entry.algorithm} {digest.hexdigest()[:16]}..., '
                f'expected {entry.sha384[:16]}...); discarded, nothing was installed')
        verified = True
    finally:
        if not verified:
            temp.unlink(missing_ok=True)
    return temp


def _draw_progress(name: str, done: int, total: int) -> None:
    width = 30
    fraction = min(1.0, done / total) if total else 1.0
    bar = '#' * int(fraction * width)
    sys.stderr.write(f'\r{name}: [{bar:<{width}}] {fraction * 100:5.1f}% '
                     f'{done / 1e6:.1f}/{total / 1e6:.1f} MB')
    sys.stderr.flush()


def download(model: str, precisions: Sequence[str] = PRECISIONS,
             base_url: Optional[str] = None, table: Optional[Sequence[ModelFile]] = None,
             cache: Optional[Path] = None, progress: bool = True) -> Path:
    """
    Download ``model`` in the first available of ``precisions`` into the cache; return its .xml.

    Every file is checked against the table's size and sha384 and renamed into place only when
    all files of the model are verified: an interrupted or corrupted download leaves nothing.
    """
    table = omz_table() if table is None else table
    base_url = base_url or os.environ.get(ENV_MODEL_URL) or DEFAULT_BASE_URL
    cache = Path(cache) if cache else cache_dir()
    wanted = model
    if model in RENAMED:
        model = RENAMED[model]
        LOGGER.warning('%s is only in the retired OMZ 2020.4 archive; downloading %s, the same '
                       'network renamed', wanted, model)
    precision, files = _pick_files(model, precisions, table)
    directory = cache / 'intel' / model / precision
    xml = directory / f'{model}.xml'
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ModelError(f'cannot create the model cache {directory}: {e.strerror}; '
                         + _how_to_provide(model, precision, cache)) from e
    temps = []
    try:
        for entry in files:
            url = _url(entry, base_url)
            LOGGER.info('downloading %s', url)
            try:
                temps.append((_fetch(url, entry, directory, progress), directory / entry.name))
            except (urllib.error.URLError, OSError) as e:
                reason = getattr(e, 'reason', None) or getattr(e, 'strerror', None) or e
                raise ModelError(f'cannot download {model} ({precision}) from {url}: {reason}; '
                                 + _how_to_provide(model, precision, cache)) from e
        for temp, final in temps:
            os.replace(temp, final)
        temps = []
    finally:
        for temp, _ in temps:
            temp.unlink(missing_ok=True)
        if not xml.is_file():
            _remove_empty_dirs(directory, cache)
    LOGGER.info('model %s (%s) installed in %s', model, precision, directory)
    return xml


def _remove_empty_dirs(directory: Path, stop: Path) -> None:
    """Remove ``directory`` and its parents up to ``stop`` while they are empty."""
    while directory != stop and stop in directory.parents:
        try:
            directory.rmdir()
        except OSError:
            return
        directory = directory.parent


def _all_models() -> Tuple[str, ...]:
    return DETECTORS + tuple(ATTRIBUTE_MODELS.values())


def _default_models() -> Tuple[str, ...]:
    # The default detector and every attribute model (those off by default too, so that
    # turning one on later needs no download).
    return (PARAMETERS['detector'].default,) + tuple(ATTRIBUTE_MODELS.values())


def _command_list(args) -> int:
    cache = cache_dir()
    for model in _all_models():
        rows = []
        for root in search_dirs(args.model_dir):
            for precision in PRECISIONS:
                for xml in _candidates(root, model, precision):
                    problem = _incomplete(xml, cache)
                    if problem:
                        rows.append(f'  {precision:<10} ERROR: {problem}')
                    elif xml.is_file():
                        rows.append(f'  {precision:<10} {xml}')
        print(model)
        print('\n'.join(rows) if rows else '  (not found)')
    print('searched: ' + ', '.join(str(d) for d in search_dirs(args.model_dir)))
    return 0


def _command_download(args) -> int:
    precisions = [args.precision] if args.precision else list(PRECISIONS)
    table = read_table(args.table) if args.table else None
    for model in args.model or _default_models():
        path = download(model, precisions, base_url=args.url, table=table, progress=True)
        print(path)
    return 0


def _command_path(args) -> int:
    precisions = [args.precision] if args.precision else list(PRECISIONS)
    found = find_model(args.name, precisions, args.model_dir)
    if found is None:
        raise ModelError(f'model {args.name} ({"/".join(precisions)}) not found in '
                         + ', '.join(str(d) for d in search_dirs(args.model_dir)))
    print(found)
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Console script ``facesense_models``."""
    parser = argparse.ArgumentParser(
        prog='facesense_models', description='Find or download the Open Model Zoo models.')
    parser.add_argument('--model-dir', default=None,
                        help=f'directory searched first (then ${ENV_MODEL_DIR}, then the cache)')
    commands = parser.add_subparsers(dest='command', required=True)
    commands.add_parser('list', help='what is found where')
    get = commands.add_parser('download', help=f'download into {cache_dir()}')
    get.add_argument('--model', action='append', choices=_all_models(),
                     help='model to download (repeatable; default: the default models)')
    get.add_argument('--precision', choices=PRECISIONS, help='default: first available of '
                     + ', '.join(PRECISIONS))
    get.add_argument('--table', default=None, help='TSV of files to fetch (columns model, '
                     'precision, file, size, checksum_sha384, source); default: the shipped one')
    get.add_argument('--url', default=None, help=f'base URL (default ${ENV_MODEL_URL} or '
                     f'{DEFAULT_BASE_URL})')
    path = commands.add_parser('path', help='print the .xml path of a model')
    path.add_argument('name', choices=_all_models())
    path.add_argument('--precision', choices=PRECISIONS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format='%(message)s')
    handler = {'list': _command_list, 'download': _command_download, 'path': _command_path}
    try:
        return handler[args.command](args)
    except ModelError as e:
        print(f'facesense_models: error: {e}', file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
