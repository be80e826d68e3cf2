//! What Redis keeps on disk, read once at start: a Redis that keeps nothing loses every
//! place and hold when it restarts. usher then restores what it can from the database,
//! but an operator should know (a log warning, and `/readyz`). See docs/operations.md.

use std::collections::HashMap;
use std::time::Duration;

use redis::aio::ConnectionLike;

/// Longest the start waits for Redis's answer (a slow answer is reported as unknown).
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Redis's persistence settings as usher sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Persistence {
    /// Neither AOF nor RDB snapshots: a restart starts empty.
    None,
    /// RDB snapshots only (`save` rules): a restart loses the writes since the last one.
    Rdb,
    /// Append-only file with this `appendfsync` (`always`, `everysec`, `no`).
    Aof(String),
    /// `CONFIG` is disabled or renamed (managed Redis), or did not answer.
    Unknown,
}

impl Persistence {
    /// Short name for `/readyz`: `none`, `rdb`, `aof-everysec`, `aof-always`, `aof-no`,
    /// `unknown`.
    pub fn label(&self) -> String {
        match self {
            Persistence::None => "none".into(),
            Persistence::Rdb => "rdb".into(),
            Persistence::Aof(fsync) => format!("aof-{fsync}"),
            Persistence::Unknown => "unknown".into(),
        }
    }

    /// What an operator should hear about it, if anything.
    pub fn warning(&self) -> Option<&'static str> {
        match self {
            Persistence::None => Some(
                "Redis keeps nothing on disk (appendonly no, no save rules): if Redis restarts, \
                 usher restores places and holds from the database, but recent joins may be \
                 lost; run Redis with --appendonly yes (see docs/operations.md)",
            ),
            _ => None,
        }
    }
}

/// Reads `appendonly`, `appendfsync` and `save` with `CONFIG GET`.
pub async fn probe<C: ConnectionLike + Clone + Send>(conn: &C) -> Persistence {
    let read = async {
        let mut conn = conn.clone();
        let appendonly = config_get(&mut conn, "appendonly").await?;
        let fsync = config_get(&mut conn, "appendfsync").await?;
        let save = config_get(&mut conn, "save").await?;
        Ok::<_, redis::RedisError>(classify(&appendonly, &fsync, &save))
    };
    match tokio::time::timeout(PROBE_TIMEOUT, read).await {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => {
            tracing::info!(error = %e, "cannot read Redis's persistence settings (CONFIG disabled?)");
            Persistence::Unknown
        }
        Err(_) => Persistence::Unknown,
    }
}

async fn config_get<C: ConnectionLike + Send>(
    conn: &mut C,
    name: &str,
) -> redis::RedisResult<String> {
    let map: HashMap<String, String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg(name)
        .query_async(conn)
        .await?;
    // A Redis that does not know the parameter answers an empty map: treat it as unset.
    Ok(map.get(name).cloned().unwrap_or_default())
}

fn classify(appendonly: &str, fsync: &str, save: &str) -> Persistence {
    if appendonly.eq_ignore_ascii_case("yes") {
        let fsync = match fsync {
            "always" | "everysec" | "no" => fsync,
            _ => "everysec", // Redis's default
        };
        Persistence::Aof(fsync.to_owned())
    } else if save.trim().is_empty() {
        Persistence::None
    } else {
        Persistence::Rdb
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_classified() {
        assert_eq!(classify("no", "everysec", ""), Persistence::None);
        assert_eq!(
            classify("no", "everysec", "3600 1 300 100"),
            Persistence::Rdb
        );
        assert_eq!(
            classify("yes", "always", ""),
            Persistence::Aof("always".into())
        );
        assert_eq!(
            classify("yes", "everysec", "3600 1").label(),
            "aof-everysec"
        );
        assert!(classify("no", "", " ").warning().is_some());
        assert!(classify("yes", "no", "").warning().is_none());
    }
}
