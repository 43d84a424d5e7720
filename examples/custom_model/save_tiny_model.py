"""Save a small model with its weights into ./my-bert, as a fine-tune would leave it.

    cd examples/custom_model && python save_tiny_model.py && pytest --ipfs-models=./my-bert

Any directory with a config.json and weights works the same way (a local checkout, a
snapshot from the local Hugging Face cache); nothing is downloaded.
"""

import torch
from transformers import BertConfig, BertModel

torch.manual_seed(0)
config = BertConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
                    vocab_size=1000)
BertModel(config).save_pretrained("my-bert")
print("saved ./my-bert; run: pytest --ipfs-models=./my-bert --ipfs-hw=cpu,onnxruntime,openvino")
