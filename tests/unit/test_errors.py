from pyrotorque.errors import ConditionError, ConfigError, FaultError, HashNotFound, RtorrentError


def test_config_error_names_key_file_and_line() -> None:
    err = ConfigError(
        "expected an integer, got 'ten'", key="job.queue.downloading_max", path="torque.ini", line=12
    )
    assert str(err) == "job.queue.downloading_max: expected an integer, got 'ten' (torque.ini line 12)"


def test_condition_error_points_at_position() -> None:
    err = ConditionError("Unknown field 'foo'", "name=x foo=1", 7)
    assert str(err).splitlines()[-1].index("^") == 4 + 7


def test_hash_not_found_is_a_fault_and_an_rtorrent_error() -> None:
    err = HashNotFound(-501, "Could not find info-hash.", "d.name")
    assert isinstance(err, FaultError) and isinstance(err, RtorrentError)
    assert err.code == -501
