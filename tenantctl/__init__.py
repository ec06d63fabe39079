"""tenantctl: onboard and govern tenants of a GitLab CI platform."""

__version__ = "0.1.0"
