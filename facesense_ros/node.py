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
``facesense_node``: the ROS 2 node (name ``facesense``) around FacePerception.

Subscribes ``image_raw`` (or ``image_raw/compressed``), keeps only the newest frame and
processes it on a worker thread, and publishes ``faces/detections`` (every processed frame),
``faces/label_info`` (latched), ``faces/image`` (only while someone subscribes) and
``/diagnostics``. ``~/enable`` pauses and resumes; every parameter of config.PARAMETERS can be
changed live, model changes by building a new pipeline first. See docs/interfaces.md.
"""

import logging
import os
import sys
import threading
import time
from typing import Dict, Optional

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from facesense_ros import model_store
from facesense_ros.config import (check_parameter, PARAMETERS, PipelineConfig, reload_needed,
                                  TrackingConfig)
from facesense_ros.conversions import (bgr_to_image_msg, compressed_msg_to_bgr,
                                       faces_to_detections, image_msg_to_bgr, label_info)
from facesense_ros.depth_input import DepthInput
from facesense_ros.drawing import annotate
from facesense_ros.encodings import ImageFormatError, OversizedImageError
from facesense_ros.input_qos import InputReliability, PUBLISHER_CHECK_PERIOD
from facesense_ros.perception import FacePerception
from facesense_ros.pipeline import FacePipeline
from facesense_ros.ros_parameters import declare_parameters, NODE_PARAMETERS, python_value
from rcl_interfaces.msg import SetParametersResult
import rclpy
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rclpy.signals import SignalHandlerOptions
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Header
from std_srvs.srv import SetBool
from vision_msgs.msg import Detection2DArray, LabelInfo

try:
    from facesense_ros.hri_publishers import HriPublishers
    HRI_IMPORT_ERROR = None
except ImportError as e:
    # hri_msgs or tf2_msgs missing: the node runs without REP-155 output (parameter hri).
    HriPublishers = None
    HRI_IMPORT_ERROR = e

NODE_NAME = 'facesense'
# The Python logger of the ROS-free core (models, model_store).
CORE_LOGGER = 'facesense_ros'
# Detections must not be lost to a momentarily slow consumer: reliable, a few frames deep.
DETECTIONS_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
# The annotated image is for people watching: newest frame only, but reliable so that
# reliable subscribers (rviz2's default) match as well.
IMAGE_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE)
# Latched so that a subscriber arriving at any time gets the class names once.
LABEL_INFO_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                            durability=DurabilityPolicy.TRANSIENT_LOCAL)
DIAGNOSTICS_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
# Bad input tends to repeat every frame: say so at most this often.
WARN_THROTTLE_SEC = 5.0
# How long destroy_node waits for the worker to finish the frame in hand.
WORKER_JOIN_TIMEOUT_SEC = 5.0
STAGES = ('convert', 'detect', 'tracking', 'attributes', 'publish')
# Errors that mean "this configuration cannot run": one line for the user, no traceback.
STARTUP_ERRORS = (model_store.ModelError, ValueError, ParameterException)


class RclpyLogHandler(logging.Handler):
    """Forward the core's Python logging ('facesense_ros': model files, downloads) to rclpy."""

    def __init__(self, logger):
        super().__init__()
        self._logger = logger

    def emit(self, record):
        """Log ``record`` through the rclpy logger at the same severity."""
        message = self.format(record)
        if record.levelno >= logging.ERROR:
            self._logger.error(message)
        elif record.levelno >= logging.WARNING:
            self._logger.warning(message)
        elif record.levelno >= logging.INFO:
            self._logger.info(message)
        else:
            self._logger.debug(message)


class StartupError(RuntimeError):
    """The node cannot start with the given parameters; the message names the culprit."""


def _check_model_dir(model_dir: str):
    # The model store also searches $FACESENSE_MODEL_DIR and its cache, and may download:
    # a model_dir that was given but does not exist is a mistake to report, not to paper over.
    if model_dir and not os.path.isdir(model_dir):
        raise StartupError(f'parameter model_dir: {model_dir} is not a directory (expected '
                           'one holding intel/<model>/<precision>/<model>.xml and .bin)')


class Stats:
    """Counters and per-window sums for /diagnostics; every method is thread-safe."""

    def __init__(self):
        self._lock = threading.Lock()
        self.totals = {'input': 0, 'processed': 0, 'dropped': 0, 'bad': 0, 'oversized': 0,
                       'failed': 0, 'annotated': 0}
        self._window_start = time.monotonic()
        self._window = self._empty_window()

    @staticmethod
    def _empty_window():
        return {'input': 0, 'processed': 0, 'faces': 0, 'bad': 0,
                **{stage: 0.0 for stage in STAGES}}

    def count(self, key: str, n: int = 1):
        """Add ``n`` to a total (and its window sum when there is one)."""
        with self._lock:
            self.totals[key] += n
            if key in self._window:
                self._window[key] += n

    def frame_done(self, faces: int, stage_seconds: Dict[str, float]):
        """Record one processed frame."""
        with self._lock:
            self.totals['processed'] += 1
            self._window['processed'] += 1
            self._window['faces'] += faces
            for stage in STAGES:
                self._window[stage] += stage_seconds.get(stage, 0.0)

    def take_window(self):
        """Return (seconds, window sums, totals) and start a new window."""
        with self._lock:
            now = time.monotonic()
            seconds = max(now - self._window_start, 1e-9)
            window, self._window = self._window, self._empty_window()
            self._window_start = now
            return seconds, window, dict(self.totals)


class FaceSenseNode(Node):
    """Faces with track ids and attributes on every newest frame; see the module doc."""

    def __init__(self, **kwargs):
        super().__init__(NODE_NAME, **kwargs)
        values = declare_parameters(self)
        self._values = {name: values[name] for name in PARAMETERS}
        node_values = {name: values[name] for name in NODE_PARAMETERS}
        for name, value in node_values.items():
            reason = NODE_PARAMETERS[name].check(value)
            if reason:
                raise StartupError(f'parameter {reason}')
        self._pipeline_config = PipelineConfig.from_dict(self._values)
        self._tracking_config = TrackingConfig.from_dict(self._values)
        _check_model_dir(self._pipeline_config.model_dir)
        # Models are loaded (and checked) before anything is subscribed.
        self._pipeline = FacePipeline(self._pipeline_config)
        self._perception = FacePerception(self._pipeline, self._tracking_config)
        if not self.context.ok():
            # Ctrl-C or SIGTERM while the models compiled: stop quietly, like during spin.
            raise ExternalShutdownException()
        self._compressed = node_values['input_transport'] == 'compressed'
        self._input_depth = node_values['qos_depth']
        self._input_reliability = InputReliability(node_values['reliability'])
        self._stats = Stats()
        # Read by the worker once per frame, replaced whole by a live change: no lock needed.
        self._max_input_pixels = node_values['max_input_pixels']
        # Guards the pipeline/perception objects between the worker and parameter changes.
        self._processing_lock = threading.Lock()
        # Guards the pending frame, the pause flag and the stop flag.
        self._frame_ready = threading.Condition()
        self._pending = None
        self._paused = False
        self._stopping = False
        self._frame_id = ''
        # The annotated image is drawn and published on a thread of its own, newest frame only:
        # a reliable 900 KB image to a reader on this machine going as UDP fragments held
        # publish() for hundreds of ms (bench/NOTES.md section 12); that must not hold the next
        # frame's detections. Guards the next image to draw.
        self._annotation_ready = threading.Condition()
        self._annotation = None

        self._detections_pub = self.create_publisher(Detection2DArray, 'faces/detections',
                                                     DETECTIONS_QOS)
        self._image_pub = self.create_publisher(Image, 'faces/image', IMAGE_QOS)
        self._label_info_pub = self.create_publisher(LabelInfo, 'faces/label_info',
                                                     LABEL_INFO_QOS)
        self._diagnostics_pub = self.create_publisher(DiagnosticArray, '/diagnostics',
                                                      DIAGNOSTICS_QOS)
        self._publish_label_info()
        # camera_info, depth/image_raw and faces/detections_3d (depth_input.py).
        self._depth = DepthInput(self, self._tracking_config, lambda: self._max_input_pixels,
                                 node_values['reliability'])
        self._hri = self._start_hri(node_values['hri'])
        self._enable_srv = self.create_service(SetBool, '~/enable', self._on_enable)
        self._diagnostics_timer = self.create_timer(node_values['diagnostics_period'],
                                                    self._publish_diagnostics)
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self._worker = threading.Thread(target=self._work, name='facesense_worker',
                                        daemon=True)
        self._worker.start()
        self._annotator = threading.Thread(target=self._annotate, name='facesense_annotator',
                                           daemon=True)
        self._annotator.start()
        self._subscription = None
        self._subscribe()
        if self._input_reliability.auto:
            self._publishers_timer = self.create_timer(PUBLISHER_CHECK_PERIOD,
                                                       self._check_publishers)
        self.get_logger().info(
            f'ready: {self._subscription.topic_name} ({self._input_reliability.describe()}, '
            f'depth {self._input_depth}) -> faces/detections')

    # --- parameters -------------------------------------------------------------------------

    def _on_set_parameters(self, parameters) -> SetParametersResult:
        updates = {}
        period = max_pixels = None
        for parameter in parameters:
            value = python_value(parameter.value)
            if parameter.name in PARAMETERS:
                reason = check_parameter(parameter.name, value)
                if reason:
                    return SetParametersResult(successful=False, reason=reason)
                updates[parameter.name] = value
            elif parameter.name == 'diagnostics_period':
                period = value
            elif parameter.name == 'max_input_pixels':
                # rclpy has checked it against the descriptor's range already.
                max_pixels = value
        if max_pixels is not None:
            self._max_input_pixels = max_pixels
        if period is not None:
            self._diagnostics_timer.cancel()
            self.destroy_timer(self._diagnostics_timer)
            self._diagnostics_timer = self.create_timer(period, self._publish_diagnostics)
        if not updates:
            return SetParametersResult(successful=True)
        values = {**self._values, **updates}
        try:
            pipeline_config = PipelineConfig.from_dict(values)
            tracking_config = TrackingConfig.from_dict(values)
        except ValueError as e:
            return SetParametersResult(successful=False, reason=str(e))
        new_pipeline = None
        if reload_needed(self._pipeline_config, pipeline_config):
            try:
                _check_model_dir(pipeline_config.model_dir)
            except StartupError as e:
                return SetParametersResult(successful=False, reason=str(e))
            # Built while the old pipeline keeps working; swapped in only if it loads.
            try:
                new_pipeline = FacePipeline(pipeline_config)
            except STARTUP_ERRORS as e:
                self.get_logger().error(f'parameter change refused, models kept: {e}')
                return SetParametersResult(successful=False, reason=str(e))
        with self._processing_lock:
            if new_pipeline is not None:
                self._perception.set_pipeline(new_pipeline)
                self._pipeline = new_pipeline
            else:
                self._pipeline.update(pipeline_config)
            self._perception.update_tracking(tracking_config)
            threshold_changed = (pipeline_config.confidence_threshold
                                 != self._pipeline_config.confidence_threshold)
            self._pipeline_config, self._tracking_config = pipeline_config, tracking_config
            self._values = values
        self._depth.update(tracking_config)
        if new_pipeline is not None:
            self.get_logger().info(f'models reloaded: {", ".join(self._model_files())}')
        if threshold_changed:
            self._publish_label_info()
        return SetParametersResult(successful=True)

    def _start_hri(self, enabled: bool):
        if not enabled:
            return None
        if HriPublishers is None:
            self.get_logger().warning(f'hri: no REP-155 output ({HRI_IMPORT_ERROR}); install '
                                      'hri_msgs and tf2_msgs for it')
            return None
        hri = HriPublishers(self)
        self.get_logger().info(f'REP-155 on /humans/faces: face ids {hri.prefix}_<track id>')
        return hri

    # --- input ------------------------------------------------------------------------------

    def _input_topic(self) -> str:
        return 'image_raw/compressed' if self._compressed else 'image_raw'

    def _offered_reliabilities(self):
        topic = self.resolve_topic_name(self._input_topic())
        return [info.qos_profile.reliability
                for info in self.get_publishers_info_by_topic(topic)]

    def _subscribe(self):
        msg_type = CompressedImage if self._compressed else Image
        qos = QoSProfile(depth=self._input_depth, reliability=self._input_reliability.request(
            self._offered_reliabilities()))
        self._subscription = self.create_subscription(msg_type, self._input_topic(),
                                                      self._on_image, qos)
        # Kept for /diagnostics while paused (no subscription then).
        self._input_topic_name = self._subscription.topic_name

    def _check_publishers(self):
        # reliability auto: the publishers' offer is only read when subscribing (with
        # BEST_AVAILABLE too), so a camera started or replaced later is followed from here.
        if self._subscription is None or not self._input_reliability.outdated(
                self._offered_reliabilities()):
            return
        before = self._input_reliability.describe()
        self.destroy_subscription(self._subscription)
        self._subscribe()
        self.get_logger().info(f'input reliability {before} -> '
                               f'{self._input_reliability.describe()}: the publishers changed')

    def _on_image(self, msg):
        self._stats.count('input')
        with self._frame_ready:
            if self._pending is not None:
                self._stats.count('dropped')
            self._pending = msg
            self._frame_ready.notify()

    def _on_enable(self, request, response):
        with self._frame_ready:
            changed = request.data == self._paused
            self._paused = not request.data
            if self._paused:
                self._pending = None
        if changed and request.data:
            self._subscribe()
        elif changed and self._subscription is not None:
            self.destroy_subscription(self._subscription)
            self._subscription = None
        response.success = True
        state = 'enabled' if request.data else 'paused'
        response.message = state if changed else f'already {state}'
        self.get_logger().info(f'~/enable: {response.message}')
        return response

    # --- processing -------------------------------------------------------------------------

    def _work(self):
        while True:
            with self._frame_ready:
                while not self._stopping and (self._paused or self._pending is None):
                    self._frame_ready.wait()
                if self._stopping:
                    return
                msg, self._pending = self._pending, None
            self._process(msg)

    def _process(self, msg):
        start = time.perf_counter()
        try:
            convert = compressed_msg_to_bgr if self._compressed else image_msg_to_bgr
            frame = convert(msg, self._max_input_pixels)
        except ImageFormatError as e:
            self._stats.count('bad')
            if isinstance(e, OversizedImageError):
                self._stats.count('oversized')
            self.get_logger().warning(f'frame skipped: {e}',
                                      throttle_duration_sec=WARN_THROTTLE_SEC)
            return
        converted = time.perf_counter()
        stamp = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
        if stamp == 0.0:
            # Tracking needs time to advance: unstamped input gets the arrival time.
            stamp = self.get_clock().now().nanoseconds * 1e-9
        try:
            with self._processing_lock:
                faces = self._perception.process(frame, stamp)
                timings = dict(self._perception.last_timings)
                # Faces the detector missed this frame are still hidden in the image.
                lost_boxes = list(self._perception.lost_boxes)
                alive_ids = self._perception.active_ids
                privacy_mode = self._tracking_config.privacy_mode
                attention_limits = (self._tracking_config.attention_yaw,
                                    self._tracking_config.attention_pitch)
        except (RuntimeError, ValueError) as e:
            # OpenVINO reports inference failures as RuntimeError: skip the frame, go on.
            self._stats.count('failed')
            self.get_logger().error(f'frame failed: {e}', throttle_duration_sec=WARN_THROTTLE_SEC)
            return
        # Every face's position attribute (depth or monocular), once camera_info arrived.
        try:
            intrinsics, faces = self._depth.locate(
                msg.header, (frame.shape[1], frame.shape[0]), faces, stamp)
        except ValueError as e:
            # Not expected (depth.py turns bad input into reasons): the frame keeps its 2D
            # results and REP-155 output, without positions.
            intrinsics = None
            self.get_logger().error(f'3D positions failed: {e}',
                                    throttle_duration_sec=WARN_THROTTLE_SEC)
        # Built before the context check: only publishing is left between it and the end.
        detections_3d = self._depth.message(msg.header, faces, intrinsics, attention_limits)
        processed = time.perf_counter()
        if not self.context.ok():
            return
        self._frame_id = msg.header.frame_id
        self._detections_pub.publish(faces_to_detections(faces, msg.header, attention_limits))
        self._depth.publish(detections_3d)
        if self._hri is not None:
            self._hri.publish(msg.header, frame, faces, alive_ids)
        if self._image_pub.get_subscription_count() > 0:
            with self._annotation_ready:
                # An image not drawn yet is replaced: viewers want the newest frame.
                self._annotation = (frame, faces, privacy_mode, lost_boxes, msg.header)
                self._annotation_ready.notify()
        done = time.perf_counter()
        self._stats.frame_done(len(faces), {
            'convert': converted - start,
            'detect': timings.get('detect', 0.0),
            'tracking': timings.get('tracking', 0.0),
            'attributes': timings.get('attributes', 0.0),
            'publish': done - processed,
        })

    def _annotate(self):
        while True:
            with self._annotation_ready:
                # _stopping is set before destroy_node notifies this condition: seen here.
                while not self._stopping and self._annotation is None:
                    self._annotation_ready.wait()
                if self._stopping:
                    return
                job, self._annotation = self._annotation, None
            frame, faces, privacy_mode, hidden_boxes, header = job
            annotated = annotate(frame, faces, privacy_mode, hidden_boxes=hidden_boxes)
            if not self.context.ok():
                return
            self._image_pub.publish(bgr_to_image_msg(annotated, header))
            self._stats.count('annotated')

    # --- outputs ----------------------------------------------------------------------------

    def _publish_label_info(self):
        header = Header(stamp=self.get_clock().now().to_msg(), frame_id=self._frame_id)
        self._label_info_pub.publish(label_info(header,
                                                self._pipeline_config.confidence_threshold))

    def _model_files(self):
        return [str(m.path) for m in self._pipeline.models.values()]

    def _publish_diagnostics(self):
        seconds, window, totals = self._stats.take_window()
        processed = window['processed']
        with self._frame_ready:
            paused = self._paused
        values = {
            'input fps': f'{window["input"] / seconds:.2f}',
            'processed fps': f'{processed / seconds:.2f}',
            'dropped frames': str(totals['dropped']),
            'bad frames': str(totals['bad']),
            'oversized frames': str(totals['oversized']),
            'failed frames': str(totals['failed']),
            'processed frames': str(totals['processed']),
            'annotated frames': str(totals['annotated']),
            'faces per frame': f'{window["faces"] / processed:.2f}' if processed else '0.00',
            'paused': str(paused).lower(),
            'input topic': self._input_topic_name,
            'input reliability': self._input_reliability.describe(),
            'model files': ', '.join(self._model_files()),
            'device': self._pipeline_config.device,
            **self._depth.diagnostics_values(),
        }
        for stage in STAGES:
            mean_ms = window[stage] / processed * 1000.0 if processed else 0.0
            values[f'latency {stage} ms'] = f'{mean_ms:.1f}'
        status = DiagnosticStatus(name=f'{self.get_fully_qualified_name()}: face perception',
                                  hardware_id=self._pipeline_config.device)
        if window['bad']:
            status.level = DiagnosticStatus.WARN
            status.message = f'{window["bad"]} bad input frames'
        else:
            status.level = DiagnosticStatus.OK
            status.message = 'paused' if paused else 'running'
        status.values = [KeyValue(key=k, value=v) for k, v in values.items()]
        msg = DiagnosticArray(status=[status])
        msg.header.stamp = self.get_clock().now().to_msg()
        self._diagnostics_pub.publish(msg)

    def destroy_node(self):
        """Stop the worker and the annotator (each finishes the frame in hand), then destroy."""
        if not hasattr(self, '_worker'):
            # __init__ failed before the worker existed (bad parameter or model).
            super().destroy_node()
            return
        with self._frame_ready:
            self._stopping = True
            self._frame_ready.notify_all()
        with self._annotation_ready:
            self._annotation_ready.notify_all()
        for thread in (self._worker, self._annotator):
            if thread.is_alive():
                thread.join(WORKER_JOIN_TIMEOUT_SEC)
        super().destroy_node()


def main(args=None):
    """Run the node until Ctrl-C, SIGTERM or shutdown; exit 1 with one line on bad start-up."""
    # rclpy's own handlers turn both SIGINT and SIGTERM into a clean shutdown of spin().
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.ALL)
    core_logger = logging.getLogger(CORE_LOGGER)
    core_logger.addHandler(RclpyLogHandler(rclpy.logging.get_logger(NODE_NAME)))
    core_logger.setLevel(logging.INFO)
    core_logger.propagate = False
    node: Optional[FaceSenseNode] = None
    failure = None
    try:
        node = FaceSenseNode()
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except (StartupError,) + STARTUP_ERRORS as e:
        failure = str(e)
        rclpy.logging.get_logger(NODE_NAME).error(failure)
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    if failure is not None:
        sys.exit(1)


if __name__ == '__main__':
    main()
