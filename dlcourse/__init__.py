"""Helpers the course notebooks import: runtime profile, offline data, model checks, plots.

Importing this package is cheap: TensorFlow is imported only by the functions that need it,
so `dlcourse` installs and imports next to whatever TensorFlow the machine (or Colab) has.
"""

__version__ = "0.1.0"
