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
Humble without a Humble install (no Humble wheels exist): its Python and its rclpy API.

Every module of the repository is compiled by Python 3.10 (Ubuntu 22.04's), and the standard
library modules and typing names it imports must exist there. The rclpy API the code uses must
be in HUMBLE_RCLPY: names read in rclpy 3.3.15's sources (the humble branch of ros2/rclpy);
docs/distros.md lists them and says how. A new rclpy call fails here until it is checked the
same way and added.
"""

import ast
import os
from pathlib import Path
import shutil
import subprocess
import sys

import pytest
import rclpy
import rclpy.client
import rclpy.executors
import rclpy.lifecycle
import rclpy.node
import rclpy.publisher
import rclpy.subscription

ROOT = Path(__file__).resolve().parents[1]
SOURCE_DIRS = ('facesense_ros', 'launch', 'test', 'dev', 'bench')
PYENV_PYTHON310 = Path('~/.pyenv/versions/3.10.13/bin/python3.10').expanduser()
# Read in rclpy's humble branch (rclpy/rclpy/*.py at 3.3.15), per module or class.
HUMBLE_RCLPY = {
    'rclpy': {'Context', 'create_node', 'init', 'logging', 'shutdown', 'spin', 'spin_once',
              'try_shutdown', 'client', 'executors', 'lifecycle', 'node', 'publisher', 'qos',
              'signals', 'subscription'},
    'rclpy.duration': {'Duration'},
    'rclpy.exceptions': {'ParameterException'},
    'rclpy.executors': {'ExternalShutdownException', 'SingleThreadedExecutor'},
    # rclpy/rclpy/lifecycle/__init__.py at 3.3.15 (TransitionCallbackReturn: the pybind enum).
    'rclpy.lifecycle': {'LifecycleNode', 'LifecycleState', 'TransitionCallbackReturn'},
    'rclpy.logging': {'get_logger'},
    'rclpy.node': {'Node'},
    'rclpy.parameter': {'Parameter'},
    'rclpy.qos': {'DurabilityPolicy', 'QoSProfile', 'ReliabilityPolicy'},
    # rclpy/rclpy/qos_event.py at 3.3.15 (Iron renamed the module event_handler).
    'rclpy.qos_event': {'SubscriptionEventCallbacks'},
    'rclpy.signals': {'SignalHandlerOptions'},
    'Node': {'add_on_set_parameters_callback', 'context', 'count_publishers', 'count_subscribers',
             'create_client',
             'create_guard_condition', 'create_publisher', 'create_service', 'create_subscription',
             'create_timer',
             'declare_parameter', 'declare_parameters', 'destroy_client', 'destroy_node',
             'destroy_publisher', 'destroy_subscription', 'destroy_timer', 'executor',
             'get_clock', 'get_fully_qualified_name', 'get_logger', 'get_parameter',
             'get_parameters', 'get_publishers_info_by_topic', 'get_topic_names_and_types',
             'resolve_topic_name',
             'set_parameters'},
    # LifecycleNodeMixin's methods in rclpy/rclpy/lifecycle/node.py at 3.3.15.
    'LifecycleNode': {'create_lifecycle_publisher', 'destroy_lifecycle_publisher',
                      'trigger_activate', 'trigger_cleanup', 'trigger_configure',
                      'trigger_deactivate', 'trigger_shutdown'},
    'TransitionCallbackReturn': {'SUCCESS', 'FAILURE', 'ERROR'},
    'Publisher': {'get_subscription_count', 'publish', 'topic_name', 'wait_for_all_acked'},
    # Not get_publisher_count: Humble's Subscription has no such method.
    # callback: also Service's (read by node.py's ChangeState guard), set in its __init__.
    'Subscription': {'callback', 'topic_name'},
    'GuardCondition': {'trigger'},
    'Executor': {'add_node', 'context', 'shutdown', 'spin', 'spin_once'},
    'Client': {'call', 'call_async', 'service_is_ready'},
    'ReliabilityPolicy': {'RELIABLE', 'BEST_EFFORT'},
    'DurabilityPolicy': {'TRANSIENT_LOCAL', 'VOLATILE'},
    'SignalHandlerOptions': {'ALL', 'NO'},
}
# A lifecycle node is a Node too.
HUMBLE_RCLPY['LifecycleNode'] |= HUMBLE_RCLPY['Node']
# Used only where hasattr() finds them (facesense_ros/input_qos.py), so absent on Humble.
FEATURE_DETECTED = {'BEST_AVAILABLE'}
# Imported where they exist, else from where Humble has them (HUMBLE_RCLPY): node.py.
NEWER_WITH_FALLBACK = {('rclpy.event_handler', 'SubscriptionEventCallbacks')}
# Classes whose instances the code uses: any attribute read that one of them has is checked.
CLASSES = {'Node': rclpy.node.Node, 'LifecycleNode': rclpy.lifecycle.LifecycleNode,
           'Publisher': rclpy.publisher.Publisher,
           'Subscription': rclpy.subscription.Subscription,
           'Executor': rclpy.executors.SingleThreadedExecutor, 'Client': rclpy.client.Client}
# Enums, read as Enum.MEMBER: those reads are checked.
ENUMS = ('ReliabilityPolicy', 'DurabilityPolicy', 'SignalHandlerOptions',
         'TransitionCallbackReturn')


def _sources():
    return sorted(p for d in SOURCE_DIRS for p in (ROOT / d).rglob('*.py'))


def _python310():
    """Python 3.10: $FACESENSE_PYTHON310, pyenv's 3.10.13, or a python3.10 that runs."""
    for candidate in (os.environ.get('FACESENSE_PYTHON310'), PYENV_PYTHON310,
                      shutil.which('python3.10')):
        if candidate and Path(candidate).is_file():
            done = subprocess.run(
                [str(candidate), '-c', 'import sys; print(sys.version_info[:2])'],
                capture_output=True, text=True)
            if done.returncode == 0 and done.stdout.strip() == '(3, 10)':
                return str(candidate)
    pytest.fail('Python 3.10 (the Python of Humble) not found: set FACESENSE_PYTHON310 to its '
                'python3.10')


# Run by Python 3.10: compile every file given, then check the standard library modules and
# typing names they import exist in that Python (standard library: this Python's or the running
# test's, so that a module new in 3.11, such as tomllib, counts). Prints one line per problem.
CHECK_310 = r"""
import ast, importlib, py_compile, sys, tempfile, os
out = tempfile.mkdtemp()
stdlib = set(sys.stdlib_module_names) | set(os.environ['STDLIB_MODULES'].split())
for i, path in enumerate(sys.argv[1:]):
    try:
        py_compile.compile(path, cfile=os.path.join(out, f'{i}.pyc'), doraise=True)
    except py_compile.PyCompileError as e:
        print(f'{path}: {e.msg}')
        continue
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.Import):
            names = [(a.name, None) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [(node.module, a.name) for a in node.names]
        else:
            continue
        for module, name in names:
            top = module.split('.')[0]
            if top not in stdlib:
                continue
            try:
                imported = importlib.import_module(module)
            except ImportError:
                print(f'{path}:{node.lineno}: no module {module} in Python 3.10')
                continue
            if name and name != '*' and not hasattr(imported, name):
                try:
                    importlib.import_module(f'{module}.{name}')
                except ImportError:
                    print(f'{path}:{node.lineno}: no {module}.{name} in Python 3.10')
"""


def test_every_module_compiles_and_imports_under_python_310():
    sources = _sources()
    assert len(sources) > 40
    env = dict(os.environ, STDLIB_MODULES=' '.join(sys.stdlib_module_names))
    done = subprocess.run([_python310(), '-c', CHECK_310, *map(str, sources)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout == '', done.stdout


def _rclpy_uses(tree):
    """(owner, name) of every rclpy import, and every attribute read in ``tree``."""
    imports, attributes = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or '').startswith('rclpy'):
            imports |= {(node.module, a.name) for a in node.names}
        elif isinstance(node, ast.Attribute):
            attributes.add(node.attr)
            if isinstance(node.value, ast.Name) and node.value.id in ('rclpy', *ENUMS):
                imports.add((node.value.id, node.attr))
    return imports, attributes


def test_rclpy_api_used_exists_in_humble():
    imports, attributes, own = set(), set(), set()
    for path in _sources():
        tree = ast.parse(path.read_text())
        found_imports, found_attributes = _rclpy_uses(tree)
        imports |= found_imports
        attributes |= found_attributes
        own |= {n.name for n in ast.walk(tree)
                if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    unchecked = {f'{module}.{name}' for module, name in imports - NEWER_WITH_FALLBACK
                 if name not in HUMBLE_RCLPY.get(module, set()) | FEATURE_DETECTED}
    # Methods and members of rclpy's classes that the code reads (our own methods of the same
    # name, e.g. RosTester.list_parameters, are not rclpy's).
    for owner, cls in CLASSES.items():
        for name in (attributes & set(dir(cls))) - own - FEATURE_DETECTED:
            if not name.startswith('_') and name not in HUMBLE_RCLPY[owner]:
                unchecked.add(f'{owner}.{name}')
    assert not unchecked, f'rclpy API not checked against Humble (docs/distros.md): {unchecked}'
