"""What each benchmark script prints on its last line: one JSON object of its losses, answers, phase times and the classes its model ended up with."""

import json
import sys


# The layer classes of the book's common/time_layers.py and ch08/attention_layer.py.
LAYER_NAMES = frozenset("""
    RNN TimeRNN LSTM TimeLSTM GRU TimeGRU TimeBiLSTM TimeDropout TimeEmbedding TimeAffine
    TimeSoftmaxWithLoss TimeSigmoidWithLoss Simple_TimeAffine Simple_TimeSoftmaxWithLoss
    MatMul Affine Softmax SoftmaxWithLoss Sigmoid SigmoidWithLoss Dropout Embedding
    WeightSum AttentionWeight Attention TimeAttention""".split())


def layer_classes(model):
    """``{"attribute path": "module.Class"}`` of every layer the model holds.

    A layer is an object whose class has one of the book's layer names
    (``LAYER_NAMES``), whoever defined it; it is a leaf (its own parts, such
    as the per-step objects of a time layer, are not listed). Other objects
    (an encoder, a decoder) and lists are walked.
    """
    found, seen = {}, set()

    def walk(obj, path, depth):
        if depth > 4 or id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, (list, tuple)):
            for i, item in enumerate(obj):
                walk(item, f"{path}[{i}]", depth + 1)
        elif type(obj).__name__ in LAYER_NAMES:
            found[path] = f"{type(obj).__module__}.{type(obj).__qualname__}"
        elif hasattr(obj, '__dict__'):
            for name, value in vars(obj).items():
                walk(value, f"{path}.{name}" if path else name, depth + 1)

    walk(model, '', 0)
    return found


def emit(**fields):
    """Print ``fields`` as one line of JSON on stdout."""
    sys.stdout.write(json.dumps(fields) + '\n')
    sys.stdout.flush()
