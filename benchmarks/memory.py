"""Peak resident memory of this process's children, polled in a thread (benchmarks only)."""

from __future__ import annotations

import threading
import time

import psutil


class PeakChildMemory:
    """``with PeakChildMemory() as m: ...`` then ``m.peak`` in bytes.

    Args:
        per_child: measure each direct child's process tree separately and keep the largest
            (one grading worker with its kernel); otherwise the sum over all descendants
            (the kernel of a notebook run in this process).
        interval: seconds between polls.
    """

    def __init__(self, per_child: bool = False, interval: float = 0.2):
        self.per_child, self.interval = per_child, interval
        self.peak, self._stop = 0, threading.Event()

    def _tree_rss(self, processes) -> int:
        total = 0
        for process in processes:
            try:
                total += process.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _run(self):
        me = psutil.Process()
        while not self._stop.is_set():
            try:
                if self.per_child:
                    for child in me.children():
                        self.peak = max(self.peak, self._tree_rss(
                            [child] + child.children(recursive=True)))
                else:
                    self.peak = max(self.peak, self._tree_rss(me.children(recursive=True)))
            except psutil.Error:
                pass
            time.sleep(self.interval)

    def __enter__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
