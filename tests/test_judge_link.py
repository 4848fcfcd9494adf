"""The judge's link to a student's kernel: requests, callbacks, prints, time limits and a
kernel whose student broke the agent, against a real (unsandboxed) Jupyter kernel."""

from __future__ import annotations

import sys
import time

import numpy as np
import pytest

from autograder.judge import KernelGone, KernelLink
from dlcourse import remote

STUDENT_CODE = '''
import numpy as np
def double(x):
    return 2 * np.asarray(x)
def chatty(n):
    for i in range(n):
        print("line", i)
    return n
def apply(f, x):
    return f(x) + 1
def spin():
    while True:
        pass
def die():
    import os
    os._exit(3)
secret = 41
'''


@pytest.fixture
def kernel():
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3", extra_arguments=[
        "--HistoryManager.enabled=False"])
    client.execute_interactive(STUDENT_CODE, timeout=60)
    links = []

    def link(timeout: float = 30):
        made = KernelLink(manager.get_connection_info(session=False),
                          manager.provisioner.process.pid, timeout)
        links.append(made)
        return made

    yield client, link
    for made in links:
        made.close()
    client.stop_channels()
    manager.shutdown_kernel(now=True)


def test_values_calls_and_callbacks_cross_as_data(kernel):
    client, link = kernel
    judge = link()
    assert judge.name("secret") == 41
    np.testing.assert_array_equal(judge.name("double")([1, 2]), [2, 4])
    assert judge.agent is True                       # answered on the agent's own socket
    assert judge.name("apply")(lambda x: x * 10, 4) == 41   # the lambda ran in the judge
    with pytest.raises(NameError, match="not defined in your notebook"):
        judge.name("nothing")


def test_what_the_students_code_prints_is_kept_and_bounded(kernel):
    client, link = kernel
    judge = link()
    assert judge.name("chatty")(3) == 3
    assert judge.printed.getvalue() == "line 0\nline 1\nline 2\n"
    judge.printed.truncate(0), judge.printed.seek(0)
    assert judge.name("chatty")(100_000) == 100_000   # an output flood is cut, not sent
    assert len(judge.printed.getvalue()) <= remote.MAX_PRINTED_CHARS


def test_an_endless_loop_is_interrupted_and_the_kernel_answers_again(kernel):
    client, link = kernel
    judge = link(timeout=3)
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="did not finish within 3 s"):
        judge.name("spin")()
    assert time.monotonic() - started < 20
    assert judge.name("secret") == 41              # the late answer is not taken for this one


def test_a_broken_agent_falls_back_to_cells(kernel):
    client, link = kernel
    # the student replaced the agent's installer: requests then go through cells
    client.execute_interactive("import dlcourse.remote as r\nr.install = lambda address: None",
                               timeout=30)
    judge = link()
    assert judge.name("secret") == 41 and judge.agent is False
    assert judge.name("apply")(lambda x: x * 10, 4) == 41  # callbacks over Jupyter's stdin
    assert judge.name("chatty")(2) == 2 and "line 1" in judge.printed.getvalue()


def test_a_kernel_that_dies_during_a_call_is_reported(kernel):
    client, link = kernel
    judge = link()
    with pytest.raises(KernelGone, match="kernel died"):
        judge.name("die")()


def test_the_agent_lets_the_kernel_shut_down_by_itself():
    """The agent's socket must not keep the kernel's ZMQ context from terminating (the
    kernel would hang at exit until it is killed, seconds per submission)."""
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3")
    judge = KernelLink(manager.get_connection_info(session=False),
                       manager.provisioner.process.pid, 30)
    try:
        assert judge.request("ping") is None and judge.agent is True
        process = manager.provisioner.process
        manager.request_shutdown()
        try:
            code = process.wait(timeout=20)
        except Exception:
            code = None
        assert code == 0, "the kernel did not exit by itself after a shutdown request"
    finally:
        judge.close()
        client.stop_channels()
        manager.shutdown_kernel(now=True)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))

