"""Qt item models over engine data (dataset preview, runs table)."""
