"""Commitments' public face: what other plugins may import (the rest can change freely).

The notifications plugin reads who is due or late against their organisation's
commitments from here.
"""

from __future__ import annotations

from commitments.reporting.coverage import CommitmentReport, Evaluation, evaluate
from commitments.rules.status import Moment, Status

__all__ = ["CommitmentReport", "Evaluation", "Moment", "Status", "evaluate"]
