"""Runs launch.py, SIGKILLing itself at the n-th matching file open: a crash at a known point.

    python tests/crash_worker.py <r|w|full> <glob> <n> <launch.py flags ...>

The process dies on the spot, as from a power cut or the OOM killer: no `finally`,
no atexit, no flush. It counts the opens (reads 'r' or writes 'w') of files whose
name matches the glob, from any thread, and dies when the n-th one starts. With
'full', the disk is full instead: from the n-th matching write on, every one
fails with OSError(ENOSPC), and the process goes on. Opens made by C++ code
(TensorStore, ArrayRecord) are not seen, so points are chosen on files Python
opens (images read or written, JSON, CSV, PNG, orbax's metadata).
"""

import builtins
import errno
import fnmatch
import io
import os
import signal
import sys
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _arm(kind: str, pattern: str, n: int) -> None:
  real_open = builtins.open
  lock = threading.Lock()
  seen = [0]

  def open_or_die(file, mode='r', *args, **kwargs):
    if isinstance(file, (str, os.PathLike)) and fnmatch.fnmatch(os.path.basename(os.fspath(file)), pattern):
      writing = any(c in mode for c in 'wax+')
      if writing == (kind in ('w', 'full')):
        with lock:
          seen[0] += 1
          if kind == 'full' and seen[0] >= n:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fspath(file))
          if seen[0] == n:
            os.kill(os.getpid(), signal.SIGKILL)
    return real_open(file, mode, *args, **kwargs)

  builtins.open = io.open = open_or_die


def main() -> None:
  kind, pattern, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
  _arm(kind, pattern, n)
  sys.path.insert(0, ROOT)
  sys.argv = [os.path.join(ROOT, 'launch.py'), *sys.argv[4:]]
  import launch  # pylint: disable=g-import-not-at-top
  from absl import app  # pylint: disable=g-import-not-at-top
  app.run(launch.main)


if __name__ == '__main__':
  main()
