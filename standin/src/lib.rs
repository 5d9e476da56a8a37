//! A stateful stand-in for GitHub's REST API (milestones and the git database), for tests.
