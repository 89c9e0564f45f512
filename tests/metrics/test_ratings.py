"""Human-rating storage: durable appends, whole lines from many threads and processes,
reload, validation, aggregation."""

import json
import os
import subprocess
import sys
import textwrap
import threading

import pytest

from conftest import ROOT
from wikiart_jax.metrics import ratings


def _rating(**overrides):
  record = {'image': 'Impressionism/claude-monet_water-lilies-1919.jpg',
            'description': 'An Impressionist landscape by Claude Monet.',
            'lang': 'en', 'step': 1500, 'correctness': 4, 'fluency': 5}
  record.update(overrides)
  return record


def test_append_then_load_round_trips(tmp_path):
  workdir = str(tmp_path / 'wd')  # not created yet: append makes it
  first = ratings.append(workdir, _rating(comment='très bien'))
  ratings.append(workdir, _rating(lang='fr', correctness=2, fluency=3))
  with open(os.path.join(workdir, 'human_eval.jsonl'), encoding='utf-8') as f:
    lines = f.read().splitlines()
  assert len(lines) == 2
  assert json.loads(lines[0])['comment'] == 'très bien'
  loaded = ratings.load(workdir)
  assert loaded[0] == first
  assert loaded[1]['comment'] == '' and loaded[1]['time'].endswith('+00:00')


def test_load_absent_file_and_skips_a_torn_last_line(tmp_path):
  assert ratings.load(str(tmp_path)) == []
  ratings.append(str(tmp_path), _rating())
  with open(ratings.path(str(tmp_path)), 'a', encoding='utf-8') as f:
    f.write('{"image": "x.jpg", "correc')  # a write cut short by a crash
  assert len(ratings.load(str(tmp_path))) == 1


@pytest.mark.parametrize('bad, message', [
    ({'correctness': 0}, 'correctness must be an integer from 1 to 5'),
    ({'fluency': 6}, 'fluency must be'),
    ({'fluency': 4.5}, 'fluency must be'),
    ({'correctness': True}, 'correctness must be'),
    ({'image': ''}, "non-empty 'image'"),
    ({'description': None}, "non-empty 'description'"),
    ({'comment': 3}, 'comment must be text'),
    ({'lang': None}, "rating needs the description's language"),
    ({'lang': 'de'}, "rating needs the description's language"),
    ({'step': None}, 'rating needs the checkpoint step'),
    ({'step': '1500'}, 'rating needs the checkpoint step'),
])
def test_invalid_ratings_are_refused_and_not_written(tmp_path, bad, message):
  with pytest.raises(ValueError, match=message):
    ratings.append(str(tmp_path), _rating(**bad))
  assert not os.path.exists(ratings.path(str(tmp_path)))


def test_aggregate_means_and_counts():
  records = [_rating(correctness=4, fluency=5), _rating(correctness=2, fluency=3),
             _rating(lang='fr', correctness=5, fluency=1),
             _rating(lang='fr', correctness=None, fluency=2)]  # a hand-edited line
  agg = ratings.aggregate(records)
  assert agg['count'] == 4
  assert agg['correctness'] == {'mean': pytest.approx((4 + 2 + 5) / 3), 'count': 3}
  assert agg['fluency'] == {'mean': pytest.approx((5 + 3 + 1 + 2) / 4), 'count': 4}
  assert agg['by_lang']['en']['correctness']['mean'] == pytest.approx(3.0)
  assert agg['by_lang']['fr']['fluency'] == {'mean': pytest.approx(1.5), 'count': 2}
  empty = ratings.aggregate([])
  assert empty['count'] == 0 and empty['fluency'] == {'mean': None, 'count': 0}


def test_concurrent_appends_keep_every_line_whole(tmp_path):
  workdir = str(tmp_path)
  threads = [threading.Thread(target=ratings.append,
                              args=(workdir, _rating(comment='x' * 5000 + str(i))))
             for i in range(16)]
  for t in threads:
    t.start()
  for t in threads:
    t.join()
  loaded = ratings.load(workdir)
  assert sorted(r['comment'][-2:].lstrip('x') for r in loaded) == sorted(
      str(i) for i in range(16))


def test_a_rating_after_a_line_cut_short_by_a_crash_is_kept(tmp_path):
  workdir = str(tmp_path)
  ratings.append(workdir, _rating(comment='first'))
  with open(ratings.path(workdir), 'a', encoding='utf-8') as f:
    f.write('{"image": "x.jpg", "correc')  # the server was killed mid-write
  ratings.append(workdir, _rating(comment='after the crash'))
  assert [r['comment'] for r in ratings.load(workdir)] == ['first', 'after the crash']


_RATER = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[1])
    from wikiart_jax.metrics import ratings
    rater = int(sys.argv[3])
    sys.stdin.readline()  # all start together
    for n in range(int(sys.argv[4])):
      ratings.append(sys.argv[2], {
          'image': f'{rater}.jpg', 'lang': ('en', 'fr')[rater % 2], 'step': 100 + rater,
          'description': f'rater {rater} rating {n} ' + 'x' * 70_000,  # > any pipe or page
          'correctness': 1 + rater % 5, 'fluency': 1 + n % 5})
""")


def test_eight_processes_rating_at_once_append_whole_lines(tmp_path):
  workdir, per_rater = str(tmp_path), 25
  raters = [subprocess.Popen([sys.executable, '-c', _RATER, ROOT, workdir, str(i), str(per_rater)],
                             stdin=subprocess.PIPE, text=True) for i in range(8)]
  for rater in raters:
    rater.stdin.write('go\n')
    rater.stdin.flush()
  for rater in raters:
    rater.stdin.close()
    assert rater.wait(timeout=300) == 0
  with open(ratings.path(workdir), encoding='utf-8') as f:
    lines = f.read().split('\n')
  assert lines[-1] == '' and len(lines) == 8 * per_rater + 1
  records = [json.loads(line) for line in lines[:-1]]  # every line one whole JSON object
  for i in range(8):
    mine = [r for r in records if r['image'] == f'{i}.jpg']
    assert [r['description'].split(' x')[0] for r in mine] == [
        f'rater {i} rating {n}' for n in range(per_rater)]  # none lost, in order
    assert {(r['lang'], r['step']) for r in mine} == {(('en', 'fr')[i % 2], 100 + i)}
