//! The integration tests, one binary (as release-plz keeps them): each module is named for
//! the behaviour it specifies and runs the real binary, the client or the planner against the
//! GitHub stand-in. One binary links the crate once instead of once per file.
//!
//! `cargo nextest run --test all push::` runs one module; `cargo test --test all -- push::`
//! does the same with cargo's runner.

mod common;

mod action_yml;
mod api_economy;
mod artifact_files;
mod bad_input;
mod cli;
mod cmd;
mod convergence;
mod corpus;
mod faults;
mod github_client;
mod github_client_comments;
mod github_client_compare;
mod github_client_graphql;
mod kill;
mod milestone_event;
mod model;
mod no_git;
mod plan;
mod protected;
mod pull_request;
mod push;
mod reconcile;
mod reconcile_table;
mod repositories;
mod security;
mod soak;
mod summary;
mod tls;
