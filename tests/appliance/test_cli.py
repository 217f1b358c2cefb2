from appliance import __version__


def test_version_text_and_json(run_qbox):
    status, out, _ = run_qbox("version")
    assert status == 0 and out.strip() == f"qbox {__version__}"
    status, out, _ = run_qbox("version", "--json")
    assert status == 0 and f'"version": "{__version__}"' in out


def test_help_lists_one_line_per_command(run_qbox):
    status, out, _ = run_qbox("--help")
    assert status == 0
    assert "version" in out and "print the qbox version" in out


def test_unknown_command_is_bad_input(run_qbox):
    status, _, err = run_qbox("no-such-command")
    assert status == 2 and "invalid choice" in err
