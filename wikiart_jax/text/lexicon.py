"""The words of the descriptions: style adjectives and movement names, genre nouns,
and the small grammar (articles, French "de") that joins them.

English and French tables are keyed by ArtGAN class names. French genre nouns
carry their indefinite article, which gives their gender ("une nature morte").
"""

NBSP = '\u00a0'  # French puts a non-breaking space inside « » and before ':'

# English style adjectives, as in "an Impressionist landscape".
STYLE_EN = {
    'Abstract_Expressionism': 'Abstract Expressionist',
    'Action_painting': 'Action Painting',
    'Analytical_Cubism': 'Analytical Cubist',
    'Art_Nouveau': 'Art Nouveau',
    'Baroque': 'Baroque',
    'Color_Field_Painting': 'Color Field',
    'Contemporary_Realism': 'Contemporary Realist',
    'Cubism': 'Cubist',
    'Early_Renaissance': 'Early Renaissance',
    'Expressionism': 'Expressionist',
    'Fauvism': 'Fauvist',
    'High_Renaissance': 'High Renaissance',
    'Impressionism': 'Impressionist',
    'Mannerism_Late_Renaissance': 'Mannerist',
    'Minimalism': 'Minimalist',
    'Naive_Art_Primitivism': 'Naive Art',
    'New_Realism': 'New Realist',
    'Northern_Renaissance': 'Northern Renaissance',
    'Pointillism': 'Pointillist',
    'Pop_Art': 'Pop Art',
    'Post_Impressionism': 'Post-Impressionist',
    'Realism': 'Realist',
    'Rococo': 'Rococo',
    'Romanticism': 'Romantic',
    'Symbolism': 'Symbolist',
    'Synthetic_Cubism': 'Synthetic Cubist',
    'Ukiyo_e': 'Ukiyo-e',
}

# French style adjectives (masculine, agreeing with "style"); movement names used
# in apposition ("style Art nouveau", "style haute Renaissance") keep their form.
STYLE_FR = {
    'Abstract_Expressionism': 'expressionniste abstrait',
    'Action_painting': 'action painting',
    'Analytical_Cubism': 'cubiste analytique',
    'Art_Nouveau': 'Art nouveau',
    'Baroque': 'baroque',
    'Color_Field_Painting': 'Color Field',
    'Contemporary_Realism': 'réaliste contemporain',
    'Cubism': 'cubiste',
    'Early_Renaissance': 'première Renaissance',
    'Expressionism': 'expressionniste',
    'Fauvism': 'fauve',
    'High_Renaissance': 'haute Renaissance',
    'Impressionism': 'impressionniste',
    'Mannerism_Late_Renaissance': 'maniériste',
    'Minimalism': 'minimaliste',
    'Naive_Art_Primitivism': 'naïf',
    'New_Realism': 'nouveau réaliste',
    'Northern_Renaissance': 'Renaissance nordique',
    'Pointillism': 'pointilliste',
    'Pop_Art': 'pop art',
    'Post_Impressionism': 'postimpressionniste',
    'Realism': 'réaliste',
    'Rococo': 'rococo',
    'Romanticism': 'romantique',
    'Symbolism': 'symboliste',
    'Synthetic_Cubism': 'cubiste synthétique',
    'Ukiyo_e': 'ukiyo-e',
}

# French movement names with their definite article ("l'art naïf").
STYLE_FR_NOUN = {
    'Abstract_Expressionism': "l'expressionnisme abstrait",
    'Action_painting': "l'action painting",
    'Analytical_Cubism': 'le cubisme analytique',
    'Art_Nouveau': "l'Art nouveau",
    'Baroque': 'le baroque',
    'Color_Field_Painting': 'la peinture Color Field',
    'Contemporary_Realism': 'le réalisme contemporain',
    'Cubism': 'le cubisme',
    'Early_Renaissance': 'la première Renaissance',
    'Expressionism': "l'expressionnisme",
    'Fauvism': 'le fauvisme',
    'High_Renaissance': 'la haute Renaissance',
    'Impressionism': "l'impressionnisme",
    'Mannerism_Late_Renaissance': 'le maniérisme',
    'Minimalism': 'le minimalisme',
    'Naive_Art_Primitivism': "l'art naïf",
    'New_Realism': 'le nouveau réalisme',
    'Northern_Renaissance': 'la Renaissance nordique',
    'Pointillism': 'le pointillisme',
    'Pop_Art': 'le pop art',
    'Post_Impressionism': 'le postimpressionnisme',
    'Realism': 'le réalisme',
    'Rococo': 'le rococo',
    'Romanticism': 'le romantisme',
    'Symbolism': 'le symbolisme',
    'Synthetic_Cubism': 'le cubisme synthétique',
    'Ukiyo_e': "l'ukiyo-e",
}

# English genre nouns, without article.
GENRE_EN = {
    'abstract_painting': 'abstract painting',
    'cityscape': 'cityscape',
    'genre_painting': 'genre scene',
    'illustration': 'illustration',
    'landscape': 'landscape',
    'nude_painting': 'nude',
    'portrait': 'portrait',
    'religious_painting': 'religious painting',
    'sketch_and_study': 'sketch',
    'still_life': 'still life',
}

# French genre nouns with their indefinite article (the gender is in the article).
GENRE_FR = {
    'abstract_painting': 'une peinture abstraite',
    'cityscape': 'une vue urbaine',
    'genre_painting': 'une scène de genre',
    'illustration': 'une illustration',
    'landscape': 'un paysage',
    'nude_painting': 'un nu',
    'portrait': 'un portrait',
    'religious_painting': 'une peinture religieuse',
    'sketch_and_study': 'une esquisse',
    'still_life': 'une nature morte',
}

_VOWELS = frozenset('aeiouyàâäéèêëîïôöùûüœæ')
# Given names whose h is mute, so French elides before them ("d'Henri Matisse").
_MUTE_H = ('henri', 'honoré', 'hector', 'hubert', 'hugues', 'hippolyte', 'horace',
           'hélène', 'hortense', 'hokusai')


def indefinite_article(word: str) -> str:
  """The English indefinite article for `word`, by its first letter."""
  return 'an' if word[:1].lower() in 'aeiou' else 'a'


def french_de(name: str) -> str:
  """French "de" + name, elided before a vowel or a mute h ("d'Albrecht Dürer")."""
  low = name.lower()
  if low[:1] == 'y':  # "d'Yves" but "de Yayoi": y before a vowel is a consonant
    elide = low[1:2] not in _VOWELS
  else:
    elide = low[:1] in _VOWELS or low.startswith(_MUTE_H)
  return f"d'{name}" if elide else f'de {name}'
