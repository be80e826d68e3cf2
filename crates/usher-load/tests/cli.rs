//! The built binary, end to end without a server: its help lists every scenario, and a
//! target that is not on this machine is refused before any connection.
//!
//! Being an integration test, this also makes `cargo test` build the `usher-load` binary
//! itself (CI's load smoke run uses the one `cargo test` built).

use std::process::Command;

fn usher_load() -> Command {
    Command::new(env!("CARGO_BIN_EXE_usher-load"))
}

#[test]
fn help_lists_every_scenario() {
    let out = usher_load()
        .arg("--help")
        .output()
        .expect("run usher-load --help");
    assert!(out.status.success(), "{out:?}");
    let help = String::from_utf8_lossy(&out.stdout);
    for scenario in [
        "idle",
        "join-storm",
        "admission",
        "fanout",
        "seat-rush",
        "broadcast",
    ] {
        assert!(
            help.contains(scenario),
            "--help does not name {scenario}:\n{help}"
        );
    }
}

#[test]
fn a_target_off_this_machine_is_refused() {
    // 192.0.2.0/24 is TEST-NET-1: never routed, and refused before any connect anyway.
    let out = usher_load()
        .args([
            "--target",
            "http://192.0.2.1:8080",
            "idle",
            "--clients",
            "1",
        ])
        .args(["--duration", "1"])
        .output()
        .expect("run usher-load");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("refusing target 192.0.2.1"), "{stderr}");
}
