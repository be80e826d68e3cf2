//! The engine's Lua scripts, each with `lua/prelude.lua` in front: the keys of one event
//! (all in one hash slot), shared helpers, and the encoders of the bus messages scripts
//! publish.

use redis::Script;

const PRELUDE: &str = include_str!("../lua/prelude.lua");

/// A script with the prelude (keys, helpers, bus encoders) in front of its body.
pub(super) fn script(body: &str) -> Script {
    Script::new(&format!("{PRELUDE}\n{body}"))
}

/// Every script of the engine, loaded once per engine.
pub(super) struct Scripts {
    pub(super) join: Script,
    pub(super) tick: Script,
    pub(super) leave: Script,
    pub(super) finish: Script,
    pub(super) configure: Script,
    pub(super) presence: Script,
    pub(super) reserve: Script,
    pub(super) seats: SeatScripts,
}

impl Scripts {
    /// Loads every script.
    pub(super) fn new() -> Scripts {
        Scripts {
            join: script(include_str!("../lua/join.lua")),
            tick: script(include_str!("../lua/tick.lua")),
            leave: script(include_str!("../lua/leave.lua")),
            finish: script(include_str!("../lua/finish.lua")),
            configure: script(include_str!("../lua/configure.lua")),
            presence: script(include_str!("../lua/presence.lua")),
            reserve: script(include_str!("../lua/reserve.lua")),
            seats: SeatScripts::new(),
        }
    }
}

/// The seat scripts.
pub(super) struct SeatScripts {
    pub(super) hold: Script,
    pub(super) best: Script,
    pub(super) release: Script,
    pub(super) expire: Script,
    pub(super) begin_book: Script,
    pub(super) end_book: Script,
    pub(super) mark_sold: Script,
    pub(super) unsell: Script,
    pub(super) init: Script,
    pub(super) claim: Script,
    pub(super) unclaim: Script,
}

impl SeatScripts {
    pub(super) fn new() -> SeatScripts {
        SeatScripts {
            hold: script(include_str!("../lua/hold.lua")),
            best: script(include_str!("../lua/best.lua")),
            release: script(include_str!("../lua/release.lua")),
            expire: script(include_str!("../lua/expire.lua")),
            begin_book: script(include_str!("../lua/begin_book.lua")),
            end_book: script(include_str!("../lua/end_book.lua")),
            mark_sold: script(include_str!("../lua/mark_sold.lua")),
            unsell: script(include_str!("../lua/unsell.lua")),
            init: script(include_str!("../lua/init_seats.lua")),
            claim: script(include_str!("../lua/claim_session.lua")),
            unclaim: script(include_str!("../lua/release_session.lua")),
        }
    }
}
