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
``facesense_node``: the managed (lifecycle) ROS 2 node ``facesense`` around FacePerception.

It only wires, in named phases. Construction: parameters (declared, validated live), the
``~/enable`` service, /diagnostics. ``on_configure``: parameters read and checked, models
loaded, output interfaces created. ``on_activate``: publishers on, workers started, input
subscribed. ``on_deactivate`` undoes that (models kept), ``on_cleanup`` releases the models.
``autostart`` (default true) configures and activates at start-up, as a plain node would.

Input: ``image_raw`` (or ``image_raw/compressed``); only the newest frame is processed, on a
worker thread (handoff.LatestWorker). Outputs: ``faces/detections`` (every processed frame),
``faces/label_info`` (latched), ``faces/image`` (only while someone subscribes), REP-155 and
``/diagnostics`` (every state; stats.py). See docs/interfaces.md.
"""

import ctypes
import ctypes.util
import gc
import logging
import os
import sys
import threading
import time
from typing import Callable, Optional

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from facesense_ros import model_store
from facesense_ros.config import (check_parameter, PARAMETERS, PipelineConfig, reload_needed,
                                  TrackingConfig)
from facesense_ros.conversions import (bgr_to_image_msg, compressed_msg_to_bgr,
                                       faces_to_detections, image_msg_to_bgr, label_info)
from facesense_ros.depth_input import DepthInput
from facesense_ros.drawing import annotate
from facesense_ros.encodings import ImageFormatError, OversizedImageError
from facesense_ros.handoff import LatestWorker
from facesense_ros.identity_ros import NodeIdentity
from facesense_ros.input_qos import FollowingSubscription, PUBLISHER_CHECK_PERIOD
from facesense_ros.perception import FacePerception
from facesense_ros.pipeline import FacePipeline, LoadCancelled
from facesense_ros.ros_parameters import declare_parameters, NODE_PARAMETERS, python_value
from facesense_ros.stats import diagnostic_report, NodeState, Stats
from facesense_ros.stop_signals import StopSignals
from rcl_interfaces.msg import SetParametersResult
import rclpy
from rclpy.exceptions import ParameterException
try:
    from rclpy.event_handler import SubscriptionEventCallbacks
except ImportError:
    # Humble: the same class, in the module Iron renamed.
    from rclpy.qos_event import SubscriptionEventCallbacks
from rclpy.executors import SingleThreadedExecutor
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
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
# How long deactivation waits for a worker to finish the frame in hand.
WORKER_JOIN_TIMEOUT_SEC = 5.0
# Errors that mean "this configuration cannot run": one line for the user, no traceback.
STARTUP_ERRORS = (model_store.ModelError, ValueError, ParameterException)
# The main loop spins this long at most before looking at the stop request again: the bound on
# how long a signal waits (a Python signal handler cannot interrupt the executor's wait).
SPIN_PERIOD_SEC = 0.1
SUCCESS = TransitionCallbackReturn.SUCCESS
FAILURE = TransitionCallbackReturn.FAILURE


class RclpyLogHandler(logging.Handler):
    """Forward the core's Python logging ('facesense_ros': model files, downloads) to rclpy."""

    def __init__(self, logger):
        super().__init__()
        # The node's own logger once the node exists (its name includes the namespace).
        self.logger = logger

    def emit(self, record):
        """Log ``record`` through the rclpy logger at the same severity."""
        message = self.format(record)
        if record.levelno >= logging.ERROR:
            self.logger.error(message)
        elif record.levelno >= logging.WARNING:
            self.logger.warning(message)
        elif record.levelno >= logging.INFO:
            self.logger.info(message)
        else:
            self.logger.debug(message)


class StartupError(RuntimeError):
    """The node cannot start with the given parameters; the message names the culprit."""


def _check_model_dir(model_dir: str):
    # The model store also searches $FACESENSE_MODEL_DIR and its cache, and may download:
    # a model_dir that was given but does not exist is a mistake to report, not to paper over.
    if model_dir and not os.path.isdir(model_dir):
        raise StartupError(f'parameter model_dir: {model_dir} is not a directory (expected '
                           'one holding intel/<model>/<precision>/<model>.xml and .bin)')


def _return_freed_memory():
    """Hand the heap pages freed by released models back to the system (glibc keeps them)."""
    gc.collect()
    libc = ctypes.util.find_library('c')
    if libc:
        trim = getattr(ctypes.CDLL(libc), 'malloc_trim', None)
        if trim is not None:
            trim(0)


class FaceSenseNode(LifecycleNode):
    """Face detection, attributes and tracking on every newest frame; see the module doc."""

    def __init__(self, cancelled: Callable[[], bool] = lambda: False, **kwargs):
        """Declare the parameters; ``cancelled()`` true stops a configuration between models."""
        super().__init__(NODE_NAME, **kwargs)
        self._cancelled = lambda: cancelled() or not self.context.ok()
        # Lifecycle state as the callbacks leave it; /diagnostics reports it.
        self.lifecycle_state = 'unconfigured'
        # The one line of the last failed configuration ('' once configured).
        self.failure = ''
        self._declare_parameters()
        self.autostart = self.get_parameter('autostart').value
        self._stats = Stats()
        # ~/enable: the user's pause, independent of the manager's activate/deactivate.
        self._user_enabled = True
        # Guards the pipeline/perception objects between the worker and parameter changes.
        self._perception_lock = threading.Lock()
        self._reset_configuration()
        self._hri = None
        self._hri_started = False
        self._diagnostics_pub = self.create_publisher(DiagnosticArray, '/diagnostics',
                                                      DIAGNOSTICS_QOS)
        self._enable_srv = self.create_service(SetBool, '~/enable', self._on_enable)
        self._diagnostics_timer = self.create_timer(
            self.get_parameter('diagnostics_period').value, self._publish_diagnostics)
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self._guard_change_state()

    def _guard_change_state(self):
        # A transition the state machine does not have (e.g. configure while active) raises
        # RCLError out of Humble's and Jazzy's ChangeState service callback, which would end
        # the spin; Kilted answers it with failure. Answer it with failure everywhere.
        service = getattr(self, '_service_change_state', None)
        if service is None:
            return
        change_state = service.callback

        def guarded(request, response):
            try:
                return change_state(request, response)
            except RuntimeError as e:
                self.get_logger().error(f'lifecycle transition {request.transition.id} '
                                        f'refused in state {self.lifecycle_state}: {e}')
                response.success = False
                return response
        service.callback = guarded

    def _reset_configuration(self):
        """Forget everything on_configure made (the unconfigured state)."""
        self._values = None
        self._pipeline_config = self._tracking_config = None
        self._pipeline = self._perception = None
        self._identity = None
        self._depth = None
        self._input = self._input_reliability = None
        self._input_topic_name = ''
        self._outputs = {}
        self._frames = self._annotations = None
        self._publishers_timer = None

    # --- lifecycle ----------------------------------------------------------------------------

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Read and check the parameters, load the models, create the outputs."""
        try:
            self._configure_parameters()
            self._configure_models()
        except LoadCancelled:
            self._release()
            self.get_logger().info('configuration stopped: the node is shutting down')
            return FAILURE
        except (StartupError,) + STARTUP_ERRORS as e:
            self._release()
            self.failure = str(e)
            self.get_logger().error(self.failure)
            return FAILURE
        self._configure_interfaces()
        self.failure = ''
        self.lifecycle_state = 'inactive'
        self.get_logger().info(f'configured: {len(self._model_files())} models loaded')
        return SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Turn the publishers on, start the workers, subscribe the input (unless paused)."""
        result = super().on_activate(state)
        self.lifecycle_state = 'active'
        self._publish_label_info()
        self._start_workers()
        if self._user_enabled:
            self._subscribe()
            self._depth.start()
        if self._input_reliability.auto:
            self._publishers_timer = self.create_timer(PUBLISHER_CHECK_PERIOD,
                                                       self._check_publishers)
        self.get_logger().info(
            f'ready: {self._input_topic_name} ({self._input_reliability.describe()}, depth '
            f'{self._input_depth}) -> faces/detections'
            + ('' if self._user_enabled else ' (paused by ~/enable)'))
        return result

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Unsubscribe and stop the workers (nothing more is published); keep the models."""
        self._stop_processing()
        self.lifecycle_state = 'inactive'
        self.get_logger().info('inactive: input unsubscribed, models kept')
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Destroy the outputs and release the models and their memory."""
        self._release()
        self.lifecycle_state = 'unconfigured'
        self.get_logger().info('unconfigured: models released')
        return super().on_cleanup(state)

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Stop and release whatever the state had (unconfigured, inactive or active)."""
        self._stop_processing()
        self._release()
        self.lifecycle_state = 'finalized'
        return super().on_shutdown(state)

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Back to unconfigured, whatever failed."""
        self._stop_processing()
        self._release()
        self.lifecycle_state = 'unconfigured'
        return super().on_error(state)

    # --- phase: parameters --------------------------------------------------------------------

    def _declare_parameters(self):
        # The core's lines (model files) under this node's logger, namespace included: one
        # logger name per node ([demo.facesense], not also [facesense]).
        for handler in logging.getLogger(CORE_LOGGER).handlers:
            if isinstance(handler, RclpyLogHandler):
                handler.logger = self.get_logger()
        declare_parameters(self)

    def _configure_parameters(self):
        """Read every parameter and check it; raise StartupError/ValueError naming it."""
        values = {name: python_value(self.get_parameter(name).value) for name in PARAMETERS}
        node_values = {name: self.get_parameter(name).value for name in NODE_PARAMETERS}
        for name, value in node_values.items():
            reason = NODE_PARAMETERS[name].check(value)
            if reason:
                raise StartupError(f'parameter {reason}')
        self._pipeline_config = PipelineConfig.from_dict(values)
        self._tracking_config = TrackingConfig.from_dict(values)
        _check_model_dir(self._pipeline_config.model_dir)
        self._values = values
        self._compressed = node_values['input_transport'] == 'compressed'
        self._input_depth = node_values['qos_depth']
        # Our own line instead of rclpy's "offering incompatible QoS. No messages will be
        # received from it", which reads as a failure while auto is about to follow.
        self._input = FollowingSubscription(
            self, CompressedImage if self._compressed else Image, self._input_topic(),
            self._on_image, self._input_depth, node_values['reliability'],
            SubscriptionEventCallbacks(incompatible_qos=self._on_incompatible_publisher))
        self._input_reliability = self._input.reliability
        self._reliability = node_values['reliability']
        # Read by the worker once per frame, replaced whole by a live change: no lock needed.
        self._max_input_pixels = node_values['max_input_pixels']
        self._hri_wanted = node_values['hri']
        self._input_topic_name = self.resolve_topic_name(self._input_topic())

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
        if not updates or self._pipeline is None:
            # Unconfigured: checked now, read by the next on_configure.
            return SetParametersResult(successful=True)
        return self._apply_live(updates)

    def _apply_live(self, updates) -> SetParametersResult:
        """Apply perception parameters to the loaded models (inactive or active alike)."""
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
                # Built while the old pipeline keeps working; swapped in only if it loads.
                new_pipeline = FacePipeline(pipeline_config, cancelled=self._cancelled)
            except LoadCancelled as e:
                return SetParametersResult(successful=False, reason=str(e))
            except (StartupError,) + STARTUP_ERRORS as e:
                self.get_logger().error(f'parameter change refused, models kept: {e}')
                return SetParametersResult(successful=False, reason=str(e))
        with self._perception_lock:
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

    # --- phase: models ------------------------------------------------------------------------

    def _configure_models(self):
        """Open the face gallery (identity on), load and check every enabled model."""
        # The gallery first: an unreadable file fails before seconds of model loading.
        self._identity = NodeIdentity(self, self._values)
        # Stops between models when cancelled.
        self._pipeline = FacePipeline(self._pipeline_config, cancelled=self._cancelled)
        self._perception = FacePerception(self._pipeline, self._tracking_config,
                                          gallery=self._identity.gallery)

    def _release_models(self):
        self._pipeline = self._perception = None
        _return_freed_memory()

    def _model_files(self):
        if self._pipeline is None:
            return []
        return [str(m.path) for m in self._pipeline.models.values()]

    # --- phase: interfaces --------------------------------------------------------------------

    def _configure_interfaces(self):
        """Create the (lifecycle) output publishers and, once, the REP-155 outputs."""
        self._outputs = {
            'detections': self.create_lifecycle_publisher(
                Detection2DArray, 'faces/detections', DETECTIONS_QOS),
            'image': self.create_lifecycle_publisher(Image, 'faces/image', IMAGE_QOS),
            'label_info': self.create_lifecycle_publisher(
                LabelInfo, 'faces/label_info', LABEL_INFO_QOS),
        }
        if not self._hri_started:
            # hri is read-only: made once, its per-face publishers released on cleanup.
            self._hri_started = True
            self._hri = self._start_hri(self._hri_wanted)
        elif self._hri is not None:
            self.get_logger().info(f'REP-155 face ids now {self._hri.prefix}_<track id>')
        self._identity.start(self._hri)
        # camera_info, depth/image_raw (while active) and faces/detections_3d (depth_input.py).
        self._depth = DepthInput(self, self._tracking_config, lambda: self._max_input_pixels,
                                 self._reliability)

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

    def _release(self):
        """Destroy the outputs, release the models: back to unconfigured (idempotent)."""
        for publisher in self._outputs.values():
            self.destroy_lifecycle_publisher(publisher)
        if self._hri is not None and self._pipeline is not None:
            self._hri.restart()
        if self._identity is not None:
            self._identity.close()
        if self._depth is not None:
            self._depth.close()
        self._reset_configuration()
        self._release_models()

    def _input_topic(self) -> str:
        return 'image_raw/compressed' if self._compressed else 'image_raw'

    def _subscribe(self):
        self._input.subscribe()

    def _on_incompatible_publisher(self, event):
        if self._input_reliability.auto:
            self.get_logger().info(
                f'input: a new publisher of {self._input_topic_name} offers best_effort only; '
                f'reliability auto re-subscribes to match it within {PUBLISHER_CHECK_PERIOD:g} s')
        else:
            self.get_logger().warning(
                f'input: a publisher of {self._input_topic_name} offers QoS the '
                f'{self._input_reliability.describe()} subscription cannot match: its frames '
                'are not received (parameter reliability: auto or best_effort matches it)',
                throttle_duration_sec=WARN_THROTTLE_SEC)

    def _unsubscribe(self):
        if self._input is not None:
            self._input.unsubscribe()

    def _check_publishers(self):
        # reliability auto: the publishers' offer is only read when subscribing (with
        # BEST_AVAILABLE too), so a camera started or replaced later is followed from here.
        change = self._input.follow()
        if change:
            self.get_logger().info(f'input reliability {change}: the publishers changed')

    def _on_image(self, msg):
        self._stats.count('input')
        if self._frames is not None and self._frames.offer(msg):
            self._stats.count('dropped')

    def _on_enable(self, request, response):
        changed = request.data != self._user_enabled
        self._user_enabled = request.data
        if changed and self.lifecycle_state == 'active':
            if request.data:
                self._subscribe()
                self._depth.start()
            else:
                self._unsubscribe()
                self._depth.stop()
                self._frames.clear()
        response.success = True
        word = 'enabled' if request.data else 'paused'
        response.message = word if changed else f'already {word}'
        if self.lifecycle_state != 'active':
            response.message += f' (takes effect when active; now {self.lifecycle_state})'
        self.get_logger().info(f'~/enable: {response.message}')
        return response

    # --- phase: workers -----------------------------------------------------------------------

    def _start_workers(self):
        self._frames = LatestWorker('facesense_worker', self._process)
        # The annotated image is drawn and published on a thread of its own, newest frame only:
        # a reliable 900 KB image to a reader on this machine going as UDP fragments held
        # publish() for hundreds of ms (bench/NOTES.md section 12); that must not hold the next
        # frame's detections.
        self._annotations = LatestWorker('facesense_annotator', self._annotate)

    def _stop_processing(self):
        """Unsubscribe, stop the workers (each finishes the frame in hand); idempotent."""
        if self._publishers_timer is not None:
            self._publishers_timer.cancel()
            self.destroy_timer(self._publishers_timer)
            self._publishers_timer = None
        self._unsubscribe()
        for worker in (self._frames, self._annotations):
            if worker is not None:
                worker.stop(WORKER_JOIN_TIMEOUT_SEC)
        self._frames = self._annotations = None
        if self._depth is not None:
            self._depth.stop()

    def _process(self, msg):
        """One frame: convert, perceive, publish (the worker thread's steps)."""
        start = time.perf_counter()
        frame = self._convert(msg)
        if frame is None:
            return
        converted = time.perf_counter()
        result = self._perceive(frame, msg.header)
        if result is None:
            return
        self._locate(msg.header, frame, result)
        processed = time.perf_counter()
        faces, timings = self._publish_outputs(msg.header, frame, result)
        self._stats.frame_done(len(faces), {
            'convert': converted - start,
            'detect': timings.get('detect', 0.0),
            'tracking': timings.get('tracking', 0.0),
            'attributes': timings.get('attributes', 0.0),
            'identity': timings.get('identity', 0.0),
            'publish': time.perf_counter() - processed,
        })

    def _convert(self, msg):
        """Return the frame as BGR, or None (counted, warned) when it is bad."""
        try:
            convert = compressed_msg_to_bgr if self._compressed else image_msg_to_bgr
            return convert(msg, self._max_input_pixels)
        except ImageFormatError as e:
            self._stats.count('bad')
            if isinstance(e, OversizedImageError):
                self._stats.count('oversized')
            self.get_logger().warning(f'frame skipped: {e}',
                                      throttle_duration_sec=WARN_THROTTLE_SEC)
            return None

    def _perceive(self, frame, header):
        """Run detection, tracking and attributes; None (counted) when inference fails."""
        stamp = header.stamp.sec + header.stamp.nanosec * 1e-9
        if stamp == 0.0:
            # Tracking needs time to advance: unstamped input gets the arrival time.
            stamp = self.get_clock().now().nanoseconds * 1e-9
        try:
            with self._perception_lock:
                perception = self._perception
                return {
                    'faces': perception.process(frame, stamp),
                    'timings': dict(perception.last_timings),
                    # Faces the detector missed this frame are still hidden in the image.
                    'lost_boxes': list(perception.lost_boxes),
                    'alive_ids': perception.active_ids,
                    'tracking': self._tracking_config,
                    'stamp': stamp,
                }
        except (RuntimeError, ValueError) as e:
            # OpenVINO reports inference failures as RuntimeError: skip the frame, go on.
            self._stats.count('failed')
            self.get_logger().error(f'frame failed: {e}', throttle_duration_sec=WARN_THROTTLE_SEC)
            return None

    def _locate(self, header, frame, result):
        """Set every face's position (depth or monocular) and build faces/detections_3d."""
        tracking = result['tracking']
        try:
            intrinsics, result['faces'] = self._depth.locate(
                header, (frame.shape[1], frame.shape[0]), result['faces'], result['stamp'])
        except ValueError as e:
            # Not expected (depth.py turns bad input into reasons): the frame keeps its 2D
            # results and REP-155 output, without positions.
            intrinsics = None
            self.get_logger().error(f'3D positions failed: {e}',
                                    throttle_duration_sec=WARN_THROTTLE_SEC)
        limits = (tracking.attention_yaw, tracking.attention_pitch)
        result['detections_3d'] = self._depth.message(header, result['faces'], intrinsics, limits)

    def _publish_outputs(self, header, frame, result):
        """Publish detections (2D, 3D), REP-155 and (if watched) the annotated image."""
        faces, tracking = result['faces'], result['tracking']
        attention_limits = (tracking.attention_yaw, tracking.attention_pitch)
        self._frame_id = header.frame_id
        if self._identity.names_changed():
            # Before the first detection that carries a new identity:name:<name> class.
            self._publish_label_info()
        self._outputs['detections'].publish(
            faces_to_detections(faces, header, attention_limits))
        self._depth.publish(result['detections_3d'])
        if self._hri is not None:
            self._hri.publish(header, frame, faces, result['alive_ids'])
        self._identity.after_frame(faces, result['alive_ids'])
        if self._outputs['image'].get_subscription_count() > 0:
            # An image not drawn yet is replaced: viewers want the newest frame.
            self._annotations.offer((frame, faces, tracking.privacy_mode, result['lost_boxes'],
                                     header))
        return faces, result['timings']

    def _annotate(self, job):
        frame, faces, privacy_mode, hidden_boxes, header = job
        annotated = annotate(frame, faces, privacy_mode, hidden_boxes=hidden_boxes)
        self._outputs['image'].publish(bgr_to_image_msg(annotated, header))
        self._stats.count('annotated')

    # --- outputs in every state ---------------------------------------------------------------

    def _publish_label_info(self):
        if self.lifecycle_state != 'active':
            # Latched: published on activation with the threshold then in effect.
            return
        header = Header(stamp=self.get_clock().now().to_msg(),
                        frame_id=getattr(self, '_frame_id', ''))
        self._outputs['label_info'].publish(
            label_info(header, self._pipeline_config.confidence_threshold, self._identity.names))

    def _publish_diagnostics(self):
        seconds, window, totals = self._stats.take_window()
        state = NodeState(
            lifecycle=self.lifecycle_state, paused=not self._user_enabled,
            input_topic=self._input_topic_name,
            input_reliability=(self._input_reliability.describe()
                               if self._input_reliability is not None else ''),
            model_files=tuple(self._model_files()),
            device=self._pipeline_config.device if self._pipeline_config else '',
            failure=self.failure)
        level, message, values = diagnostic_report(seconds, window, totals, state)
        status = DiagnosticStatus(name=f'{self.get_fully_qualified_name()}: face perception',
                                  hardware_id=state.device, level=getattr(DiagnosticStatus,
                                                                          level),
                                  message=message)
        for part in (self._identity, self._depth):
            if part is not None:
                values = list(values) + list(part.diagnostics_values().items())
        status.values = [KeyValue(key=k, value=v) for k, v in values]
        msg = DiagnosticArray(status=[status])
        msg.header.stamp = self.get_clock().now().to_msg()
        self._diagnostics_pub.publish(msg)

    def destroy_node(self):
        """Stop the workers (each finishes the frame in hand), release, then destroy."""
        if hasattr(self, '_frames'):
            self._stop_processing()
            self._release()
        super().destroy_node()


def _spin_until_stopped(node: FaceSenseNode, stop: StopSignals):
    executor = SingleThreadedExecutor(context=node.context)
    executor.add_node(node)
    try:
        while not stop.requested and node.context.ok():
            executor.spin_once(timeout_sec=SPIN_PERIOD_SEC)
    finally:
        executor.shutdown()


def run(stop: StopSignals, args=None) -> int:
    """Run the node until a stop request or shutdown; return the exit code (1: bad start-up)."""
    if stop.requested:
        return 0
    # The signals are ours (StopSignals): ROS is shut down here, after the node is torn down.
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    core_logger = logging.getLogger(CORE_LOGGER)
    handler = RclpyLogHandler(rclpy.logging.get_logger(NODE_NAME))
    core_logger.addHandler(handler)
    core_logger.setLevel(logging.INFO)
    core_logger.propagate = False
    node: Optional[FaceSenseNode] = None
    code = 0
    try:
        node = FaceSenseNode(cancelled=lambda: stop.requested)
        if node.autostart and not stop.requested:
            if node.trigger_configure() != SUCCESS:
                # The one line was logged by on_configure (nothing when a signal stopped it).
                code = 0 if stop.requested else 1
            elif not stop.requested:
                node.trigger_activate()
        if code == 0:
            _spin_until_stopped(node, stop)
    except (StartupError,) + STARTUP_ERRORS as e:
        # Raised while declaring the parameters (a value outside its declared range).
        handler.logger.error(str(e))
        code = 1
    finally:
        if node is not None:
            node.destroy_node()
        core_logger.removeHandler(handler)
        rclpy.try_shutdown()
    return code


def main(args=None):
    """Run the node until Ctrl-C, SIGTERM or shutdown; exit 1 with one line on bad start-up."""
    sys.exit(run(StopSignals.install(), args))


if __name__ == '__main__':
    main()
