"""Calls through the box: trunk legs, agent legs, the call manager that joins IVR and ACD."""
from appliance.calls.call import Leg, QueueCall
from appliance.calls.interfaces import AgentInterface, agent_interface
from appliance.calls.manager import CallManager, Recording

__all__ = ["AgentInterface", "CallManager", "Leg", "QueueCall", "Recording", "agent_interface"]
