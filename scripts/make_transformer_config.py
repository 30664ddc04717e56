"""Writes configs/transformer_model.json: the model behind configs/transformer.yaml.

A functional model is data (JSON), not code, so a config can name it safely.
Rerun after changing the architecture:  python scripts/make_transformer_config.py
"""

import json
from pathlib import Path

import kerax
from kerax import layers


def transformer_classifier(length=20, vocab=50, dim=32, heads=2, ff=64, classes=2):
    tokens = kerax.Input((length,), dtype="int32", name="tokens")
    x = layers.Embedding(vocab, dim, name="embedding")(tokens)
    attn = layers.MultiHeadAttention(
        num_heads=heads, key_dim=dim // heads, name="attention"
    )(x, x)
    x = layers.LayerNormalization(name="norm_1")(layers.Add()([x, attn]))
    h = layers.Dense(ff, activation="relu", name="ff_1")(x)
    x = layers.LayerNormalization(name="norm_2")(
        layers.Add()([x, layers.Dense(dim, name="ff_2")(h)])
    )
    x = layers.GlobalAveragePooling1D()(x)
    return kerax.Model(
        tokens,
        layers.Dense(classes, activation="softmax", name="classifier")(x),
        name="transformer",
    )


if __name__ == "__main__":
    path = Path(__file__).resolve().parents[1] / "configs" / "transformer_model.json"
    path.write_text(json.dumps(kerax.serialize(transformer_classifier()), indent=1))
    print(f"wrote {path}")
