"""Reference descriptions: golden sentences, targets drawn from them, ArtEmis."""

import numpy as np
import pytest

from artgan_tree import write_artemis_csv
from wikiart_jax.data import metadata
from wikiart_jax.text import composer
from wikiart_jax.text import references

NBSP = '\u00a0'


def test_references_are_the_composers_sentences_without_title_or_year():
  refs = references.references('Impressionism', 'Claude Monet', 'landscape')
  assert refs['fr'][0] == ('Style impressionniste, œuvre de Claude Monet, représentant un '
                           'paysage avec des reflets de lumière caractéristiques du mouvement.')
  assert refs['en'][0] == ('An Impressionist landscape by Claude Monet, with reflections of '
                           'light typical of the movement.')
  # Three shapes, each with the three traits of the style, per language.
  assert len(refs['en']) == len(refs['fr']) == 9
  known = composer.facts('Impressionism', 'Claude Monet', 'landscape')
  assert refs == composer.all_phrasings(known)
  # What the captioner cannot know from its context is never in a reference.
  for text in refs['en'] + refs['fr']:
    assert not any(ch.isdigit() for ch in text) and '«' not in text and '“' not in text


def test_french_names_in_french_references():
  refs = references.references('High_Renaissance', 'Titian', 'portrait', artist_fr='le Titien')
  assert all('Titian' in t for t in refs['en'])
  assert all('Titien' in t and 'Titian' not in t for t in refs['fr'])
  assert refs['fr'][0].startswith('Haute Renaissance, œuvre du Titien, un portrait')


def test_sample_target_draws_every_sentence_and_artemis():
  rng = np.random.default_rng(0)
  facts = ('Baroque', 'Rembrandt', 'portrait')
  fr = {references.sample_target(*facts, rng=rng, lang='fr') for _ in range(200)}
  assert fr == set(references.references(*facts)['fr'])
  said = ['It feels calm and warm.']
  assert references.sample_target(*facts, rng=rng, lang='en', utterances=said,
                                  artemis_ratio=1.0) == said[0]
  drawn = [references.sample_target(*facts, rng=rng, lang='en', utterances=said,
                                    artemis_ratio=0.3) for _ in range(400)]
  assert 0.2 < np.mean([d == said[0] for d in drawn]) < 0.4
  # French targets never use the English utterances.
  assert said[0] not in {references.sample_target(*facts, rng=rng, lang='fr', utterances=said,
                                                  artemis_ratio=1.0) for _ in range(20)}


def test_hedged_targets_word_the_style_as_probable_or_as_one_of_two():
  rng = np.random.default_rng(0)
  facts = ('Impressionism', 'Claude Monet', 'landscape')
  probable = {references.sample_target(*facts, rng=rng, lang='en', style_level='probable')
              for _ in range(40)}
  assert all('probably' in t and 'Claude Monet' in t for t in probable)
  two = {references.sample_target(*facts, rng=rng, lang=lang, style_level='two',
                                  second_style='Post_Impressionism')
         for lang in ('en', 'fr') for _ in range(40)}
  assert 'A landscape, between Impressionism and Post-Impressionism, by Claude Monet.' in two
  assert ("Entre impressionnisme et postimpressionnisme, œuvre de Claude Monet, "
          'représentant un paysage.') in two
  # A settled style's trait is said only of a sure or probable one.
  assert not any('typical' in t or 'caractéristique' in t for t in two)
  for level, second in (('two', None), ('sure', 'Baroque'), ('unsure', None)):
    with pytest.raises(ValueError, match='style_level'):
      references.sample_target(*facts, rng=rng, lang='en', style_level=level,
                               second_style=second)


def test_bad_labels_are_named():
  with pytest.raises(ValueError, match="unknown style 'Dada'"):
    references.references('Dada', None, None)
  with pytest.raises(ValueError, match="unknown genre 'mural'"):
    references.references('Cubism', None, 'mural')
  with pytest.raises(ValueError, match='caption language'):
    references.sample_target('Cubism', None, None, rng=np.random.default_rng(0), lang='de')


def test_load_artemis_joins_on_path(tmp_path):
  table = references.load_artemis(write_artemis_csv(tmp_path / 'artemis.csv'))
  assert table == {'Impressionism/claude-monet_water-lilies-1919.jpg':
                   ['The water looks calm', 'So many colours, wow']}
  (tmp_path / 'bad.csv').write_text('style,text\nx,y\n')
  with pytest.raises(ValueError, match='lacks columns'):
    references.load_artemis(str(tmp_path / 'bad.csv'))


def test_batch_references():
  vocab = metadata.Vocabularies.build([('claude-monet', 'Claude Monet')])
  row = {'style': vocab.style.index('Impressionism'), 'artist': 0,
         'genre': vocab.genre.index('landscape'), 'year': 1919, 'title': 'Nymphéas'.encode(),
         'path': b'Impressionism/claude-monet_water-lilies-1919.jpg'}
  batch = {k: np.array([v, v]) for k, v in row.items()}
  batch['style'] = np.array([batch['style'][0], -1], np.int32)
  refs = references.batch_references(vocab, batch)
  assert refs[1] is None
  # The year label as the part of its century, in words; never the year, never the title.
  assert refs[0] == references.references('Impressionism', 'Claude Monet', 'landscape',
                                           year=1919)
  assert refs[0]['en'][0] == ('An Impressionist landscape by Claude Monet (early twentieth '
                              'century), with reflections of light typical of the movement.')
  assert all('1919' not in r and 'Nymphéas' not in r for lang in refs[0] for r in refs[0][lang])
  facts = references.label_facts(vocab, {k: v[0] for k, v in batch.items()})
  assert facts == references.LabelFacts('Impressionism', 'Claude Monet', 'Claude Monet',
                                        'landscape', 1919, 'Nymphéas')


def test_references_name_the_tags_present_surest_first():
  vocab = metadata.Vocabularies.build([('claude-monet', 'Claude Monet')])
  vocab.tags = ['sea', 'boat', 'trees', 'house']
  row = {'style': vocab.style.index('Impressionism'), 'artist': 0,
         'genre': vocab.genre.index('landscape'), 'year': -1,
         'tags': np.array([1.0, 0.6, 0.4, 1.0], np.float32),
         'tags_mask': np.array([1, 1, 1, 0], np.float32)}
  facts = references.label_facts(vocab, row)
  assert facts.tags == ('sea', 'boat')  # trees under 0.5; the house's target unknown
  refs = references.batch_references(vocab, {k: np.asarray([v]) for k, v in row.items()})[0]
  assert refs['fr'][0] == ('Style impressionniste, œuvre de Claude Monet, représentant un '
                           'paysage maritime avec un bateau, avec des reflets de lumière '
                           'caractéristiques du mouvement.')
  assert refs['en'][0] == ('An Impressionist seascape by Claude Monet, showing a boat, with '
                           'reflections of light typical of the movement.')
