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

"""Shared fixtures: the real models and loopback-only ROS for every test."""

import logging
import os
from pathlib import Path
import sys

import pytest

# dev/processes.py: how the package's processes are run (install directory, loopback, profile).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'dev'))
import processes  # noqa: E402, I100 (found through the path above)

# Every ROS process a test starts (and this one) stays on loopback, whoever runs pytest, with
# the variable its distro reads.
processes.loopback_env(os.environ)
os.environ.setdefault('ROS_DOMAIN_ID', str(os.getpid() % 90 + 5))

# launch_testing's pytest plugin imports launch.logging, whose logger class makes every logger
# created afterwards stop propagating to the root logger, where caplog listens. Our core's
# logger (created at first use) propagates as it does in any other program.
logging.getLogger('facesense_ros').propagate = True

REQUIRED_MODELS = (
    'intel/face-detection-0102',
    'intel/age-gender-recognition-retail-0013',
    'intel/emotions-recognition-retail-0003',
    'intel/head-pose-estimation-adas-0001',
    'intel/landmarks-regression-retail-0009',
)


def pytest_configure(config):
    config.addinivalue_line('markers', 'soak: long runs, only under `make soak`')
    config.addinivalue_line('markers', 'linter: style checks')
    config.addinivalue_line('markers', 'flake8: flake8 check')
    config.addinivalue_line('markers', 'pep257: pep257 check')
    config.addinivalue_line('markers', 'copyright: copyright header check')


@pytest.fixture(scope='session')
def model_dir() -> Path:
    """Directory of the real OMZ models; fails (never skips) when they are missing."""
    value = os.environ.get('FACESENSE_MODEL_DIR', '')
    root = Path(value) if value else None
    missing = [m for m in REQUIRED_MODELS if root is None or not (root / m).is_dir()]
    if missing:
        pytest.fail(f'real models missing: FACESENSE_MODEL_DIR={value!r} lacks {missing} '
                    '(make test points it at ../shared/models)')
    return root
