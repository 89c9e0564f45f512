"""The content-tag lexicon: French genders, numbers and articles, English phrases, matching."""

import pytest

from wikiart_jax.text import subjects
from wikiart_jax.text.subjects import SUBJECTS, french


def test_the_lexicon_covers_the_issue_s_subjects():
  assert 60 <= len(SUBJECTS) <= 100
  assert {s.group for s in SUBJECTS.values()} == set(subjects.GROUPS)
  named = {'sea', 'sky_clouds', 'river', 'mountains', 'forest', 'field', 'garden', 'street',
           'village', 'interior', 'night', 'snow', 'sunset', 'woman', 'man', 'child',
           'group_of_people', 'nude', 'angel', 'madonna_and_child', 'crucifixion', 'rider',
           'horse', 'dog', 'birds', 'cattle', 'boat', 'flowers', 'fruit', 'vase', 'table',
           'musical_instrument', 'bridge', 'church', 'house', 'window', 'geometric_shapes',
           'lines', 'colour_fields', 'drips'}
  assert named <= set(SUBJECTS)
  assert subjects.TAG_KEYS == tuple(SUBJECTS)


@pytest.mark.parametrize('key, indefinite, definite, partitive', [
    ('sea', 'une mer', 'la mer', 'de la mer'),  # feminine singular
    ('boat', 'un bateau', 'le bateau', 'du bateau'),  # masculine singular
    ('flowers', 'des fleurs', 'les fleurs', 'des fleurs'),  # feminine plural
    ('trees', 'des arbres', 'les arbres', 'des arbres'),  # masculine plural, vowel
    ('church', 'une église', "l'église", "de l'église"),  # elision before a vowel
    ('man', 'un homme', "l'homme", "de l'homme"),  # elision before a mute h
    ('angel', 'un ange', "l'ange", "de l'ange"),
    ('snow', 'une neige', 'la neige', 'de la neige'),
    ('cattle', 'un bétail', 'le bétail', 'du bétail'),
    ('madonna_and_child', "une Vierge à l'Enfant", "la Vierge à l'Enfant",
     "de la Vierge à l'Enfant"),
])
def test_french_articles_agree_with_gender_and_number(key, indefinite, definite, partitive):
  s = SUBJECTS[key]
  assert (french(s, 'indefinite'), french(s, 'definite'), french(s, 'partitive')) == (
      indefinite, definite, partitive)


@pytest.mark.parametrize('key, gender, number', [
    ('sea', 'f', 'sg'), ('boat', 'm', 'sg'), ('flowers', 'f', 'pl'), ('fruit', 'm', 'pl'),
    ('mountains', 'f', 'pl'), ('birds', 'm', 'pl'), ('house', 'f', 'sg'), ('window', 'f', 'sg'),
    ('bridge', 'm', 'sg'), ('table', 'f', 'sg'), ('horse', 'm', 'sg'), ('night', 'f', 'sg'),
    ('geometric_shapes', 'f', 'pl'), ('colour_fields', 'm', 'pl'), ('cross', 'f', 'sg'),
])
def test_french_genders_and_numbers(key, gender, number):
  assert (SUBJECTS[key].gender, SUBJECTS[key].number) == (gender, number)


def test_every_entry_s_written_article_agrees_with_its_gender_and_number():
  for s in SUBJECTS.values():
    forms = {french(s, a) for a in ('indefinite', 'definite', 'partitive')}
    assert s.fr in forms, (s.key, s.fr, forms)
    # A plural noun ends as French plurals do; a singular one is not given a plural article.
    if s.number == 'pl':
      assert s.fr_noun.split()[0][-1] in 'sx', s.key
    else:
      assert not s.fr.startswith(('des ', 'les ')), s.key


def test_english_phrases_carry_their_article():
  assert SUBJECTS['boat'].en == 'a boat' and SUBJECTS['boat'].en_bare == 'boat'
  assert SUBJECTS['angel'].en == 'an angel' and SUBJECTS['angel'].en_bare == 'angel'
  assert SUBJECTS['sea'].en == 'the sea' and SUBJECTS['sea'].en_bare == 'sea'
  assert SUBJECTS['flowers'].en == SUBJECTS['flowers'].en_bare == 'flowers'
  for s in SUBJECTS.values():
    if s.en.startswith(('a ', 'an ')):
      assert s.en.split()[0] == ('an' if s.en_bare[0] in 'aeiou' else 'a'), s.key


def test_bad_article_is_refused():
  with pytest.raises(ValueError, match='article must be'):
    french(SUBJECTS['boat'], 'some')


def test_clip_prompts_in_both_languages():
  boat = subjects.clip_prompts(SUBJECTS['boat'])
  assert 'a painting of a boat' in boat and 'un tableau représentant un bateau' in boat
  assert subjects.clip_prompts(SUBJECTS['snow'], 'fr')[0] == 'un tableau représentant de la neige'
  assert subjects.neutral_prompts('en') == ('a painting', 'an artwork', 'a picture')
  with pytest.raises(ValueError, match='lang'):
    subjects.clip_prompts(SUBJECTS['boat'], 'de')


@pytest.mark.parametrize('text, found', [
    ('The boats on the sea make me calm.', {'boat', 'sea'}),
    ('A colour field, not a wheat field.', {'colour_fields', 'field'}),
    ('I like the color field', {'colour_fields'}),  # the phrase uses up its words
    ('The Virgin Mary holds her baby', {'madonna_and_child', 'child'}),
    ('Horses! HORSES and a dog.', {'horse', 'dog'}),
    ('seashells and cathedrals', set()),  # whole words only
    ('', set()),
])
def test_tags_named_in_english_text(text, found):
  assert subjects.mentioned(text) == found
