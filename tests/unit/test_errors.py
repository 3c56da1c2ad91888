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


def test_config_error_puts_the_location_on_the_first_line_and_names_the_key_once() -> None:
    error = ConfigError(
        "job.w.cmd.x: No {{endif}} at line 1 column 3\n  1| {{if x}}oops\n       ^",
        key="job.w.cmd.x",
        path="/cfg/torque.ini",
        line=4,
    )
    assert str(error).splitlines() == [
        "job.w.cmd.x: No {{endif}} at line 1 column 3 (/cfg/torque.ini line 4)",
        "  1| {{if x}}oops",
        "       ^",
    ]
