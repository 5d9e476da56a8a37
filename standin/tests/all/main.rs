//! The stand-in's tests, one binary: its answers against GitHub's OpenAPI description and
//! recorded answers (`faithfulness`), each endpoint family, faults, latency, several repositories
//! on one server (`repositories`), HTTPS (`tls`) and the binary.

mod common;

mod binary;
mod compare;
mod faithfulness;
mod faults;
mod git_database;
mod issue_comments;
mod latency;
mod milestones;
mod repositories;
mod tls;
