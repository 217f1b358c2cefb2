import logging

from appliance.logs import KeyValueFormatter


def test_key_value_lines_quote_what_needs_quoting():
    record = logging.LogRecord("appliance.acd", logging.INFO, __file__, 1, "agent %s logged in", ("1001",), None)
    record.kv = {"agent": "1001", "reason": 'lunch "long"', "queue": ""}
    line = KeyValueFormatter(with_time=False).format(record)
    assert line == ('level=info logger=appliance.acd msg="agent 1001 logged in" agent=1001 '
                    'reason="lunch \\"long\\"" queue=""')
