//! The `flightrec` command. Everything happens in [`cli`].

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
