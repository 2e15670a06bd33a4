"""Quizzes' public face: what other plugins may import (the rest can change freely).

The demo data of commitments plays people's training through it: a quiz attempt taken,
passed or failed, at a given moment.
"""

from __future__ import annotations

from quizzes.demo import take_quiz

__all__ = ["take_quiz"]
