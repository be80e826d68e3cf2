//! Seat maps from a compact layout: sections x rows x seats per row, grade rules by row,
//! and explicit row lists for odd shapes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use usher_protocol::SeatInfo;

use super::text::check_text;

/// Most seats one event may have.
pub const MAX_SEATS: usize = 100_000;

/// The side of the square plan that areas are given in: x from 0 (left) to 1000, y from 0
/// (top, where the stage usually is) to 1000.
pub const PLAN_SIZE: u32 = 1000;

/// A seat map as the admin API accepts it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SeatMapSpec {
    /// Price of each grade, in minor units (e.g. won).
    pub prices: BTreeMap<String, i64>,
    /// Sections, drawn in this order.
    pub sections: Vec<SectionSpec>,
    /// Where the stage (or the field) is in the plan; only with section areas.
    /// Kept as JSON until [`SeatMapSpec::plan`] checks it, so that a bad value is refused
    /// with words that name it rather than a parser's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<serde_json::Value>,
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
    /// Where the section is in the venue's plan, `{"x", "y", "w", "h"}` (see [`Area`]):
    /// every section has one, or none has. JSON until [`SeatMapSpec::plan`] checks it, so
    /// that the refusal names the section.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<serde_json::Value>,
}

/// A box of the venue's plan, in units of the [`PLAN_SIZE`] square: the overview of a big
/// venue draws each section there, so that the page looks like the hall.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Area {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width, at least 1.
    pub w: u32,
    /// Height, at least 1.
    pub h: u32,
}

/// Where the stage and each section are, when the map says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The stage's box, if given.
    pub stage: Option<Area>,
    /// Each section's box, by section name.
    pub sections: BTreeMap<String, Area>,
}

/// A value as a refusal shows it: at most 40 characters, so that the words never echo a
/// huge value back.
fn shown(v: &dyn std::fmt::Display) -> String {
    let text = v.to_string();
    match text.char_indices().nth(40) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// Checks one area given as JSON; `what` names it in the refusal ("section \"12\"").
fn area(what: &str, v: &serde_json::Value) -> Result<Area, String> {
    let Some(obj) = v.as_object() else {
        return Err(format!(
            "{what}: area must be an object {{\"x\", \"y\", \"w\", \"h\"}}, not {}",
            shown(v)
        ));
    };
    if let Some(k) = obj
        .keys()
        .find(|k| !["x", "y", "w", "h"].contains(&k.as_str()))
    {
        return Err(format!(
            "{what}: area has an unknown field {}",
            shown(&format!("{k:?}"))
        ));
    }
    let num = |k: &str| -> Result<u32, String> {
        let got = obj
            .get(k)
            .ok_or_else(|| format!("{what}: area.{k} is missing"))?;
        got.as_u64()
            .filter(|n| *n <= u64::from(PLAN_SIZE))
            .map(|n| n as u32)
            .ok_or_else(|| {
                format!(
                    "{what}: area.{k} must be a whole number from 0 to {PLAN_SIZE}, not {}",
                    shown(got)
                )
            })
    };
    let a = Area {
        x: num("x")?,
        y: num("y")?,
        w: num("w")?,
        h: num("h")?,
    };
    if a.w == 0 || a.h == 0 {
        return Err(format!("{what}: area.w and area.h must be at least 1"));
    }
    if a.x + a.w > PLAN_SIZE || a.y + a.h > PLAN_SIZE {
        return Err(format!(
            "{what}: area reaches past the {PLAN_SIZE} x {PLAN_SIZE} plan \
             (x + w = {}, y + h = {})",
            a.x + a.w,
            a.y + a.h
        ));
    }
    Ok(a)
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
    /// The plan of the venue: None when no section has an area (the page lays the
    /// sections out itself). Areas may overlap (the page draws them in map order and each
    /// stays a button of its own), but every section has one or none has, and with areas
    /// the section names differ (an area belongs to a name).
    pub fn plan(&self) -> Result<Option<Plan>, String> {
        let given = self.sections.iter().filter(|s| s.area.is_some()).count();
        if given == 0 {
            if self.stage.is_some() {
                return Err("seat_map.stage needs an area for every section".into());
            }
            return Ok(None);
        }
        let mut plan = Plan::default();
        for section in &self.sections {
            let what = format!("section {:?}", section.name);
            let Some(v) = &section.area else {
                return Err(format!(
                    "{what} has no area: give every section an area, or none"
                ));
            };
            let a = area(&what, v)?;
            if plan.sections.insert(section.name.clone(), a).is_some() {
                return Err(format!(
                    "{what} appears twice: with areas, section names must differ"
                ));
            }
        }
        if let Some(v) = &self.stage {
            plan.stage = Some(area("seat_map.stage", v)?);
        }
        Ok(Some(plan))
    }

    /// Every seat, with ids 0, 1, 2, … in drawing order. The error names what is wrong.
    pub fn expand(&self) -> Result<Vec<SeatInfo>, String> {
        if self.sections.is_empty() {
            return Err("seat_map.sections must not be empty".into());
        }
        self.plan()?;
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
            area: None,
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
                    area: None,
                },
            ],
            stage: None,
        }
    }
}

/// The boxes of `n` blocks side by side in a strip: along x from `x0` (`step` apart, each
/// `size` wide) at `y` with height `h`, or, with `down`, along y at `x` with width `h`.
fn strip(n: u32, start: u32, step: u32, size: u32, across: (u32, u32), down: bool) -> Vec<Area> {
    let (at, thick) = across;
    (0..n)
        .map(|i| {
            let along = start + i * step;
            if down {
                Area {
                    x: at,
                    y: along,
                    w: thick,
                    h: size,
                }
            } else {
                Area {
                    x: along,
                    y: at,
                    w: size,
                    h: thick,
                }
            }
        })
        .collect()
}

impl SeatMapSpec {
    /// The second demo event's map: a 50,180-seat ballpark, drawn like one. The field is
    /// at the top of the plan; around it three rings of stands, nearest first: 13 lower
    /// sections of 800 seats (101–113), 18 middle ones of 1,250 (201–218) and 9 upper ones
    /// of 1,920 (301–309), each ring down the left side, across behind home plate and up
    /// the right side.
    pub fn stadium() -> SeatMapSpec {
        let rule = |r: &str, g: &str| GradeRule {
            rows: r.into(),
            grade: g.into(),
        };
        let json = |a: Area| serde_json::json!({"x": a.x, "y": a.y, "w": a.w, "h": a.h});
        let ring = |left: Vec<Area>, bottom: Vec<Area>, mut right: Vec<Area>| {
            // The right side is walked upwards, so that numbers go round the ballpark.
            right.reverse();
            left.into_iter()
                .chain(bottom)
                .chain(right)
                .collect::<Vec<_>>()
        };
        let tiers = [
            // (first number, rows, seats per row, grade, grade rules, boxes)
            (
                101,
                20,
                40,
                "R",
                vec![rule("1-6", "VIP")],
                ring(
                    strip(4, 0, 130, 126, (205, 90), true),
                    strip(5, 205, 118, 114, (530, 100), false),
                    strip(4, 0, 130, 126, (705, 90), true),
                ),
            ),
            (
                201,
                25,
                50,
                "S",
                vec![rule("1-5", "R")],
                ring(
                    strip(5, 0, 126, 122, (105, 95), true),
                    strip(8, 105, 99, 95, (640, 100), false),
                    strip(5, 0, 126, 122, (805, 95), true),
                ),
            ),
            (
                301,
                40,
                48,
                "A",
                vec![],
                ring(
                    strip(2, 0, 370, 366, (0, 100), true),
                    strip(5, 0, 200, 196, (750, 110), false),
                    strip(2, 0, 370, 366, (900, 100), true),
                ),
            ),
        ];
        let mut sections = Vec::new();
        for (first, rows, per_row, grade, rules, boxes) in tiers {
            for (i, a) in boxes.into_iter().enumerate() {
                sections.push(SectionSpec {
                    name: (first + i).to_string(),
                    grade: grade.into(),
                    rows: Some(rows),
                    seats_per_row: Some(per_row),
                    grade_rules: rules.clone(),
                    row_list: Vec::new(),
                    area: Some(json(a)),
                });
            }
        }
        SeatMapSpec {
            prices: [("VIP", 90_000), ("R", 45_000), ("S", 25_000), ("A", 12_000)]
                .into_iter()
                .map(|(g, p)| (g.to_owned(), p))
                .collect(),
            sections,
            stage: Some(json(Area {
                x: 300,
                y: 0,
                w: 400,
                h: 520,
            })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_area_does_not_echo_a_huge_value() {
        let huge = "9".repeat(100_000);
        for v in [
            serde_json::json!(huge),
            serde_json::json!({"x": huge, "y": 0, "w": 1, "h": 1}),
            serde_json::json!({"x": 0, "y": 0, "w": 1, "h": 1, huge.clone(): 1}),
        ] {
            let err = area("section \"A\"", &v).unwrap_err();
            assert!(
                err.len() < 200,
                "{} bytes: {}",
                err.len(),
                err.chars().take(200).collect::<String>()
            );
        }
    }

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
    fn the_stadium_has_fifty_thousand_seats_in_forty_placed_sections() {
        let spec = SeatMapSpec::stadium();
        let seats = spec.expand().unwrap();
        assert_eq!(seats.len(), 13 * 800 + 18 * 1250 + 9 * 1920);
        assert!((49_500..=50_500).contains(&seats.len()));
        let plan = spec.plan().unwrap().unwrap();
        assert_eq!(plan.sections.len(), 40);
        assert!(plan.stage.is_some());
        // No two stands overlap, and none covers the field.
        let boxes: Vec<Area> = plan.sections.values().copied().collect();
        let apart = |a: &Area, b: &Area| {
            a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y
        };
        for (i, a) in boxes.iter().enumerate() {
            assert!(apart(a, &plan.stage.unwrap()), "{a:?}");
            for b in &boxes[i + 1..] {
                assert!(apart(a, b), "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn bad_areas_are_refused_naming_the_section() {
        let with = |a: serde_json::Value, b: serde_json::Value| {
            serde_json::json!({"prices": {"R": 1}, "sections": [
                {"name": "A", "grade": "R", "rows": 1, "seats_per_row": 1, "area": a},
                {"name": "B", "grade": "R", "rows": 1, "seats_per_row": 1, "area": b}]})
        };
        let fine = serde_json::json!({"x": 0, "y": 0, "w": 10, "h": 10});
        let cases = [
            (
                serde_json::json!({"x": -1, "y": 0, "w": 10, "h": 10}),
                "area.x",
            ),
            (
                serde_json::json!({"x": 0, "y": "0", "w": 10, "h": 10}),
                "area.y",
            ),
            (
                serde_json::json!({"x": 0, "y": 0, "w": 1.5, "h": 10}),
                "area.w",
            ),
            (
                serde_json::json!({"x": 0, "y": 0, "w": 0, "h": 10}),
                "at least 1",
            ),
            (
                serde_json::json!({"x": 990, "y": 0, "w": 20, "h": 10}),
                "past the",
            ),
            (
                serde_json::json!({"x": 0, "y": 0, "w": 10}),
                "area.h is missing",
            ),
            (
                serde_json::json!({"x": 0, "y": 0, "w": 10, "h": 10, "z": 1}),
                "unknown field",
            ),
            (serde_json::json!([0, 0, 10, 10]), "must be an object"),
            (
                serde_json::json!({"x": 4294967306_u64, "y": 0, "w": 10, "h": 10}),
                "area.x",
            ),
        ];
        for (bad, words) in cases {
            let err = refusal(with(fine.clone(), bad));
            assert!(
                err.contains("section \"B\"") && err.contains(words),
                "{err}"
            );
        }
        // Overlapping boxes are allowed: the page draws each as its own button.
        let spec: SeatMapSpec = serde_json::from_value(with(fine.clone(), fine.clone())).unwrap();
        assert!(spec.expand().is_ok());
        // All or none.
        let mut half = with(fine.clone(), fine.clone());
        half["sections"][1].as_object_mut().unwrap().remove("area");
        assert!(refusal(half).contains("section \"B\" has no area"));
        // One name, one box.
        let mut twice = with(
            fine.clone(),
            serde_json::json!({"x": 20, "y": 0, "w": 10, "h": 10}),
        );
        twice["sections"][1]["name"] = "A".into();
        twice["sections"][1]["rows"] = 2.into();
        assert!(refusal(twice).contains("section names must differ"));
        // A stage without sections' areas has nowhere to be drawn.
        let mut stage = serde_json::json!({"prices": {"R": 1}, "sections": [
            {"name": "A", "grade": "R", "rows": 1, "seats_per_row": 1}]});
        stage["stage"] = fine.clone();
        assert!(refusal(stage).contains("seat_map.stage"));
        let mut stage = with(fine.clone(), fine);
        stage["stage"] = serde_json::json!({"x": 0, "y": 0, "w": 0, "h": 1});
        assert!(refusal(stage).contains("seat_map.stage"));
    }

    #[test]
    fn an_unpriced_grade_is_refused() {
        let mut spec = SeatMapSpec::demo();
        spec.prices.remove("VIP");
        assert!(spec.expand().unwrap_err().contains("VIP"));
    }
}
