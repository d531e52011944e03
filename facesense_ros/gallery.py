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
The face gallery: known persons and their face embeddings in one SQLite file (ROS-free).

A person has an integer id that is never reused (AUTOINCREMENT), an optional name, first and
last seen times (unix seconds) and up to ``MAX_EMBEDDINGS_PER_PERSON`` L2-normalised float32
embeddings of ``EMBEDDING_SIZE`` values, stored as little-endian BLOBs.

Durability: the file is in WAL mode and every change is one ``BEGIN IMMEDIATE`` transaction,
so a SIGKILL at any moment leaves a database that opens, without at most the unfinished change.
Safety: a file that is not a readable facesense_ros gallery raises ``GalleryError`` (one line,
naming the file) and is never written to. Privacy: the file and its -wal/-shm siblings are
created 0600, its directory 0700.

Sharing: several processes may use one file (busy timeout, short transactions). ``refresh()``
looks at ``PRAGMA data_version`` at most every ``REFRESH_INTERVAL`` seconds and reloads the
in-memory embedding matrix that ``match()`` uses only when embeddings or names changed
(a generation counter that ``seen()`` does not touch).

Threads: a Gallery is not thread-safe. Use it from one thread at a time (it may be created on
another; guard it with a lock if several threads must share it).
"""

import base64
from contextlib import contextmanager
from dataclasses import dataclass
import fcntl
import json
import math
import os
from pathlib import Path
import sqlite3
import tempfile
import time
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np

# face-reidentification-retail-0095's output size.
EMBEDDING_SIZE = 256
# Views kept per person: enough for frontal, left, right, up/down and lighting variants of one
# face (the identities data scored 0.52..0.99 between photos of one person, so one view is not
# enough), few enough that 10,000 persons stay 80 MB in memory. When a person has more, the most
# redundant one (highest similarity to another kept view; the older on a tie) is dropped, so the
# kept views stay as different from each other as possible.
MAX_EMBEDDINGS_PER_PERSON = 8
# Persons whose every view match() compares, chosen by their mean view: 64 persons of 8 views
# cost ~1/20 of the mean-view product at 10,000 persons, and leave a wide margin for a person
# whose mean is dragged away from the query by very different other views.
MATCH_CANDIDATES = 64
# How long a writer waits for another process's transaction (they last milliseconds; a CLI
# holding the file during an import of thousands of persons may take a few seconds).
BUSY_TIMEOUT = 5.0
# refresh() looks for outside changes at most this often: outside changes are seen within
# about 1 s (issue 18) at the cost of one PRAGMA every 0.5 s.
REFRESH_INTERVAL = 0.5
# seen() is batched: last_seen reaches the file at most this late (it only drives retention,
# measured in days), so a node tracking faces at 30 fps does not write 30 times a second.
SEEN_FLUSH_INTERVAL = 5.0
# 'FSGY' in the SQLite header's application_id: marks the file as ours, so that another
# program's SQLite file is refused rather than given our tables.
APPLICATION_ID = 0x46534759
SCHEMA_VERSION = 1
# The portable export format (JSON, embeddings as base64 of little-endian float32).
EXPORT_FORMAT = 'facesense_ros-face-gallery'
EXPORT_VERSION = 1
# An import file bigger than this is refused before parsing: 10,000 persons of 8 views are
# about 110 MB of JSON.
MAX_IMPORT_BYTES = 512 * 1024 * 1024
SQLITE_HEADER = b'SQLite format 3\x00'
SECONDS_PER_DAY = 86400.0
_EMBEDDING_DTYPE = np.dtype('<f4')

_SCHEMA = (
    'CREATE TABLE persons (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, '
    'first_seen REAL NOT NULL, last_seen REAL NOT NULL)',
    'CREATE TABLE embeddings (id INTEGER PRIMARY KEY AUTOINCREMENT, '
    'person_id INTEGER NOT NULL REFERENCES persons(id) ON DELETE CASCADE, '
    'vector BLOB NOT NULL, added REAL NOT NULL)',
    'CREATE INDEX embeddings_person ON embeddings(person_id)',
    'CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)',
    "INSERT INTO meta VALUES ('generation', 0)",
    f'PRAGMA application_id = {APPLICATION_ID}',
    f'PRAGMA user_version = {SCHEMA_VERSION}',
)
_TABLES = {'persons', 'embeddings', 'meta'}


class GalleryError(Exception):
    """A gallery file that cannot be used, or a bad request; str() is one line naming it."""


class UnknownPersonError(GalleryError):
    """No person with that id."""


@dataclass(frozen=True)
class Match:
    """The best gallery person for one embedding: cosine similarity in -1..1."""

    person_id: int
    name: Optional[str]
    similarity: float


@dataclass(frozen=True)
class Person:
    """One row of ``Gallery.persons()``."""

    id: int
    name: Optional[str]
    first_seen: float
    last_seen: float
    embeddings: int


def default_database_path() -> Path:
    """Return ``$XDG_DATA_HOME/facesense_ros/faces.db`` (``~/.local/share`` by default)."""
    base = os.environ.get('XDG_DATA_HOME') or os.path.join(os.path.expanduser('~'),
                                                           '.local', 'share')
    return Path(base) / 'facesense_ros' / 'faces.db'


def normalise(embeddings) -> np.ndarray:
    """Return ``embeddings`` (one or a sequence of EMBEDDING_SIZE values) as unit float32 rows."""
    array = np.array(embeddings, dtype=np.float32)
    if array.ndim == 1:
        array = array[np.newaxis, :]
    if array.ndim != 2 or array.shape[1] != EMBEDDING_SIZE or array.shape[0] == 0:
        raise ValueError(f'embeddings must be (n, {EMBEDDING_SIZE}) with n >= 1, '
                         f'got shape {np.shape(embeddings)}')
    norms = np.linalg.norm(array, axis=1)
    if not np.all(np.isfinite(norms)) or np.any(norms == 0.0):
        raise ValueError('embeddings must be finite and non-zero')
    return array / norms[:, np.newaxis]


def most_diverse(vectors: np.ndarray, cap: int = MAX_EMBEDDINGS_PER_PERSON) -> List[int]:
    """
    Return the indices (ascending) of at most ``cap`` rows of ``vectors`` (oldest first) to keep.

    Repeatedly drops the row most similar to another kept row; on a tie the older one.
    """
    keep = list(range(len(vectors)))
    if len(keep) <= cap:
        return keep
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -np.inf)
    while len(keep) > cap:
        sub = similarity[np.ix_(keep, keep)]
        redundancy = sub.max(axis=1)
        # argmax returns the first (oldest) of equal maxima.
        del keep[int(np.argmax(redundancy))]
    return keep


class Gallery:
    """A face gallery in one SQLite file: see the module docstring."""

    def __init__(self, path: Union[str, os.PathLike, None] = None, create: bool = True):
        """Open (or, with ``create``, create) the gallery at ``path`` (default path if None)."""
        self.path = Path(path) if path is not None else default_database_path()
        self._connection = None
        self._pending_seen = {}
        self._seen_flushed_at = time.monotonic()
        self._checked_at = -math.inf
        self._data_version = None
        self._generation = None
        self._stale = True
        self._ids = np.zeros(0, dtype=np.int64)
        self._row_ids = np.zeros(0, dtype=np.int64)
        self._matrix = np.zeros((0, EMBEDDING_SIZE), dtype=np.float32)
        self._persons = np.zeros(0, dtype=np.int64)
        self._starts = np.zeros(0, dtype=np.int64)
        self._counts = np.zeros(0, dtype=np.int64)
        self._centroids = np.zeros((0, EMBEDDING_SIZE), dtype=np.float32)
        self._names = {}
        self._sorted_names = ()
        self._connection = self._open(create)
        try:
            self.refresh(force=True)
        except BaseException:
            self.close()
            raise

    # -- opening -----------------------------------------------------------------------------

    def _error(self, what, cause=None) -> GalleryError:
        detail = f': {cause}' if cause is not None else ''
        line = f'{self.path}: {what}{detail}'.replace('\n', ' ')
        return GalleryError(line)

    def _open(self, create):
        exists = self.path.exists()
        if not exists and not create:
            raise self._error('no such face gallery')
        if exists:
            self._check_file()
        else:
            self._create_file()
        try:
            # Openers take turns (an flock, apart from SQLite's own fcntl locks): two nodes
            # started together on a new file raced to initialise it, and one got "database is
            # locked" or saw a half-made gallery (test_gallery's concurrent openers).
            lock = os.open(self.path, os.O_RDONLY)
        except OSError as e:
            raise self._error('cannot read', e.strerror) from e
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return self._connect(create)
        finally:
            os.close(lock)

    def _connect(self, create):
        try:
            connection = sqlite3.connect(f'{self.path.resolve().as_uri()}?mode=rw', uri=True,
                                         timeout=BUSY_TIMEOUT, isolation_level=None,
                                         check_same_thread=False)
        except sqlite3.Error as e:
            raise self._error('cannot open', e) from e
        try:
            self._check_or_initialise(connection, create)
            connection.execute('PRAGMA foreign_keys = ON')
            # WAL: readers never block the writer; with synchronous NORMAL a commit is durable
            # across a process crash (SIGKILL), a power cut may lose the last commits but never
            # corrupts the file.
            connection.execute('PRAGMA synchronous = NORMAL')
            # Deleted persons' embeddings are overwritten with zeros, not left in free pages.
            connection.execute('PRAGMA secure_delete = ON')
        except sqlite3.Error as e:
            connection.close()
            raise self._error('cannot read the face gallery', e) from e
        except GalleryError:
            connection.close()
            raise
        return connection

    def _check_file(self):
        """Refuse, without writing, anything that is not a readable SQLite file."""
        if not self.path.is_file():
            raise self._error('not a regular file')
        try:
            with open(self.path, 'rb') as f:
                header = f.read(len(SQLITE_HEADER))
        except OSError as e:
            raise self._error('cannot read', e.strerror) from e
        # An empty file is an empty database (SQLite writes its header on the first commit; in
        # WAL mode the data may still be only in the -wal file).
        if header and header != SQLITE_HEADER:
            raise self._error('not an SQLite database (not a facesense_ros face gallery)')

    def _create_file(self):
        parent = self.path.parent
        if not parent.exists():
            try:
                os.makedirs(parent, mode=0o700)
                os.chmod(parent, 0o700)
            except FileExistsError:
                pass
            except OSError as e:
                raise self._error('cannot create its directory', e.strerror) from e
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            # Another process created it just now: it is theirs to initialise; check it.
            self._check_file()
            return
        except OSError as e:
            raise self._error('cannot create', e.strerror) from e
        try:
            # Not left to the umask; SQLite gives -wal/-shm/-journal the database's mode.
            os.fchmod(fd, 0o600)
        finally:
            os.close(fd)

    def _check_or_initialise(self, connection, create):
        # One read transaction: both from the same snapshot. Read apart, a gallery that
        # another node (a second camera) initialised in between looked like a foreign SQLite
        # file (application_id still 0, the tables already there) and was refused.
        connection.execute('BEGIN')
        try:
            application_id = connection.execute('PRAGMA application_id').fetchone()[0]
            tables = {row[0] for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            connection.execute('COMMIT')
        if application_id == 0 and not tables - {'sqlite_sequence'}:
            if not create:
                raise self._error('empty file, not a facesense_ros face gallery')
            self._initialise(connection)
            return
        if application_id != APPLICATION_ID:
            raise self._error('an SQLite database, but not a facesense_ros face gallery')
        version = connection.execute('PRAGMA user_version').fetchone()[0]
        if version > SCHEMA_VERSION:
            raise self._error(f'face gallery schema {version} is newer than this '
                              f'facesense_ros ({SCHEMA_VERSION})')
        if not _TABLES <= tables:
            raise self._error(f'face gallery lacks tables {sorted(_TABLES - tables)}')
        problems = [row[0] for row in connection.execute('PRAGMA quick_check')]
        if problems != ['ok']:
            raise self._error('damaged face gallery', '; '.join(problems[:3]))

    def _initialise(self, connection):
        # journal_mode cannot change inside a transaction; it is persistent in the file.
        connection.execute('PRAGMA journal_mode = WAL')
        connection.execute('BEGIN IMMEDIATE')
        try:
            tables = {row[0] for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not tables:  # another process may have initialised it while we waited
                for statement in _SCHEMA:
                    connection.execute(statement)
            connection.execute('COMMIT')
        except BaseException:
            connection.execute('ROLLBACK')
            raise

    # -- transactions --------------------------------------------------------------------------

    @contextmanager
    def _write(self, changes_embeddings=True):
        """One transaction; bumps the generation when embeddings or names change."""
        connection = self._require_open()
        try:
            connection.execute('BEGIN IMMEDIATE')
        except sqlite3.OperationalError as e:
            raise self._error('cannot write (locked by another process?)', e) from e
        try:
            yield connection
            if changes_embeddings:
                connection.execute(
                    "UPDATE meta SET value = value + 1 WHERE key = 'generation'")
            connection.execute('COMMIT')
        except BaseException as e:
            if connection.in_transaction:
                connection.execute('ROLLBACK')
            if isinstance(e, sqlite3.Error):
                raise self._error('write failed', e) from e
            raise
        if changes_embeddings:
            self._stale = True  # our own commits do not change our data_version

    def _require_open(self):
        if self._connection is None:
            raise self._error('gallery is closed')
        return self._connection

    def _read(self, sql, parameters=()):
        try:
            return self._require_open().execute(sql, parameters).fetchall()
        except sqlite3.Error as e:
            raise self._error('read failed', e) from e

    # -- matching ------------------------------------------------------------------------------

    def refresh(self, force: bool = False) -> bool:
        """
        Reload the embeddings if the file changed; True if they were reloaded.

        Looks at the file at most every REFRESH_INTERVAL seconds unless ``force``; also writes
        due ``seen()`` times.
        """
        now = time.monotonic()
        force = force or self._stale
        if not force and now - self._checked_at < REFRESH_INTERVAL:
            return False
        self._checked_at = now
        if self._pending_seen and now - self._seen_flushed_at >= SEEN_FLUSH_INTERVAL:
            self.flush_seen()
        data_version = self._read('PRAGMA data_version')[0][0]
        if not force and data_version == self._data_version and self._generation is not None:
            generation_changed = False
        else:
            generation = self._read("SELECT value FROM meta WHERE key = 'generation'")[0][0]
            generation_changed = generation != self._generation
        self._data_version = data_version
        if not (force or generation_changed):
            return False
        self._load()
        return True

    def _load(self):
        """
        Bring the in-memory matrix up to date with the file.

        Only embeddings added since the last load are read (their ids are AUTOINCREMENT, so
        they are the ids above the highest loaded one); the rest are taken from the matrix in
        memory, so a new person costs a read of (id, person) pairs, not of every vector.
        """
        connection = self._require_open()
        try:
            connection.execute('BEGIN')  # one snapshot of all four reads
            try:
                generation = connection.execute(
                    "SELECT value FROM meta WHERE key = 'generation'").fetchone()[0]
                index = np.array(connection.execute(
                    'SELECT id, person_id FROM embeddings ORDER BY person_id, id').fetchall(),
                    dtype=np.int64).reshape(-1, 2)
                loaded = int(self._row_ids.max()) if len(self._row_ids) else 0
                added = connection.execute('SELECT id, vector FROM embeddings WHERE id > ? '
                                           'ORDER BY id', (loaded,)).fetchall()
                names = dict(connection.execute(
                    'SELECT id, name FROM persons WHERE name IS NOT NULL'))
            finally:
                connection.execute('COMMIT')
        except sqlite3.Error as e:
            raise self._error('cannot read the face gallery', e) from e
        width = EMBEDDING_SIZE * _EMBEDDING_DTYPE.itemsize
        if any(len(vector) != width for _, vector in added):
            raise self._error(f'damaged face gallery: an embedding is not {width} bytes')
        # Every row's vector, looked up by embedding id among the old rows and the added ones.
        source_ids = np.concatenate([self._row_ids, np.array([i for i, _ in added],
                                                             dtype=np.int64)])
        source = np.concatenate([self._matrix, np.frombuffer(
            b''.join(v for _, v in added), dtype=_EMBEDDING_DTYPE).astype(np.float32).reshape(
                len(added), EMBEDDING_SIZE)])
        order = np.argsort(source_ids, kind='stable')
        found = order[np.searchsorted(source_ids, index[:, 0], sorter=order)] if len(
            index) else np.zeros(0, dtype=np.int64)
        if len(index) and not np.array_equal(source_ids[found], index[:, 0]):
            # An embedding id at or below the loaded maximum that was not loaded: a file
            # changed in another way (a restored copy); read everything again.
            self._row_ids = np.zeros(0, dtype=np.int64)
            self._matrix = np.zeros((0, EMBEDDING_SIZE), dtype=np.float32)
            return self._load()
        self._row_ids = index[:, 0].copy()
        self._ids = index[:, 1].copy()
        self._matrix = source[found]
        # Rows are sorted by person: each person's views are one slice of the matrix.
        self._persons, self._starts, self._counts = np.unique(self._ids, return_index=True,
                                                              return_counts=True)
        if len(self._ids):
            # Padded to (persons, most views, size): ufunc.reduceat along rows is ~10x slower.
            person = np.repeat(np.arange(len(self._persons)), self._counts)
            padded = np.zeros((len(self._persons), int(self._counts.max()), EMBEDDING_SIZE),
                              dtype=np.float32)
            padded[person, np.arange(len(self._ids)) - self._starts[person]] = self._matrix
            sums = padded.sum(axis=1)
            norms = np.linalg.norm(sums, axis=1, keepdims=True)
            self._centroids = (sums / np.where(norms > 0.0, norms, 1.0)).astype(np.float32)
        else:
            self._centroids = np.zeros((0, EMBEDDING_SIZE), dtype=np.float32)
        self._names = names
        self._sorted_names = tuple(sorted(set(names.values())))
        self._generation = generation
        self._stale = False

    def __len__(self) -> int:
        """Return the number of persons with embeddings, as of the last load."""
        return len(self._persons)

    def names(self) -> Tuple[str, ...]:
        """Return the distinct names of the persons, sorted, as of the last load (no file read)."""
        return self._sorted_names

    def match(self, embedding, min_similarity: Optional[float] = None,
              exact: bool = False) -> Optional[Match]:
        """
        Best person for ``embedding``: the highest cosine similarity over a person's views.

        The candidates are the MATCH_CANDIDATES persons whose mean view is most similar to
        the embedding (one product with a matrix of one row per person); their every view is
        then compared. ``exact`` compares every stored view instead (slower with thousands of
        persons: bench/gallery_bench.py measures both and how often they differ). None when
        the gallery is empty or the best is below ``min_similarity``. Calls ``refresh()``
        first (cheap: it looks at the file at most every REFRESH_INTERVAL s).
        """
        query = normalise(embedding)[0]
        self.refresh()
        if not len(self._ids):
            return None
        if exact or len(self._persons) <= MATCH_CANDIDATES:
            similarities = self._matrix @ query
            best = int(np.argmax(similarities))
            similarity, person = float(similarities[best]), int(self._ids[best])
        else:
            # einsum, not BLAS: OpenBLAS spreads a product this size over its threads, which on
            # a loaded machine made the median 10x slower (docs/identity.md).
            scores = np.einsum('ij,j->i', self._centroids, query)
            candidates = np.argpartition(scores, -MATCH_CANDIDATES)[-MATCH_CANDIDATES:]
            rows = np.concatenate([np.arange(self._starts[c], self._starts[c] + self._counts[c])
                                   for c in candidates])
            similarities = np.einsum('ij,j->i', self._matrix[rows], query)
            best = int(np.argmax(similarities))
            similarity, person = float(similarities[best]), int(self._ids[rows[best]])
        if min_similarity is not None and similarity < min_similarity:
            return None
        return Match(person, self._names.get(person), similarity)

    # -- changes -------------------------------------------------------------------------------

    def add_person(self, embeddings, name: Optional[str] = None,
                   now: Optional[float] = None) -> int:
        """Store a new person with ``embeddings`` (one or several); return its new id."""
        vectors = normalise(embeddings)
        now = time.time() if now is None else float(now)
        with self._write() as connection:
            person = connection.execute(
                'INSERT INTO persons (name, first_seen, last_seen) VALUES (?, ?, ?)',
                (_clean_name(name), now, now)).lastrowid
            self._insert_embeddings(connection, person, vectors, now)
        return person

    def add_embeddings(self, person_id: int, embeddings, now: Optional[float] = None):
        """Add views of a person; keeps the MAX_EMBEDDINGS_PER_PERSON most diverse."""
        vectors = normalise(embeddings)
        now = time.time() if now is None else float(now)
        with self._write() as connection:
            self._require_person(connection, person_id)
            connection.execute('UPDATE persons SET last_seen = max(last_seen, ?) WHERE id = ?',
                               (now, person_id))
            self._insert_embeddings(connection, person_id, vectors, now)

    def _insert_embeddings(self, connection, person, vectors, now):
        connection.executemany(
            'INSERT INTO embeddings (person_id, vector, added) VALUES (?, ?, ?)',
            [(person, v.astype(_EMBEDDING_DTYPE).tobytes(), now) for v in vectors])
        self._apply_cap(connection, person)

    def _apply_cap(self, connection, person):
        rows = connection.execute('SELECT id, vector FROM embeddings WHERE person_id = ? '
                                  'ORDER BY added, id', (person,)).fetchall()
        if len(rows) <= MAX_EMBEDDINGS_PER_PERSON:
            return
        vectors = np.stack([np.frombuffer(v, dtype=_EMBEDDING_DTYPE) for _, v in rows])
        keep = set(most_diverse(vectors.astype(np.float32)))
        connection.executemany('DELETE FROM embeddings WHERE id = ?',
                               [(rows[i][0],) for i in range(len(rows)) if i not in keep])

    def _require_person(self, connection, person_id):
        row = connection.execute('SELECT 1 FROM persons WHERE id = ?', (int(person_id),))
        if row.fetchone() is None:
            raise UnknownPersonError(f'{self.path}: no person with id {person_id}')

    def seen(self, person_id: int, now: Optional[float] = None):
        """Note that a person was seen now; written in batches (SEEN_FLUSH_INTERVAL)."""
        now = time.time() if now is None else float(now)
        self._pending_seen[int(person_id)] = max(now, self._pending_seen.get(int(person_id), now))

    def flush_seen(self):
        """Write the pending ``seen()`` times now (one transaction)."""
        pending, self._pending_seen = self._pending_seen, {}
        self._seen_flushed_at = time.monotonic()
        if not pending:
            return
        with self._write(changes_embeddings=False) as connection:
            connection.executemany(
                'UPDATE persons SET last_seen = max(last_seen, ?) WHERE id = ?',
                [(t, person) for person, t in pending.items()])

    def rename(self, person_id: int, name: Optional[str]):
        """Set (or with None clear) a person's name."""
        with self._write() as connection:
            self._require_person(connection, person_id)
            connection.execute('UPDATE persons SET name = ? WHERE id = ?',
                               (_clean_name(name), int(person_id)))

    def merge(self, keep_id: int, other_id: int):
        """Move ``other_id``'s views and times into ``keep_id`` and delete ``other_id``."""
        if int(keep_id) == int(other_id):
            raise GalleryError(f'{self.path}: cannot merge person {keep_id} with itself')
        self.flush_seen()
        with self._write() as connection:
            self._require_person(connection, keep_id)
            self._require_person(connection, other_id)
            first_seen, last_seen, name = connection.execute(
                'SELECT first_seen, last_seen, name FROM persons WHERE id = ?',
                (int(other_id),)).fetchone()
            connection.execute(
                'UPDATE persons SET first_seen = min(first_seen, ?), '
                'last_seen = max(last_seen, ?), name = coalesce(name, ?) WHERE id = ?',
                (first_seen, last_seen, name, int(keep_id)))
            connection.execute('UPDATE embeddings SET person_id = ? WHERE person_id = ?',
                               (int(keep_id), int(other_id)))
            connection.execute('DELETE FROM persons WHERE id = ?', (int(other_id),))
            self._apply_cap(connection, int(keep_id))

    def forget(self, person_id: int):
        """Delete a person and all their embeddings."""
        self._pending_seen.pop(int(person_id), None)
        with self._write() as connection:
            self._require_person(connection, person_id)
            connection.execute('DELETE FROM embeddings WHERE person_id = ?', (int(person_id),))
            connection.execute('DELETE FROM persons WHERE id = ?', (int(person_id),))

    def forget_all(self) -> int:
        """Delete every person (ids are still never reused); return how many."""
        self._pending_seen.clear()
        with self._write() as connection:
            count = connection.execute('SELECT count(*) FROM persons').fetchone()[0]
            connection.execute('DELETE FROM embeddings')
            connection.execute('DELETE FROM persons')
        self._vacuum()
        return count

    def _vacuum(self):
        # Deleted biometric data must not linger in free pages or the WAL.
        try:
            self._connection.execute('PRAGMA wal_checkpoint(TRUNCATE)')
            self._connection.execute('VACUUM')
            self._connection.execute('PRAGMA wal_checkpoint(TRUNCATE)')
        except sqlite3.OperationalError:
            pass  # another process reads it now; its pages are freed at its next checkpoint

    def purge_unnamed(self, older_than_days: float, now: Optional[float] = None) -> int:
        """Delete persons without a name not seen for ``older_than_days``; return how many."""
        now = time.time() if now is None else float(now)
        self.flush_seen()
        cutoff = now - float(older_than_days) * SECONDS_PER_DAY
        with self._write() as connection:
            doomed = [row[0] for row in connection.execute(
                'SELECT id FROM persons WHERE name IS NULL AND last_seen < ?', (cutoff,))]
            connection.executemany('DELETE FROM embeddings WHERE person_id = ?',
                                   [(p,) for p in doomed])
            connection.executemany('DELETE FROM persons WHERE id = ?', [(p,) for p in doomed])
        return len(doomed)

    # -- reading -------------------------------------------------------------------------------

    def persons(self) -> List[Person]:
        """All persons, by id, with their embedding counts."""
        self.flush_seen()
        rows = self._read(
            'SELECT p.id, p.name, p.first_seen, p.last_seen, count(e.id) FROM persons p '
            'LEFT JOIN embeddings e ON e.person_id = p.id GROUP BY p.id ORDER BY p.id')
        return [Person(*row) for row in rows]

    def embeddings(self, person_id: int) -> np.ndarray:
        """Return a person's stored views, (n, EMBEDDING_SIZE) float32."""
        rows = self._read('SELECT vector FROM embeddings WHERE person_id = ? ORDER BY id',
                          (int(person_id),))
        if not rows:
            self._require_person(self._require_open(), person_id)
            return np.zeros((0, EMBEDDING_SIZE), dtype=np.float32)
        return np.stack([np.frombuffer(v, dtype=_EMBEDDING_DTYPE) for (v,) in rows]).astype(
            np.float32)

    # -- export / import -----------------------------------------------------------------------

    def export(self, path: Union[str, os.PathLike]) -> int:
        """Write every person to ``path`` (JSON, see EXPORT_FORMAT; mode 0600); return count."""
        persons = []
        for person in self.persons():
            persons.append({
                'name': person.name, 'first_seen': person.first_seen,
                'last_seen': person.last_seen,
                'embeddings': [base64.b64encode(v.astype(_EMBEDDING_DTYPE).tobytes()).decode()
                               for v in self.embeddings(person.id)]})
        document = {'format': EXPORT_FORMAT, 'version': EXPORT_VERSION,
                    'embedding_size': EMBEDDING_SIZE, 'dtype': 'float32-le', 'persons': persons}
        destination = Path(path)
        fd, temporary = tempfile.mkstemp(dir=destination.parent or '.',
                                         prefix=f'.{destination.name}.')
        try:
            with os.fdopen(fd, 'w') as f:
                json.dump(document, f)
            os.replace(temporary, destination)  # mkstemp made it 0600
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise
        return len(persons)

    def import_(self, path: Union[str, os.PathLike]) -> List[int]:
        """Add every person of an export file under new ids (names kept); return the ids."""
        persons = read_export(path)
        ids = []
        with self._write() as connection:
            for name, first_seen, last_seen, vectors in persons:
                person = connection.execute(
                    'INSERT INTO persons (name, first_seen, last_seen) VALUES (?, ?, ?)',
                    (name, first_seen, last_seen)).lastrowid
                self._insert_embeddings(connection, person, vectors, first_seen)
                ids.append(person)
        return ids

    def close(self):
        """Write pending ``seen()`` times and close the file."""
        if self._connection is None:
            return
        try:
            if self._pending_seen:
                self.flush_seen()
        finally:
            self._connection.close()
            self._connection = None

    def __enter__(self):
        """Use as a context manager: closed at the end."""
        return self

    def __exit__(self, *exc):
        """Close."""
        self.close()


def _clean_name(name):
    if name is None:
        return None
    name = str(name).strip()
    if not name or len(name) > 200 or any(c in name for c in '\n\r\x00'):
        raise ValueError('a name must be 1..200 characters on one line')
    return name


def read_export(path: Union[str, os.PathLike]) -> list:
    """Parse and check an export file: [(name, first_seen, last_seen, vectors)]."""
    path = Path(path)

    def bad(what, cause=None):
        detail = f': {cause}' if cause is not None else ''
        return GalleryError(f'{path}: {what}{detail}'.replace('\n', ' '))

    try:
        if path.stat().st_size > MAX_IMPORT_BYTES:
            raise bad(f'bigger than {MAX_IMPORT_BYTES} bytes')
        with open(path, 'rb') as f:
            document = json.loads(f.read())
    except OSError as e:
        raise bad('cannot read', e.strerror) from e
    except (ValueError, UnicodeDecodeError) as e:
        raise bad('not a face gallery export (not JSON)') from e
    if not isinstance(document, dict) or document.get('format') != EXPORT_FORMAT:
        raise bad(f'not a face gallery export (format is not {EXPORT_FORMAT!r})')
    if document.get('version') != EXPORT_VERSION or document.get(
            'embedding_size') != EMBEDDING_SIZE or document.get('dtype') != 'float32-le':
        raise bad(f'unsupported export version, size or dtype (expected version '
                  f'{EXPORT_VERSION}, {EMBEDDING_SIZE} float32-le)')
    persons = document.get('persons')
    if not isinstance(persons, list):
        raise bad("'persons' is not a list")
    result = []
    for index, person in enumerate(persons):
        try:
            name = _clean_name(person['name'])
            first_seen, last_seen = float(person['first_seen']), float(person['last_seen'])
            if not (math.isfinite(first_seen) and math.isfinite(last_seen)):
                raise ValueError('times must be finite')
            vectors = normalise([np.frombuffer(base64.b64decode(v, validate=True),
                                               dtype=_EMBEDDING_DTYPE)
                                 for v in _as_list(person['embeddings'])])
        except (KeyError, TypeError, ValueError) as e:
            raise bad(f'person {index} is invalid', e) from e
        result.append((name, first_seen, last_seen, vectors))
    return result


def _as_list(value) -> Sequence:
    if not isinstance(value, list):
        raise TypeError('embeddings is not a list')
    return value
