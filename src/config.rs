//! Configuration, in two layers and one place each.
//!
//! - [`Inputs`]: the raw strings a run receives: the action's inputs (`INPUT_*`, exactly as
//!   the runner sets them for a Docker action) and the runner's `GITHUB_*` variables, which
//!   [`RunnerContext`] reads into one typed value (envy).
//!   Defaults equal action.yml's, so a run from a terminal behaves like one in Actions.
//! - [`Settings`]: the checked, typed values every other module uses, derived from the
//!   inputs in [`Settings::from_inputs`]. Nothing else reads the environment.
//!
//! The table of every input, its default, flag and help is [`INPUTS`]: action.yml, the
//! terminal's flags and docs/configuration.md are checked against it.

mod inputs;
mod runner_context;
mod settings;

pub use inputs::{INPUTS, InputSpec, Inputs, Uses, default_of, setting_name};
pub use runner_context::RunnerContext;
pub use settings::{CommitMode, Settings, SettingsError, Token};
