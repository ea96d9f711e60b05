//! The `jiancha` binary: parses arguments and hands them to the library.
fn main() -> std::process::ExitCode {
    jiancha_cli::main_with_args(std::env::args_os())
}
