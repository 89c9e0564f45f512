"""Tag targets at prepare: exact labels, CLIP scores and ArtEmis mentions, into the records."""

import numpy as np
import pytest

from artgan_tree import artgan_config, write_tree
from wikiart_jax.data import dataset, pipeline, prepare, tag_targets
from wikiart_jax.text import subjects

T = len(subjects.TAG_KEYS)
BOAT, SEA = subjects.TAG_KEYS.index('boat'), subjects.TAG_KEYS.index('sea')


def test_labels_file_round_trip_and_a_bad_tag_names_its_line(tmp_path):
  path = str(tmp_path / 'tags.csv')
  tag_targets.write_labels(path, {'A/x.jpg': ('sea', 'boat'), 'A/y.jpg': ()})
  assert tag_targets.read_labels(path) == {'A/x.jpg': ('boat', 'sea'), 'A/y.jpg': ()}
  with open(path, 'a', encoding='utf-8') as f:
    f.write('A/z.jpg,boat;unicorn\n')
  with pytest.raises(ValueError, match=r"tags.csv:4: unknown tag\(s\) \['unicorn'\]"):
    tag_targets.read_labels(path)


def test_assemble_combines_the_sources():
  scores = {'a': np.full(T, 0.2, np.float32), 'b': np.full(T, np.nan, np.float32)}
  got = tag_targets.assemble(['a', 'b', 'c', 'd'], labels={'c': ('sea',)}, scores=scores,
                             mentions={'a': {'boat'}, 'd': {'sea'}})
  assert sorted(got) == ['a', 'c', 'd']  # b could not be read and nothing names its tags
  target, mask = got['a']  # CLIP everywhere, ArtEmis' boat on top
  assert mask.all() and target[BOAT] == 1.0 and target[SEA] == np.float32(0.2)
  target, mask = got['c']  # exact labels: all known
  assert mask.all() and target.sum() == 1.0 and target[SEA] == 1.0
  target, mask = got['d']  # ArtEmis alone: the tag named is known, the rest unknown
  assert mask.sum() == 1 and mask[SEA] == 1 and target[SEA] == 1


def test_artemis_mentions():
  got = tag_targets.artemis_mentions({'A/x.jpg': ['The boat on the sea', 'calm'],
                                      'A/y.jpg': ['I feel sad'], 'A/z.jpg': []})
  assert got == {'A/x.jpg': {'boat', 'sea'}}


def test_artemis_positives_reach_the_records(tmp_path):
  raw = str(tmp_path / 'raw')
  write_tree(raw)
  csv = tmp_path / 'artemis.csv'
  csv.write_text('art_style,painting,emotion,utterance\n'
                 'Fauvism,artist-0_picture-0,awe,A red boat on a wild sea\n'
                 'Rococo,artist-1_picture-1,contentment,Nothing I can name here\n',
                 encoding='utf-8')
  config = artgan_config(raw)
  config.data.caption.artemis_csv = str(csv)
  path = prepare.prepare(config, str(tmp_path))
  info = dataset.info_from_dir(path)
  assert info.vocab.tags == list(subjects.TAG_KEYS)
  assert dataset.read_metadata(path)['tag_counts']['train']['positives']['boat'] == 1
  records = {}
  for split in info.num_examples:
    source = pipeline.open_split(path, split)
    records.update({source[i]['path'].decode(): source[i] for i in range(len(source))})
  named = records['Fauvism/artist-0_picture-0.jpg']
  assert named['tags'][BOAT] == named['tags'][SEA] == 1
  assert named['tags_mask'].sum() == 2  # only what was named is known
  assert records['Rococo/artist-1_picture-1.jpg']['tags_mask'].sum() == 0
  # The pipeline hands the targets and masks on.
  batch = next(iter(pipeline.eval_dataset(path, config.data, 'train')))
  assert batch['tags'].shape == batch['tags_mask'].shape == (config.data.eval_batch_size, T)
