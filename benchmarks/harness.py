"""The one timing harness of every benchmark: ours against a baseline, fairly.

`compare(first, second)` times two zero-argument callables interleaved
(A B A B ...) after a warm-up of each, so a change in the machine's load hits
both sides alike, and returns a `Comparison`: per side the median, min and max
of the timed repeats, the ratio of medians, the machine and the load average
before and after. Its `lines()` are what benchmarks print; the last one says
whether the load moved by more than `LOAD_MOVE_LIMIT` during the run (then the
ratio is suspect) or whether the machine was busier than it has cores.

`match_threads()` gives torch the thread count that XLA's CPU client uses, so
neither side has more cores than the other.

The callables must block until their result exists (`jax.block_until_ready`,
`torch.cuda.synchronize`); the harness only reads the clock around them.
"""

from __future__ import annotations

import dataclasses
import json
import os
import statistics
import sys
import time
from typing import Callable

LOAD_MOVE_LIMIT = 1.0  # load-average change (1 min) that makes a run suspect
OTHERS_LIMIT = 0.1  # share of the cores other processes may use while we time


@dataclasses.dataclass(frozen=True)
class Side:
  """One side's timed repeats.

  Attributes:
    label: what ran (printed as is).
    times: seconds of each timed call, in the order they ran.
  """
  label: str
  times: tuple[float, ...]

  @property
  def median(self) -> float:
    return statistics.median(self.times)

  @property
  def min(self) -> float:
    return min(self.times)

  @property
  def max(self) -> float:
    return max(self.times)


@dataclasses.dataclass(frozen=True)
class Comparison:
  """Two sides timed in one interleaved run.

  Attributes:
    first, second: the sides (ours first by convention).
    work: units of work per call (tokens, images) for a rate; None = calls.
    unit: the unit's name ('tokens', 'images').
    load_before, load_after: 1-minute load average around the timed run.
    machine: `machine()`'s description.
    threads: the thread counts each side used.
    interleaved: False where the sides had to run one after the other
      (`from_times`: bench's train steps on one GPU).
    timer: what the times are: 'wall' clock, or 'CPU' time of the process (all
      its threads: a rate per core).
    others_cores: the cores other processes kept busy, on average, during the
      timed calls (Linux /proc/stat less this process's CPU time); None if unknown.
  """
  first: Side
  second: Side
  work: float | None
  unit: str
  load_before: float
  load_after: float
  machine: str
  threads: str
  interleaved: bool = True
  timer: str = 'wall'
  others_cores: float | None = None

  @property
  def ratio(self) -> float:
    """How many times faster the first side is: second median / first median."""
    return self.second.median / self.first.median

  @property
  def load_moved(self) -> bool:
    return abs(self.load_after - self.load_before) > LOAD_MOVE_LIMIT

  def rate(self, seconds: float) -> float:
    return (self.work or 1.0) / seconds

  def lines(self) -> list[str]:
    """The report: machine, one line per side, the ratio, the load verdict last."""
    unit = f'{self.unit}/s' if self.work else 'calls/s'
    if self.timer != 'wall':
      unit += f' of {self.timer} time'
    width = max(len(self.first.label), len(self.second.label))
    timer = '' if self.timer == 'wall' else f' {self.timer}'
    out = [f'machine: {self.machine}' + (f'; {self.threads}' if self.threads else '')]
    for side in (self.first, self.second):
      out.append(
          f'  {side.label:<{width}}  median {side.median * 1e3:9.2f} ms{timer} '
          f'(min {side.min * 1e3:.2f}, max {side.max * 1e3:.2f}, n={len(side.times)})  '
          f'{self.rate(side.median):,.1f} {unit}')
    order = '' if self.interleaved else ' (the sides ran one after the other)'
    out.append(f'  ratio of medians {self.first.label} / {self.second.label}: '
               f'{self.ratio:.2f}x{order}')
    out.append(self.load_verdict())
    return out

  def load_verdict(self) -> str:
    return load_verdict(self.load_before, self.load_after, self.others_cores)

  def as_dict(self) -> dict:
    """The figures as plain numbers, for a JSON line."""
    side = lambda s: {'label': s.label, 'median_s': s.median, 'min_s': s.min, 'max_s': s.max,
                      'times_s': list(s.times), 'rate': self.rate(s.median)}
    return {'first': side(self.first), 'second': side(self.second), 'ratio': self.ratio,
            'unit': self.unit, 'work': self.work, 'load_before': self.load_before,
            'load_after': self.load_after, 'load_moved': self.load_moved,
            'machine': self.machine, 'threads': self.threads, 'interleaved': self.interleaved,
            'timer': self.timer, 'others_cores': self.others_cores}


def load_verdict(before: float, after: float, others_cores: float | None = None) -> str:
  """One line on the machine's load; a run is flagged when it moved or was high.

  The 1-minute load average counts this benchmark's own threads too: a long run
  on an idle machine raises it by itself. `others_cores` (what other processes
  used while the calls were timed) tells the two apart.
  """
  seen = f'load average {before:.2f} before, {after:.2f} after'
  if others_cores is not None:
    seen += f'; other processes kept {others_cores:.2f} cores busy during the timed calls'
  cores = cpu_count()
  if abs(after - before) > LOAD_MOVE_LIMIT:
    return (f'FLAG: {seen}: the load moved by more than {LOAD_MOVE_LIMIT:g}, the figures '
            'are suspect unless the others kept ~0 cores busy (then it is this run)')
  if max(before, after) > cores:
    return (f'FLAG: {seen}: more than the {cores} cores were busy, the figures are '
            'slowed by other work; rerun on a quieter machine')
  if others_cores is not None and others_cores > OTHERS_LIMIT * cores:
    return (f'FLAG: {seen}: other work took more than {OTHERS_LIMIT:.0%} of the cores; '
            'rerun on a quieter machine')
  return f'{seen}: steady'


def busy_cpu_seconds() -> float | None:
  """CPU seconds all processes have run (Linux /proc/stat: all but idle and iowait)."""
  try:
    with open('/proc/stat', encoding='utf-8') as f:
      ticks = [int(x) for x in f.readline().split()[1:9]]
  except (OSError, ValueError):
    return None
  return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf('SC_CLK_TCK')


def compare(first: Callable[[], object], second: Callable[[], object],
            labels: tuple[str, str] = ('ours', 'baseline'), *, repeats: int = 5,
            warmup: int = 1, work: float | None = None, unit: str = 'calls',
            threads: str = '', clock: Callable[[], float] = time.perf_counter,
            timer: str = 'wall', loadavg: Callable[[], tuple[float, ...]] = os.getloadavg,
            machine_text: str | None = None, measure_others: bool = True) -> Comparison:
  """Times `first` and `second` interleaved; returns the `Comparison`.

  Args:
    first, second: zero-argument callables that block until done.
    labels: their names, in that order.
    repeats: timed calls of each (at least 5 for a figure we quote).
    warmup: untimed calls of each first (compilation, caches), also interleaved.
    work: units of work per call (for a rate); None = report calls/s.
    unit: the unit's name.
    threads: the thread counts each side used, as text (`match_threads()`).
    clock: the timer read around each call (`time.process_time` for CPU time).
    timer: its name in the report ('wall', 'CPU').
    loadavg: injectable for tests.
    machine_text: the machine's description; None = `machine()`.
    measure_others: measure other processes' CPU use (off in tests: the fake
      callables take no real time).
  """
  if repeats < 1 or warmup < 0:
    raise ValueError(f'repeats must be >= 1 and warmup >= 0, got {repeats}, {warmup}')
  for _ in range(warmup):
    first()
    second()
  load_before = loadavg()[0]
  busy, own, wall = busy_cpu_seconds(), time.process_time(), time.perf_counter()
  times = ([], [])
  for _ in range(repeats):
    for fn, out in zip((first, second), times):
      start = clock()
      fn()
      out.append(clock() - start)
  load_after = loadavg()[0]
  others = None
  if busy is not None and measure_others:
    elapsed = time.perf_counter() - wall
    others = max(0.0, (busy_cpu_seconds() - busy) - (time.process_time() - own)) / elapsed
  return Comparison(first=Side(labels[0], tuple(times[0])),
                    second=Side(labels[1], tuple(times[1])), work=work, unit=unit,
                    load_before=load_before, load_after=load_after,
                    machine=machine() if machine_text is None else machine_text,
                    threads=threads, timer=timer, others_cores=others)


def from_times(first: Side, second: Side, *, load_before: float, load_after: float,
               work: float | None = None, unit: str = 'calls', threads: str = '',
               machine_text: str | None = None) -> Comparison:
  """A `Comparison` of times measured elsewhere, one side after the other."""
  return Comparison(first=first, second=second, work=work, unit=unit,
                    load_before=load_before, load_after=load_after,
                    machine=machine() if machine_text is None else machine_text,
                    threads=threads, interleaved=False)


def median_seconds(fn: Callable[[], object], repeats: int, warmup: int = 0) -> float:
  """The median wall time of `repeats` calls of `fn` after `warmup` untimed ones: for a
  profile's parts, where there is no second side to interleave with."""
  for _ in range(warmup):
    fn()
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    fn()
    times.append(time.perf_counter() - start)
  return statistics.median(times)


def report(comparison: Comparison, title: str) -> None:
  """Prints the comparison under `title`, then its figures as one JSON line."""
  print(title)
  print('\n'.join(comparison.lines()))
  print(json.dumps({'title': title, **comparison.as_dict()}), flush=True)


def cpu_count() -> int:
  """The cores this process may run on."""
  try:
    return len(os.sched_getaffinity(0))
  except AttributeError:  # not Linux
    return os.cpu_count() or 1


def cpu_model() -> str:
  """The CPU's model name (Linux /proc/cpuinfo), else the platform's word for it."""
  try:
    with open('/proc/cpuinfo', encoding='utf-8') as f:
      for line in f:
        if line.startswith('model name'):
          return line.split(':', 1)[1].strip()
  except OSError:
    pass
  import platform  # pylint: disable=g-import-not-at-top
  return platform.processor() or platform.machine()


def accelerators() -> str:
  """The GPUs JAX (or torch) sees, if either is imported; 'no GPU' otherwise."""
  names = []
  if 'jax' in sys.modules:
    jax = sys.modules['jax']
    names = [d.device_kind for d in jax.devices() if d.platform != 'cpu']
  if not names and 'torch' in sys.modules:
    torch = sys.modules['torch']
    if torch.cuda.is_available():
      names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
  if not names:
    return 'no GPU'
  return ', '.join(f'{names.count(n)} x {n}' for n in dict.fromkeys(names))


def machine() -> str:
  """'<CPU model>, <n> cores, <GPUs>'."""
  return f'{cpu_model()}, {cpu_count()} cores, {accelerators()}'


def xla_cpu_threads() -> int:
  """The threads of XLA's CPU intra-op pool, counted after JAX has run something.

  XLA names them 'XLAEigen' (seen as 'tf_XLAEigen' in /proc); where the thread
  names cannot be read, the pool's size is the core count.
  """
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  jax.block_until_ready(jnp.ones((64, 64)) @ jnp.ones((64, 64)))  # starts the pool
  try:
    tasks = os.listdir('/proc/self/task')
    names = []
    for task in tasks:
      try:
        with open(f'/proc/self/task/{task}/comm', encoding='utf-8') as f:
          names.append(f.read())
      except OSError:  # the thread ended meanwhile
        pass
  except OSError:
    return cpu_count()
  found = sum('XLAEigen' in n for n in names)
  return found or cpu_count()


def match_threads() -> str:
  """Sets torch's intra-op threads to XLA's CPU pool size; returns what both use."""
  xla = xla_cpu_threads()
  import torch  # pylint: disable=g-import-not-at-top
  torch.set_num_threads(xla)
  return f'threads: XLA CPU pool {xla}, torch {torch.get_num_threads()}'
