"""Satisfaction questionnaire at the end of a course, answered anonymously."""
