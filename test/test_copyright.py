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
Every Python file carries the Apache-2.0 copyright header.

Uses ament_copyright where it is installed (a ROS install); these machines have no wheel of it,
so the same rule is checked directly: a copyright line and the license name in the header.
"""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECKED_DIRS = ('facesense_ros', 'test', 'launch', 'bench', 'dev')


def _python_files():
    files = [ROOT / 'setup.py']
    for folder in CHECKED_DIRS:
        files += sorted(p for p in (ROOT / folder).rglob('*.py') if 'interfaces' not in p.parts)
    return files


@pytest.mark.copyright
@pytest.mark.linter
def test_copyright():
    try:
        from ament_copyright.main import main
    except ImportError:
        main = None
    if main is not None:
        assert main(argv=['.', 'test']) == 0, 'Found errors'
        return
    missing = []
    for path in _python_files():
        head = path.read_text(encoding='utf-8')[:1000]
        if 'Copyright' not in head or 'Apache License, Version 2.0' not in head:
            missing.append(str(path.relative_to(ROOT)))
    assert not missing, f'no Apache-2.0 copyright header in: {missing}'
