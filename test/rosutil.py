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
Helpers for tests that run the package's console scripts as real processes.

``start()`` runs install/facesense_ros/lib/facesense_ros/<executable> with ``--ros-args`` in
the test's environment (loopback-only discovery and the per-process ROS_DOMAIN_ID that
conftest.py sets), its output in a temporary log file. ``RosTester`` is an rclpy node in its
own context with an executor, for waiting on discovery and messages without fixed sleeps.
"""

import os
from pathlib import Path
import signal
import subprocess
import tempfile
import time
from typing import Callable, Dict, Iterable, List, Optional

import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / 'install' / 'facesense_ros' / 'lib' / 'facesense_ros'
CONFIG = ROOT / 'config'
PARAMS_FILE = CONFIG / 'facesense.yaml'
# Discovery between processes takes 1.5 to 4 s here; allow for a loaded, shared machine.
DISCOVERY_TIMEOUT = 30.0
# facesense_node compiles three models before it subscribes: seconds on 2 busy cores.
STARTUP_TIMEOUT = 120.0
# A clean exit after SIGINT/SIGTERM is well under a second; this only bounds a hang.
STOP_TIMEOUT = 15.0
RELIABLE = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                     durability=DurabilityPolicy.TRANSIENT_LOCAL)


class RosProcess:
    """One console script running in its own process, output captured in a file."""

    def __init__(self, executable: str, ros_args: Iterable[str], env: Optional[Dict] = None):
        self.executable = executable
        self._log = tempfile.NamedTemporaryFile(prefix=f'{executable}-', suffix='.log',
                                                delete=False)
        self.log_path = Path(self._log.name)
        self.command = [str(LIB / executable), '--ros-args', *ros_args]
        self.process = subprocess.Popen(self.command, stdout=self._log,
                                        stderr=subprocess.STDOUT,
                                        env=dict(os.environ) if env is None else env)

    @property
    def pid(self) -> int:
        """Return the process id."""
        return self.process.pid

    def running(self) -> bool:
        """Whether the process has not exited yet."""
        return self.process.poll() is None

    def output(self) -> str:
        """Return everything the process printed so far (stdout and stderr)."""
        return self.log_path.read_text(errors='replace')

    def wait(self, timeout: float = STOP_TIMEOUT) -> int:
        """Wait for the process to exit by itself; return its exit code."""
        return self.process.wait(timeout=timeout)

    def stop(self, sig: int = signal.SIGINT, timeout: float = STOP_TIMEOUT) -> int:
        """Send ``sig`` and return the exit code; kill it (and fail later) if it hangs."""
        if self.running():
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode

    def __repr__(self):
        return f'RosProcess({" ".join(self.command)})'


def start(executable: str, *ros_args: str, namespace: Optional[str] = None,
          params: Optional[Dict[str, object]] = None, params_file: Optional[Path] = None,
          env: Optional[Dict[str, str]] = None) -> RosProcess:
    """Start ``executable`` with a namespace, a params file and ``-p name:=value`` overrides."""
    args = []
    if namespace:
        args += ['-r', f'__ns:={namespace}']
    if params_file:
        args += ['--params-file', str(params_file)]
    for name, value in (params or {}).items():
        if isinstance(value, bool):
            value = 'true' if value else 'false'
        args += ['-p', f'{name}:={value}']
    return RosProcess(executable, [*args, *ros_args], env=env)


def start_node(namespace: str, model_dir: Path, **params) -> RosProcess:
    """Start facesense_node the way users do: config/facesense.yaml, a namespace, model_dir."""
    return start('facesense_node', namespace=namespace, params_file=PARAMS_FILE,
                 params={'model_dir': str(model_dir), **params})


class Inbox(list):
    """Messages received on one subscription, in arrival order."""

    subscription = None


class RosTester:
    """An rclpy node in its own context, spun by hand by the waiting helpers."""

    def __init__(self, name: str = 'tester', namespace: str = ''):
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.node = Node(name, namespace=namespace, context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)

    def spin_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Spin until ``predicate()`` is true or ``timeout`` seconds passed; return it."""
        deadline = time.monotonic() + timeout
        while not predicate() and time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=0.05)
        return predicate()

    def spin_for(self, seconds: float):
        """Spin for a while, e.g. to give a message that must NOT come the time to come."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=0.05)

    def collect(self, msg_type, topic: str, qos: QoSProfile = RELIABLE) -> Inbox:
        """Subscribe ``topic`` and return the list every message is appended to."""
        received = Inbox()
        received.subscription = self.node.create_subscription(msg_type, topic, received.append,
                                                              qos)
        return received

    def wait_for_subscribers(self, publisher, count: int = 1,
                             timeout: float = DISCOVERY_TIMEOUT) -> bool:
        """Wait until ``publisher`` is matched by ``count`` subscriptions."""
        return self.spin_until(lambda: publisher.get_subscription_count() >= count, timeout)

    def wait_for_publishers(self, topic: str, count: int = 1,
                            timeout: float = DISCOVERY_TIMEOUT) -> bool:
        """Wait until ``topic`` (fully qualified) has ``count`` publishers."""
        return self.spin_until(lambda: self.node.count_publishers(topic) >= count, timeout)

    def call(self, srv_type, name: str, request, timeout: float = DISCOVERY_TIMEOUT):
        """Call a service and return its response (None on timeout)."""
        client = self.node.create_client(srv_type, name)
        try:
            if not self.spin_until(client.service_is_ready, timeout):
                return None
            future = client.call_async(request)
            self.spin_until(future.done, timeout)
            return future.result() if future.done() else None
        finally:
            self.node.destroy_client(client)

    def set_parameters(self, node_name: str, values: Dict[str, object]):
        """Set parameters of another node; return its SetParametersResult list."""
        from rcl_interfaces.srv import SetParameters
        request = SetParameters.Request(parameters=[
            Parameter(name, value=value).to_parameter_msg() for name, value in values.items()])
        response = self.call(SetParameters, f'{node_name}/set_parameters', request)
        assert response is not None, f'{node_name}/set_parameters did not answer'
        return response.results

    def get_parameters(self, node_name: str, names: List[str]) -> Dict[str, object]:
        """Return the current values of parameters of another node."""
        from rcl_interfaces.srv import GetParameters
        response = self.call(GetParameters, f'{node_name}/get_parameters',
                             GetParameters.Request(names=names))
        assert response is not None, f'{node_name}/get_parameters did not answer'
        return {name: Parameter.from_parameter_msg(
            _named(name, value)).value for name, value in zip(names, response.values)}

    def list_parameters(self, node_name: str) -> List[str]:
        """Return the names of every parameter another node declared."""
        from rcl_interfaces.srv import ListParameters
        response = self.call(ListParameters, f'{node_name}/list_parameters',
                             ListParameters.Request())
        assert response is not None, f'{node_name}/list_parameters did not answer'
        return list(response.result.names)

    def close(self):
        """Destroy the node and shut its context down."""
        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.context)


def _named(name, value):
    from rcl_interfaces.msg import Parameter as ParameterMsg
    return ParameterMsg(name=name, value=value)


def wait_ready(tester: RosTester, process: RosProcess, topic: str,
               timeout: float = STARTUP_TIMEOUT) -> None:
    """Wait until ``process`` publishes ``topic``; fail with its output if it died or hung."""
    up = tester.spin_until(lambda: tester.node.count_publishers(topic) > 0
                           or not process.running(), timeout)
    assert up and process.running(), (
        f'{process.executable} did not come up (exit code {process.process.poll()}):\n'
        f'{process.output()}')


def usage(pid: int) -> Dict[str, int]:
    """Return rss_kb, hwm_kb (peak RSS), threads and fds of a live process, from /proc."""
    fields = {}
    with open(f'/proc/{pid}/status') as status:
        for line in status:
            key, _, value = line.partition(':')
            fields[key] = value.split()
    return {'rss_kb': int(fields['VmRSS'][0]), 'hwm_kb': int(fields['VmHWM'][0]),
            'threads': int(fields['Threads'][0]),
            'fds': len(os.listdir(f'/proc/{pid}/fd'))}
