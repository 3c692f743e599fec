// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use clap::Parser;

fn main() -> anyhow::Result<()> {
    tapster_app::tune_malloc();
    tapster_app::prepare_webkit();
    let config = tapster_app::config::Config::from_args(tapster_app::config::Args::parse())?;
    tapster_app::run(config)
}
