"""huggan/wikiart parquet shards: labels from the schema's class names, a seeded split."""

import collections
import io
import json
import os

from PIL import Image
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from wikiart_jax.data import hf_parquet
from wikiart_jax.data import metadata
from wikiart_jax.data import splits

HF_NAMES = {
    'artist': ['Unknown Artist', 'claude-monet', 'vincent-van-gogh'],
    'genre': list(metadata.GENRES) + ['Unknown Genre'],
    'style': list(metadata.STYLES),
}


def _png(colour):
  buffer = io.BytesIO()
  Image.new('RGB', (4, 4), colour).save(buffer, format='PNG')
  return buffer.getvalue()


def _write_parquet(path, rows):
  """A parquet in the huggan/wikiart layout, class names in the schema."""
  features = {c: {'names': names, '_type': 'ClassLabel'} for c, names in HF_NAMES.items()}
  features['image'] = {'_type': 'Image'}
  table = pa.table({
      'image': pa.array([{'bytes': b, 'path': p} for b, p, *_ in rows],
                        pa.struct([('bytes', pa.binary()), ('path', pa.string())])),
      'artist': pa.array([r[2] for r in rows], pa.int64()),
      'genre': pa.array([r[3] for r in rows], pa.int64()),
      'style': pa.array([r[4] for r in rows], pa.int64()),
  })
  meta = {b'huggingface': json.dumps({'info': {'features': features}}).encode()}
  pq.write_table(table.replace_schema_metadata(meta), path, row_group_size=3)


def test_hf_parquet_reads_back(tmp_path):
  rows = [(_png((i * 20, 0, 0)), 'claude-monet_water-lilies-1919.jpg' if i == 1 else None,
           i % 3, [4, 10, 6][i % 3], [12, 20, 0][i % 3]) for i in range(12)]
  os.makedirs(tmp_path / 'data')
  _write_parquet(tmp_path / 'data' / 'train-00000.parquet', rows[:7])
  _write_parquet(tmp_path / 'data' / 'train-00001.parquet', rows[7:])
  assert hf_parquet.hf_class_names(str(tmp_path / 'data' / 'train-00000.parquet')) == HF_NAMES
  records = list(hf_parquet.read_hf_parquet(str(tmp_path), val_fraction=0.25, seed=0))
  assert len(records) == 12
  for record, row in zip(records, rows):
    assert record.image_bytes == row[0]
    assert record.style == metadata.STYLES[row[4]]
    assert record.artist == (None, 'claude-monet', 'vincent-van-gogh')[row[2]]
    assert record.genre == (None if row[3] == 10 else metadata.GENRES[row[3]])
    assert record.path is None
  assert records[0].key == 'data/train-00000.parquet:0'
  assert records[7].key == 'data/train-00001.parquet:0'
  assert (records[1].title, records[1].year, records[1].artist_name) == (
      'Water Lilies', 1919, 'Claude Monet')
  assert (records[0].title, records[0].year, records[0].artist_name) == (None, None, None)
  assert collections.Counter(r.split for r in records)['val'] == 3  # 3 styles x round(4 * .25)
  again = list(hf_parquet.read_hf_parquet(str(tmp_path), val_fraction=0.25, seed=0,
                                      split='val', with_images=False))
  assert [r.key for r in again] == [r.key for r in records if r.split == 'val']
  assert all(r.image_bytes is None for r in again)
  vocab = splits.build_vocabularies(records)
  assert vocab.artist == ['claude-monet', 'vincent-van-gogh']


def test_hf_parquet_errors(tmp_path):
  pq.write_table(pa.table({'style': [1]}), tmp_path / 'plain.parquet')
  with pytest.raises(ValueError, match='plain.parquet: no huggan/wikiart class names'):
    list(hf_parquet.read_hf_parquet(str(tmp_path / 'plain.parquet'), val_fraction=0.3, seed=0))
  with pytest.raises(FileNotFoundError, match='no .parquet files'):
    hf_parquet.hf_parquet_files(str(tmp_path / 'nothing'))
  os.remove(tmp_path / 'plain.parquet')
  _write_parquet(tmp_path / 'bad.parquet', [(_png((0, 0, 0)), None, 0, 0, 27)])
  with pytest.raises(ValueError, match='style 27 out of range'):
    list(hf_parquet.read_hf_parquet(str(tmp_path), val_fraction=0.3, seed=0))
