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

``start()`` runs <install>/facesense_ros/lib/facesense_ros/<executable> (the selected distro's
colcon install directory, dev/processes.py) with ``--ros-args`` in
the test's environment (loopback-only discovery and the per-process ROS_DOMAIN_ID that
conftest.py sets), its output in a temporary log file. ``RosTester`` is an rclpy node in its
own context with an executor, for waiting on discovery and messages without fixed sleeps.

The tests of facesense_node (test_node.py, test_reliability.py, test_soak.py) share the rest:
``nodes_running()`` starts several nodes at once, ``Sender`` sends frames until answered,
``Diagnostics`` reads a node's counters, ``publish_until_counted()`` and ``error_lines()``
(box overlap: ``reference.iou``).
"""

import contextlib
import os
from pathlib import Path
import signal
import subprocess
import tempfile
import time
from typing import Callable, Dict, Iterable, Iterator, List, Optional

from diagnostic_msgs.msg import DiagnosticArray
from facesense_ros.encodings import bgr_to_jpeg, from_bgr
import processes
import pytest
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CompressedImage, Image
from vision_msgs.msg import Detection2DArray

ROOT = Path(__file__).resolve().parents[1]
LIB = processes.LIB
CONFIG = ROOT / 'config'
PARAMS_FILE = CONFIG / 'facesense.yaml'
# Discovery between processes takes 1.5 to 4 s here; allow for a loaded, shared machine.
DISCOVERY_TIMEOUT = 30.0
# An idempotent service request is sent again after this long without a response (RosTester.call).
SERVICE_RESEND_AFTER = 5.0
# facesense_node compiles three models before it subscribes: seconds on 2 busy cores.
STARTUP_TIMEOUT = 120.0
# A clean exit after SIGINT/SIGTERM is well under a second; this only bounds a hang.
STOP_TIMEOUT = 15.0
RELIABLE = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                     durability=DurabilityPolicy.TRANSIENT_LOCAL)
# One answer normally takes well under a second; re-send after this long without one.
RESEND_AFTER = 3.0
# Give up on an answer after this long (discovery, model warm-up, a busy machine).
ANSWER_TIMEOUT = 60.0
# Publisher of test frames: reliable, like usb_cam; a best-effort subscription matches it too.
FRAME_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE)
# The astronaut's face in skimage's 512x512 photo, marked by hand (x_min, y_min, x_max, y_max).
ASTRONAUT_FACE = (175.0, 55.0, 275.0, 185.0)


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
        self._clients = {}

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

    def call(self, srv_type, name: str, request, timeout: float = DISCOVERY_TIMEOUT,
             resend_after: Optional[float] = None):
        """
        Call a service and return its response (None on timeout).

        ``resend_after`` (idempotent requests only): send the request again after that many
        seconds without a response. A fresh client's first response can be lost: the server's
        response writer may not have matched the client's reader yet (rmw_fastrtps#842, seen
        here once in a Jazzy CI run: "get_state did not answer").
        """
        # One client per service, kept: once a response has come back, the response path is
        # matched and later calls (transitions, which must not be sent twice) are safe.
        key = (srv_type, name)
        if key not in self._clients:
            self._clients[key] = self.node.create_client(srv_type, name)
        client = self._clients[key]
        if not self.spin_until(client.service_is_ready, timeout):
            return None
        deadline = time.monotonic() + timeout
        while True:
            future = client.call_async(request)
            left = deadline - time.monotonic()
            wait = left if resend_after is None else min(resend_after, left)
            if self.spin_until(future.done, max(wait, 0.0)):
                return future.result()
            if resend_after is None or time.monotonic() >= deadline:
                return None

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
                             GetParameters.Request(names=names),
                             resend_after=SERVICE_RESEND_AFTER)
        assert response is not None, f'{node_name}/get_parameters did not answer'
        return {name: Parameter.from_parameter_msg(
            _named(name, value)).value for name, value in zip(names, response.values)}

    def list_parameters(self, node_name: str) -> List[str]:
        """Return the names of every parameter another node declared."""
        from rcl_interfaces.srv import ListParameters
        response = self.call(ListParameters, f'{node_name}/list_parameters',
                             ListParameters.Request(), resend_after=SERVICE_RESEND_AFTER)
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


def module_tester(name: str):
    """Return a module-scoped fixture named ``tester``: a RosTester called ``name``."""
    @pytest.fixture(scope='module', name='tester')
    def fixture():
        ros = RosTester(name)
        yield ros
        ros.close()
    return fixture


@contextlib.contextmanager
def nodes_running(tester: RosTester, model_dir: Path,
                  params: Dict[str, Dict[str, object]]) -> Iterator[Dict[str, RosProcess]]:
    """
    Run one facesense_node per namespace of ``params`` (its -p overrides) until the block ends.

    All are started before waiting for any, so that their models compile in parallel; each is
    ready when it publishes ``<namespace>/faces/detections``. All are stopped at the end.
    """
    started = {}
    try:
        for namespace, overrides in params.items():
            started[namespace] = start_node(namespace, model_dir, **overrides)
        for namespace, process in started.items():
            wait_ready(tester, process, f'{namespace}/faces/detections')
        yield started
    finally:
        for process in started.values():
            process.stop()


def type_hashes(msg_types: Iterable, node_name: str) -> List[str]:
    """Return the RIHS01 type hash of each message type, as rmw reports it for a publisher."""
    context = rclpy.Context()
    rclpy.init(context=context)
    node = Node(node_name, context=context)
    try:
        hashes = []
        for index, msg_type in enumerate(msg_types):
            node.create_publisher(msg_type, f'{node_name}_{index}', 1)
            infos = node.get_publishers_info_by_topic(f'/{node_name}_{index}')
            hashes.append(','.join(str(i.topic_type_hash) for i in infos))
        return hashes
    finally:
        node.destroy_node()
        rclpy.shutdown(context=context)


def error_lines(output: str) -> List[str]:
    """Return the lines of a process's output that ROS logged at ERROR level."""
    return [line for line in output.splitlines() if '[ERROR]' in line]


class Sender:
    """Publishes test frames on one node's input topic and waits for the node's answer."""

    # Stamps are unique across every Sender of the test session: answers match by header.
    _next_stamp = 1000

    def __init__(self, tester: RosTester, namespace: str, compressed: bool = False,
                 qos: QoSProfile = FRAME_QOS):
        self.tester = tester
        self.compressed = compressed
        topic = f'{namespace}/image_raw' + ('/compressed' if compressed else '')
        self.publisher = tester.node.create_publisher(
            CompressedImage if compressed else Image, topic, qos)
        self.detections = tester.collect(Detection2DArray, f'{namespace}/faces/detections')

    def message(self, image, encoding='bgr8', frame_id='test_cam'):
        """Return a message carrying ``image`` (BGR) in ``encoding``, with a fresh stamp."""
        if self.compressed:
            msg = CompressedImage(format='jpeg')
            msg.data = bgr_to_jpeg(image, 95)
        else:
            raw = from_bgr(image, encoding)
            msg = Image(height=image.shape[0], width=image.shape[1], encoding=encoding,
                        is_bigendian=0, step=raw.shape[1])
            msg.data = raw.tobytes()
        Sender._next_stamp += 1
        msg.header.stamp.sec, msg.header.stamp.nanosec = Sender._next_stamp, 123456789
        msg.header.frame_id = frame_id
        return msg

    def answer_to(self, header, inbox=None):
        """Return the message of ``inbox`` (default: detections) with this header, or None."""
        for msg in (self.detections if inbox is None else inbox):
            if msg.header == header:
                return msg
        return None

    def send(self, image, encoding='bgr8', inbox=None, timeout=ANSWER_TIMEOUT):
        """Send ``image`` until an answer with its header arrives; return (sent, answer)."""
        assert self.tester.wait_for_subscribers(self.publisher), 'node never subscribed'
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self.message(image, encoding)
            self.publisher.publish(msg)
            self.tester.spin_until(lambda: self.answer_to(msg.header, inbox) is not None,
                                   RESEND_AFTER)
            answer = self.answer_to(msg.header, inbox)
            if answer is not None:
                return msg, answer
        pytest.fail(f'no answer to a frame on {self.publisher.topic_name} in {timeout} s')


class Diagnostics:
    """The /diagnostics status of one node, as {key: value} dicts."""

    def __init__(self, tester: RosTester, namespace: str):
        self.tester = tester
        self.name = f'{namespace}/facesense'
        self.inbox = tester.collect(DiagnosticArray, '/diagnostics')

    def _latest(self):
        for msg in reversed(self.inbox):
            for status in msg.status:
                if status.name.startswith(self.name + ':'):
                    return {kv.key: kv.value for kv in status.values}
        return None

    def wait(self, predicate=lambda values: True, timeout=ANSWER_TIMEOUT):
        """Return the first newly arriving status values for which ``predicate`` holds."""
        start = len(self.inbox)

        def fresh():
            for msg in self.inbox[start:]:
                for status in msg.status:
                    if status.name.startswith(self.name + ':'):
                        values = {kv.key: kv.value for kv in status.values}
                        if predicate(values):
                            return values
            return None
        assert self.tester.spin_until(lambda: fresh() is not None, timeout), (
            f'no matching diagnostics from {self.name}; last: {self._latest()}')
        return fresh()


def publish_until_counted(tester: RosTester, publisher, msg, diagnostics: Diagnostics) -> None:
    """Publish a bad frame until the node counts it (best-effort delivery may lose one)."""
    before = int(diagnostics.wait()['bad frames'])
    for _ in range(10):
        publisher.publish(msg)
        tester.spin_until(lambda: False, 1.0)
        if int(diagnostics.wait()['bad frames']) > before:
            return
    pytest.fail(f'{publisher.topic_name}: the bad frame was never counted')
