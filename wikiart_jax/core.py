"""The vocabulary every layer shares: task names, WikiArt's classes, file types, errors.

The bottom of the package: it imports nothing of ours, and everything else may
import it. A name defined here is defined nowhere else.
"""

# The classification tasks, in the order every table and head lists them.
TASKS = ('style', 'artist', 'genre')

# The 27 ArtGAN styles, in style_class.txt order (the index is the class id).
STYLES = (
    'Abstract_Expressionism', 'Action_painting', 'Analytical_Cubism',
    'Art_Nouveau', 'Baroque', 'Color_Field_Painting', 'Contemporary_Realism',
    'Cubism', 'Early_Renaissance', 'Expressionism', 'Fauvism',
    'High_Renaissance', 'Impressionism', 'Mannerism_Late_Renaissance',
    'Minimalism', 'Naive_Art_Primitivism', 'New_Realism',
    'Northern_Renaissance', 'Pointillism', 'Pop_Art', 'Post_Impressionism',
    'Realism', 'Rococo', 'Romanticism', 'Symbolism', 'Synthetic_Cubism',
    'Ukiyo_e',
)

# The 10 ArtGAN genres, in genre_class.txt order.
GENRES = (
    'abstract_painting', 'cityscape', 'genre_painting', 'illustration',
    'landscape', 'nude_painting', 'portrait', 'religious_painting',
    'sketch_and_study', 'still_life',
)

# The image folders do not all carry the class name: style_class.txt says
# `Art_Nouveau`, the folder (and every CSV path) says `Art_Nouveau_Modern`.
STYLE_FOLDER_ALIASES = {'Art_Nouveau_Modern': 'Art_Nouveau'}

# The languages of the descriptions.
LANGUAGES = ('en', 'fr')

# File names read as images (lower-case; compare with `name.lower().endswith`).
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.webp', '.bmp', '.gif', '.tif', '.tiff')


class ImageError(ValueError):
  """An image that cannot be decoded; the message names the file."""


class CheckpointError(ValueError):
  """A checkpoint that cannot be read or does not fit the model; names the culprit."""


class TrainingDivergedError(RuntimeError):
  """The loss became NaN or infinite; the last good checkpoint is kept."""


class LockedError(RuntimeError):
  """Another live process writes to this folder; the message names it."""
