//! `faber-cloud`: parse, run, exit with the code the library chose.

fn main() {
    std::process::exit(faber_cloud::cli::main());
}
