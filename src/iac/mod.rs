//! The IaC handler: the process runner (the one place that starts child
//! processes), and later the Terraform commands and their JSON formats.

pub mod plan;
pub mod runner;
pub mod terraform;
