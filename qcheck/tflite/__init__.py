"""The .tflite FlatBuffer format: schema tables, decoders, the read-only model view, the writer, buffer scans.

The only package of qcheck that knows the file layout (and the only one that imports `flatbuffers`,
for the writer); the rest of qcheck sees `Model` values.
"""
