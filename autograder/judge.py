"""The judge: graded test cells run here, in the grader's process, never in the kernel.

nbgrader still drives the notebook (restoring cells, executing, scoring, feedback), but
:class:`JudgedExecute` hands every graded test cell to a :class:`Judge` instead of the
student's kernel. The judge

1. runs the trusted statements of the instructor's *source* notebook that the test needs
   (its prelude, from :mod:`autograder.judge_plan`): imports, helpers, data sets,
   references and thresholds are computed here;
2. binds the names the test reads from the student's work, fetched through a
   :class:`KernelLink` as data (or as :class:`dlcourse.remote.RemoteObject` handles);
3. runs the test's source and turns what happened into nbgrader outputs: an ``error``
   output is a failed check, exactly as if the cell had failed in the kernel.

So student code can only influence the *data* a check receives: patching the kernel,
its builtins, NumPy, Keras or ``dlcourse.checks`` changes nothing the judge computes. A
hidden test's source never enters the kernel (only the inputs it passes to the student's
code, and code it runs there through ``dlcourse.remote.in_kernel``), and its feedback
shows the docstring and the message, not the code.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import io
import json
import linecache
import os
import sys
import time
import traceback

from jupyter_core.utils import ensure_async, run_sync
from nbformat.v4 import new_output
import numpy as np
from traitlets import Unicode

from autograder.judge_plan import JudgePlan
from autograder.notebooks import grade_id as cell_grade_id
from autograder.notebooks import JUDGE_SECONDS, is_graded_test
from dlcourse import remote

MAX_REPLY_BYTES = 512 * 2**20      # one answer from the kernel (a huge one is refused)
MAX_STREAM_CHARS = remote.MAX_PRINTED_CHARS   # what a test may print into its feedback


class KernelGone(Exception):
    """The student's kernel died or stopped answering while a check asked it something."""


class KernelLink:
    """The judge's connection to the student's kernel (a second Jupyter client)."""

    def __init__(self, connection_info: dict, kernel_pid: int | None, timeout: float):
        from jupyter_client import BlockingKernelClient

        self.timeout = timeout
        self.kernel_pid = kernel_pid
        self.connection_info = connection_info
        self.symbolic_inputs: list = []
        self.sent_keras: list = []
        self.callbacks: dict = {}
        self.dropped: list = []           # kernel handles the judge no longer refers to
        self.socket = None                # the agent's own channel (remote.install)
        self.agent: bool | None = None    # does the agent answer on it?
        self.last_id = 0
        self.printed = remote.BoundedText()   # what the student's code printed
        self.client = BlockingKernelClient()
        self.client.load_connection_info(connection_info)
        self.client.start_channels()
        import zmq

        self.client.iopub_channel.socket.setsockopt(zmq.MAXMSGSIZE, MAX_REPLY_BYTES)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.stop_channels()
        if self.socket is not None:
            self.socket.close(linger=0)

    # -- requests ------------------------------------------------------------------------
    def request(self, op: str, **fields):
        """Ask the kernel one thing; its answer, parsed as data (see dlcourse.remote)."""
        dropped, self.dropped = self.dropped, []
        payload = json.dumps({"op": op, "drop": dropped, **fields})
        if self.agent is None:
            self.agent = self._install_agent()
        if self.agent:
            reply = self._ask(payload, self.timeout)
        else:  # the agent could not be installed: ask through a cell
            code = (f"__import__('dlcourse.remote', fromlist=['serve']).serve("
                    f"{json.dumps(payload)})")
            reply = self._wait(self.client.execute(code, silent=False, store_history=False,
                                                   allow_stdin=True), self.timeout)
        if type(reply) is not dict:
            raise KernelGone("your kernel did not answer the check (was the notebook's "
                             "input or output machinery changed?)")
        if reply.get("ok") is True:
            value = remote.decode(reply.get("value"), self)
            self._sync_back(reply.get("synced"))
            return value
        error = reply.get("error")
        raise remote.error_from_reply(error if type(error) is dict else {})

    def _install_agent(self) -> bool:
        """Open the agent's channel: a ZMQ socket of the judge's (a Unix socket beside the
        kernel's own when the kernel is sandboxed, else loopback TCP) that the kernel
        connects to in one cell. If it does not answer (the student's code changed how
        cells or the event loop run), requests go as cells."""
        import uuid

        import zmq

        self.socket = zmq.Context.instance().socket(zmq.PAIR)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.setsockopt(zmq.MAXMSGSIZE, MAX_REPLY_BYTES)
        if self.connection_info.get("transport") == "ipc":
            folder = os.path.dirname(str(self.connection_info["ip"]))
            address = f"ipc://{folder}/judge-{uuid.uuid4().hex[:12]}"
            self.socket.bind(address)
        else:
            port = self.socket.bind_to_random_port("tcp://127.0.0.1")
            address = f"tcp://127.0.0.1:{port}"
        code = f"__import__('dlcourse.remote', fromlist=['install']).install({address!r})"
        self._wait(self.client.execute(code, silent=True, store_history=False), 60)
        try:
            return type(self._ask(json.dumps({"op": "ping"}), 10)) is dict
        except (TimeoutError, KernelGone):
            return False

    def _ask(self, payload: str, timeout: float):
        """Send one request on the agent's channel and wait for its answer, running the
        callbacks the student's code makes meanwhile."""
        import zmq

        self.last_id += 1
        ident = self.last_id
        deadline = time.monotonic() + timeout
        # a PAIR socket takes a message only once the kernel's end is connected
        if not self.socket.poll(int(min(timeout, 10) * 1000), zmq.POLLOUT):
            raise KernelGone("your kernel's end of the check's channel is not connected")
        self.socket.send_string(json.dumps({"id": ident, "request": payload}), zmq.NOBLOCK)
        while True:
            if not self._ready(self.socket.poll, deadline, timeout):
                continue
            try:
                message = json.loads(self.socket.recv_string())
            except ValueError:  # not JSON text: not an answer
                continue
            if type(message) is not dict:
                continue
            if "callback" in message:
                self.socket.send_string(json.dumps(self._run_callback(message)), zmq.NOBLOCK)
                continue
            if message.get("id") != ident:  # a late answer to an interrupted request
                continue
            printed = message.get("printed")
            if type(printed) is str:
                self.printed.write(printed)
            return message.get("reply")

    def _ready(self, poll, deadline: float, timeout: float) -> bool:
        """Wait (up to a second) for ``poll(milliseconds)`` to see a message. Past the
        deadline the student's code is interrupted and TimeoutError raised; a kernel that
        died raises KernelGone."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            self._interrupt()
            raise TimeoutError(f"your code did not finish within {timeout:g} s when the "
                               "check called it (an endless loop? a very long training?)")
        if poll(int(min(remaining, 1.0) * 1000)):
            return True
        if self.kernel_pid and not _alive(self.kernel_pid):
            raise KernelGone("your kernel died while the check was running (a crash, "
                             "os._exit, or the memory limit)")
        return False

    def _wait(self, msg_id: str, timeout: float):
        """What a cell (``msg_id``) published, until the kernel is idle again: the answer
        of :func:`dlcourse.remote.serve`, serving callbacks over Jupyter's stdin channel and
        keeping what the student's code printed."""
        import zmq

        deadline = time.monotonic() + timeout
        reply, done = None, False
        poller = zmq.Poller()
        for channel in (self.client.shell_channel, self.client.iopub_channel,
                        self.client.stdin_channel):
            poller.register(channel.socket, zmq.POLLIN)
        while not done:
            if not self._ready(poller.poll, deadline, timeout):
                continue
            while self.client.stdin_channel.msg_ready():
                self._answer_input(self.client.get_stdin_msg(timeout=1))
            while self.client.shell_channel.msg_ready():  # execute replies: not needed
                self.client.get_shell_msg(timeout=1)
            while self.client.iopub_channel.msg_ready():
                msg = self.client.get_iopub_msg(timeout=1)
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind, content = msg["msg_type"], msg["content"]
                if kind == "display_data" and remote.MIME in content.get("data", {}):
                    reply = content["data"][remote.MIME]
                elif kind == "stream":
                    self.printed.write(str(content.get("text", "")))
                elif kind == "error" and reply is None:
                    reply = {"ok": False, "error": {"type": str(content.get("ename")),
                                                    "message": str(content.get("evalue"))}}
                elif kind == "status" and content.get("execution_state") == "idle":
                    done = True   # a cell's answer is complete when the kernel is idle
        return reply

    def _answer_input(self, msg) -> None:
        """An input request while a request cell runs: a callback asked over stdin."""
        prompt = str(msg.get("content", {}).get("prompt", ""))
        try:
            request = (json.loads(prompt[len(remote.CALLBACK_PROMPT):])
                       if prompt.startswith(remote.CALLBACK_PROMPT) else None)
        except ValueError:
            request = None
        self.client.input(json.dumps(self._run_callback(request)))

    def _run_callback(self, request) -> dict:
        """The student's code called a function the check passed to it: run it here."""
        try:
            if type(request) is not dict:
                raise ValueError("the notebook asked for input while a check was running")
            function = self.callbacks[int(request["callback"])]
            args = remote.decode(request["args"], self)
            kwargs = remote.decode(request["kwargs"], self)
            sent, self.sent_keras = self.sent_keras, []
            answer = {"ok": True, "value": self.encode(function(*args, **kwargs))}
            self.sent_keras = sent   # the answer's Keras objects need no syncing back
        except Exception as error:  # the check's function failed: the student's call fails
            answer = {"ok": False, "error": {"type": type(error).__name__,
                                             "message": str(error)[:4000]}}
        return answer

    def _sync_back(self, synced) -> None:
        """The weights of Keras objects the judge sent, after the kernel's code ran."""
        sent, self.sent_keras = self.sent_keras, []
        if type(synced) is not list or len(synced) != len(sent):
            return
        for obj, state in zip(sent, synced):
            if type(state) is not dict or type(state.get("weights")) is not list:
                continue
            arrays = [remote.decode({"t": "ndarray", "npy": w}) for w in state["weights"]]
            if [a.shape for a in arrays] == [tuple(w.shape) for w in obj.weights]:
                obj.set_weights(arrays)
            flags = state.get("trainable")
            parts = obj._flatten_layers(include_self=True, recursive=True)
            if type(flags) is list and len(flags) == len(parts):
                for layer, flag in zip(parts, flags):
                    layer.trainable = bool(flag)
            if type(state.get("compile")) is dict and not getattr(obj, "compiled", True):
                with contextlib.suppress(Exception):  # Keras' safe deserialiser decides
                    obj.compile_from_config(state["compile"])

    def _interrupt(self) -> None:
        """Stop the student's code (over the control channel: signals do not cross the
        sandbox), so the next check finds the kernel idle."""
        with contextlib.suppress(Exception):
            self.client.control_channel.send(self.client.session.msg("interrupt_request", {}))
            self.client.get_control_msg(timeout=10)

    def name(self, name: str):
        return self.request("name", name=name)

    def call(self, target, args, kwargs):
        self.symbolic_inputs, self.sent_keras = [], []
        return self.request("call", id=target._id, args=self.encode(tuple(args)),
                            kwargs=self.encode(dict(kwargs)))

    # -- judge-side values to the kernel ---------------------------------------------------
    def encode(self, value, depth: int = 0):
        if remote.is_remote(value):
            return {"t": "ref", "id": value._id}
        kind = type(value).__name__
        if kind == "KerasTensor":
            self.symbolic_inputs.append(value)
            return {"t": "symbolic", "slot": len(self.symbolic_inputs) - 1,
                    "shape": list(value.shape), "dtype": str(value.dtype)}
        if type(value) in (list, tuple, set, frozenset):
            return {"t": type(value).__name__, "v": [self.encode(v, depth + 1) for v in value]}
        if type(value) is dict:
            return {"t": "dict", "v": [[self.encode(k, depth + 1), self.encode(v, depth + 1)]
                                       for k, v in value.items()]}

        if _is_variable(value):
            return {"t": "tensor", "npy": remote.encode(np.asarray(value), None)["npy"]}
        if _is_keras_layer(value):
            import keras

            self.sent_keras.append(value)
            packed = {"t": "keras", "config": keras.saving.serialize_keras_object(value),
                      "weights": [remote.encode(np.asarray(w), None)["npy"]
                                  for w in value.get_weights()] if value.built else []}
            if getattr(value, "compiled", False):
                with contextlib.suppress(Exception):
                    packed["compile"] = value.get_compile_config()
            return packed

        if callable(value) and not isinstance(value, type):
            self.callbacks[len(self.callbacks) + 1] = value
            return {"t": "callback", "id": len(self.callbacks),
                    "name": getattr(value, "__name__", "function")}

        def refuse(obj):
            raise remote.NotTransferable(
                f"the check cannot pass a {type(obj).__name__} to your notebook's code")

        return remote.encode(value, refuse)


def _is_variable(value) -> bool:
    return type(value).__name__ in ("ResourceVariable", "UninitializedVariable", "Variable",
                                    "KerasVariable") and hasattr(value, "numpy")


def _is_keras_layer(value) -> bool:
    keras = sys.modules.get("keras")
    return keras is not None and isinstance(value, keras.layers.Layer)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is dead too
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


class Judge:
    """Runs one submission's test cells from the plan, in a namespace of its own."""

    def __init__(self, plan: JudgePlan, link: KernelLink):
        self.plan, self.link = plan, link
        remote._judge_link[0] = link   # dlcourse.remote.in_kernel sends its code there
        self.namespace: dict = {"__name__": "__judge__"}
        self.done: set[int] = set()
        self.prelude_errors: list[str] = []
        import matplotlib

        matplotlib.use("Agg")
        if "keras" in sys.modules:  # a TensorFlow lesson: start from a clean Keras state
            sys.modules["keras"].backend.clear_session(free_memory=False)
            gc.collect(1)   # a full collection costs ~0.5 s here; the worker's own gc runs

    def _run_prelude(self, indices) -> None:
        for index in sorted(set(indices) - self.done):
            self.done.add(index)
            source = self.plan.statements[index]
            try:
                with _captured():
                    exec(compile(source, f"<lesson statement {index}>", "exec"),
                         self.namespace)
            except Exception as error:  # an instructor statement failed: report, go on
                self.prelude_errors.append(f"{type(error).__name__}: {error}")

    def run_test(self, grade_id: str) -> list:
        """The nbgrader outputs of test cell ``grade_id``."""
        step = self.plan.steps[grade_id]
        self._run_prelude(step.prelude)
        self.link.printed = remote.BoundedText()
        bound = []
        outputs, printed = [], io.StringIO()
        error = None
        try:
            for name in step.kernel_names:
                try:
                    self.namespace[name] = self.link.name(name)
                    bound.append(name)
                except NameError:
                    self.namespace.pop(name, None)
            filename = f"<test {grade_id}>"
            if not step.hidden:  # visible tests show their lines in tracebacks
                linecache.cache[filename] = (len(step.source), None,
                                             step.source.splitlines(True), filename)
            code = compile(step.source, filename, "exec")
            with _captured(printed):
                exec(code, self.namespace)
        except BaseException as caught:  # noqa: B902: every failure is a verdict
            error = caught
        finally:
            for name in bound:
                self.namespace.pop(name, None)
            with contextlib.suppress(Exception):  # the kernel may free what the test used
                self.link.request("release")
            with contextlib.suppress(Exception):
                import matplotlib.pyplot as plt

                plt.close("all")
        text = (self.link.printed.getvalue() + printed.getvalue())[:MAX_STREAM_CHARS]
        where = getattr(error, "kernel_traceback", "")
        if where:  # the student's own code raised it: show them where, in their notebook
            text += "\nRaised in your notebook's code:\n" + where
        if text:
            outputs.append(new_output("stream", name="stdout", text=text))
        if error is not None:
            outputs.append(self._error_output(error, step.hidden))
        return outputs

    def _error_output(self, error: BaseException, hidden: bool):
        ename = type(error).__name__
        evalue = str(error)
        if isinstance(error, NotImplementedError) and not evalue:
            evalue = "your code raised NotImplementedError: this exercise is not done yet"
        if isinstance(error, remote.KernelError):
            ename, evalue = "ErrorInYourCode", evalue
        if isinstance(error, KernelGone):
            ename = "KernelDied"
        if self.prelude_errors:
            evalue += (" (the grader could not prepare this check: "
                       f"{self.prelude_errors[-1]})")
        if hidden:
            lines = [f"{ename}: {evalue}"]
        else:
            frames = [f for f in traceback.extract_tb(error.__traceback__)
                      if f.filename.startswith("<test")]
            lines = traceback.format_list(frames) + [f"{ename}: {evalue}"]
        return new_output("error", ename=ename, evalue=evalue, traceback=lines)


@contextlib.contextmanager
def _captured(stream=None):
    stream = stream if stream is not None else io.StringIO()
    with contextlib.redirect_stdout(stream), contextlib.redirect_stderr(stream):
        yield stream


def _load_plan(path: str) -> JudgePlan:
    with open(path) as handle:
        return JudgePlan.from_json(json.load(handle))


try:
    from nbgrader.preprocessors import Execute
except ImportError:  # dlcourse users without the grader extras never import this module
    Execute = object


class JudgedExecute(Execute):
    """nbgrader's Execute, with graded test cells judged outside the kernel."""

    plan_directory = Unicode("", help="folder of judge plans, <notebook>.json each "
                             "(autograder.judge_plan)").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        notebook = (resources or {}).get("nbgrader", {}).get("notebook", "")
        path = os.path.join(self.plan_directory, f"{notebook}.json")
        self._plan = _load_plan(path) if self.plan_directory and os.path.exists(path) else None
        self._judge = None
        try:
            return super().preprocess(nb, resources, km)
        finally:
            if self._judge is not None:
                self._judge.link.close()
                self._judge = None
                remote._judge_link[0] = None

    def create_kernel_manager(self):
        """The kernel is sandboxed without a network: it listens on Unix sockets (ZMQ
        ``ipc``) in the runtime folder, which the sandbox shares with the grader."""
        import uuid

        from jupyter_core.paths import jupyter_runtime_dir

        km = super().create_kernel_manager()
        km.transport = "ipc"
        km.connection_file = os.path.join(jupyter_runtime_dir(), f"kernel-{uuid.uuid4()}.json")
        km.ip = os.path.splitext(km.connection_file)[0] + "-ipc"
        return km

    def _get_judge(self) -> Judge:
        if self._judge is None:
            info = self.km.get_connection_info(session=False)
            pid = None
            with contextlib.suppress(Exception):
                pid = self.km.provisioner.process.pid
            self._judge = Judge(self._plan, KernelLink(info, pid, self.timeout or 300))
        return self._judge

    async def async_execute_cell(self, cell, cell_index, execution_count=None,
                                 store_history=True):
        grade_id = cell_grade_id(cell)
        if (self._plan is None or not is_graded_test(cell)
                or grade_id not in self._plan.steps):
            return await super().async_execute_cell(cell, cell_index, execution_count,
                                                    store_history)
        judge = self._get_judge()
        self.code_cells_executed += 1
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        cell.outputs = await loop.run_in_executor(None, judge.run_test, grade_id)
        # what the judge cost, beside nbclient's timing of the kernel's cells (nbformat
        # wants strings there)
        cell.metadata.setdefault("execution", {})[JUDGE_SECONDS] = (
            f"{time.perf_counter() - started:.4f}")
        cell.execution_count = execution_count
        await self._drain_iopub()
        return cell

    async def _drain_iopub(self) -> None:
        """Discard what the kernel published for the judge's requests: nbclient's own
        client reads IOPub too and would otherwise wade through thousands of foreign
        messages within its 4 s IOPub timeout of the next cell."""
        channel = self.kc.iopub_channel
        while await ensure_async(channel.msg_ready()):
            await ensure_async(channel.socket.recv_multipart())

    # nbclient binds its synchronous wrapper to the base class's coroutine: rebind it.
    execute_cell = run_sync(async_execute_cell)
