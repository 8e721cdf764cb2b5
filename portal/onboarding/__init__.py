"""The 90-day onboarding path: path templates, enrolment, progress and sign-offs."""
