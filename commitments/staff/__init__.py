"""The staff of an organisation: file import (CSV, XLSX) and enrolment of everyone in scope."""
