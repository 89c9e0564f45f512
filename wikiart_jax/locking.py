"""One writer per folder: a lock file that names the process holding it.

    with locking.hold(workdir, 'train'):
      ...  # a second `train` on this workdir stops at once, naming this process

The lock is a POSIX record lock (`fcntl.lockf`) on `<folder>/writer.lock`, whose
text says who holds it (pid, host, mode, start time). The kernel releases it when
its process ends, however it ends, so a lock left by a killed process is simply
taken over, with a warning naming that process. POSIX locks belong to the process:
children forked by data loaders do not inherit them, and they work on NFS.
Readers (eval, predict, serve, embed) never take it.
"""

import contextlib
import datetime
import errno
import fcntl
import json
import os
import socket
import sys

from wikiart_jax.core import LockedError

LOCK_FILE = 'writer.lock'
# Lock files this process holds. A second lockf() on the same file from this process
# would succeed, and closing it would silently drop the first lock.
_HELD: set[str] = set()


def _read(fd: int) -> dict:
  os.lseek(fd, 0, os.SEEK_SET)
  text = os.read(fd, 4096).decode('utf-8', 'replace').strip()
  try:
    holder = json.loads(text) if text else {}
  except json.JSONDecodeError:
    holder = {'pid': text[:40]}
  return holder if isinstance(holder, dict) else {}


def _describe(holder: dict) -> str:
  if not holder:
    return 'another process (still starting: it has not written its pid yet)'
  where = holder.get('host')
  where = f' on {where}' if where and where != socket.gethostname() else ''
  return (f"pid {holder.get('pid', '?')}{where} ({holder.get('mode', '?')}, "
          f"since {holder.get('since', '?')})")


@contextlib.contextmanager
def hold(folder: str, mode: str, *, advice: str = 'wait for it to finish or stop it'):
  """Holds `folder`'s writer lock for the `with` block.

  Args:
    folder: the folder to guard (created if needed).
    mode: what this process does there ('train', 'prepare'), written for others to read.
    advice: what the refused process is told to do.

  Raises:
    LockedError: another live process holds the lock (the message names it).
  """
  os.makedirs(folder, exist_ok=True)
  path = os.path.realpath(os.path.join(folder, LOCK_FILE))
  if path in _HELD:
    raise RuntimeError(f'{path} is already held by this process')
  fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
  try:
    try:
      fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
      if e.errno not in (errno.EACCES, errno.EAGAIN):
        raise
      raise LockedError(f'{folder} is in use by {_describe(_read(fd))}: {advice}') from None
    left = _read(fd)
    if left:  # only a holder that died leaves its note behind
      print(f'warning: took over the lock of {folder} left by {_describe(left)}, '
            'which is no longer running', file=sys.stderr, flush=True)
    note = {'pid': os.getpid(), 'host': socket.gethostname(), 'mode': mode,
            'since': datetime.datetime.now().astimezone().isoformat(timespec='seconds')}
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(note).encode(), 0)
    _HELD.add(path)
    try:
      yield
    finally:
      _HELD.discard(path)
      os.ftruncate(fd, 0)  # a clean release leaves nothing to take over
  finally:
    os.close(fd)  # drops the lock
