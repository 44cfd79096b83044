"""The reader's network: MiniLM (BERT, 6 layers, 384 wide) with two small heads.

- span head: a start and an end logit per token. A SQuAD 2.0 reader marks "no answer" by pointing both at [CLS]
  (position 0), so span score minus [CLS] score says how much more the model believes a span than no answer.
- answerable head: one logit from [CLS]'s final vector: does this window answer the question at all? A second
  opinion on the same question, trained with its own loss; the answerer stacks both (answering/reader.py).

Only training and export import this (torch); the package runs the exported ONNX file.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import BertConfig, BertModel

OUTPUTS = ["start_logits", "end_logits", "answerable_logit"]


class Reader(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.bert = BertModel(config, add_pooling_layer=False)
        self.span = nn.Linear(config.hidden_size, 2)
        self.answerable = nn.Linear(config.hidden_size, 1)

    @classmethod
    def from_base(cls, path: str, attention: str = "eager") -> Reader:
        """The heads fresh, the encoder from a pretrained BERT-style checkpoint folder."""
        config = BertConfig.from_pretrained(path, attn_implementation=attention)
        model = cls(config)
        model.bert = BertModel.from_pretrained(path, add_pooling_layer=False, attn_implementation=attention)
        return model

    def forward(self, input_ids, attention_mask, token_type_ids):
        hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                           token_type_ids=token_type_ids).last_hidden_state
        logits = self.span(hidden)
        mask = attention_mask == 0
        start = logits[..., 0].masked_fill(mask, -1e4)
        end = logits[..., 1].masked_fill(mask, -1e4)
        return start, end, self.answerable(hidden[:, 0]).squeeze(-1)


def loss(outputs, start_positions, end_positions, answerable) -> torch.Tensor:
    start, end, has = outputs
    ce = nn.functional.cross_entropy
    span = (ce(start.float(), start_positions) + ce(end.float(), end_positions)) / 2
    return span + nn.functional.binary_cross_entropy_with_logits(has.float(), answerable.float())
