"""Certificates: signed PDFs (Ed25519 payload and PAdES), Open Badges 3.0, verification."""

import warnings

from cryptography.utils import CryptographyDeprecationWarning

# pyHanko (certificates.pades) imports cryptography's DSA types to recognise them, which
# warns on every command and worker start; DSA is never used here.
warnings.filterwarnings(
    "ignore", message="DSA is deprecated", category=CryptographyDeprecationWarning
)
