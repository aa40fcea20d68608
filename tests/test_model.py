import numpy as np
import torch

from training.model import CodeSearchModel, ModelConfig, function_name, pad
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
        model.name_boost.uniform_(0, 3)
    ids = pad([[5, 6, 7], [-8, 9], [5, 6, 7], [10], [-5, -6, 7]])  # negated ids: the function's name
    encoders = torch.tensor([1, 2, 2, 0, 1])
    mixed = model.forward_mixed(encoders, ids)
    for row, encoder in enumerate(encoders.tolist()):
        alone = model(model.encoder_names[encoder], ids[row:row + 1])
        assert torch.allclose(mixed[row], alone[0], atol=1e-6)
    assert not torch.allclose(mixed[0], mixed[2])  # same ids, go's weights against python's


def test_the_functions_name_comes_first_and_weighs_by_a_learned_boost():
    model = small_model(embedding_dim=64).eval()
    body = ["def", "send_mail", "(", "to", ")"]
    plain, named = model.code_ids(body, "python"), model.code_ids(body, "python", "send_mail")
    name_ids = model.vocabulary.encode(["send_mail", "send", "mail"], 10)
    assert named == [-i for i in name_ids] + plain
    assert len(model.code_ids(body * 100, "python", "send_mail")) == model.config.max_code_len
    query = model.encode_queries(["send mail"])[0]
    closeness = []
    for boost in (0.0, 3.0):
        with torch.no_grad():
            model.name_boost.fill_(boost)
        code = model.encode_functions([{"code_tokens": body, "func_name": "Mailer.send_mail"}], "python")[0]
        closeness.append(float(code @ query))
    assert closeness[1] > closeness[0]  # the heavier the name, the closer the code is to "send mail"


def test_function_name_is_the_last_part_of_the_qualified_name():
    assert function_name({"func_name": "EmailBackend.send_mail"}) == "send_mail"
    assert function_name({"func_name": "send_mail"}) == "send_mail"
    assert function_name({}) == ""


def test_models_saved_before_names_were_weighed_load_without_them(tmp_path):
    import json

    model = small_model(names=False)
    assert model.code_ids(["def", "load"], "python", "load") == model.code_ids(["def", "load"], "python")
    model.save(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    del config["names"]
    (tmp_path / "config.json").write_text(json.dumps(config))
    loaded = CodeSearchModel.load(tmp_path, device="cpu")
    assert loaded.config.names is False and not hasattr(loaded, "name_boost")
    assert np.allclose(loaded.encode_queries(["send mail"]), model.cpu().encode_queries(["send mail"]), atol=1e-6)


def test_source_text_is_encoded_with_the_name_of_the_function_it_defines():
    model = small_model(embedding_dim=64)
    with torch.no_grad():
        model.name_boost.fill_(3.0)
    source = "def send_mail(to):\n    return to\n"
    leaves = ["def", "send_mail", "(", "to", ")", ":", "return", "to"]
    from_source = model.encode_code([source], "python")
    assert np.allclose(from_source, model.encode_code([leaves], "python", ["send_mail"]), atol=1e-6)
    assert not np.allclose(from_source, model.encode_code([leaves], "python"), atol=1e-3)
