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
The model store: lookup order, and verified downloads from a local mirror of OMZ's storage.

The mirror is an http.server on 127.0.0.1 serving the real shared model files under the same
URL paths as OMZ's storage. Its checksum table is built from the shared MANIFEST.tsv (some shared
files come from an older OMZ release than the shipped table), which is why the download code
takes the table as a parameter.
"""

import csv
import functools
import hashlib
import http.server
import logging
import os
from pathlib import Path
import shutil
import socket
import subprocess
import threading

# ament_flake8 knows no application names: every non-stdlib import is one alphabetical group.
from facesense_ros import model_store
from facesense_ros.config import ATTRIBUTE_MODELS, DETECTORS, EMOTIONS_MODEL, PRECISIONS
from facesense_ros.model_store import ModelError, ModelFile
import processes
import pytest

EMOTIONS = EMOTIONS_MODEL


def _manifest_table(model_dir):
    with open(model_dir / 'MANIFEST.tsv', newline='', encoding='utf-8') as stream:
        rows = list(csv.DictReader(stream, delimiter='\t'))
    table = []
    for row in rows:
        _, model, precision, name = row['path'].split('/')
        # The same path layout as OMZ's storage, so that only the base URL differs.
        url = f'{row["omz_release"]}/models_bin/1/{model}/{precision}/{name}'
        table.append(ModelFile(model, precision, name, int(row['size']), row['sha384'], url))
    return tuple(table)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):

    def log_message(self, *args):
        pass


@pytest.fixture
def mirror(model_dir, tmp_path):
    """Serve a copy of the shared models under OMZ's URL paths on 127.0.0.1 (a free port)."""
    table = _manifest_table(model_dir)
    root = tmp_path / 'mirror'
    for entry in table:
        source = model_dir / 'intel' / entry.model / entry.precision / entry.name
        target = root / entry.url
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target)
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {'url': f'http://127.0.0.1:{server.server_address[1]}/', 'table': table, 'root': root}
    server.shutdown()
    server.server_close()
    thread.join()


def _files(directory):
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob('*')
                  if p.is_file()) if directory.exists() else []


def test_download_verifies_and_installs(mirror, model_dir, tmp_path):
    cache = tmp_path / 'cache'
    xml = model_store.download(EMOTIONS, base_url=mirror['url'], table=mirror['table'],
                               cache=cache, progress=False)
    assert xml == cache / 'intel' / EMOTIONS / 'FP16-INT8' / f'{EMOTIONS}.xml'
    source = model_dir / 'intel' / EMOTIONS / 'FP16-INT8'
    for suffix in ('.xml', '.bin'):
        assert xml.with_suffix(suffix).read_bytes() == \
            (source / f'{EMOTIONS}{suffix}').read_bytes()
    # Only the two verified files: no temporary leftovers.
    assert _files(cache) == [f'intel/{EMOTIONS}/FP16-INT8/{EMOTIONS}.bin',
                             f'intel/{EMOTIONS}/FP16-INT8/{EMOTIONS}.xml']
    assert model_store.find_model(EMOTIONS, model_dir=None, cache=cache) is not None


def test_corrupted_download_is_rejected_and_leaves_nothing(mirror, tmp_path):
    entry = next(e for e in mirror['table'] if e.model == EMOTIONS and e.name.endswith('.bin'))
    served = mirror['root'] / entry.url
    data = bytearray(served.read_bytes())
    data[1000:1010] = bytes(b ^ 0xFF for b in data[1000:1010])
    served.write_bytes(bytes(data))
    cache = tmp_path / 'cache'
    with pytest.raises(ModelError, match='does not match the published one'):
        model_store.download(EMOTIONS, base_url=mirror['url'], table=mirror['table'],
                             cache=cache, progress=False)
    assert _files(cache) == []


def test_offline_gives_the_clear_error(tmp_path):
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        closed_port = probe.getsockname()[1]
    cache = tmp_path / 'cache'
    with pytest.raises(ModelError) as error:
        model_store.download(EMOTIONS, base_url=f'http://127.0.0.1:{closed_port}/',
                             cache=cache, progress=False)
    message = str(error.value)
    assert 'cannot download' in message and 'FACESENSE_MODEL_DIR' in message
    assert 'facesense_models download' in message and str(cache) in message
    assert _files(cache) == []


def test_resolve_downloads_missing_and_renames_0102(mirror, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv('FACESENSE_MODEL_DIR', str(tmp_path / 'nothing-here'))
    cache = tmp_path / 'cache'
    with caplog.at_level(logging.WARNING, logger='facesense_ros'):
        xml = model_store.resolve('face-detection-0102', ('FP16',), base_url=mirror['url'],
                                  table=mirror['table'], cache=cache, progress=False)
    assert xml == cache / 'intel' / 'face-detection-0202' / 'FP16' / 'face-detection-0202.xml'
    assert 'face-detection-0202' in caplog.text
    # Next time it is found on disk (as the renamed model) without the network.
    again = model_store.resolve('face-detection-0102', ('FP16',), cache=cache,
                                download_missing=False)
    assert again == xml


def _make(root, precision, suffixes=('.xml', '.bin'), model=EMOTIONS):
    """Write placeholder model files of ``model`` under ``root``; return the .xml path."""
    folder = root / 'intel' / model / precision
    folder.mkdir(parents=True, exist_ok=True)
    for suffix in suffixes:
        (folder / f'{model}{suffix}').write_bytes(b'x')
    return folder / f'{model}.xml'


def test_lookup_order_explicit_then_env_then_cache(model_dir, tmp_path, monkeypatch):
    make = _make
    explicit, env, cache = tmp_path / 'explicit', tmp_path / 'env', tmp_path / 'cache'
    in_cache = make(cache, 'FP16-INT8')
    in_env = make(env, 'FP32')
    in_explicit = make(explicit, 'FP16')
    monkeypatch.setenv('FACESENSE_MODEL_DIR', str(env))
    assert model_store.find_model(EMOTIONS, PRECISIONS, str(explicit), cache) == in_explicit
    assert model_store.find_model(EMOTIONS, PRECISIONS, None, cache) == in_env
    monkeypatch.delenv('FACESENSE_MODEL_DIR')
    assert model_store.find_model(EMOTIONS, PRECISIONS, None, cache) == in_cache
    # Within a directory, the first precision of the list wins.
    second = make(cache, 'FP16')
    assert model_store.find_model(EMOTIONS, ('FP16', 'FP16-INT8'), None, cache) == second
    # A precision directory that does not exist is absent: the next precision is tried.
    assert model_store.find_model(EMOTIONS, ('FP32', 'FP16'), str(explicit), cache) == \
        in_explicit
    # So is one that exists but holds neither file.
    (explicit / 'intel' / EMOTIONS / 'FP16-INT8').mkdir()
    assert model_store.find_model(EMOTIONS, PRECISIONS, str(explicit), cache) == in_explicit


@pytest.mark.parametrize('present,missing', [('.xml', '.bin'), ('.bin', '.xml')])
def test_half_pair_is_an_error_not_absent(tmp_path, monkeypatch, present, missing):
    explicit, env, cache = tmp_path / 'explicit', tmp_path / 'env', tmp_path / 'cache'
    half = _make(explicit, 'FP16', (present,)).parent
    # A complete copy in $FACESENSE_MODEL_DIR and the cache must not hide the broken one.
    _make(env, 'FP16')
    _make(cache, 'FP16')
    monkeypatch.setenv('FACESENSE_MODEL_DIR', str(env))
    with pytest.raises(ModelError) as error:
        model_store.find_model(EMOTIONS, ('FP16',), str(explicit), cache)
    message = str(error.value)
    assert message.startswith(f'incomplete model in {half}: ')
    assert f'{EMOTIONS}{present} is there but {EMOTIONS}{missing} is missing' in message
    assert '\n' not in message
    # resolve() neither falls back to another copy nor tries to download (the URL refuses).
    with pytest.raises(ModelError, match='incomplete model in') as error:
        model_store.resolve(EMOTIONS, ('FP16',), str(explicit), cache=cache, progress=False,
                            base_url='http://127.0.0.1:9/')
    assert 'cannot download' not in str(error.value)


def test_half_pair_stops_the_precision_fallback(tmp_path):
    explicit = tmp_path / 'explicit'
    _make(explicit, 'FP16-INT8', ('.xml',))
    _make(explicit, 'FP16')
    # FP16-INT8 is first and broken: FP16 is not silently used instead.
    with pytest.raises(ModelError, match=f'FP16-INT8: {EMOTIONS}.xml is there but'):
        model_store.find_model(EMOTIONS, PRECISIONS, str(explicit), tmp_path / 'cache')
    # Asked for FP16 first, the complete FP16 pair is found before the broken one is looked at.
    assert model_store.find_model(EMOTIONS, ('FP16', 'FP16-INT8'), str(explicit),
                                  tmp_path / 'cache').parent.name == 'FP16'


def test_half_pair_in_the_cache_is_an_error_naming_the_repair(mirror, tmp_path, monkeypatch):
    monkeypatch.delenv('FACESENSE_MODEL_DIR', raising=False)
    cache = tmp_path / 'cache'
    installed = model_store.download(EMOTIONS, ('FP16-INT8',), base_url=mirror['url'],
                                     table=mirror['table'], cache=cache, progress=False)
    installed.with_suffix('.bin').unlink()
    with pytest.raises(ModelError) as error:
        model_store.resolve(EMOTIONS, ('FP16-INT8',), cache=cache, base_url=mirror['url'],
                            table=mirror['table'], progress=False)
    message = str(error.value)
    assert f'{EMOTIONS}.xml is there but {EMOTIONS}.bin is missing' in message
    assert f'delete {installed.parent}' in message
    assert f'facesense_models download --model {EMOTIONS} --precision FP16-INT8' in message
    # The repair the message names works: a new download replaces the pair.
    model_store.download(EMOTIONS, ('FP16-INT8',), base_url=mirror['url'], table=mirror['table'],
                         cache=cache, progress=False)
    assert model_store.find_model(EMOTIONS, ('FP16-INT8',), None, cache) == installed


def test_missing_without_download_names_the_places(tmp_path, monkeypatch):
    monkeypatch.setenv('FACESENSE_MODEL_DIR', str(tmp_path / 'env'))
    with pytest.raises(ModelError) as error:
        model_store.resolve(EMOTIONS, ('FP32',), str(tmp_path / 'explicit'),
                            download_missing=False, cache=tmp_path / 'cache')
    message = str(error.value)
    for place in ('explicit', 'env', 'cache'):
        assert str(tmp_path / place) in message


def test_shipped_table_covers_every_model_and_matches_the_real_files(model_dir):
    table = model_store.omz_table()
    for model in DETECTORS + tuple(ATTRIBUTE_MODELS.values()):
        if model in model_store.RENAMED:
            continue
        for precision in PRECISIONS:
            names = {e.name for e in table if e.model == model and e.precision == precision}
            assert names == {f'{model}.xml', f'{model}.bin'}, (model, precision)
    for entry in table:
        digits = hashlib.new(entry.algorithm).digest_size * 2
        assert len(entry.sha384) == digits and int(entry.sha384, 16) >= 0 and entry.size > 0
        assert entry.url.startswith(('20', 'https://')), entry.url
    # The shared files mostly come from older OMZ releases than the table (MANIFEST.tsv), but
    # some are the very file the table describes: its checksums verify real files.
    identical = []
    for entry in table:
        local = model_dir / 'intel' / entry.model / entry.precision / entry.name
        if local.is_file() and local.stat().st_size == entry.size:
            if hashlib.new(entry.algorithm, local.read_bytes()).hexdigest() == entry.sha384:
                identical.append(entry.name)
    assert identical


def test_cli_path_list_and_errors(model_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv('FACESENSE_MODEL_DIR', str(model_dir))
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'xdg'))
    assert model_store.main(['path', 'face-detection-retail-0005', '--precision', 'FP32']) == 0
    out = capsys.readouterr().out.strip()
    assert out == str(model_dir / 'intel' / 'face-detection-retail-0005' / 'FP32' /
                      'face-detection-retail-0005.xml')
    assert model_store.main(['list']) == 0
    out = capsys.readouterr().out
    assert EMOTIONS in out and str(tmp_path / 'xdg' / 'facesense_ros' / 'models') in out
    assert model_store.main(['path', EMOTIONS, '--precision', 'FP32']) == 1
    assert 'not found' in capsys.readouterr().err
    # A half pair is listed as an error and is an error for `path`.
    half = _make(tmp_path / 'broken', 'FP32', ('.bin',))
    assert model_store.main(['--model-dir', str(tmp_path / 'broken'), 'list']) == 0
    out = capsys.readouterr().out
    assert f'ERROR: incomplete model in {half.parent}: {EMOTIONS}.bin is there' in out
    assert model_store.main(['--model-dir', str(tmp_path / 'broken'), 'path', EMOTIONS,
                             '--precision', 'FP32']) == 1
    err = capsys.readouterr().err
    assert err.startswith('facesense_models: error: incomplete model in') and \
        err.count('\n') == 1


def _write_table(entries, path):
    with open(path, 'w', newline='', encoding='utf-8') as stream:
        writer = csv.writer(stream, delimiter='\t')
        writer.writerow(['model', 'precision', 'file', 'size', 'checksum_sha384', 'source'])
        for e in entries:
            writer.writerow([e.model, e.precision, e.name, e.size, e.sha384, e.url])
    return path


def test_cli_download_uses_the_url_and_table_given(mirror, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'xdg'))
    monkeypatch.setenv('FACESENSE_MODEL_URL', mirror['url'])
    table = _write_table(mirror['table'], tmp_path / 'table.tsv')
    code = model_store.main(['download', '--model', 'face-detection-retail-0004',
                             '--precision', 'FP32', '--table', str(table)])
    assert code == 0
    xml = (tmp_path / 'xdg' / 'facesense_ros' / 'models' / 'intel' /
           'face-detection-retail-0004' / 'FP32' / 'face-detection-retail-0004.xml')
    assert capsys.readouterr().out.strip() == str(xml)
    assert xml.is_file() and xml.with_suffix('.bin').is_file()
    # The shipped table has OMZ 2023.0's checksums: the mirror's 2022.1 .xml is refused.
    assert model_store.main(['download', '--model', 'face-detection-retail-0004',
                             '--precision', 'FP16']) == 1
    assert 'facesense_models: error:' in capsys.readouterr().err


def test_cli_download_gets_every_attribute_model(mirror, model_dir, tmp_path, monkeypatch,
                                                 capsys):
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'xdg'))
    monkeypatch.setenv('FACESENSE_MODEL_URL', mirror['url'])
    table = _write_table(mirror['table'], tmp_path / 'table.tsv')
    # No --model: the default detector and every attribute model, first precision available.
    assert model_store.main(['download', '--table', str(table)]) == 0
    cache = tmp_path / 'xdg' / 'facesense_ros' / 'models'
    printed = capsys.readouterr().out.split()
    assert len(printed) == 1 + len(ATTRIBUTE_MODELS)
    for model in ATTRIBUTE_MODELS.values():
        # The node's default precision order: FP16-INT8 first, FP16 for face re-identification.
        precision = 'FP16' if model == 'face-reidentification-retail-0095' else 'FP16-INT8'
        assert model_store.default_precisions(model)[0] == precision
        xml = cache / 'intel' / model / precision / f'{model}.xml'
        assert str(xml) in printed
        for suffix in ('.xml', '.bin'):
            assert xml.with_suffix(suffix).read_bytes() == (
                model_dir / 'intel' / model / precision / f'{model}{suffix}').read_bytes()
    # The shipped table describes OMZ 2023.0's files, the shared ones are 2022.3's: a download
    # through the shipped table refuses them (size or sha384 differs), naming the model.
    assert model_store.main(['download', '--model', 'landmarks-regression-retail-0009',
                             '--precision', 'FP16-INT8']) == 1
    assert 'landmarks-regression-retail-0009' in capsys.readouterr().err


def test_installed_console_script(model_dir, tmp_path):
    script = processes.LIB / 'facesense_models'
    assert script.is_file(), f'{script} missing: run `make env`'
    env = dict(os.environ, FACESENSE_MODEL_DIR=str(model_dir), XDG_CACHE_HOME=str(tmp_path))
    done = subprocess.run([str(script), 'path', 'face-detection-0102'], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).parent.parent == \
        model_dir / 'intel' / 'face-detection-0102'
    done = subprocess.run([str(script), 'path', EMOTIONS, '--precision', 'FP32'], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stderr.count('\n') == 1
    assert done.stderr.startswith('facesense_models: error: model ' + EMOTIONS)


def test_offline_hint_carries_every_option_needed(tmp_path, monkeypatch):
    # detector_precisions:=[FP32] with nothing on disk: the command in the hint must fetch FP32,
    # not the first available precision that a bare `download --model` would.
    monkeypatch.delenv('FACESENSE_MODEL_DIR', raising=False)
    with pytest.raises(ModelError) as error:
        model_store.resolve(DETECTORS[0], ('FP32',), model_dir=str(tmp_path),
                            download_missing=False, cache=tmp_path / 'cache')
    assert f'facesense_models download --model {DETECTORS[0]} --precision FP32' in \
        str(error.value)
