# ruff: noqa: E402, I001 - the guide sets KERAS_BACKEND first and imports where it uses.
"""Port of the keras-io guide "Exporting Keras models to LiteRT"
(Rahul Kumar; Apache 2.0).

Source: keras-team/keras-io, guides/litert_export.py at commit
01772d991e087692cc08ae1c1cda9b2d92be5771. The guide's code runs here with
`keras` replaced by `kerax`; lines marked `# kerax: state` make the state
explicit: `model.compile(...)` is `kerax.Trainer(model, ...)`, calling a
model to build it is `model.init(key, ...)` (and `model.apply`), and
`model.export(path, format="litert", ...)` is
`kerax.export.tflite(model, params, state, path, ...)` with the guide's own
arguments (`input_signature`, `optimizations`); a subclassed model records
no input shape when it is built, so its export is passed the one it was
built with. `# kerax: <reason>` marks any other change: the guide's
PyTorch backend is JAX here, the signature's input is named after the
model's input (`inputs`; Keras on PyTorch names it `args_0`), and two
sections are left out: the KerasHub Gemma 3 export (no KerasHub, and a
download) and the AI Edge Quantizer (`ai_edge_quantizer` is not installed
here). The prose is left out; section titles are kept as comments.
"""

# Introduction

# Setup

import os

os.environ["KERAS_BACKEND"] = "jax"  # kerax: JAX (the guide picks PyTorch)

import numpy as np
import kerax
import jax  # kerax: state

print("Keras version:", kerax.__version__)

# Export a simple model

# Build a simple model
model = kerax.Sequential(
    [
        kerax.layers.Dense(64, activation="relu", input_shape=(10,)),
        kerax.layers.Dense(64, activation="relu"),
        kerax.layers.Dense(10, activation="softmax"),
    ]
)
trainer = kerax.Trainer(  # kerax: state
    model,
    optimizer="adam",
    loss="sparse_categorical_crossentropy",  # kerax: state
)  # kerax: state

# Build weights with a sample input
key = jax.random.key(0)  # kerax: state
sample_input = np.random.random((1, 10)).astype("float32")
params, state = model.init(key, sample_input)  # kerax: state
_ = model.apply(params, state, sample_input)  # kerax: state

# Export to LiteRT
kerax.export.tflite(model, params, state, "model.tflite")  # kerax: state
print("Exported to model.tflite")

# Run inference with the LiteRT model

from ai_edge_litert.interpreter import Interpreter

interpreter = Interpreter(model_path="model.tflite")
interpreter.allocate_tensors()

input_details = interpreter.get_input_details()
output_details = interpreter.get_output_details()

print("Input shape :", input_details[0]["shape"])
print("Output shape:", output_details[0]["shape"])

interpreter.set_tensor(input_details[0]["index"], sample_input)
interpreter.invoke()
output = interpreter.get_tensor(output_details[0]["index"])
print("Inference output shape:", output.shape)

# Working with different model types

## Subclassed models


class TinyModel(kerax.Model):
    def __init__(self):
        super().__init__()
        self.dense1 = kerax.layers.Dense(16, activation="relu")
        self.dense2 = kerax.layers.Dense(1)

    def call(self, x):
        return self.dense2(self.dense1(x))


subclass_model = TinyModel()
built_spec = kerax.spec((None, 10))  # kerax: state (the shape it is built with)
params, state = subclass_model.init(key, built_spec)  # kerax: state
kerax.export.tflite(  # kerax: state
    subclass_model,
    params,
    state,
    "subclass_model.tflite",
    input_spec=built_spec,  # kerax: state
)  # kerax: state
print("Subclassed model exported")

## Models with multiple inputs

input_a = kerax.Input(shape=(10,), name="input_a")
input_b = kerax.Input(shape=(10,), name="input_b")
merged = kerax.layers.Concatenate()([input_a, input_b])
output = kerax.layers.Dense(1)(merged)
multi_input_model = kerax.Model(inputs=[input_a, input_b], outputs=output)

a = np.random.random((1, 10)).astype("float32")
b = np.random.random((1, 10)).astype("float32")
params, state = multi_input_model.init(key)  # kerax: state
_ = multi_input_model.apply(params, state, [a, b])  # kerax: state

kerax.export.tflite(  # kerax: state
    multi_input_model,
    params,
    state,
    "multi_input_model.tflite",  # kerax: state
)  # kerax: state
print("Multi-input model exported")

## Models with dictionary inputs

input_x = kerax.Input(shape=(10,), name="x")
input_y = kerax.Input(shape=(10,), name="y")
sum_output = kerax.layers.Add()([input_x, input_y])
dict_model = kerax.Model(inputs={"x": input_x, "y": input_y}, outputs=sum_output)

x_val = np.random.random((1, 10)).astype("float32")
y_val = np.random.random((1, 10)).astype("float32")
params, state = dict_model.init(key)  # kerax: state
_ = dict_model.apply(params, state, {"x": x_val, "y": y_val})  # kerax: state

kerax.export.tflite(dict_model, params, state, "dict_model.tflite")  # kerax: state
print("Dict-input model exported")

# Dynamic shapes and runtime input resizing

interpreter = Interpreter(model_path="model.tflite")
interpreter.allocate_tensors()
input_details = interpreter.get_input_details()

# Resize from batch=1 to batch=4
interpreter.resize_tensor_input(input_details[0]["index"], [4, 10])
interpreter.allocate_tensors()

batch_input = np.random.random((4, 10)).astype("float32")
interpreter.set_tensor(input_details[0]["index"], batch_input)
interpreter.invoke()
resized_output = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
print("Resized output shape:", resized_output.shape)

# Signature runner

interpreter = Interpreter(model_path="model.tflite")
interpreter.allocate_tensors()

# Check available signatures
print("Signatures:", interpreter.get_signature_list())

# Run inference using the signature runner
runner = interpreter.get_signature_runner("serving_default")
sig_output = runner(inputs=sample_input)  # kerax: named after the model's input
print("Signature runner output shape:", list(sig_output.values())[0].shape)

# Custom input signature

model = kerax.Sequential(
    [
        kerax.layers.Dense(64, activation="relu", input_shape=(10,)),
        kerax.layers.Dense(10, activation="softmax"),
    ]
)
trainer = kerax.Trainer(model)  # kerax: state
params, state = model.init(key, np.zeros((1, 10), dtype="float32"))  # kerax: state

custom_sig = [kerax.layers.InputSpec(shape=(None, 10), dtype="float32")]
kerax.export.tflite(  # kerax: state
    model,
    params,
    state,
    "custom_sig_model.tflite",
    input_signature=custom_sig,  # kerax: state
)  # kerax: state
print("Exported with custom input signature")

# Export a KerasHub model

# kerax: left out: KerasHub's Gemma 3 270M preset (no KerasHub; a download).

# Quantization for smaller models

## Built-in dynamic range quantization

import tensorflow as tf

model = kerax.Sequential(
    [
        kerax.layers.Dense(64, activation="relu", input_shape=(10,)),
        kerax.layers.Dense(64, activation="relu"),
        kerax.layers.Dense(10, activation="softmax"),
    ]
)
trainer = kerax.Trainer(model)  # kerax: state
params, state = model.init(key, np.zeros((1, 10), dtype="float32"))  # kerax: state

kerax.export.tflite(  # kerax: state
    model,  # kerax: state
    params,  # kerax: state
    state,  # kerax: state
    "model_dynamic_quant.tflite",
    optimizations=[tf.lite.Optimize.DEFAULT],
)
print("Exported dynamically quantized model")

## Post-export quantization with ai-edge-quantizer

# kerax: left out: ai_edge_quantizer is not installed here.

# Compare file sizes


def file_size_mb(path):
    return os.path.getsize(path) / (1024 * 1024)


print(f"\nOriginal     : {file_size_mb('model.tflite'):.1f} MB")
print(f"Dynamic INT8 : {file_size_mb('model_dynamic_quant.tflite'):.1f} MB")
# kerax: left out (no ai_edge_quantizer): the AI Edge Quantizer's file size.

# Android dependencies

## New LiteRT runtime (recommended)

## Legacy TensorFlow Lite runtime

# TensorFlow backend alternative

# Backend comparison

# Best practices

# Troubleshooting
