//! The real GitHub client: [`crate::github::GitHub`] over octocrab.
