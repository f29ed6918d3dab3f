"""Processes that must not outlive the process that started them."""

from __future__ import annotations

import os
import signal
import threading
import time

CHECK_SECONDS = 0.5


def follow_parent(parent: int) -> None:
    """SIGTERM this process once `parent` (the pid of the process that started it, read
    there) is gone, so that it stops as it would on the operator's SIGTERM. A parent killed
    with -9 cannot tell its children; they would otherwise go on serving or taking jobs,
    unsupervised, for ever. The pid comes from the parent because a parent that died while
    this process was still starting would already have been replaced by init here."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(CHECK_SECONDS)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="forecourt-lifeline", daemon=True).start()
