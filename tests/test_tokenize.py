import random

import pytest

from training.tokenize import (PAD_ID, UNK_ID, ExtendedVocabulary, Vocabulary, Words, code_tokens,
                               corrected_text, known_tokens, one_edit, query_tokens, slip_odds, subtokens)


def test_subtokens_split_camel_snake_and_digits():
    assert subtokens("getHTTPResponse_code2") == ["get", "http", "response", "code", "2"]
    assert subtokens("__init__") == ["init"]


def test_code_tokens_keep_whole_identifiers_and_split_strings_and_drop_punctuation():
    tokens = code_tokens(["def", "send_mail", "(", "to", ")", ":", '"Hello world"', "fromEmail", "=="])
    assert tokens == ["def", "send_mail", "send", "mail", "to", "hello", "world", "fromemail", "from", "email"]


def test_query_tokens_lowercase_words():
    assert query_tokens("Send an E-mail via sendMail!") == ["send", "an", "e", "mail", "via", "sendmail", "send", "mail"]
    assert query_tokens("   ") == []


def test_vocabulary_is_half_words_half_bpe_and_deterministic(tmp_path):
    data = [["send", "mail", "message"] * 5, ["parse", "json", "file"] * 3, ["compress", "archive"]]
    a, b = Vocabulary.build(data, 64), Vocabulary.build(data, 64)
    assert a.encode(["send", "mailbox"], 10) == b.encode(["send", "mailbox"], 10)
    assert a.encode(["send"], 5) != [UNK_ID]
    assert 2 < len(a.words.get_vocab()) <= 32
    a.save(tmp_path)
    loaded = Vocabulary.load(tmp_path)
    assert loaded.encode(["parse", "jsonfile", "zzz"], 10) == a.encode(["parse", "jsonfile", "zzz"], 10)


def test_unknown_and_overlong_input_degrade_gracefully():
    vocab = Vocabulary.build([["alpha", "beta"]], 64)
    ids = vocab.encode(["日本語", "x" * 10_000, "alpha"] * 100, 30)
    assert len(ids) == 30 and PAD_ID not in ids
    assert vocab.encode([], 30) == []


def test_shared_vocabulary_keeps_each_streams_own_words():
    big = [["public", "static", "void"] * 50] * 20   # one big stream would crowd out the small one by counts
    small = [["def", "self"]] * 3
    vocab = Vocabulary.build_shared([big, small], 12)
    known = vocab.words.get_vocab()
    assert {"def", "self", "public"} <= set(known)


def test_a_long_string_literal_is_tokenised_but_not_kept_in_the_cache():
    from training.tokenize import _cached_leaf_tokens

    literal = '"' + "payload " * 20_000 + '"'
    before = _cached_leaf_tokens.cache_info().currsize
    assert code_tokens(["x", literal]) == ["x"] + ["payload"] * 20_000
    assert _cached_leaf_tokens.cache_info().currsize <= before + 1  # "x" at most


def test_one_edit_covers_each_way_people_mistype():
    edits = one_edit("mail")
    assert {"mil", "amil", "mall", "mails", "xmail"} <= set(edits)  # dropped, swapped, replaced, added
    assert "mail" not in edits and "lima" not in edits  # two swaps are two edits
    # A letter lost or two swapped explain a typo better than one replaced (any of 25) or added.
    assert edits["mails"] > edits["mall"] and edits["amil"] > edits["mil"]


def test_slip_odds_are_one_edits_odds():
    rng = random.Random(0)
    for word in ("mail", "from", "address", "aab", "letter"):
        edits = one_edit(word)
        for meant, odds in edits.items():
            if meant != word:
                assert slip_odds(word, meant) == odds, (word, meant)
        for meant in ("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(len(word) + d)) for d in (-1, 0, 1)):
            assert (slip_odds(word, meant) is None) == (meant not in edits or meant == word)
    assert slip_odds("mail", "ma1l") is None  # people mistype letters for letters


def test_the_tokens_one_edit_away_are_found_by_their_deletions_as_among_all_the_words_edits():
    """Looking the word and its deletions up in the tokens' deletions finds exactly the tokens among
    the word's ~50 x length edits, with the same odds; a fine-tuned model's added words too."""
    common = ["for", "from", "mail", "send", "the"]
    fillers = [f"filler{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(300)]  # ranks between
    rare = ["fro", "form", "maim", "mial", "sned", "snd", "sendd", "tthe", "fillerab"]
    vocab = Vocabulary.build([common * 500 + fillers * 10 + rare * 3], 1000)
    extended = ExtendedVocabulary(vocab, ["mailer", "sendmail"])
    typed = common + rare + fillers[:40] + ["fillerabb", "mailr", "sendmial", "teh", "mal", "maile"]
    for v in (vocab, extended):
        for word in typed:
            edits = one_edit(word)
            assert v._slips(word) == {w: odds for w, odds in edits.items() if w != word and v.word_id(w) is not None}, word
    assert [c for c, _ in vocab._commoner_slips("fro", vocab.word_id("fro"))] == ["for", "from"]
    assert vocab.spelled("fro") == "for" and vocab.spelled("form") == "from" and vocab.spelled("for") == "for"
    assert extended.spelled("sendmial") == "sendmail"


def test_the_likeliest_slip_wins_over_the_commonest_word():
    fillers = [f"filler{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(300)]  # ranks between
    data = [["for"] * 400 + ["from"] * 300 + ["form"] * 200 + ["count", "out"] * 100 + fillers * 10 + ["fro"] * 3]
    vocab = Vocabulary.build(data, 1000)
    assert vocab.spelled("fom") == "from"  # "from" lost a letter; "for" would need one replaced
    assert vocab.spelled("ount") == "count"
    # A word that is a token itself stays as typed, unless a far commoner word is a likely slip away.
    assert vocab.spelled("form") == "form" and vocab.spelled("fro") == "for"


def test_a_mistyped_word_is_spelled_as_the_most_frequent_word_one_edit_away():
    data = [["send", "mail", "message", "email", "sendmail"] * 8, ["sand", "mail"] * 3, ["email", "parse"] * 3]
    vocab = Vocabulary.build(data, 64)
    assert vocab.spelled("sned") == "send" and vocab.spelled("mial") == "mail"
    assert vocab.spelled("snd") == "send"  # "send" is more frequent than "sand", one edit away too
    assert vocab.spelled("emial") == "email"
    # Known words, short words, digits and words with nothing near them are left as typed.
    assert [vocab.spelled(w) for w in ("sand", "ml", "m4il", "xyzzyq")] == ["sand", "ml", "m4il", "xyzzyq"]
    assert query_tokens("sned mial", spell=vocab.spelled) == ["send", "mail"]
    assert query_tokens("sned mial", with_bigrams=True, spell=vocab.spelled) == ["send", "mail", "send_mail"]
    assert query_tokens("sendMial", spell=vocab.spelled) == ["sendmail", "send", "mail"]  # the whole word too
    assert corrected_text("Sned the mial, now!", vocab.spelled) == "send the mail, now!"
    assert known_tokens(["sned", "zzz", "mail"], {"send", "mail"}, vocab.spelled) == ["send", "mail"]
    assert known_tokens(["sned", "mail"], {"send", "mail"}) == ["mail"]
    # A word of the code searched is never corrected: it is the repository's own. Among the words one
    # edit away, one the code uses comes first.
    assert known_tokens(["sned"], {"sned", "send"}, vocab.spelled) == ["sned"]
    assert vocab.spelled("snd", known={"sand"}) == "sand" and vocab.spelled("snd", known={"mail"}) == "send"
    assert known_tokens(["snd"], {"sand", "mail"}, vocab.spelled) == ["sand"]
    # A word the vocabulary spells in pieces, one edit from a word the code uses that is no token either
    # (a repository's own rare names), is taken for that word; with nothing near it, as typed.
    assert vocab.word_id("smtplib") is None and vocab.word_id("smtplb") is None
    assert vocab.spelled("smtplb", known={"smtplib", "mail"}) == "smtplib"
    assert known_tokens(["smtplb", "sned"], {"smtplib", "send"}, vocab.spelled) == ["smtplib", "send"]
    assert vocab.spelled("smtplb", known={"mail"}) == "smtplb"
    # A token one edit away that the code uses still comes first.
    assert vocab.spelled("snd", known={"sand", "snad"}) == "sand"


def test_an_extended_vocabulary_spells_with_its_added_words_too():
    base = Vocabulary.build([["send", "mail"] * 5], 64)
    extended = ExtendedVocabulary(base, ["smtplib"])
    assert extended.spelled("smtplb") == "smtplib" and extended.spelled("sned") == "send"
    assert base.spelled("smtplb") == "smtplb"


@pytest.mark.parametrize("with_bigrams", [False, True])
def test_code_is_encoded_a_leaf_at_a_time_as_its_tokens_are(with_bigrams):
    """`encode_code` keeps each short leaf's ids: the same ids as encoding the code's tokens, cut at the
    same length, for a base vocabulary and an extended one, and a long literal's ids are not kept."""
    base = Vocabulary.build([["send", "mail", "message", "send_mail"] * 5], 64)
    literal = '"' + "payload mail " * 2_000 + '"'
    leaves = ["def", "sendMail", "(", "message", ")", ":", "smtplib", ".", "send", "(", literal, ")", "sendMail"]
    for vocab in (base, ExtendedVocabulary(base, ["smtplib"])):
        for limit in (3, 5, 200, 10_000):
            expected = vocab.encode(code_tokens(leaves, with_bigrams), limit)
            assert vocab.encode_code(leaves, with_bigrams, limit) == expected
        short = {(leaf, with_bigrams) for leaf in leaves if leaf != literal}
        assert vocab._leaf_ids.cache_info().currsize == len(short)  # the literal's thousands of ids are not


def test_a_sets_words_one_edit_away_are_found_by_their_deletions_as_by_trying_every_edit():
    """`Words` indexes a small set's deletions and tries every edit against a large one: the same
    words with the same odds either way, and `spelled` corrects against it as against a plain set."""
    code = ["smtplib", "sendmail", "mailer", "mailbox", "sender", "senders", "sendable"]
    indexed, tried = Words(code), Words(code)
    tried.INDEXED = 0
    for typed in ("smtplb", "sendmial", "maler", "mailerr", "sendr", "zzzz"):
        assert indexed.slips(typed) == tried.slips(typed) == {
            meant: odds for meant, odds in one_edit(typed).items() if meant in code}
    vocab = Vocabulary.build([["send", "mail"] * 5], 64)
    for typed in ("smtplb", "sendmial", "sendr"):
        assert vocab.spelled(typed, indexed) == vocab.spelled(typed, tried) == vocab.spelled(typed, set(code))
    assert vocab.spelled("smtplb", indexed) == "smtplib"
