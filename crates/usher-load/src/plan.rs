//! What the parent and its workers say to each other: the plan a worker gets (as a
//! command-line argument for a child process), the parent's control messages and the
//! worker's reports (JSON lines on the child's stdin and stdout).

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::net::Target;
use crate::stats::Outcome;

/// Which scenario a worker's clients play.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scenario {
    /// Join and stay.
    Idle,
    /// Join as fast as possible.
    JoinStorm,
    /// Join, then wait for `admitted`.
    Admission,
    /// Join and count `status`.
    Fanout,
    /// Get admitted, then hold and release seats.
    SeatRush,
    /// Get admitted, then watch one seat.
    Broadcast,
}

/// What one worker is to do.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    /// Scenario.
    pub scenario: Scenario,
    /// The usher under test.
    pub target: Target,
    /// Event id.
    pub event: i64,
    /// This worker's number, and how many there are.
    pub worker: usize,
    /// Number of workers.
    pub workers: usize,
    /// Global index of this worker's first client.
    pub first_client: usize,
    /// This worker's clients.
    pub clients: usize,
    /// Source addresses, round robin by global client index.
    pub source_ips: Vec<IpAddr>,
    /// Clients started per second (0: as fast as the concurrency allows).
    pub rate: f64,
    /// Clients ramping up at once.
    pub concurrency: usize,
    /// The event's session length (admission time = expiry - this).
    pub session_secs: i64,
    /// Seats in the map (seat scenarios).
    pub seats: u32,
    /// Messages per second per seat-map socket (0: unpaced).
    pub msg_rate: f64,
    /// The seat the broadcast actor changes.
    pub watch_seat: u32,
    /// Stop by itself after this long, whatever the parent says.
    pub life_secs: f64,
}

/// The parent's word to a worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Ctrl {
    /// Start the measured phase.
    Go,
    /// The broadcast actor's send times (mono µs), op by op.
    Ops {
        /// Send time of each op.
        sent_us: Vec<u64>,
    },
    /// Stop every client and report.
    Stop,
}

/// A worker's word to the parent. (Externally tagged: an internally tagged enum would
/// buffer the outcome and then fail on the histograms' integer map keys.)
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Report {
    /// Counters, every second.
    Progress {
        /// By name.
        counts: BTreeMap<String, u64>,
    },
    /// Every client is in place (or failed).
    Ready,
    /// Every client's work is over (admission).
    Finished,
    /// The final result.
    Done(Outcome),
    /// The child process ended without a result.
    Exited,
}
