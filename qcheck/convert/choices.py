"""The calibration options the CLI parser needs, kept apart so `qcheck verify` never imports calibration."""

from __future__ import annotations

RANDOM = "random"
DEFAULT_SAMPLES = 100

# --preprocess for image folders: how decoded 8-bit pixels become the model's float input.
# "caffe" is what keras.applications' ResNet50/VGG expect; "imagenet" is the torchvision convention.
PREPROCESS: dict[str, str] = {
    "unit": "pixels / 255, in [0, 1] (default)",
    "symmetric": "pixels / 127.5 - 1, in [-1, 1] (MobileNet, EfficientNet-lite)",
    "raw": "pixels as floats in [0, 255]",
    "imagenet": "RGB (pixels / 255 - mean) / std, mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225)",
    "caffe": "BGR pixels - (103.939, 116.779, 123.68) (keras.applications ResNet50, VGG)",
}
