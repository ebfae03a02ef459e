//! faber-cloud: the backend of the fractary-faber-cloud plugin. One library
//! serves the MCP server (`mcp`) and the CLI (`cli`); see ARCHITECTURE.md.

pub mod app;
pub mod cli;
pub mod cloud;
pub mod config;
pub mod director;
pub mod error;
pub mod eval;
pub mod gate;
pub mod iac;
pub mod infra;
pub mod mcp;
pub mod ops;
pub mod progress;
pub mod redact;
pub mod scan;
pub mod tf;
pub mod vocabulary;
pub mod workspace;

pub use error::Error;
