"""Risk assessment: the organisation's risk matrix applied to each model's assessment."""
