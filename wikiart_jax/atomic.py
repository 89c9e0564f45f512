"""Files written whole or not at all: a crash leaves the old file or the new one, never half.

A file that marks something finished (a dataset's report, a rendered tree's split
file) is written with `write_text`, so its presence means what it says.
"""

import os


def write_text(path: str, text: str) -> None:
  """Writes `text` (UTF-8) to `path` through a temporary file renamed into place."""
  tmp = f'{path}.tmp-{os.getpid()}'
  try:
    with open(tmp, 'w', encoding='utf-8') as f:
      f.write(text)
      f.flush()
      os.fsync(f.fileno())
    os.replace(tmp, path)
  finally:
    if os.path.exists(tmp):  # the write failed (disk full ...): leave no debris
      os.remove(tmp)
