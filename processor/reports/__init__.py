"""Consent reports: live (faust table over sms.consent-events) and from the topic (CLI)."""
