from patron.applications import apikeys


def test_new_key_is_recognisable_and_its_id_is_extractable():
    key_id, key = apikeys.new_key()
    assert key.startswith("patron_")
    assert apikeys.key_id_of(key) == key_id
    assert len(key) == len("patron_") + 16 + 1 + 43


def test_keys_are_unique_and_high_entropy():
    keys = {apikeys.new_key()[1] for _ in range(1000)}
    assert len(keys) == 1000


def test_malformed_keys_have_no_id():
    _, key = apikeys.new_key()
    for bad in [
        "",
        "patron_",
        key[:-1],
        key + "x",
        key.replace("patron_", "patr\u043en_"),
        "Bearer " + key,
        key.upper(),
    ]:
        assert apikeys.key_id_of(bad) is None


def test_only_the_hash_is_needed_to_verify_and_it_does_not_reveal_the_key():
    _, key = apikeys.new_key()
    stored = apikeys.hash_key(key)
    assert key not in stored
    assert apikeys.matches(key, stored)
    assert not apikeys.matches(key[:-1] + ("A" if key[-1] != "A" else "B"), stored)
