"""mrecist_reader: mRECIST reading workstation for hepatocellular carcinoma trials."""

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
