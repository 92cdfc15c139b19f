"""The public Python API names that README.md documents import and work."""
import sartor


def test_every_documented_name_resolves():
    for name in sartor.__all__:
        assert getattr(sartor, name) is not None


def test_inference_returns_answer_and_history():
    from sartor import get_model_tokenizer, get_template, inference

    model, tokenizer = get_model_tokenizer("tiny")
    template = get_template("chatml", tokenizer)
    response, history = inference(model, template, "hello", temperature=0, max_new_tokens=5)
    assert isinstance(response, str)
    assert history == [["hello", response]]
    again, history2 = inference(model, template, "and then?", history=history, temperature=0, max_new_tokens=5)
    assert len(history2) == 2 and history2[0] == ["hello", response]
