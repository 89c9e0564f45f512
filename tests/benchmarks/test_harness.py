"""benchmarks/harness.py: interleaving, statistics, ratio and the load flag (fake clock)."""

import json

import pytest

from benchmarks import harness


class FakeClock:
  """A clock that the fake callables advance by their own 'duration'."""

  def __init__(self):
    self.now = 0.0
    self.calls = []

  def __call__(self):
    return self.now

  def side(self, label, durations):
    """A callable that records its call and takes the next of `durations` seconds."""
    it = iter(durations)

    def fn():
      self.calls.append(label)
      self.now += next(it)
    return fn


def _compare(clock, a, b, loads=((1.0,), (1.2,)), **kwargs):
  load_iter = iter(loads)
  return harness.compare(a, b, ('ours', 'theirs'), clock=clock,
                         loadavg=lambda: next(load_iter), machine_text='test CPU, 2 cores',
                         measure_others=False, **kwargs)


def test_the_sides_alternate_after_an_interleaved_warm_up():
  clock = FakeClock()
  result = _compare(clock, clock.side('a', [9, 9, 1, 2, 3, 4, 5]),
                    clock.side('b', [9, 9, 2, 4, 6, 8, 10]), repeats=5, warmup=2)
  assert clock.calls == ['a', 'b'] * 7
  # Warm-up calls (9 s) are not timed.
  assert result.first.times == (1, 2, 3, 4, 5)
  assert result.second.times == (2, 4, 6, 8, 10)


def test_median_min_max_and_the_ratio_of_medians():
  clock = FakeClock()
  result = _compare(clock, clock.side('a', [0, 0.010, 0.030, 0.011, 0.012, 0.100]),
                    clock.side('b', [0, 0.040, 0.020, 0.025, 0.500, 0.030]),
                    repeats=5, work=64, unit='tokens')
  assert result.first.median == pytest.approx(0.012)
  assert (result.first.min, result.first.max) == pytest.approx((0.010, 0.100))
  assert result.second.median == pytest.approx(0.030)
  assert result.ratio == pytest.approx(2.5)  # medians, not the best or the mean
  assert result.rate(result.first.median) == pytest.approx(64 / 0.012)
  text = '\n'.join(result.lines())
  assert 'median     12.00 ms (min 10.00, max 100.00, n=5)' in text
  assert '5,333.3 tokens/s' in text
  assert 'ratio of medians ours / theirs: 2.50x' in text
  assert 'test CPU, 2 cores' in text


@pytest.mark.parametrize('before, after, flagged', [(0.5, 1.6, True), (2.0, 0.9, True),
                                                    (0.5, 1.4, False), (1.0, 1.0, False)])
def test_the_last_line_flags_a_load_change_above_one(before, after, flagged):
  clock = FakeClock()
  result = _compare(clock, clock.side('a', [1] * 6), clock.side('b', [1] * 6),
                    loads=((before,), (after,)), repeats=5)
  last = result.lines()[-1]
  assert result.load_moved == flagged
  assert last.startswith('FLAG') == flagged
  assert f'{before:.2f} before, {after:.2f} after' in last


def test_a_load_above_the_core_count_is_flagged(monkeypatch):
  monkeypatch.setattr(harness, 'cpu_count', lambda: 2)
  clock = FakeClock()
  result = _compare(clock, clock.side('a', [1] * 6), clock.side('b', [1] * 6),
                    loads=((5.0,), (5.5,)), repeats=5)
  assert not result.load_moved
  assert result.lines()[-1].startswith('FLAG') and '2 cores were busy' in result.lines()[-1]


def test_report_prints_the_lines_and_a_json_line(capsys):
  clock = FakeClock()
  result = _compare(clock, clock.side('a', [1, 1, 2]), clock.side('b', [1, 3, 3]),
                    repeats=2, work=8, unit='images')
  harness.report(result, 'demo model, batch 8')
  out = capsys.readouterr().out.strip().splitlines()
  assert out[0] == 'demo model, batch 8'
  figures = json.loads(out[-1])
  assert figures['title'] == 'demo model, batch 8'
  assert figures['ratio'] == pytest.approx(2.0)
  assert figures['first']['times_s'] == [1, 2] and figures['unit'] == 'images'


def test_bad_repeats_are_refused():
  with pytest.raises(ValueError, match='repeats must be >= 1'):
    harness.compare(lambda: None, lambda: None, repeats=0)


def test_the_machine_is_described():
  text = harness.machine()
  assert 'cores' in text and ('GPU' in text)
  assert harness.cpu_count() >= 1


def test_times_measured_elsewhere_say_the_sides_were_not_interleaved():
  result = harness.from_times(harness.Side('jax', (0.1, 0.2, 0.3)),
                              harness.Side('timm', (0.4, 0.5, 0.6)), load_before=0.1,
                              load_after=0.2, work=64, unit='images', machine_text='GPU box')
  assert result.ratio == pytest.approx(2.5)
  assert 'ran one after the other' in result.lines()[-2]
  assert not result.as_dict()['interleaved']


def test_a_cpu_time_clock_is_named_in_the_report():
  clock = FakeClock()
  result = _compare(clock, clock.side('a', [1, 1]), clock.side('b', [1, 2]), repeats=1,
                    work=10, unit='images', timer='CPU')
  text = '\n'.join(result.lines())
  assert 'ms CPU' in text and 'images/s of CPU time' in text


def test_other_processes_busy_during_the_run_are_flagged(monkeypatch):
  monkeypatch.setattr(harness, 'cpu_count', lambda: 2)
  assert harness.load_verdict(0.2, 0.4, others_cores=0.01).endswith('steady')
  flagged = harness.load_verdict(0.2, 0.4, others_cores=0.5)
  assert flagged.startswith('FLAG') and 'other work took' in flagged
  # A long run raises the load by itself; the others' share says it was this run.
  own = harness.load_verdict(0.1, 1.5, others_cores=0.0)
  assert own.startswith('FLAG') and 'kept 0.00 cores busy' in own


def test_the_cpu_use_of_other_processes_is_measured():
  result = harness.compare(lambda: sum(range(10**5)), lambda: None, repeats=2,
                           machine_text='here')
  assert result.others_cores is None or result.others_cores >= 0.0
