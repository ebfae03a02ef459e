//! The integration tests, in one binary: one link of the library (with the AWS
//! SDK) instead of one per file. Each module is one area; `support` holds the
//! helpers they share.

mod cli;
mod engineer_terraform;
mod layers;
mod patterns_cli;
mod robustness;
mod scan_cli;
mod support;
mod workspace;
