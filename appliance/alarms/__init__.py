"""Alarms: X.733-style records, debounced sources, and the tower, buzzer and syslog outputs.

    manager = AlarmManager(config, clock, AlarmStore(store), [
        TowerOutput(config, clock, lambda: open_tower(config.tower), on_presence=...),
        SoundOutput(config, clock, lambda: open_sound(config.sound)),
        SyslogOutput(config.syslog, clock, facility=config.syslog_facility),
        EventBusOutput(bus),                 # alarm.raised, alarm.cleared, ... on the control API
    ])
    handlers.update(alarm_handlers(manager))  # `alarms`, `alarms.ack`, `alarms.history` commands
    manager.restore()
    spans = SpanAlarms(manager, clock, config); spans.update(backend.span_status(1))
"""
from appliance.alarms.config import AlarmsConfig, Annunciation, Debounce
from appliance.alarms.control import EventBusOutput, alarm_handlers
from appliance.alarms.indication import Indication, indicate, lamp_test_sequence
from appliance.alarms.manager import AlarmManager, AlarmOutput
from appliance.alarms.model import Alarm, AlarmEvent, Comment, Severity
from appliance.alarms.outputs import CallbackOutput, SoundOutput, TowerOutput
from appliance.alarms.rfc5424 import SyslogOutput
from appliance.alarms.sources import DChannelAlarms, DeviceAlarms, DiskAlarms, QueueAlarms, SpanAlarms

__all__ = [
    "AlarmsConfig", "Annunciation", "Debounce", "Indication", "indicate", "lamp_test_sequence",
    "AlarmManager", "AlarmOutput", "Alarm", "AlarmEvent", "Comment", "Severity",
    "CallbackOutput", "EventBusOutput", "SoundOutput", "TowerOutput", "SyslogOutput", "alarm_handlers",
    "DChannelAlarms", "DeviceAlarms", "DiskAlarms", "QueueAlarms", "SpanAlarms",
]
