#!/usr/bin/env python3
"""A BERT of bert-base-uncased's size with random weights (transformers'
own initialization, seed 0), for tests/bench/bench_train_gpu.sh: writes
config.json and model.safetensors with BertModel.save_pretrained and copies
the vocabulary (and tokenizer_config.json) of an existing model directory,
whose vocabulary is bert-base-uncased's (all-MiniLM-L6-v2's is).

usage: make_random_bert.py OUT_DIR VOCAB_MODEL_DIR [hidden layers heads intermediate]
"""
import os
import shutil
import sys

import torch
from transformers import BertConfig, BertModel


def main():
    out, vocab_dir = sys.argv[1:3]
    hidden, layers, heads, inter = (int(x) for x in (sys.argv[3:7] or (768, 12, 12, 3072)))
    torch.manual_seed(0)
    config = BertConfig(vocab_size=30522, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
                        intermediate_size=inter, max_position_embeddings=512, hidden_act="gelu")
    model = BertModel(config)
    model.save_pretrained(out, safe_serialization=True)
    for name in ("vocab.txt", "tokenizer_config.json"):
        if os.path.exists(os.path.join(vocab_dir, name)):
            shutil.copy(os.path.join(vocab_dir, name), out)


if __name__ == "__main__":
    main()
