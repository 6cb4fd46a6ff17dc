fn main() -> std::process::ExitCode {
    prodguard::cli::main()
}
