"""The one scorer the answerers use: a linear model over named features, optionally calibrated into a probability.

Three places score this way: the offline answerer's sentence ranking (a plain score), its decline model and the
citation check (probabilities). Their weights are fitted by scripts in benchmarks/ and live in JSON under
assistant/data/; pydantic checks them when they are read, so a missing or malformed file is an error that names
the file, never a silent fallback to other numbers.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from assistant.errors import AssistantError

M = TypeVar("M", bound=BaseModel)


class WeightsError(AssistantError):
    """A shipped weights file is missing or does not hold what the code expects."""


class LinearScorer(BaseModel):
    """bias + Σ weight × feature (a feature the scorer does not name counts 0), and its calibrated logistic."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    bias: float = 0.0
    weights: dict[str, float]
    calibration: tuple[float, float] = (1.0, 0.0)  # (scale, shift) applied to the score before the logistic

    def score(self, features: dict[str, float]) -> float:
        return self.bias + sum(w * features.get(f, 0.0) for f, w in self.weights.items())

    def probability(self, features: dict[str, float]) -> float:
        scale, shift = self.calibration
        z = scale * self.score(features) + shift
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


def load_weights_file(path: Path, model: type[M]) -> M:
    """`path` read and checked as `model`; WeightsError (one line, naming the file and what is wrong) else."""
    try:
        return model.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise WeightsError(f"{path} is missing: the package is incomplete; reinstall it") from None
    except (OSError, ValueError) as exc:  # ValidationError is a ValueError
        what = (f"{len(exc.errors())} field(s) wrong, first {'.'.join(map(str, exc.errors()[0]['loc']))}: "
                f"{exc.errors()[0]['msg']}") if isinstance(exc, ValidationError) else str(exc).splitlines()[0]
        raise WeightsError(f"{path} cannot be used ({what}); reinstall the package") from None
