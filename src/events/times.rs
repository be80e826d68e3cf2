//! Times of the admin API: epoch milliseconds, or RFC 3339 strings (`2030-05-01T20:00:00Z`,
//! `2030-05-01T22:00:00.250+02:00`). Both forms name the same instant; responses carry
//! both. Only instants both forms can hold are accepted: after 1970-01-01T00:00:00Z and
//! before the year 10000.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The earliest accepted time (exclusive): the epoch itself.
pub const MIN_MS: i64 = 0;
/// The latest accepted time: 9999-12-31T23:59:59.999Z.
pub const MAX_MS: i64 = 253_402_300_799_999;

/// Longest RFC 3339 string accepted: `9999-12-31T23:59:59.123456789+00:00` is 35.
const MAX_LEN: usize = 40;

/// Checks that an epoch-ms time is in the accepted range; the error names the field.
pub fn check_ms(field: &str, ms: i64) -> Result<i64, String> {
    if ms <= MIN_MS || ms > MAX_MS {
        return Err(format!(
            "{field} must be after 1970-01-01T00:00:00Z and before the year 10000 \
             (milliseconds since 1970 between 1 and {MAX_MS})"
        ));
    }
    Ok(ms)
}

/// Parses an RFC 3339 time (`Z` or `±hh:mm` offset, optional fraction) into epoch ms;
/// the error names the field. A fraction below the millisecond is cut, not rounded.
pub fn parse(field: &str, text: &str) -> Result<i64, String> {
    let bad = || {
        format!(
            "{field} must be an RFC 3339 time such as 2030-05-01T20:00:00Z or \
             2030-05-01T22:00:00+02:00"
        )
    };
    if text.len() > MAX_LEN {
        return Err(bad());
    }
    let at = OffsetDateTime::parse(text, &Rfc3339).map_err(|_| bad())?;
    let ms = at.unix_timestamp_nanos().div_euclid(1_000_000);
    let ms = i64::try_from(ms).map_err(|_| bad())?;
    check_ms(field, ms)
}

/// Formats epoch ms as RFC 3339 in UTC with milliseconds (`2030-05-01T20:00:00.000Z`).
/// A value outside what RFC 3339 can hold (never stored: creation and patches check it)
/// gives an empty string rather than a panic.
pub fn format(ms: i64) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    let Ok(at) = OffsetDateTime::from_unix_timestamp_nanos(nanos) else {
        return String::new();
    };
    let (y, mo, d) = (at.year(), u8::from(at.month()), at.day());
    if !(0..=9999).contains(&y) {
        return String::new();
    }
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

/// One time given as ms, as text, or both: the instant in ms (None when neither is
/// given). Both given and naming different instants is an error that names both fields.
pub fn pick(
    ms_field: &str,
    ms: Option<i64>,
    text_field: &str,
    text: Option<&str>,
) -> Result<Option<i64>, String> {
    let from_ms = ms.map(|v| check_ms(ms_field, v)).transpose()?;
    let from_text = text.map(|t| parse(text_field, t)).transpose()?;
    match (from_ms, from_text) {
        (Some(a), Some(b)) if a != b => Err(format!(
            "{ms_field} and {text_field} disagree ({a} is {}); give one of them",
            format(a)
        )),
        (a, b) => Ok(a.or(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_offsets_and_fractions_parse_to_the_same_instant() {
        let z = parse("t", "2030-05-01T20:00:00Z").unwrap();
        assert_eq!(z, 1_903_896_000_000);
        assert_eq!(parse("t", "2030-05-01T22:00:00+02:00").unwrap(), z);
        assert_eq!(parse("t", "2030-05-01T15:30:00-04:30").unwrap(), z);
        assert_eq!(parse("t", "2030-05-01T20:00:00.250Z").unwrap(), z + 250);
        assert_eq!(parse("t", "2030-05-01T20:00:00.2509Z").unwrap(), z + 250);
        assert_eq!(
            parse("t", "2030-05-01t20:00:00z").unwrap(),
            z,
            "lower case t and z"
        );
        // RFC 3339 lets a space stand for the T.
        assert_eq!(parse("t", "2030-05-01 20:00:00Z").unwrap(), z);
    }

    #[test]
    fn formatting_is_utc_with_milliseconds_and_round_trips() {
        assert_eq!(format(1_903_896_000_250), "2030-05-01T20:00:00.250Z");
        assert_eq!(format(1), "1970-01-01T00:00:00.001Z");
        assert_eq!(format(MAX_MS), "9999-12-31T23:59:59.999Z");
        for ms in [
            1,
            999,
            86_400_000,
            951_782_400_000,
            1_903_896_000_250,
            MAX_MS,
        ] {
            assert_eq!(parse("t", &format(ms)).unwrap(), ms, "{ms}");
        }
        assert_eq!(format(i64::MAX), "");
        assert_eq!(format(i64::MIN), "");
        assert_eq!(format(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn malformed_or_out_of_range_times_are_refused_naming_the_field() {
        for bad in [
            "",
            "2030-05-01",
            "2030-05-01T20:00:00",
            "2030-13-01T20:00:00Z",
            "2030-02-30T20:00:00Z",
            "2030-05-01T24:00:01Z",
            "2030-05-01T20:00:00+25:00",
            "1969-12-31T23:59:59Z",
            "0001-01-01T00:00:00Z",
            "+10000-01-01T00:00:00Z",
            "tomorrow",
            "2030-05-01T20:00:00.123456789123456789123456789Z",
            &"9".repeat(10_000),
        ] {
            let e = parse("sale_opens_at", bad).expect_err(bad);
            assert!(e.contains("sale_opens_at"), "{bad}: {e}");
        }
        assert!(check_ms("starts_at_ms", 0).is_err());
        assert!(check_ms("starts_at_ms", -5).is_err());
        assert!(check_ms("starts_at_ms", MAX_MS + 1).is_err());
        assert!(check_ms("starts_at_ms", i64::MAX).is_err());
    }

    #[test]
    fn both_forms_must_agree() {
        let t = "2030-05-01T20:00:00Z";
        assert_eq!(pick("a_ms", None, "a", None), Ok(None));
        assert_eq!(pick("a_ms", Some(5), "a", None), Ok(Some(5)));
        assert_eq!(
            pick("a_ms", None, "a", Some(t)),
            Ok(Some(1_903_896_000_000))
        );
        assert_eq!(
            pick("a_ms", Some(1_903_896_000_000), "a", Some(t)),
            Ok(Some(1_903_896_000_000))
        );
        let e = pick("a_ms", Some(1_903_896_000_001), "a", Some(t)).unwrap_err();
        assert!(e.contains("a_ms and a disagree"), "{e}");
    }
}
