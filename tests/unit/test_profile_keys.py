from patron.profiles.keys import parse_profile_pk, profile_pk


def test_profile_keys_round_trip_even_with_separators_in_the_integration_id():
    for integration_id in ["alice", "a#b#c", "APP#9#PROFILE#x", "ü nicode"]:
        assert parse_profile_pk(profile_pk(42, integration_id)) == (42, integration_id)
