"""The offline answerer: a reader model marks the answer span (reader.py, reader_input.py, spans.py), sentences are
ranked (ranking.py, quotable.py, question_types.py, soft_coverage.py), and a calibrated model decides whether the
documents answer at all (answerability.py). answerer.py puts them together into an Answer."""
