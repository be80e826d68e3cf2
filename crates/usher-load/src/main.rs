//! usher-load: a load generator for usher. It drives real WebSocket clients through the
//! documented protocol (docs/protocol.md) against a usher on this machine, and reports
//! what it measured.
//!
//! Map: [`cli`] (options and scenarios), [`run`] (one run from the parent's side),
//! [`fleet`] (workers as tasks or child processes), [`plan`] (what parent and workers
//! say to each other), [`worker`] (one share of the clients), [`queue`], [`seats`] and
//! [`broadcast`] (the clients of each scenario), [`admin`] (the scenario's event),
//! [`net`] (loopback target, sockets, clocks), [`stats`] and [`report`] (numbers and
//! output).

mod admin;
mod broadcast;
mod cli;
mod fleet;
mod net;
mod plan;
mod queue;
mod report;
mod run;
mod seats;
mod stats;
mod worker;

use std::process::ExitCode;

use clap::Parser;

/// Raises the open-file limit to the hard limit: every client is a socket.
fn raise_nofile_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit read and write one rlimit that we own.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim = raised;
            }
        }
    }
    lim.rlim_cur
}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let nofile = raise_nofile_limit();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("usher-load: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            cli::Command::Worker { plan } => {
                worker::child_main(&plan).await.map(|()| ExitCode::SUCCESS)
            }
            cmd => run::run(cli.common, cmd, nofile).await,
        }
    });
    // Client tasks may still be closing; do not wait for them.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    result.unwrap_or_else(|e| {
        eprintln!("usher-load: {e:#}");
        ExitCode::FAILURE
    })
}
