//! The `jiancha` binary: parses arguments and hands them to the library.

/// mimalloc instead of the system allocator: importing, serving and folding allocate many
/// small short-lived values, where glibc's malloc spends a large share of the time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    jiancha_cli::main_with_args(std::env::args_os())
}
