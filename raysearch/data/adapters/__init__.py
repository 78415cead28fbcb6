"""Public raw formats -> the data contract: the war's daily losses (``war_losses``), the
war-phase timeline (``war_phases``) and NASA FIRMS fire detections (``firms``)."""
