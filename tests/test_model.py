import numpy as np
import torch

from training.model import CodeSearchModel, ModelConfig, pad
from training.train import build_model

RECORDS = [
    {"language": "python", "summary": "send an email", "code_tokens": ["def", "send_mail", "(", "to", ")"]},
    {"language": "python", "summary": "read a json file", "code_tokens": ["def", "load", "(", "json", ")"]},
]


def small_model(**overrides) -> CodeSearchModel:
    return build_model(RECORDS, ModelConfig(**{"languages": ["python"], "vocab_size": 128, "embedding_dim": 16,
                                               **overrides}))


def test_encodings_are_unit_vectors_of_the_configured_size():
    model = small_model()
    q = model.encode_queries(["send mail", ""])
    c = model.encode_code(["def f(x):\n    return x", ["def", "g"]], "python")
    assert q.shape == (2, 16) and c.shape == (2, 16)
    assert np.allclose(np.linalg.norm(q[0]), 1) and np.allclose(np.linalg.norm(c, axis=1), 1)


def test_padding_does_not_change_the_encoding():
    model = small_model().eval()
    short = model("query", torch.tensor([[5, 6, 7]]))
    padded = model("query", pad([[5, 6, 7, 0, 0, 0]]))
    assert torch.allclose(short, padded, atol=1e-6)


def test_save_and_load_give_the_same_model(tmp_path):
    model = small_model()
    model.save(tmp_path)
    loaded = CodeSearchModel.load(tmp_path, device="cpu")
    assert loaded.config == model.config
    assert np.allclose(loaded.encode_queries(["send mail"]), model.cpu().encode_queries(["send mail"]), atol=1e-6)


def test_unknown_language_is_a_clear_error():
    model = small_model()
    try:
        model.encode_code(["x"], "cobol")
    except ValueError as e:
        assert "cobol" in str(e)
    else:
        raise AssertionError("expected ValueError")


def test_queries_and_code_share_one_vocabulary():
    torch.manual_seed(0)
    model = small_model(embedding_dim=64)
    assert model.query_ids("send mail") == model.code_ids(["send", "mail"], "python")
    # A word the code side never trained still encodes alike on both sides: the match BM25 would find.
    q = model.encode_queries(["send mail"])
    codes = model.encode_code([["def", "send_mail"], ["def", "load", "json"]], "python")
    assert (codes @ q.T).argmax() == 0


def test_token_weights_start_at_inverse_document_frequency():
    model = small_model()
    common, rare = model.vocabulary.encode(["def", "json"], 2)
    ids = torch.tensor([[common, rare], [common, 0], [common, 0], [common, 0]])
    model.init_token_weights("python", ids)
    weights = model.token_weights["python"].exp()
    assert weights[rare] > weights[common] >= 1.0
    assert torch.equal(model.token_weights["query"], torch.zeros_like(model.token_weights["query"]))


def test_rows_of_several_encoders_encode_as_each_encoder_alone():
    model = build_model(RECORDS, ModelConfig(languages=["go", "python"], vocab_size=128, embedding_dim=16)).eval()
    with torch.no_grad():
        for name in model.encoder_names:  # different weights per encoder, or the test could not fail
            model.token_weights[name].uniform_(-1, 1)
    ids = pad([[5, 6, 7], [8, 9], [5, 6, 7], [10]])
    encoders = torch.tensor([1, 2, 2, 0])
    mixed = model.forward_mixed(encoders, ids)
    for row, encoder in enumerate(encoders.tolist()):
        alone = model(model.encoder_names[encoder], ids[row:row + 1])
        assert torch.allclose(mixed[row], alone[0], atol=1e-6)
    assert not torch.allclose(mixed[0], mixed[2])  # same ids, go's weights against python's
