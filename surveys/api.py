"""Surveys' public face: what other plugins may import (the rest can change freely).

The demo data of commitments plays people's training through it: the end-of-course
questionnaire answered, which completes the course.
"""

from __future__ import annotations

from surveys.demo import answer_questionnaire

__all__ = ["answer_questionnaire"]
