//! "Best available": the buyer asks for N seats (of a grade) and the server picks N
//! adjacent seats in one row, nearest the stage, leaving no single free seat alone. The
//! map's order is the venue's: its first section's first row is nearest the stage, and
//! within a row the middle is best. This module proposes blocks from a view of the seat
//! states; the engine holds the first one still free, atomically
//! (`SeatEngine::hold_best`), so two buyers asking at once never get the same seat.

use std::collections::HashSet;

use crate::db::seats::SeatMap;
use crate::engine::seats::Block;
use usher_protocol::SeatInfo;

/// Most blocks proposed to the engine in one request: enough to survive a rush on the
/// best rows, small enough for one short script.
pub const MOST_BLOCKS: usize = 24;

/// Whether `b` sits right after `a` in the same row.
fn next_in_row(a: &SeatInfo, b: &SeatInfo) -> bool {
    a.section == b.section && a.row == b.row && b.number == a.number.wrapping_add(1)
}

/// Runs of adjacent seats (ids in map order), one per stretch of a row.
fn rows(map: &SeatMap) -> Vec<&[SeatInfo]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=map.seats.len() {
        let breaks = match (map.seats.get(i - 1), map.seats.get(i)) {
            (Some(a), Some(b)) => !next_in_row(a, b),
            _ => true,
        };
        if breaks {
            if let Some(run) = map.seats.get(start..i)
                && !run.is_empty()
            {
                out.push(run);
            }
            start = i;
        }
    }
    out
}

/// Up to [`MOST_BLOCKS`] blocks of `count` adjacent seats of `grade` (any grade when
/// `None`), best first, that look free in `taken` (the performance's held or sold seats,
/// in its own ids) and leave no single free seat alone. Seat ids are the performance's.
pub fn blocks(
    map: &SeatMap,
    count: usize,
    grade: Option<&str>,
    taken: &HashSet<u32>,
) -> Vec<Block> {
    let mut out = Vec::new();
    if count == 0 {
        return out;
    }
    let is_free = |s: &SeatInfo| !taken.contains(&s.id);
    for row in rows(map) {
        if row.len() < count {
            continue;
        }
        // Windows of the row, the middle first.
        let mut starts: Vec<usize> = (0..=row.len() - count).collect();
        let middle = (row.len() - count) as f64 / 2.0;
        starts.sort_by(|a, b| {
            let (da, db) = ((*a as f64 - middle).abs(), (*b as f64 - middle).abs());
            da.total_cmp(&db).then(a.cmp(b))
        });
        for start in starts {
            let Some(window) = row.get(start..start + count) else {
                continue;
            };
            let fits = window
                .iter()
                .all(|s| is_free(s) && grade.is_none_or(|g| s.grade == g));
            if !fits {
                continue;
            }
            let at = |i: Option<usize>| i.and_then(|i| row.get(i));
            let left1 = at(start.checked_sub(1));
            let left2 = at(start.checked_sub(2));
            let right1 = at(Some(start + count));
            let right2 = at(Some(start + count + 1));
            let alone = |near: Option<&SeatInfo>, far: Option<&SeatInfo>| {
                near.is_some_and(is_free) && far.is_none_or(|f| !is_free(f))
            };
            if alone(left1, left2) || alone(right1, right2) {
                continue;
            }
            let id = |s: Option<&SeatInfo>| s.map(|s| s.id);
            out.push(Block {
                seats: window.iter().map(|s| s.id).collect(),
                left: [id(left1), id(left2)],
                right: [id(right1), id(right2)],
            });
            if out.len() == MOST_BLOCKS {
                return out;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::layout::SeatMapSpec;

    /// Two rows of 6 (row 1 VIP, nearest the stage), then one row of 3.
    fn map() -> SeatMap {
        let spec: SeatMapSpec = serde_json::from_value(serde_json::json!({
            "prices": { "VIP": 2, "R": 1 },
            "sections": [
                { "name": "A", "grade": "R", "rows": 2, "seats_per_row": 6,
                  "grade_rules": [{ "rows": "1", "grade": "VIP" }] },
                { "name": "B", "grade": "R", "rows": 1, "seats_per_row": 3 }
            ]
        }))
        .unwrap();
        SeatMap {
            seats: spec.expand().unwrap(),
            prices: spec.prices,
            performances: 1,
            plan: None,
        }
    }

    #[test]
    fn the_first_row_and_its_middle_come_first() {
        let b = blocks(&map(), 2, None, &HashSet::new());
        assert_eq!(b[0].seats, vec![2, 3], "the middle of the front row");
        assert_eq!(b[0].left, [Some(1), Some(0)]);
        assert_eq!(b[0].right, [Some(4), Some(5)]);
        // Seats 1-2 would leave seat 0 alone at the row's end: not proposed.
        assert!(!b.iter().any(|x| x.seats == vec![1, 2]));
        // The row's end itself is fine.
        assert!(b.iter().any(|x| x.seats == vec![0, 1]));
    }

    #[test]
    fn a_grade_and_taken_seats_narrow_the_choice_and_no_seat_is_left_alone() {
        let taken: HashSet<u32> = [2, 3].into_iter().collect();
        let b = blocks(&map(), 2, Some("VIP"), &taken);
        // Front row left: 0 1 [2 3 taken] 4 5 → blocks 0-1 and 4-5 only.
        let got: Vec<Vec<u32>> = b.iter().map(|x| x.seats.clone()).collect();
        assert_eq!(got, vec![vec![0, 1], vec![4, 5]]);
        let r = blocks(&map(), 3, Some("R"), &HashSet::new());
        // Row 2's middle blocks would leave seat 6 or 11 alone: its ends come first.
        assert_eq!(r[0].seats, vec![6, 7, 8], "row 2, before section B");
        assert!(r.iter().any(|x| x.seats == vec![12, 13, 14]));
        assert!(blocks(&map(), 7, None, &HashSet::new()).is_empty());
        assert!(blocks(&map(), 0, None, &HashSet::new()).is_empty());
    }
}
