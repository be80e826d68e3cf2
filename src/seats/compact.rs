//! The seat map in two compact pieces, so a 100,000-seat venue opens on a phone: the
//! layout (sections, rows, seat numbers, grades, prices) once over HTTP, cacheable
//! forever because a seat map never changes; and the seat states in every socket snapshot
//! as 2 bits per seat, which bounds a snapshot at about 33 KB whatever is held or sold.
//! docs/protocol.md spells out both encodings for integrators.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use axum::body::Bytes;
use dashmap::DashMap;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use usher_protocol::SeatInfo;

use crate::db::seats::SeatMap;
use crate::events::EventId;
use crate::events::layout::Area;

/// A seat map as `GET /api/events/{id}/seats/layout` returns it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CompactLayout {
    /// Event id.
    pub event: EventId,
    /// How many seats; ids run from 0 to `seat_count - 1`.
    pub seat_count: u32,
    /// Price of each grade (minor currency units).
    pub prices: BTreeMap<String, i64>,
    /// Sections in drawing order.
    pub sections: Vec<LayoutSection>,
    /// Where the stage is in the plan (only when the sections have areas). Absent fields
    /// are left out of the JSON, so a map without areas keeps the bytes (and the ETag) it
    /// had before areas existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<Area>,
}

/// One section with its rows.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LayoutSection {
    /// Section name.
    pub name: String,
    /// Where the section is in the venue's plan, if the map says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<Area>,
    /// Rows in drawing order.
    pub rows: Vec<LayoutRow>,
}

/// A run of seats of one row and grade, with consecutive ids from `first`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LayoutRow {
    /// Row label.
    pub label: String,
    /// Grade of every seat of the run.
    pub grade: String,
    /// Id of the run's first seat; the next seats are `first + 1`, `first + 2`, ….
    pub first: u32,
    /// The seats are numbered 1 to `count` (absent when `numbers` is given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// The seat numbers, in id order (absent when `count` is given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numbers: Option<Vec<u32>>,
}

impl CompactLayout {
    /// Groups an expanded map (ids in order) into sections and row runs.
    pub fn build(event: EventId, map: &SeatMap) -> CompactLayout {
        let mut sections: Vec<LayoutSection> = Vec::new();
        let mut run: Vec<u32> = Vec::new();
        let mut first = 0;
        let mut prev: Option<&SeatInfo> = None;
        for seat in &map.seats {
            let same_row = prev.is_some_and(|p| {
                p.section == seat.section && p.row == seat.row && p.grade == seat.grade
            });
            if !same_row {
                close_run(&mut sections, prev, first, &mut run);
                first = seat.id;
                if prev.is_none_or(|p| p.section != seat.section) {
                    sections.push(LayoutSection {
                        name: seat.section.clone(),
                        area: map
                            .plan
                            .as_ref()
                            .and_then(|p| p.sections.get(&seat.section).copied()),
                        rows: Vec::new(),
                    });
                }
            }
            run.push(seat.number);
            prev = Some(seat);
        }
        close_run(&mut sections, prev, first, &mut run);
        CompactLayout {
            event,
            seat_count: map.seats.len() as u32,
            prices: map.prices.clone(),
            sections,
            stage: map.plan.as_ref().and_then(|p| p.stage),
        }
    }

    /// Every seat again, ids in order: the inverse of [`CompactLayout::build`].
    pub fn expand(&self) -> Vec<SeatInfo> {
        let mut out = Vec::with_capacity(self.seat_count as usize);
        for section in &self.sections {
            for row in &section.rows {
                let numbers: Vec<u32> = match (&row.numbers, row.count) {
                    (Some(n), _) => n.clone(),
                    (None, Some(c)) => (1..=c).collect(),
                    (None, None) => Vec::new(),
                };
                for (i, number) in numbers.into_iter().enumerate() {
                    out.push(SeatInfo {
                        id: row.first.saturating_add(i as u32),
                        section: section.name.clone(),
                        row: row.label.clone(),
                        number,
                        grade: row.grade.clone(),
                    });
                }
            }
        }
        out
    }
}

/// Ends the current row run (the seats of `last`'s row, from id `first`), if any.
fn close_run(
    sections: &mut [LayoutSection],
    last: Option<&SeatInfo>,
    first: u32,
    run: &mut Vec<u32>,
) {
    let (Some(last), Some(section)) = (last, sections.last_mut()) else {
        return;
    };
    if run.is_empty() {
        return;
    }
    let numbers = std::mem::take(run);
    let plain = numbers
        .iter()
        .enumerate()
        .all(|(i, n)| *n as usize == i + 1);
    section.rows.push(LayoutRow {
        label: last.row.clone(),
        grade: last.grade.clone(),
        first,
        count: plain.then_some(numbers.len() as u32),
        numbers: (!plain).then_some(numbers),
    });
}

/// A layout serialized and compressed once, with its strong ETag.
#[derive(Debug)]
pub struct PublishedLayout {
    /// The JSON body.
    pub json: Bytes,
    /// The same body, gzipped.
    pub gzip: Bytes,
    /// `"<32 hex digits>"`: the start of the SHA-256 of `json`, quoted as HTTP wants.
    pub etag: String,
}

impl PublishedLayout {
    /// Serializes, hashes and compresses a layout.
    pub fn new(layout: &CompactLayout) -> anyhow::Result<PublishedLayout> {
        let json = serde_json::to_vec(layout)?;
        let digest = Sha256::digest(&json);
        let etag = format!("\"{}\"", hex::encode(&digest[..16]));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&json)?;
        let gzip = gz.finish()?;
        Ok(PublishedLayout {
            json: json.into(),
            gzip: gzip.into(),
            etag,
        })
    }

    /// The ETag without its quotes (for the `?v=` of the layout URL).
    pub fn version(&self) -> &str {
        self.etag.trim_matches('"')
    }
}

/// Every event's published layout on this instance, built on first request.
#[derive(Default)]
pub struct Layouts(DashMap<EventId, Arc<PublishedLayout>>);

impl Layouts {
    /// The published layout of an event's seat map: built once (off the async workers),
    /// then shared.
    pub async fn published(
        &self,
        event: EventId,
        map: Arc<SeatMap>,
    ) -> anyhow::Result<Arc<PublishedLayout>> {
        if let Some(p) = self.0.get(&event) {
            return Ok(p.clone());
        }
        // Grouping and compressing 100,000 seats takes milliseconds: off the async workers.
        let built = tokio::task::spawn_blocking(move || {
            PublishedLayout::new(&CompactLayout::build(event, &map))
        })
        .await??;
        // Two first requests racing both build; the first stored copy wins for everyone.
        Ok(self
            .0
            .entry(event)
            .or_insert_with(|| Arc::new(built))
            .clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::layout::SeatMapSpec;

    fn demo() -> SeatMap {
        let spec = SeatMapSpec::demo();
        SeatMap {
            seats: spec.expand().unwrap(),
            prices: spec.prices,
            performances: 1,
            plan: None,
        }
    }

    #[test]
    fn a_layout_expands_back_to_the_same_seats() {
        let map = demo();
        let layout = CompactLayout::build(1, &map);
        assert_eq!(layout.seat_count as usize, map.seats.len());
        assert_eq!(layout.sections.len(), 4);
        assert_eq!(layout.expand(), map.seats);
    }

    #[test]
    fn odd_rows_keep_their_numbers_and_grades() {
        let spec: SeatMapSpec = serde_json::from_value(serde_json::json!({
            "prices": {"R": 1, "S": 2},
            "sections": [
                {"name": "Box", "grade": "S", "row_list": [
                    {"row": "X", "seats": [1, 4]},
                    {"row": "Y", "seats": 3, "grade": "R"},
                    {"row": "X", "seats": [7]}
                ]}
            ]
        }))
        .unwrap();
        let map = SeatMap {
            seats: spec.expand().unwrap(),
            prices: spec.prices,
            performances: 1,
            plan: None,
        };
        let layout = CompactLayout::build(2, &map);
        let rows = &layout.sections[0].rows;
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].numbers, Some(vec![1, 4]));
        assert_eq!((rows[1].first, rows[1].count), (2, Some(3)));
        assert_eq!(layout.expand(), map.seats);
    }

    #[test]
    fn a_full_snapshot_of_the_largest_map_stays_small() {
        let n = crate::events::layout::MAX_SEATS;
        let all_sold = usher_protocol::states::encode(n, [], 0..n as u32);
        assert_eq!(all_sold.len(), n.div_ceil(4).div_ceil(3) * 4);
        assert!(all_sold.len() < 34_000);
    }

    #[test]
    fn areas_are_served_with_their_sections_and_change_the_etag() {
        let spec = SeatMapSpec::stadium();
        let mut map = SeatMap {
            seats: spec.expand().unwrap(),
            prices: spec.prices.clone(),
            performances: 1,
            plan: spec.plan().unwrap(),
        };
        let layout = CompactLayout::build(1, &map);
        assert_eq!(layout.sections.len(), 40);
        assert!(layout.sections.iter().all(|s| s.area.is_some()));
        assert_eq!(layout.stage.map(|a| a.w), Some(400));
        let json = serde_json::to_value(&layout).unwrap();
        assert_eq!(
            json["sections"][0]["area"],
            serde_json::json!({"x": 205, "y": 0, "w": 90, "h": 126})
        );
        let placed = PublishedLayout::new(&layout).unwrap();
        map.plan = None;
        let plain = CompactLayout::build(1, &map);
        assert!(plain.stage.is_none() && plain.sections.iter().all(|s| s.area.is_none()));
        let text = serde_json::to_string(&plain).unwrap();
        assert!(!text.contains("area") && !text.contains("stage"), "{text}");
        assert_ne!(PublishedLayout::new(&plain).unwrap().etag, placed.etag);
    }

    #[test]
    fn the_etag_follows_the_content() {
        let map = demo();
        let a = PublishedLayout::new(&CompactLayout::build(1, &map)).unwrap();
        let b = PublishedLayout::new(&CompactLayout::build(1, &map)).unwrap();
        let c = PublishedLayout::new(&CompactLayout::build(2, &map)).unwrap();
        assert_eq!(a.etag, b.etag);
        assert_ne!(a.etag, c.etag);
        assert_eq!(a.etag.len(), 34);
        let mut back = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&a.gzip[..]), &mut back)
            .unwrap();
        assert_eq!(back.as_bytes(), &a.json[..]);
    }
}
