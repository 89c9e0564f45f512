"""Reference descriptions: golden sentences, targets drawn from them, ArtEmis."""

import numpy as np
import pytest

from artgan_tree import write_artemis_csv
from wikiart_jax.core import GENRES, STYLES
from wikiart_jax.data import metadata
from wikiart_jax.text import references

NBSP = '\u00a0'
GOLDEN = {
    ('Impressionism', 'Claude Monet', 'landscape', 1919, 'Nymphéas'): {
        'en': ["An Impressionist landscape by Claude Monet (1919), titled 'Nymphéas'.",
               "A landscape in the Impressionist style by Claude Monet, 1919, titled 'Nymphéas'.",
               "This landscape is an Impressionist work by Claude Monet from 1919, titled "
               "'Nymphéas'."],
        'fr': [f'Style impressionniste, œuvre de Claude Monet (1919), un paysage{NBSP}: '
               f'«{NBSP}Nymphéas{NBSP}».',
               f'Un paysage de Claude Monet (1919), de style impressionniste, intitulé '
               f'«{NBSP}Nymphéas{NBSP}».',
               "Un paysage représentatif de l'impressionnisme, réalisé par Claude Monet en 1919 "
               f'et intitulé «{NBSP}Nymphéas{NBSP}».']},
    ('Northern_Renaissance', 'Albrecht Dürer', 'still_life', -1, None): {
        'en': ['A Northern Renaissance still life by Albrecht Dürer.',
               'A still life in the Northern Renaissance style by Albrecht Dürer.',
               'This still life is a Northern Renaissance work by Albrecht Dürer.'],
        'fr': ["Style Renaissance nordique, œuvre d'Albrecht Dürer, une nature morte.",
               "Une nature morte d'Albrecht Dürer, de style Renaissance nordique.",
               'Une nature morte représentative de la Renaissance nordique, réalisée par '
               'Albrecht Dürer.']},
    ('Cubism', None, None, None, None): {
        'en': ['A Cubist work.', 'A work in the Cubist style.', 'This painting is a Cubist work.'],
        'fr': ['Style cubiste.', 'Une œuvre de style cubiste.',
               'Une œuvre représentative du cubisme.']},
    ('Ukiyo_e', None, 'sketch_and_study', 1830, 'La Vague'): {
        'en': ["An Ukiyo-e sketch from 1830, titled 'La Vague'.",
               "A sketch in the Ukiyo-e style, 1830, titled 'La Vague'.",
               "This sketch is an Ukiyo-e work from 1830, titled 'La Vague'."],
        'fr': [f'Style ukiyo-e (1830), une esquisse{NBSP}: «{NBSP}La Vague{NBSP}».',
               f'Une esquisse (1830), de style ukiyo-e, intitulée «{NBSP}La Vague{NBSP}».',
               "Une esquisse représentative de l'ukiyo-e, réalisée en 1830 et intitulée "
               f'«{NBSP}La Vague{NBSP}».']},
}

# "représentatif <de + movement>": the contraction written out by hand for every style.
MOVEMENT_FR = {
    'Abstract_Expressionism': "de l'expressionnisme abstrait",
    'Action_painting': "de l'action painting", 'Analytical_Cubism': 'du cubisme analytique',
    'Art_Nouveau': "de l'Art nouveau", 'Baroque': 'du baroque',
    'Color_Field_Painting': 'de la peinture Color Field',
    'Contemporary_Realism': 'du réalisme contemporain', 'Cubism': 'du cubisme',
    'Early_Renaissance': 'de la première Renaissance', 'Expressionism': "de l'expressionnisme",
    'Fauvism': 'du fauvisme', 'High_Renaissance': 'de la haute Renaissance',
    'Impressionism': "de l'impressionnisme", 'Mannerism_Late_Renaissance': 'du maniérisme',
    'Minimalism': 'du minimalisme', 'Naive_Art_Primitivism': "de l'art naïf",
    'New_Realism': 'du nouveau réalisme', 'Northern_Renaissance': 'de la Renaissance nordique',
    'Pointillism': 'du pointillisme', 'Pop_Art': 'du pop art',
    'Post_Impressionism': 'du postimpressionnisme', 'Realism': 'du réalisme',
    'Rococo': 'du rococo', 'Romanticism': 'du romantisme', 'Symbolism': 'du symbolisme',
    'Synthetic_Cubism': 'du cubisme synthétique', 'Ukiyo_e': "de l'ukiyo-e",
}
# Genre -> (English noun phrase with article, French noun phrase, feminine?) by hand.
GENRE_FORMS = {
    'abstract_painting': ('An abstract painting', 'Une peinture abstraite', True),
    'cityscape': ('A cityscape', 'Une vue urbaine', True),
    'genre_painting': ('A genre scene', 'Une scène de genre', True),
    'illustration': ('An illustration', 'Une illustration', True),
    'landscape': ('A landscape', 'Un paysage', False),
    'nude_painting': ('A nude', 'Un nu', False),
    'portrait': ('A portrait', 'Un portrait', False),
    'religious_painting': ('A religious painting', 'Une peinture religieuse', True),
    'sketch_and_study': ('A sketch', 'Une esquisse', True),
    'still_life': ('A still life', 'Une nature morte', True),
}


@pytest.mark.parametrize('facts', list(GOLDEN))
def test_golden_references(facts):
  assert references.references(*facts) == GOLDEN[facts]


@pytest.mark.parametrize('style', STYLES)
def test_every_style_contracts_de_in_french(style):
  fr = references.references(style, 'Ilya Repin', 'portrait', 1880, None)['fr']
  assert fr[2] == (f'Un portrait représentatif {MOVEMENT_FR[style]}, '
                   'réalisé par Ilya Repin en 1880.')


@pytest.mark.parametrize('genre', GENRES)
def test_every_genre_agrees(genre):
  en_noun, fr_noun, feminine = GENRE_FORMS[genre]
  refs = references.references('Realism', 'Édouard Manet', genre, 1863, 'Olympia')
  e = 'e' if feminine else ''
  assert refs['en'][1] == (f"{en_noun} in the Realist style by Édouard Manet, 1863, "
                           "titled 'Olympia'.")
  assert refs['fr'][1] == (f"{fr_noun} d'Édouard Manet (1863), de style réaliste, "
                           f'intitulé{e} «{NBSP}Olympia{NBSP}».')
  assert refs['fr'][2] == (f"{fr_noun} représentati{'ve' if feminine else 'f'} du réalisme, "
                           f'réalisé{e} par Édouard Manet en 1863 et intitulé{e} '
                           f'«{NBSP}Olympia{NBSP}».')


def test_sample_target_draws_every_template_and_artemis():
  rng = np.random.default_rng(0)
  facts = ('Baroque', 'Rembrandt', 'portrait', 1660, None)
  fr = {references.sample_target(*facts, rng=rng, lang='fr') for _ in range(60)}
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


def test_bad_labels_are_named():
  with pytest.raises(ValueError, match="unknown style 'Dada'"):
    references.references('Dada', None, None, None, None)
  with pytest.raises(ValueError, match="unknown genre 'mural'"):
    references.references('Cubism', None, 'mural', None, None)
  with pytest.raises(ValueError, match='caption language'):
    references.sample_target('Cubism', None, None, None, None, rng=np.random.default_rng(0),
                           lang='de')


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
  assert refs[0] == references.references('Impressionism', 'Claude Monet', 'landscape', 1919,
                                        'Nymphéas')
