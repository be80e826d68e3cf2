//! The one rule every stored string of an event obeys, whatever its field: no NUL
//! character. PostgreSQL's `text` cannot hold U+0000 (SQLite can), so without this a name
//! like `"a\u0000b"` was a 500 on PostgreSQL and stored on SQLite: one answer for both.

/// A 400's words when `value` (the field `field`) holds a NUL character.
pub fn check_text(field: &str, value: &str) -> Result<(), String> {
    if value.contains('\0') {
        return Err(format!("{field} must not contain a NUL character (U+0000)"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nul_anywhere_is_refused_naming_the_field() {
        assert!(check_text("name", "Hamilton – 한국어").is_ok());
        assert!(check_text("name", "a\0b").unwrap_err().starts_with("name "));
        assert!(check_text("venue", "\0").is_err());
    }
}
