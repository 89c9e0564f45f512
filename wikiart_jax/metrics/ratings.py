"""Human ratings of generated descriptions: `<workdir>/human_eval.jsonl`.

One JSON object per line. Each record holds at least the image, the rated
description's text, its language, the checkpoint step that wrote it, and integer
1-5 scores for `correctness` (do the style, artist and genre match the picture?)
and `fluency` (is it well-formed English/French?), plus an optional comment.

Many raters at once (browser tabs, several server processes on one workdir):
each record is one `write` of a whole line under a lock (a thread lock within the
process, `fcntl.lockf` between processes) and fsynced before it is acknowledged,
so lines are never interleaved and an acknowledged rating survives a kill. A line
cut short by a crash is closed before the next one, so it costs only itself.
"""

from collections.abc import Iterable, Mapping
import datetime
import fcntl
import json
import os
import threading

from absl import logging

from wikiart_jax.core import LANGUAGES

RATINGS_FILE = 'human_eval.jsonl'
CRITERIA = ('correctness', 'fluency')
SCORE_RANGE = (1, 5)
# lockf() locks belong to the process: threads of one server take this one first.
_LOCK = threading.Lock()


def path(workdir: str) -> str:
  return os.path.join(workdir, RATINGS_FILE)


def validate(record: Mapping) -> None:
  """Raises ValueError (one line) unless the record is a complete rating."""
  for key in ('image', 'description'):
    if not isinstance(record.get(key), str) or not record[key].strip():
      raise ValueError(f'rating needs a non-empty {key!r}')
  if record.get('lang') not in LANGUAGES:
    raise ValueError(f"rating needs the description's language, one of {LANGUAGES}, "
                     f"got {record.get('lang')!r}")
  step = record.get('step')
  if isinstance(step, bool) or not isinstance(step, int) or step < 0:
    raise ValueError(f'rating needs the checkpoint step that wrote the description, got {step!r}')
  lo, hi = SCORE_RANGE
  for name in CRITERIA:
    score = record.get(name)
    # bool is an int subclass; True is not a score.
    if isinstance(score, bool) or not isinstance(score, int) or not lo <= score <= hi:
      raise ValueError(f'{name} must be an integer from {lo} to {hi}, got {score!r}')
  if not isinstance(record.get('comment', ''), str):
    raise ValueError('comment must be text')


def append(workdir: str, record: Mapping) -> dict:
  """Validates `record`, stamps it with the UTC time and appends it durably, whole.

  Returns:
    The record as written.
  """
  validate(record)
  row = dict(record)
  row.setdefault('comment', '')
  row.setdefault('time', datetime.datetime.now(datetime.timezone.utc)
                 .isoformat(timespec='seconds'))
  line = (json.dumps(row, ensure_ascii=False) + '\n').encode('utf-8')
  os.makedirs(workdir, exist_ok=True)
  with _LOCK:
    fd = os.open(path(workdir), os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
      fcntl.lockf(fd, fcntl.LOCK_EX)  # other processes appending to this file wait
      end = os.lseek(fd, 0, os.SEEK_END)
      if end and os.pread(fd, 1, end - 1) != b'\n':
        line = b'\n' + line  # a line cut short by a crash: end it, do not glue to it
      written = 0
      while written < len(line):
        written += os.write(fd, line[written:])
      os.fsync(fd)
    finally:
      os.close(fd)  # releases the lockf lock
  return row


def load(workdir: str) -> list[dict]:
  """All ratings in `workdir` (none when the file is absent).

  A line that does not parse (a write cut short by a crash) is skipped with a
  warning rather than losing the ratings around it.
  """
  records = []
  try:
    f = open(path(workdir), encoding='utf-8')
  except FileNotFoundError:
    return records
  with f:
    for number, line in enumerate(f, 1):
      if not line.strip():
        continue
      try:
        records.append(json.loads(line))
      except json.JSONDecodeError:
        logging.warning('%s:%d: skipped an unreadable rating line', path(workdir), number)
  return records


def aggregate(records: Iterable[Mapping]) -> dict:
  """Mean and count per criterion, overall and per description language.

  Returns:
    {'count': n, '<criterion>': {'mean': float | None, 'count': int}, ...,
     'by_lang': {lang: {'count', '<criterion>': {...}}}}. Records with an
    invalid score for a criterion are left out of that criterion only.
  """
  records = list(records)

  def summarise(rows):
    out = {'count': len(rows)}
    lo, hi = SCORE_RANGE
    for name in CRITERIA:
      scores = [r[name] for r in rows
                if isinstance(r.get(name), int) and not isinstance(r.get(name), bool)
                and lo <= r[name] <= hi]
      out[name] = {'mean': sum(scores) / len(scores) if scores else None,
                   'count': len(scores)}
    return out

  result = summarise(records)
  langs = sorted({str(r.get('lang', '')) for r in records})
  result['by_lang'] = {lang: summarise([r for r in records
                                        if str(r.get('lang', '')) == lang])
                       for lang in langs}
  return result
