//! The command line: options shared by every scenario, and one subcommand per scenario
//! with its own knobs. The help text is the user's manual, so it says what each scenario
//! measures and what the server must be started with.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const ABOUT: &str = "Load generator for usher: real WebSocket clients speaking the documented \
protocol against a usher running on this machine (loopback targets only).";

const LONG_ABOUT: &str = "Load generator for usher: real WebSocket clients speaking the \
documented protocol against a usher running on this machine. Only loopback targets are \
accepted (127.0.0.0/8, ::1, localhost).

Every scenario is bounded: a client count (--clients) and a duration (--duration), and it \
stops by itself. Results are printed as a table (scenario, clients, duration, metric, value) \
and, with --json FILE, written as JSON. The exit status is 0 when every client did what the \
scenario expects, 2 when the run finished with errors (or a double seat hold), 1 when it \
could not run.

Start usher for load tests with the per-IP join limit raised, or the limit (20/s, burst 50) \
refuses most joins with close 4008:

  USHER_JOIN_RATE_PER_IP=1000000 USHER_JOIN_BURST_PER_IP=1000000 USHER_ADMIN_KEY=k usher

The scenarios create their own event through the admin API (--admin-key), or use --event.

More than ~19,000 clients need --procs (20,000 open files per process) and more than \
~28,000 need --source-ips (ephemeral ports per source address), e.g.
  usher-load --procs 4 --source-ips 127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5 idle --clients 60000";

/// The whole command line.
#[derive(Debug, Parser)]
#[command(name = "usher-load", version, about = ABOUT, long_about = LONG_ABOUT)]
pub struct Cli {
    /// Options shared by every scenario.
    #[command(flatten)]
    pub common: Common,
    /// The scenario to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every scenario takes (before or after the scenario name).
#[derive(Debug, Clone, Args)]
pub struct Common {
    /// usher's address: http://HOST:PORT, ws://HOST:PORT or HOST:PORT. HOST must be a
    /// loopback address ([::1] for IPv6) or localhost.
    #[arg(long, global = true, default_value = "http://127.0.0.1:8080")]
    pub target: String,
    /// Number of clients (buyers, or viewers for broadcast). Default depends on the scenario.
    #[arg(long, global = true)]
    pub clients: Option<usize>,
    /// Seconds of the measured phase (join-storm, admission: the most it may take).
    #[arg(long, global = true, default_value_t = 10.0)]
    pub duration: f64,
    /// Most seconds to get every client in place (connected, joined, admitted) first.
    #[arg(long, global = true, default_value_t = 60.0)]
    pub ramp_timeout: f64,
    /// Run the clients in N child processes (each with its share), merged by this one.
    #[arg(long, global = true, default_value_t = 1)]
    pub procs: usize,
    /// Bind client sockets to these loopback source addresses, round robin
    /// (e.g. 127.0.0.2,127.0.0.3): each address has ~28,000 ephemeral ports.
    #[arg(long, global = true, value_delimiter = ',')]
    pub source_ips: Vec<IpAddr>,
    /// usher's admin key, to create (and pause or resume) the scenario's event.
    #[arg(long, global = true, env = "USHER_ADMIN_KEY", hide_env_values = true)]
    pub admin_key: Option<String>,
    /// Use this existing event instead of creating one (see each scenario's help).
    #[arg(long, global = true)]
    pub event: Option<i64>,
    /// Most connections being opened (connect + join) at once, per process.
    #[arg(long, global = true, default_value_t = 256)]
    pub concurrency: usize,
    /// Also write the results to FILE as JSON.
    #[arg(long, global = true)]
    pub json: Option<PathBuf>,
    /// No progress line on stderr.
    #[arg(long, global = true)]
    pub quiet: bool,
}

/// One scenario per subcommand.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// N waiting buyers join a paused event and stay for --duration. Reports how many are
    /// connected, and with --server-pid the server's RSS growth per socket (KB).
    ///
    /// With --event, the event should be paused, or buyers get admitted and leave.
    Idle {
        /// usher's process id: read /proc/PID/status VmRSS before and after the clients join.
        #[arg(long)]
        server_pid: Option<u32>,
    },
    /// N clients connect and join a paused event as fast as possible (or --rate per second).
    /// Reports joins/s and the join latency (TCP connect start to `joined`): p50, p99, max.
    /// --duration bounds the storm.
    JoinStorm {
        /// Joins started per second over all processes (0: as fast as possible).
        #[arg(long, default_value_t = 0.0)]
        rate: f64,
    },
    /// N buyers join a paused event, then admission is resumed at --admission-rate. Reports
    /// the admission push latency, p50/p99/max of (`admitted` received) - (admission time =
    /// expires_at_ms - session_secs*1000; one clock on loopback), and the measured admission
    /// rate against the configured one. --duration bounds the admission phase.
    ///
    /// With --event, give its --session-secs; it is resumed if --admin-key is given.
    Admission {
        /// Buyers admitted per second (the event's admission_rate, at most 100000).
        #[arg(long, default_value_t = 1000.0)]
        admission_rate: f64,
        /// The event's session_secs (needed to compute the admission time).
        #[arg(long, default_value_t = 600)]
        session_secs: i64,
    },
    /// N waiting buyers in a paused room; counts `status` messages received per second over
    /// --duration (position deliveries/s). Start usher with a small USHER_UPDATE_INTERVAL_MS
    /// (e.g. 100) to make this a fan-out test.
    Fanout {
        /// The server's update_interval_ms, to report the expected rate and the ratio.
        #[arg(long)]
        expect_interval_ms: Option<u64>,
    },
    /// N buyers are admitted, open the seat channel, and for --duration each holds 1 to 4
    /// random seats, releases them, and again. Reports hold attempts/s, hold round trip
    /// p50/p99/max, and double holds (two buyers told `held` for one seat at overlapping
    /// times: must be 0). Each buyer sends at most --msg-rate messages/s (the server allows
    /// messages_per_socket = 10/s); raise both to push harder.
    ///
    /// With --procs, process i only uses seats with id % procs == i, so its own holder map
    /// sees every holder of its seats.
    SeatRush {
        /// Rows of the created seat map.
        #[arg(long, default_value_t = 20)]
        rows: u32,
        /// Seats per row of the created seat map.
        #[arg(long, default_value_t = 25)]
        seats_per_row: u32,
        /// Messages per second per buyer (hold and release each count; 0: unpaced).
        #[arg(long, default_value_t = 8.0)]
        msg_rate: f64,
    },
    /// V viewers (--clients) open the seat channel; one more buyer holds and releases one
    /// seat --ops times; each viewer timestamps the `seats` delta. Reports the delivery
    /// latency (actor's send to viewer's receive, one machine clock): p50, p99, max.
    Broadcast {
        /// Hold/release pairs the actor performs.
        #[arg(long, default_value_t = 20)]
        ops: usize,
        /// Milliseconds between two actor requests (the server allows 10 messages/s).
        #[arg(long, default_value_t = 150)]
        gap_ms: u64,
    },
    /// Internal: one child process of --procs.
    #[command(hide = true)]
    Worker {
        /// The child's plan, as JSON.
        plan: String,
    },
}

impl Command {
    /// The scenario's name, as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Idle { .. } => "idle",
            Command::JoinStorm { .. } => "join-storm",
            Command::Admission { .. } => "admission",
            Command::Fanout { .. } => "fanout",
            Command::SeatRush { .. } => "seat-rush",
            Command::Broadcast { .. } => "broadcast",
            Command::Worker { .. } => "worker",
        }
    }

    /// Clients when --clients is not given.
    pub fn default_clients(&self) -> usize {
        match self {
            Command::SeatRush { .. } => 200,
            Command::Broadcast { .. } => 500,
            _ => 1000,
        }
    }
}
