"""Titles and years come only from the caller: a metadata CSV or real WikiArt paths."""

import ml_collections
import pytest

from wikiart_jax.inference import supplied


def _config(**kw):
  return ml_collections.ConfigDict(dict(dict(metadata='', titles_from_wikiart_names=False),
                                        **kw))


@pytest.mark.parametrize('flag', [False, True])
@pytest.mark.parametrize('name', ['the_scream.jpg', 'starry_night.jpg', 'escher_sphere.jpg',
                                  'uploads/munch_the-scream-1893.jpg',
                                  'Impressionism'])
def test_an_arbitrary_file_name_says_nothing(tmp_path, flag, name):
  path = tmp_path / name
  assert supplied.Supplied(_config(titles_from_wikiart_names=flag)).title_and_year(
      str(path)) == (None, None)


def test_wikiart_layout_only_with_the_switch(tmp_path):
  path = str(tmp_path / 'Impressionism' / 'claude-monet_water-lilies-1919.jpg')
  assert supplied.Supplied(_config()).title_and_year(path) == (None, None)
  on = supplied.Supplied(_config(titles_from_wikiart_names=True))
  assert on.title_and_year(path) == ('Water Lilies', 1919)
  assert on.title_and_year(str(tmp_path / 'Art_Nouveau_Modern' / 'ivan-bilibin_poster.jpg')) == (
      'Poster', None)
  assert on.title_and_year(str(tmp_path / 'Cubism' / 'x_not_detected_123.jpg')) == (None, None)
  assert on.title_and_year(None) == (None, None)


def test_metadata_csv(tmp_path, monkeypatch):
  monkeypatch.chdir(tmp_path)
  table = tmp_path / 'meta.csv'
  table.write_text('path,title,year\nthe_scream.jpg,The Scream,1893\n'
                   f'{tmp_path}/b.png,Sans titre,\n', encoding='utf-8')
  known = supplied.Supplied(_config(metadata=str(table)))
  assert known.title_and_year('the_scream.jpg') == ('The Scream', 1893)
  assert known.title_and_year(str(tmp_path / 'the_scream.jpg')) == ('The Scream', 1893)
  assert known.title_and_year('b.png') == ('Sans titre', None)
  assert known.title_and_year('escher_sphere.jpg') == (None, None)


def test_bad_metadata_csv_is_named(tmp_path):
  with pytest.raises(FileNotFoundError, match='config.predict.metadata'):
    supplied.Supplied(_config(metadata=str(tmp_path / 'none.csv')))
  (tmp_path / 'cols.csv').write_text('file,title\nx.jpg,X\n')
  with pytest.raises(ValueError, match=r"lacks the columns \['path', 'year'\]"):
    supplied.Supplied(_config(metadata=str(tmp_path / 'cols.csv')))
  (tmp_path / 'year.csv').write_text('path,title,year\nx.jpg,X,c. 1890\n')
  with pytest.raises(ValueError, match="line 2: year 'c. 1890' is not a whole number"):
    supplied.Supplied(_config(metadata=str(tmp_path / 'year.csv')))
