"""Live and in-person sessions: scheduling, registration, attendance, hours and credits."""
