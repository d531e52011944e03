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

"""The installed facesense_faces console script, run as users run it, on a real gallery."""

import os
import sqlite3
import subprocess

from facesense_ros import gallery as gm
from facesense_ros.gallery import Gallery
import numpy as np
import processes
import pytest

SCRIPT = processes.LIB / 'facesense_faces'


def _run(*args, env=None):
    assert SCRIPT.is_file(), f'{SCRIPT} missing: run `make env`'
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, **(env or {})))


def _fails_with_one_line(done, *words):
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stderr.count('\n') == 1 and done.stderr.startswith('facesense_faces: error: ')
    for word in words:
        assert word in done.stderr


@pytest.fixture
def database(tmp_path):
    rng = np.random.default_rng(11)
    path = tmp_path / 'faces.db'
    with Gallery(path) as g:
        g.add_person(gm.normalise(rng.normal(size=(3, gm.EMBEDDING_SIZE))), now=1.0e9)
        g.add_person(gm.normalise(rng.normal(size=(2, gm.EMBEDDING_SIZE))), name='Bea',
                     now=1.1e9)
    return path


def test_list_name_merge_forget(database):
    done = _run('--database', str(database), 'list')
    assert done.returncode == 0, done.stderr
    rows = done.stdout.splitlines()
    assert len(rows) == 3 and rows[1].split()[:2] == ['1', '-'] and rows[1].split()[-1] == '3'
    assert rows[2].split()[:2] == ['2', 'Bea'] and rows[2].split()[-1] == '2'
    assert _run('--database', str(database), 'name', '1', 'Ann Smith').returncode == 0
    assert 'Ann Smith' in _run('--database', str(database), 'list').stdout
    assert _run('--database', str(database), 'merge', '1', '2').returncode == 0
    with Gallery(database, create=False) as g:
        assert [(p.id, p.name, p.embeddings) for p in g.persons()] == [(1, 'Ann Smith', 5)]
    assert _run('--database', str(database), 'forget', '1').returncode == 0
    with Gallery(database, create=False) as g:
        assert g.persons() == []


def test_forget_all_and_default_path(database, tmp_path):
    env = {'XDG_DATA_HOME': str(tmp_path / 'data')}
    default = tmp_path / 'data' / 'facesense_ros' / 'faces.db'
    # A read-only command never creates the file.
    _fails_with_one_line(_run('list', env=env), str(default), 'no such face gallery')
    assert not default.exists()
    default.parent.mkdir(parents=True)
    default.write_bytes(database.read_bytes())
    done = _run('forget', '--all', env=env)
    assert done.returncode == 0 and 'forgot all 2 persons' in done.stdout
    with Gallery(default, create=False) as g:
        assert g.persons() == []


def test_export_import_round_trip(database, tmp_path):
    exported = tmp_path / 'out.json'
    assert _run('--database', str(database), 'export', str(exported)).returncode == 0
    other = tmp_path / 'other.db'
    done = _run('--database', str(other), 'import', str(exported))
    assert done.returncode == 0 and 'imported 2 persons' in done.stdout
    with Gallery(database, create=False) as a, Gallery(other, create=False) as b:
        assert [(p.name, p.embeddings) for p in a.persons()] == [
            (p.name, p.embeddings) for p in b.persons()]
        assert np.allclose(a.embeddings(2), b.embeddings(2), atol=1e-6)


def test_bad_inputs_one_line_and_non_zero(database, tmp_path):
    _fails_with_one_line(_run('--database', str(database), 'forget', '7'),
                         'no person with id 7')
    _fails_with_one_line(_run('--database', str(database), 'name', '9', 'X'),
                         'no person with id 9')
    bad_export = tmp_path / 'bad.json'
    bad_export.write_text('{"persons": [')
    _fails_with_one_line(_run('--database', str(database), 'import', str(bad_export)),
                         str(bad_export))
    _fails_with_one_line(_run('--database', str(database), 'import', str(tmp_path / 'no')),
                         'cannot read')
    garbage = tmp_path / 'garbage.db'
    garbage.write_bytes(b'\x00not a database' * 100)
    before = garbage.read_bytes()
    _fails_with_one_line(_run('--database', str(garbage), 'forget', '--all'), str(garbage))
    assert garbage.read_bytes() == before
    # Usage errors are argparse's (exit 2).
    assert _run('--database', str(database), 'forget').returncode == 2


def test_locked_database(database):
    holder = sqlite3.connect(database, isolation_level=None)
    try:
        holder.execute('BEGIN EXCLUSIVE')
        holder.execute("UPDATE persons SET name = 'held' WHERE id = 1")
        _fails_with_one_line(_run('--database', str(database), 'name', '1', 'X'),
                             str(database), 'locked')
        holder.execute('ROLLBACK')
        # A connection that keeps the file to itself blocks readers too.
        holder.execute('PRAGMA locking_mode = EXCLUSIVE')
        holder.execute('BEGIN EXCLUSIVE')
        holder.execute('COMMIT')
        _fails_with_one_line(_run('--database', str(database), 'list'), str(database),
                             'locked')
    finally:
        holder.close()
    assert _run('--database', str(database), 'name', '1', 'X').returncode == 0
