"""Exporting a trained generator for use elsewhere: a small fp16 copy for pokegan itself (`slim`), an ONNX
model with the sprite pipeline inside its graph for game engines (`onnx`), and a static web page that runs
that model in the browser with no server (`web`)."""
