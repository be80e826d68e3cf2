//! Seat maps from a compact layout: sections x rows x seats per row, grade rules by row,
//! and explicit row lists for odd shapes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use usher_protocol::SeatInfo;

use super::text::check_text;

/// Most seats one event may have.
pub const MAX_SEATS: usize = 100_000;

/// A seat map as the admin API accepts it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SeatMapSpec {
    /// Price of each grade, in minor units (e.g. won).
    pub prices: BTreeMap<String, i64>,
    /// Sections, drawn in this order.
    pub sections: Vec<SectionSpec>,
}

/// One section: either `rows` x `seats_per_row`, or an explicit `row_list`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SectionSpec {
    /// Section name ("A", "Floor", "Balcony").
    pub name: String,
    /// Grade of every seat unless a rule or row says otherwise.
    pub grade: String,
    /// Number of rows (labelled 1, 2, …).
    #[serde(default)]
    pub rows: Option<u32>,
    /// Seats in each row (numbered 1, 2, …).
    #[serde(default)]
    pub seats_per_row: Option<u32>,
    /// Grades by row range, e.g. `{"rows": "1-3", "grade": "VIP"}`.
    #[serde(default)]
    pub grade_rules: Vec<GradeRule>,
    /// Rows of odd shape, instead of `rows` x `seats_per_row`.
    #[serde(default)]
    pub row_list: Vec<RowSpec>,
}

/// Rows `rows` ("2" or "1-3", 1-based) of a section have grade `grade`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GradeRule {
    /// Row range.
    pub rows: String,
    /// Grade.
    pub grade: String,
}

/// One explicit row.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RowSpec {
    /// Row label.
    pub row: String,
    /// A count (seats 1..=n) or the list of seat numbers.
    pub seats: RowSeats,
    /// Grade of this row, if not the section's.
    #[serde(default)]
    pub grade: Option<String>,
}

/// Seats of an explicit row.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum RowSeats {
    /// Seats 1..=n.
    Count(u32),
    /// These seat numbers.
    Numbers(Vec<u32>),
}

fn parse_range(s: &str) -> Option<(u32, u32)> {
    match s.split_once('-') {
        Some((a, b)) => Some((a.trim().parse().ok()?, b.trim().parse().ok()?)),
        None => {
            let n = s.trim().parse().ok()?;
            Some((n, n))
        }
    }
}

/// The refusal of a map over [`MAX_SEATS`].
fn too_many() -> String {
    format!("a seat map has at most {MAX_SEATS} seats")
}

impl SeatMapSpec {
    /// Every seat, with ids 0, 1, 2, … in drawing order. The error names what is wrong.
    pub fn expand(&self) -> Result<Vec<SeatInfo>, String> {
        if self.sections.is_empty() {
            return Err("seat_map.sections must not be empty".into());
        }
        for (grade, price) in &self.prices {
            // Every grade a seat uses is one of these, so this checks them all.
            check_text("seat_map.prices grade", grade)?;
            if grade.is_empty() || grade.len() > 20 || *price < 0 {
                return Err(format!("seat_map.prices: bad grade or price for {grade:?}"));
            }
        }
        let mut seats = Vec::new();
        for section in &self.sections {
            if section.name.is_empty() || section.name.len() > 50 {
                return Err("seat_map.sections[].name must be 1 to 50 characters".into());
            }
            check_text("seat_map.sections[].name", &section.name)?;
            let priced = |g: &str| {
                if self.prices.contains_key(g) {
                    Ok(())
                } else {
                    Err(format!(
                        "grade {g:?} in section {:?} has no price",
                        section.name
                    ))
                }
            };
            priced(&section.grade)?;
            let mut push = |row: String, number: u32, grade: &str| {
                if seats.len() >= MAX_SEATS {
                    return Err(too_many());
                }
                seats.push(SeatInfo {
                    id: seats.len() as u32,
                    section: section.name.clone(),
                    row,
                    number,
                    grade: grade.to_owned(),
                });
                Ok(())
            };
            match (
                section.rows,
                section.seats_per_row,
                section.row_list.is_empty(),
            ) {
                (Some(rows), Some(per_row), true) => {
                    // Checked before the loops: `rows` alone bounds them, and a grid of
                    // 4 billion empty rows would hold a worker for a minute.
                    if rows == 0 || per_row == 0 {
                        return Err(format!(
                            "section {:?}: rows and seats_per_row must be at least 1",
                            section.name
                        ));
                    }
                    if u64::from(rows) * u64::from(per_row) > MAX_SEATS as u64 {
                        return Err(too_many());
                    }
                    let mut rules = Vec::new();
                    for rule in &section.grade_rules {
                        let range = parse_range(&rule.rows).ok_or_else(|| {
                            format!(
                                "grade_rules rows {:?}: expected \"2\" or \"1-3\"",
                                rule.rows
                            )
                        })?;
                        priced(&rule.grade)?;
                        rules.push((range, rule.grade.as_str()));
                    }
                    for r in 1..=rows {
                        let grade = rules
                            .iter()
                            .rev()
                            .find(|((a, b), _)| (*a..=*b).contains(&r))
                            .map_or(section.grade.as_str(), |(_, g)| g);
                        for n in 1..=per_row {
                            push(r.to_string(), n, grade)?;
                        }
                    }
                }
                (None, None, false) => {
                    for row in &section.row_list {
                        check_text("seat_map.sections[].row_list[].row", &row.row)?;
                        let grade = row.grade.as_deref().unwrap_or(&section.grade);
                        priced(grade)?;
                        let numbers: Vec<u32> = match &row.seats {
                            // Not collected first: a count of 4 billion would be 16 GB.
                            RowSeats::Count(n) if *n as usize > MAX_SEATS => {
                                return Err(too_many());
                            }
                            RowSeats::Count(n) => (1..=*n).collect(),
                            RowSeats::Numbers(v) => v.clone(),
                        };
                        for n in numbers {
                            push(row.row.clone(), n, grade)?;
                        }
                    }
                }
                _ => {
                    return Err(format!(
                        "section {:?}: give either rows and seats_per_row, or row_list",
                        section.name
                    ));
                }
            }
        }
        if seats.is_empty() {
            // Without this an event asked for with a seat map would be made without one.
            return Err("seat_map has no seats: leave it out for an event without seats".into());
        }
        let mut places = std::collections::HashSet::new();
        for s in &seats {
            if !places.insert((&s.section, &s.row, s.number)) {
                return Err(format!(
                    "seat {} of row {} in section {:?} appears twice",
                    s.number, s.row, s.section
                ));
            }
        }
        Ok(seats)
    }

    /// The demo event's map: 340 seats in four grades.
    pub fn demo() -> SeatMapSpec {
        let rules = |r: &str, g: &str| GradeRule {
            rows: r.into(),
            grade: g.into(),
        };
        let section = |name: &str, grade: &str, rows, per_row, grade_rules| SectionSpec {
            name: name.into(),
            grade: grade.into(),
            rows: Some(rows),
            seats_per_row: Some(per_row),
            grade_rules,
            row_list: Vec::new(),
        };
        SeatMapSpec {
            prices: [
                ("VIP", 165_000),
                ("R", 143_000),
                ("S", 121_000),
                ("A", 99_000),
            ]
            .into_iter()
            .map(|(g, p)| (g.to_owned(), p))
            .collect(),
            sections: vec![
                section("Floor", "VIP", 4, 20, vec![]),
                section("A", "R", 6, 20, vec![rules("5-6", "S")]),
                section("B", "S", 5, 20, vec![rules("4-5", "A")]),
                SectionSpec {
                    name: "Balcony".into(),
                    grade: "A".into(),
                    rows: None,
                    seats_per_row: None,
                    grade_rules: vec![],
                    row_list: (1..=4)
                        .map(|i| RowSpec {
                            row: format!("BL{i}"),
                            seats: RowSeats::Count(10),
                            grade: None,
                        })
                        .collect(),
                },
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_map_has_a_few_hundred_seats_with_priced_grades() {
        let seats = SeatMapSpec::demo().expand().unwrap();
        assert_eq!(seats.len(), 80 + 120 + 100 + 40);
        assert_eq!(seats[0].grade, "VIP");
        assert!(seats.iter().enumerate().all(|(i, s)| s.id == i as u32));
    }

    #[test]
    fn grade_rules_and_odd_rows_apply() {
        let spec: SeatMapSpec = serde_json::from_value(serde_json::json!({
            "prices": {"R": 1, "S": 2},
            "sections": [
                {"name": "A", "grade": "R", "rows": 3, "seats_per_row": 2,
                 "grade_rules": [{"rows": "2-3", "grade": "S"}]},
                {"name": "Box", "grade": "S", "row_list": [{"row": "X", "seats": [1, 4]}]}
            ]
        }))
        .unwrap();
        let seats = spec.expand().unwrap();
        let grades: Vec<&str> = seats.iter().map(|s| s.grade.as_str()).collect();
        assert_eq!(grades, ["R", "R", "S", "S", "S", "S", "S", "S"]);
        assert_eq!(seats[7].number, 4);
    }

    fn refusal(map: serde_json::Value) -> String {
        let spec: SeatMapSpec = serde_json::from_value(map).unwrap();
        spec.expand().unwrap_err()
    }

    #[test]
    fn huge_or_empty_grids_and_rows_are_refused_before_any_seat_is_made() {
        let grid = |rows: u32, per_row: u32| {
            serde_json::json!({"prices": {"R": 1}, "sections": [
                {"name": "A", "grade": "R", "rows": rows, "seats_per_row": per_row}]})
        };
        // These would spin through 4 billion empty rows, or allocate 16 GB.
        assert!(refusal(grid(u32::MAX, 0)).contains("at least 1"));
        assert!(refusal(grid(0, u32::MAX)).contains("at least 1"));
        assert!(refusal(grid(u32::MAX, u32::MAX)).contains("at most 100000"));
        assert!(refusal(grid(100_001, 1)).contains("at most 100000"));
        let row = |seats: serde_json::Value| {
            serde_json::json!({"prices": {"R": 1}, "sections": [
                {"name": "A", "grade": "R", "row_list": [{"row": "1", "seats": seats}]}]})
        };
        assert!(refusal(row(serde_json::json!(u32::MAX))).contains("at most 100000"));
        assert!(refusal(row(serde_json::json!(0))).contains("no seats"));
        assert!(refusal(row(serde_json::json!([]))).contains("no seats"));
    }

    #[test]
    fn a_seat_listed_twice_is_refused() {
        let spec: SeatMapSpec = serde_json::from_value(serde_json::json!({
            "prices": {"R": 1},
            "sections": [{"name": "Box", "grade": "R", "row_list": [{"row": "X", "seats": [1, 1]}]}]
        }))
        .unwrap();
        assert!(spec.expand().unwrap_err().contains("appears twice"));
    }

    #[test]
    fn an_unpriced_grade_is_refused() {
        let mut spec = SeatMapSpec::demo();
        spec.prices.remove("VIP");
        assert!(spec.expand().unwrap_err().contains("VIP"));
    }
}
